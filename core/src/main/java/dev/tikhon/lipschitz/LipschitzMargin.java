package dev.tikhon.lipschitz;

import dev.tikhon.UserError;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.ConvGeometry;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Sequential;
import dev.tikhon.train.Objective;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Lipschitz-margin training: cross-entropy on logits in which every competitor is raised by what an ε-perturbation
 * could gain on it, so that minimizing the loss makes the sound one-pass radius of {@link NetworkBound} exceed ε.
 *
 * <p>With z = W g(x) + b, y the label and L_yj = ‖w_y − w_j‖₂ · L_g (L_g the body's Lipschitz constant):
 * <ul>
 *   <li>{@link Form#TSUZUKU} (Tsuzuku, Sato and Sugiyama 2018, "Lipschitz-Margin Training"): the logits
 *       z'_j = z_j + ε·L_yj for j ≠ y, z'_y = z_y, and the loss CE(z', y). z'_y is the largest exactly when every
 *       margin z_y − z_j exceeds ε·L_yj, i.e. when the radius exceeds ε.</li>
 *   <li>{@link Form#GLORO} (Leino, Wang and Fredrikson 2021, "Globally-Robust Neural Networks"): one extra logit
 *       z_⊥ = max_{j≠y}(z_j + ε·L_yj) beside z, and the loss CE([z, z_⊥], y): the bottom class ⊥ wins whenever
 *       the prediction is not certified at ε.</li>
 * </ul>
 * L_g is estimated differentiably each step by power iteration (the same {@link Composition} rules as the sound bound,
 * with each layer's σ_max replaced by ‖A v‖ for the warm-started unit vector v): {@code warmup} iterations the first
 * time a layer is seen (also after --resume, which rebuilds the vectors), then {@code iterations} per step. The
 * estimate converges from below as the weights settle; certification recomputes the sound bound once after training.
 * ε can be ramped linearly from 0 over the first {@code rampSteps} steps of this process.
 */
public final class LipschitzMargin implements Objective {
    public enum Form { TSUZUKU, GLORO }

    /**
     * What a checkpoint records of the objective ({@code train --reg gloro|lipschitz-margin}).
     *
     * @param eps             the ℓ2 radius trained for
     * @param powerIterations power-iteration steps per training step (a checkpoint without it reads 0: one)
     * @param rampSteps       ε grows linearly from 0 over this many steps of a process (0: no ramp)
     */
    public record Settings(double eps, int powerIterations, long rampSteps) {}

    /** The objective of these settings; it is cross-entropy based, so another --loss is a user error. */
    public static LipschitzMargin of(Form form, Settings s, dev.tikhon.loss.Loss loss) {
        if (loss != dev.tikhon.loss.Loss.CROSS_ENTROPY) {
            throw new UserError("--reg " + (form == Form.GLORO ? "gloro" : "lipschitz-margin") + " is a cross-entropy objective: drop --loss "
                    + loss.describe());
        }
        return new LipschitzMargin(form, s.eps(), Math.max(1, s.powerIterations()), s.rampSteps());
    }

    private final Form form;
    private final double eps;
    private final int iterations, warmup;
    private final long rampSteps;
    private final PowerIteration estimate;
    private long step;

    public LipschitzMargin(Form form, double eps, int iterations, long rampSteps) {
        if (!(eps >= 0)) throw new UserError("--eps for a Lipschitz-margin objective must be ≥ 0, got " + eps);
        if (iterations < 1) throw new UserError("power iterations per step must be at least 1, got " + iterations);
        this.form = form;
        this.eps = eps;
        this.iterations = iterations;
        this.warmup = 30;
        this.rampSteps = rampSteps;
        this.estimate = new PowerIteration();
    }

    public static Form parseForm(String reg) {
        switch (reg.toLowerCase(Locale.ROOT)) {
            case "lipschitz-margin": case "tsuzuku": return Form.TSUZUKU;
            case "gloro": return Form.GLORO;
            default: throw new UserError("unknown Lipschitz-margin form '" + reg + "': use lipschitz-margin or gloro");
        }
    }

    /** The ε of the current step (ramped). */
    public double currentEps() {
        return rampSteps <= 0 ? eps : eps * Math.min(1.0, (double) step / rampSteps);
    }

    @Override public Result evaluate(Module model, Tensor x, Tensor y) {
        Sequential seq = headed(model);
        int n = seq.layers().size();
        Linear head = (Linear) seq.layers().get(n - 1);
        long[] shape = java.util.Arrays.copyOfRange(x.shape(), 1, x.dim());
        Tensor logits = model.forward(x);
        Tensor lBody = estimate.bound(seq, 0, n - 1, shape).lipschitz();
        Tensor w = head.weight().value();
        Tensor diff = w.indexSelect(0, y).unsqueeze(1).sub(w.unsqueeze(0));             // [N, K, d]: w_y − w_j
        Tensor lyj = diff.square().sum(2, false).add(1e-12).sqrt().mul(lBody);           // [N, K]
        double e = currentEps();
        step++;
        Tensor raised = logits.add(lyj.mul(e));
        Tensor isY = y.oneHot(logits.size(1)).to(logits.dtype());
        Tensor loss;
        if (form == Form.TSUZUKU) {
            // z'_j = z_j + ε L_yj for j ≠ y; z'_y = z_y (L_yy is ~0 anyway, masked exactly)
            Tensor z = raised.mul(isY.neg().add(1)).add(logits.mul(isY));
            loss = Ops.crossEntropy(z, y);
        } else {
            Tensor bottom = raised.maskedFill(isY.gt(0.5), Double.NEGATIVE_INFINITY).amax(1, true);
            loss = Ops.crossEntropy(Tensor.cat(List.of(logits, bottom), 1), y);
        }
        Map<String, Tensor> parts = new LinkedHashMap<>();
        try (Autograd.Guard g = Autograd.noGrad()) {
            parts.put("ce", Ops.crossEntropy(logits, y));
            parts.put("lip_body", lBody.detach());
            // the fraction of the batch whose estimated radius exceeds ε (with the training estimate of L, not sound)
            Tensor margins = logits.gather(1, y.unsqueeze(1)).sub(logits);                  // z_y − z_j
            Tensor radius = margins.div(lyj).maskedFill(isY.gt(0.5), Double.POSITIVE_INFINITY).neg().amax(1, false).neg();
            parts.put("cert_estimate_at_eps", radius.gt(e).to(logits.dtype()).mean());
        }
        return new Result(loss, logits, parts);
    }

    /**
     * Refuses a model with batch norm: in training mode batch norm divides by the statistics of each batch, so the
     * function a step trains is not the one whose Lipschitz bound the objective uses (the composition rules take batch
     * norm's running variance, the evaluation-mode map, not differentiated through it): the objective can lower its
     * bound by scaling weights that the batch statistics normalize away, and the running variance follows later. A
     * resnet-8 trained with gloro reached a loss of 2.8e18 with a body bound of 1.7e9, then 0.0, and ended below chance
     * (audit 20a). The GloRo (Leino et al. 2021) and Lipschitz-margin (Tsuzuku et al. 2018) networks have no batch norm.
     */
    @Override public void check(Module model) {
        headed(model);
        if (dev.tikhon.nn.BatchNorm2d.in(model)) {
            throw new UserError("--reg " + (form == Form.GLORO ? "gloro" : "lipschitz-margin") + " cannot train a model with batch norm "
                    + "(its training-mode batch statistics are not the map the Lipschitz bound holds for): use --no-batch-norm, or --model cnn or mlp");
        }
    }

    static Sequential headed(Module model) {
        if (model instanceof Sequential) {
            List<Module> ls = ((Sequential) model).layers();
            if (!ls.isEmpty() && ls.get(ls.size() - 1) instanceof Linear) return (Sequential) model;
        }
        throw new UserError("Lipschitz-margin training needs a model that ends in a linear layer (mlp, cnn, resnet, farkas-resnet), got "
                + model.describe());
    }

    @Override public String describe() {
        return (form == Form.TSUZUKU ? "Lipschitz-margin cross-entropy (Tsuzuku et al.)" : "GloRo cross-entropy with a ⊥ logit (Leino et al.)")
                + ", ε " + eps + (rampSteps > 0 ? " ramped over " + rampSteps + " steps" : "") + ", power iteration " + iterations + "/step";
    }

    /** Each layer's σ_max as ‖A v‖ for a warm-started unit v (differentiable in A), composed by the same rules as the sound bound. */
    final class PowerIteration extends Composition<Tensor> {
        private final Map<String, Tensor> vectors = new HashMap<>();
        // the dtype and device of the last weight seen, for constants: not the weight itself, which for Farkas layers
        // is a kernel computed inside the step's scope and freed when the step ends (a later step read a freed tensor)
        private dev.tikhon.engine.DType dtype = dev.tikhon.engine.DType.FLOAT32;
        private dev.tikhon.engine.Device device = dev.tikhon.engine.Device.CPU;

        @Override protected Tensor dense(String name, Tensor weight) {
            dtype = weight.dtype();
            device = weight.device();
            Tensor v = vectors.get(name);
            int its = iterations;
            if (v == null || v.size(0) != weight.size(1)) {
                v = Tensor.randn(weight.dtype(), weight.device(), weight.size(1));
                its = warmup;
            }
            try (Autograd.Guard g = Autograd.noGrad()) {
                Tensor w = weight.detach();
                v = v.to(w.device(), w.dtype());
                for (int i = 0; i < its; i++) {
                    Tensor u = w.t().matmul(w.matmul(v));
                    v = u.div(u.norm(2).clampMin(1e-12));
                }
                vectors.put(name, v.detach().keep());
            }
            return weight.matmul(v).norm(2);
        }

        @Override protected Tensor conv(String name, Tensor kernel, Tensor scale, ConvGeometry g, long h, long w) {
            dtype = kernel.dtype();
            device = kernel.device();
            Tensor k = scale == null ? kernel : kernel.mul(scale.reshape(kernel.size(0), 1, 1, 1));
            Tensor v = vectors.get(name);
            int its = iterations;
            long in = kernel.size(1) * g.groups();
            if (v == null || v.size(1) != in || v.size(2) != h || v.size(3) != w) {
                v = Tensor.randn(kernel.dtype(), kernel.device(), 1, in, h, w);
                its = warmup;
            }
            // the iteration only finds the direction v: without gradients (k's graph recorded per iteration was never used)
            try (Autograd.Guard ng = Autograd.noGrad()) {
                Tensor kd = k.detach();
                v = v.to(kernel.device(), kernel.dtype());
                for (int i = 0; i < its; i++) {
                    Tensor u = OperatorNorms.convTransposeConv(kd, v, g);
                    v = u.div(u.norm(2).clampMin(1e-12));
                }
                vectors.put(name, v.detach().keep());
            }
            return g.apply(v, k, null).norm(2);
        }

        @Override protected Tensor constant(double c) {
            return Tensor.scalar(c, dtype, device);
        }

        @Override protected Tensor times(Tensor a, Tensor b) { return a.mul(b); }

        @Override protected Tensor plus(Tensor a, Tensor b) { return a.add(b); }

        @Override protected Tensor joined(Tensor a, Tensor b) { return a.square().add(b.square()).sqrt(); }
    }
}
