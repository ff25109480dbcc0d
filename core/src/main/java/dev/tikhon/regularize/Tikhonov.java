package dev.tikhon.regularize;

import dev.tikhon.engine.Tensor;
import dev.tikhon.loss.Loss;
import dev.tikhon.nn.Module;
import dev.tikhon.regularize.InputGradients.Dual;
import dev.tikhon.train.Objective;
import dev.tikhon.train.ObjectiveSpec;

import java.util.Map;

/**
 * Input-gradient (Tikhonov) regularization by finite differences, without double backprop
 * (Finlay &amp; Oberman, "Scaleable input gradient regularization for adversarial robustness"):
 *
 * <pre>
 *   loss = mean ℓ(x) + λ · mean ½ ((ℓ(x + h d) − ℓ(x)) / h)²
 * </pre>
 *
 * with d = ∇ₓℓ/‖∇ₓℓ‖₂ (squared-ℓ2 penalty) or d = sign(∇ₓℓ)/√n (squared-ℓ1, against ℓ∞ attacks),
 * computed once and detached: the extra cost is one input-gradient pass and one forward-backward.
 * Central differences use (ℓ(x + h d) − ℓ(x − h d)) / 2h. The difference quotient tends to
 * ‖∇ₓℓ‖₂ (ℓ1: ‖∇ₓℓ‖₁/√n) as h → 0, so the penalty tends to ½‖∇ₓℓ‖² — see {@link TikhonovExact}.
 */
public final class Tikhonov implements Objective {
    /**
     * Its settings: weight λ, finite-difference step h, the gradient's dual norm (l2 or l1), central differences.
     * Defaults: λ 0.1, h 0.01, l2, forward differences.
     */
    public record Settings(double lambda, double h, String norm, boolean central) {
        public static Settings parse(RegularizerOptions o) {
            return new Settings(o.number("lambda", 0.1), o.number("h", 0.01), o.text("norm", "l2"), o.flag("central", false));
        }
    }

    private final Loss loss;
    private final double lambda, h;
    private final Dual dual;
    private final boolean central;
    /** As given (the norm's spelling included), for {@link #spec()}. */
    private final Settings settings;

    /** From its settings record (how the registry builds it). */
    public Tikhonov(Loss loss, Settings s) {
        this(loss, s.lambda(), s.h(), Regularizers.dual(s.norm()), s.central(), s);
    }

    public Tikhonov(double lambda, double h, Dual dual, boolean central) {
        this(Loss.CROSS_ENTROPY, lambda, h, dual, central);
    }

    public Tikhonov(Loss loss, double lambda, double h, Dual dual, boolean central) {
        this(loss, lambda, h, dual, central, new Settings(lambda, h, dual == Dual.L2 ? "l2" : "l1", central));
    }

    private Tikhonov(Loss loss, double lambda, double h, Dual dual, boolean central, Settings settings) {
        this.settings = settings;
        this.loss = loss;
        if (!(lambda >= 0 && lambda < Double.POSITIVE_INFINITY)) throw new IllegalArgumentException("--lambda must be ≥ 0 and finite, got " + lambda);
        if (!(h > 0 && h < Double.POSITIVE_INFINITY)) throw new IllegalArgumentException("--h must be positive and finite, got " + h);
        this.lambda = lambda;
        this.h = h;
        this.dual = dual;
        this.central = central;
    }

    @Override public Result evaluate(Module model, Tensor x, Tensor y) {
        InputGradients.Evaluated at = InputGradients.evaluate(model, loss, x, y);
        Tensor penalty = penalty(model, x, y, at.losses(), direction(at, x));
        Tensor data = at.losses().mean();
        return new Result(data.add(penalty.mul(lambda)), at.logits(), Map.of("data", data, "penalty", penalty));
    }

    /** The detached direction d: normalized gradient (ℓ2) or sign/√n (ℓ1). */
    Tensor direction(InputGradients.Evaluated at, Tensor x) {
        return InputGradients.direction(at.gradient(), dual, 1 / Math.sqrt(InputGradients.dimension(x)));
    }

    /** mean ½ (difference quotient along d)², differentiable in the parameters (d held fixed). */
    Tensor penalty(Module model, Tensor x, Tensor y, Tensor lossAtX, Tensor d) {
        Tensor quotient;
        if (central) {
            Tensor plus = InputGradients.losses(model, loss, x.add(d, h), y);
            Tensor minus = InputGradients.losses(model, loss, x.add(d, -h), y);
            quotient = plus.sub(minus).div(2 * h);
        } else {
            quotient = InputGradients.losses(model, loss, x.add(d, h), y).sub(lossAtX).div(h);
        }
        return quotient.square().mean().mul(0.5);
    }

    @Override public ObjectiveSpec spec() {
        return ObjectiveSpec.of("tikhonov", settings, loss.name());
    }

    @Override public String describe() {
        return loss.describe() + " + " + lambda + " · tikhonov(finite differences, h " + h + ", squared " + (dual == Dual.L2 ? "l2" : "l1")
                + (central ? ", central" : ", forward") + ")";
    }
}
