package dev.tikhon.optim;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.MultiTensor;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Parameter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adam (Kingma & Ba) with bias correction; weight decay either as L2 added to the gradient
 * (Adam) or decoupled from it (AdamW, Loshchilov & Hutter).
 */
public final class Adam extends Optimizer {
    private final double beta1, beta2, eps, weightDecay;
    private final boolean decoupled, decayAll;
    private final Tensor[] m, v;
    private final Tensor stepCount;
    /**
     * t for the fused kernel, FLOAT32 (which the kernel requires) on the moments' device, like them fixed when the
     * optimizer is made; filled from the host count once per step, so nothing is read back from the device.
     */
    private final Tensor kernelStep;

    public Adam(List<Parameter> params, double lr, double beta1, double beta2, double eps,
                double weightDecay, boolean decoupled, boolean decayAll) {
        super(params, lr);
        if (beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1) {
            throw new IllegalArgumentException("Adam betas must be in [0, 1), got " + beta1 + ", " + beta2);
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
        this.decayAll = decayAll;
        this.m = new Tensor[this.params.size()];
        this.v = new Tensor[this.params.size()];
        for (int i = 0; i < m.length; i++) {
            m[i] = this.params.get(i).value().zerosLike().keep();
            v[i] = this.params.get(i).value().zerosLike().keep();
        }
        this.stepCount = Tensor.fromDoubles(new double[]{0}, 1).keep();   // float64: exact to 2⁵³ steps
        this.kernelStep = Tensor.zeros(DType.FLOAT32, m.length > 0 ? m[0].device() : dev.tikhon.engine.Device.CPU, 1).keep();
    }

    public Adam(List<Parameter> params, double lr) { this(params, lr, 0.9, 0.999, 1e-8, 0, false, false); }

    /**
     * The step being taken, 1-based. The state tensor holds the count for checkpoints; this mirrors it on the host, read
     * back only when state is restored, so that a step does not wait for the device to report it.
     */
    private long t, completed;

    @Override protected void beforeStep() {
        t = completed + 1;
        kernelStep.fill_(t);
    }

    @Override protected void afterLoad() {
        completed = (long) stepCount.item();
    }

    /**
     * All parameters with a gradient in one fused call per weight-decay group (libtorch's fused Adam/AdamW kernel, as
     * torch.optim.Adam(fused=True)); a group the kernel does not take is updated one tensor at a time.
     */
    @Override protected void updateAll(List<Integer> indices, List<Tensor> grads) {
        for (List<Integer> group : byDecay(indices, this::decays)) {
            if (group.isEmpty()) continue;
            List<Tensor> theta = new ArrayList<>(group.size()), g = new ArrayList<>(group.size()),
                    m1 = new ArrayList<>(group.size()), m2 = new ArrayList<>(group.size());
            for (int k : group) {
                int i = indices.get(k);
                theta.add(params.get(i).value());
                g.add(grads.get(k));
                m1.add(m[i]);
                m2.add(v[i]);
            }
            boolean decayed = decays(params.get(indices.get(group.get(0))));
            if (!MultiTensor.adam(theta, g, m1, m2, kernelStep, lr, beta1, beta2, decayed ? weightDecay : 0, decoupled, eps)) {
                for (int k : group) update(indices.get(k), params.get(indices.get(k)), grads.get(k));
            }
        }
    }

    private boolean decays(Parameter p) {
        return weightDecay > 0 && (decayAll || p.decay());
    }

    @Override protected void update(int i, Parameter p, Tensor grad) {
        Tensor theta = p.value();
        boolean decay = decays(p);
        if (decay && decoupled) theta.mul_(1 - lr * weightDecay);
        else if (decay) grad.add_(theta, weightDecay);
        step(theta, m[i], v[i], grad, t, lr, beta1, beta2, eps);
    }

    /**
     * Kingma &amp; Ba's update of one tensor, in place: the moments m and v take step t ≥ 1 of the gradient, and θ moves
     * by −lr·m̂/(√v̂ + ε) with the bias-corrected moments. Also for variables that are not parameters (an attack's
     * perturbation, a verifier's slopes); to ascend, pass the negated gradient.
     */
    public static void step(Tensor theta, Tensor m, Tensor v, Tensor grad, long t, double lr, double beta1, double beta2, double eps) {
        m.mul_(beta1).add_(grad, 1 - beta1);
        v.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
        double bc1 = 1 - Math.pow(beta1, t), bc2 = 1 - Math.pow(beta2, t);
        Tensor denom = v.sqrt().div_(Math.sqrt(bc2)).add_(eps);
        theta.addcdiv_(m, denom, -lr / bc1);
    }

    @Override protected void afterStep() {
        stepCount.add_(1);
        completed++;
    }

    @Override public Map<String, Tensor> state() {
        Map<String, Tensor> s = new LinkedHashMap<>();
        for (int i = 0; i < m.length; i++) {
            s.put("m." + params.get(i).name() + "#" + i, m[i]);
            s.put("v." + params.get(i).name() + "#" + i, v[i]);
        }
        s.put("step", stepCount);
        return s;
    }

    @Override public String describe() {
        return (decoupled ? "AdamW" : "Adam") + "(lr " + lr + ", betas " + beta1 + "/" + beta2
                + (weightDecay > 0 ? ", weight decay " + weightDecay : "") + ")";
    }
}
