package dev.tikhon.optim;

import dev.tikhon.engine.MultiTensor;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Parameter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stochastic gradient descent with heavy-ball or Nesterov momentum and L2 weight decay, as in
 * torch.optim.SGD (dampening 0): b ← μb + g + λθ; θ ← θ − η·(g + λθ + μb if Nesterov, else b).
 * Weight decay skips parameters marked no-decay (biases, normalization scales) unless told not to.
 */
public final class Sgd extends Optimizer {
    private final double momentum, weightDecay;
    private final boolean nesterov, decayAll;
    private final Tensor[] buffers;

    public Sgd(List<Parameter> params, double lr, double momentum, boolean nesterov, double weightDecay, boolean decayAll) {
        super(params, lr);
        if (momentum < 0 || momentum >= 1) throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        if (nesterov && momentum == 0) throw new IllegalArgumentException("Nesterov momentum needs --momentum > 0");
        if (weightDecay < 0) throw new IllegalArgumentException("weight decay must be ≥ 0, got " + weightDecay);
        this.momentum = momentum;
        this.nesterov = nesterov;
        this.weightDecay = weightDecay;
        this.decayAll = decayAll;
        this.buffers = new Tensor[this.params.size()];
        if (momentum > 0) {
            for (int i = 0; i < buffers.length; i++) buffers[i] = this.params.get(i).value().zerosLike().keep();
        }
    }

    public Sgd(List<Parameter> params, double lr) { this(params, lr, 0, false, 0, false); }

    /**
     * All parameters with a gradient in one fused call per group (weight decay or not), as libtorch's fused SGD kernel:
     * one launch per group on a GPU, one pass over each tensor's memory on the CPU. A group the kernel does not take
     * (a non-contiguous tensor, mixed dtypes or devices) is updated one tensor at a time, with the same arithmetic.
     */
    @Override protected void updateAll(List<Integer> indices, List<Tensor> grads) {
        for (List<Integer> group : byDecay(indices, this::decays)) {
            if (group.isEmpty()) continue;
            List<Tensor> theta = new ArrayList<>(group.size()), g = new ArrayList<>(group.size()), b = new ArrayList<>(group.size());
            for (int k : group) {
                int i = indices.get(k);
                theta.add(params.get(i).value());
                g.add(grads.get(k));
                if (momentum > 0) b.add(buffers[i]);
            }
            boolean decayed = decays(params.get(indices.get(group.get(0))));
            if (!MultiTensor.sgd(theta, g, b, decayed ? weightDecay : 0, momentum, lr, nesterov)) {
                for (int k : group) update(indices.get(k), params.get(indices.get(k)), grads.get(k));
            }
        }
    }

    private boolean decays(Parameter p) {
        return weightDecay > 0 && (decayAll || p.decay());
    }

    @Override protected void update(int i, Parameter p, Tensor grad) {
        Tensor theta = p.value();
        if (decays(p)) grad.add_(theta, weightDecay);
        if (momentum > 0) {
            Tensor b = buffers[i].mul_(momentum).add_(grad);
            if (nesterov) grad.add_(b, momentum);
            else grad = b;
        }
        theta.add_(grad, -lr);
    }

    @Override public Map<String, Tensor> state() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        if (momentum > 0) for (int i = 0; i < buffers.length; i++) m.put("momentum." + params.get(i).name() + "#" + i, buffers[i]);
        return m;
    }

    @Override public String describe() {
        return "SGD(lr " + lr + (momentum > 0 ? ", momentum " + momentum + (nesterov ? " Nesterov" : "") : "")
                + (weightDecay > 0 ? ", weight decay " + weightDecay + (decayAll ? " (all)" : " (weights only)") : "") + ")";
    }
}
