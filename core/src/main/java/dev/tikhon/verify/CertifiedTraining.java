package dev.tikhon.verify;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.train.Objective;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Certified training: the loss of IBP training (Gowal et al. 2018) and of CROWN-IBP (Zhang et al. 2020),
 *
 * <pre>  κ · CE(z(x), y) + (1 − κ) · CE(−m̲(x, ε), y)</pre>
 *
 * where m̲ⱼ is a sound lower bound of the margin z_y − z_j over the ε-ball (m̲_y = 0): the cross-entropy of the
 * worst-case logits, which is small only when every margin is provably positive. IBP takes m̲ from interval bound
 * propagation; CROWN-IBP takes β·m̲_CROWN-IBP + (1 − β)·m̲_IBP, where m̲_CROWN-IBP is CROWN's bound on the last
 * layer over IBP's intermediate bounds.
 *
 * <p>Schedule (in epochs, fractional within an epoch, from {@link #progress}): ε = 0 and κ = 1 for {@code warmup}
 * epochs, then over {@code ramp} epochs ε rises linearly to its target, κ falls linearly from 1 to {@code kappaEnd}
 * and β falls from 1 to 0; after that they stay. Clean training first, then a slowly growing ball, is what makes
 * these bounds trainable (Gowal et al. §4; Zhang et al. §4).
 *
 * <p>Warm-up regularizers (Shi et al., "Fast certified robust training with short warmup", NeurIPS 2021), weighted by
 * λ·(1 − ε_t/ε) while ε ramps up ({@code boundReg} = λ; 0, the default, leaves them out; the authors use 0.5), from the
 * intervals at every ReLU's input in the IBP pass, with τ = 0.5:
 * <ul>
 *   <li>tightness: the mean over ReLU layers of relu(τ − r₀/rᵢ)/τ, rᵢ the mean half-width at layer i's input and r₀ the
 *       input ball's: it grows once a layer's intervals are more than 1/τ times the ball's;</li>
 *   <li>ReLU balance: the mean over layers of (relu(τ − ρ_mean) + relu(τ − ρ_var))/τ, where ρ compares the units IBP proves
 *       active (l &gt; 0) with those it proves inactive (u &lt; 0): the ratio of the means of the interval centres c over
 *       them (c·[l &gt; 0] against −c·[u &lt; 0]) and of the sums of (c − mean c)², each folded into (0, 1] as min(ρ, 1/ρ); a
 *       layer without active or without inactive units adds nothing (its ratio is not finite).</li>
 * </ul>
 * Both are differentiable in the weights; with IBP initialization ({@code train --init ibp}) and batch norm they are
 * the authors' recipe for certified training in few epochs.
 */
public final class CertifiedTraining implements Objective {
    public enum Bound { IBP, CROWN_IBP }

    /**
     * The settings a checkpoint records (registered as "ibp" and "crown-ibp" in {@code regularize.Regularizers}).
     *
     * @param norm         linf or l2
     * @param eps          the target radius
     * @param warmupEpochs epochs at ε = 0, κ = 1
     * @param rampEpochs   epochs of the linear ramps
     * @param kappaEnd     the final κ
     * @param boundReg     the weight λ of the warm-up regularizers (0: none)
     */
    public record Settings(String norm, double eps, double warmupEpochs, double rampEpochs, double kappaEnd, double boundReg) {
        public Settings(String norm, double eps, double warmupEpochs, double rampEpochs, double kappaEnd) {
            this(norm, eps, warmupEpochs, rampEpochs, kappaEnd, 0);
        }
    }

    /** τ of the warm-up regularizers (the authors' default). */
    static final double TOLERANCE = 0.5;

    private final Bound bound;
    private final Norm norm;
    private final double eps, warmup, ramp, kappaEnd, boundReg;
    private double epochs;

    public CertifiedTraining(Bound bound, Norm norm, double eps, double warmup, double ramp, double kappaEnd) {
        this(bound, norm, eps, warmup, ramp, kappaEnd, 0);
    }

    /** The same, with the warm-up regularizers weighted {@code boundReg} (≥ 0). */
    public CertifiedTraining(Bound bound, Norm norm, double eps, double warmup, double ramp, double kappaEnd, double boundReg) {
        if (!(boundReg >= 0 && boundReg < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("the warm-up regularizers' weight (--reg-param bound-reg) must be ≥ 0 and finite, got " + boundReg);
        }
        this.boundReg = boundReg;
        if (!(eps > 0)) throw new IllegalArgumentException("--eps must be positive for certified training, got " + eps);
        if (warmup < 0 || ramp < 0) throw new IllegalArgumentException("--eps-warmup and --eps-ramp must be ≥ 0");
        if (kappaEnd < 0 || kappaEnd > 1) throw new IllegalArgumentException("--kappa-end must be in [0, 1], got " + kappaEnd);
        this.bound = bound;
        this.norm = norm;
        this.eps = eps;
        this.warmup = warmup;
        this.ramp = ramp;
        this.kappaEnd = kappaEnd;
    }

    @Override public void progress(double epochs) { this.epochs = epochs; }

    /** The fraction of the ramp done at {@code t} epochs: 0 during warm-up, 1 after the ramp. */
    double rampFraction(double t) {
        if (t < warmup) return 0;
        if (ramp == 0) return 1;
        return Math.min(1, (t - warmup) / ramp);
    }

    public double epsAt(double t) { return eps * rampFraction(t); }

    public double kappaAt(double t) { return 1 - (1 - kappaEnd) * rampFraction(t); }

    public double betaAt(double t) { return 1 - rampFraction(t); }

    @Override
    public Result evaluate(Module model, Tensor x, Tensor y) {
        Tensor logits = model.forward(x);
        Tensor clean = Ops.crossEntropy(logits, y);
        double e = epsAt(epochs), kappa = kappaAt(epochs), beta = betaAt(epochs);
        Map<String, Tensor> parts = new LinkedHashMap<>();
        parts.put("ce", clean);
        parts.put("eps", Tensor.scalar(e, DType.FLOAT64, x.device()));
        parts.put("kappa", Tensor.scalar(kappa, DType.FLOAT64, x.device()));
        if (e == 0) return new Result(clean, logits, parts);
        BoundedNetwork net = bounded(model, x);
        Tensor spec = BoundedNetwork.marginsOverOthers(y, (int) logits.size(1), x);   // [N, K − 1, K]: m̲_y = 0 is left out
        InputRegion region = InputRegion.inDomain(x, e, norm);
        double regWeight = boundReg * (1 - rampFraction(epochs));   // λ(1 − ε_t/ε): only while ε ramps up
        BoundedNetwork.IbpPass pass = net.ibpPass(region, spec, bound == Bound.CROWN_IBP && beta > 0);
        Tensor lower = pass.crownIbpLower() == null ? pass.ibpLower() : pass.ibpLower().mul(1 - beta).add(pass.crownIbpLower().mul(beta));
        Tensor regularizer = null;
        if (regWeight > 0) {
            Tensor[] terms = warmupRegularizers(region.box(), pass.reluInputs());
            parts.put("tightness_reg", terms[0]);
            parts.put("relu_reg", terms[1]);
            regularizer = terms[0].add(terms[1]).mul(regWeight);
        }
        // CE(−m̲, y) with m̲_y = 0 in front: the same softmax with the true class moved to index 0
        Tensor worst = Tensor.cat(List.of(Tensor.zeros(lower.dtype(), lower.device(), lower.size(0), 1), lower.neg()), 1);
        Tensor robust = Ops.crossEntropy(worst, Tensor.zeros(DType.INT64, y.device(), y.size(0)));
        parts.put("robust_ce", robust);
        // sound for this batch at the ramp's current ε (train_eps), with the weights before the step: IBP's, or the κ-mixed bound
        parts.put("verified_at_eps", lower.gt(0).to(x.dtype()).sum(1, false).eq(lower.size(1))
                .to(x.dtype()).mean());
        Tensor loss = clean.mul(kappa).add(robust.mul(1 - kappa));
        return new Result(regularizer == null ? loss : loss.add(regularizer), logits, parts);
    }

    /**
     * Shi et al.'s tightness and ReLU-balance terms (see the class comment) for the input box and the intervals at the ReLUs'
     * inputs: two scalars, differentiable; zeros where there are no ReLUs.
     */
    static Tensor[] warmupRegularizers(Interval input, List<Interval> relus) {
        Tensor r0 = input.radius().mean();
        Tensor tightness = Tensor.zeros(r0.dtype(), r0.device()), balance = Tensor.zeros(r0.dtype(), r0.device());
        for (Interval in : relus) {
            Tensor l = in.lo(), u = in.hi();
            Tensor c = l.add(u).mul(0.5);
            Tensor width = u.sub(l).mul(0.5).mean();
            tightness = tightness.add(r0.div(width.clampMin(1e-12)).neg().add(TOLERANCE).relu().div(TOLERANCE));
            Tensor active = l.gt(0).to(c.dtype()), inactive = u.lt(0).to(c.dtype());
            Tensor spread = c.sub(c.mean()).square();
            Tensor[] q = {c.mul(active).mean(), c.mul(inactive).mean().neg(), spread.mul(active).sum(), spread.mul(inactive).sum()};
            // no active or no inactive unit: a ratio would be 0/0 or x/0 and the layer adds nothing; the quantities are replaced
            // by 1 there before dividing, so that no infinite value reaches the backward pass (0·∞ would be NaN), and no host
            // read is needed
            Tensor ok = q[0].gt(0).logicalAnd(q[1].gt(0)).logicalAnd(q[2].gt(0)).logicalAnd(q[3].gt(0));
            Tensor one = Tensor.ones(c.dtype(), c.device());
            for (int k = 0; k < 4; k++) q[k] = Tensor.where(ok, q[k], one);
            Tensor meanRatio = folded(q[0].div(q[1])), varRatio = folded(q[2].div(q[3]));
            Tensor term = meanRatio.neg().add(TOLERANCE).relu().add(varRatio.neg().add(TOLERANCE).relu()).div(TOLERANCE);
            balance = balance.add(term.mul(ok.to(c.dtype())));
        }
        int n = Math.max(1, relus.size());
        return new Tensor[]{tightness.div((double) n), balance.div((double) n)};
    }

    /** min(ρ, 1/ρ): a ratio of two positive quantities folded into (0, 1], 1 when they balance. */
    private static Tensor folded(Tensor ratio) {
        return ratio.minimum(ratio.reciprocal());
    }

    /** The verifier's view of the model is built at the start: a layer it cannot bound fails before the ε = 0 warm-up. */
    @Override
    public void check(Module model) {
        BoundedNetwork.of(model);
    }

    /**
     * The network the robust loss bounds: the function the step's clean pass computes. In training mode batch norm
     * normalizes with the batch's statistics, so the bounds do too ({@link BoundedNetwork#ofBatch}); bounding the
     * running-statistics network instead (before session 20) trained a function the clean pass never computes, and the
     * robust loss could shrink its bounds by scaling weights that the batch statistics normalize away, which the lagging
     * running statistics then carried into the evaluation-mode model (a resnet at chance after IBP training). In
     * evaluation mode it is the running-statistics network.
     */
    static BoundedNetwork bounded(Module model, Tensor x) {
        return model.isTraining() ? BoundedNetwork.ofBatch(model, x) : BoundedNetwork.of(model);
    }

    @Override
    public String describe() {
        return (bound == Bound.IBP ? "ibp" : "crown-ibp") + String.format(Locale.ROOT,
                "(%s ε=%s, warm-up %s, ramp %s epochs, κ 1→%s%s%s)", norm, eps, warmup, ramp, kappaEnd, bound == Bound.IBP ? "" : ", β 1→0",
                boundReg > 0 ? ", warm-up regularizers λ " + boundReg : "");
    }
}
