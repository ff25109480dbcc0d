package dev.tikhon.regularize;

import dev.tikhon.engine.Tensor;
import dev.tikhon.loss.Loss;
import dev.tikhon.nn.Module;
import dev.tikhon.regularize.InputGradients.Dual;
import dev.tikhon.train.Objective;
import dev.tikhon.train.ObjectiveSpec;

import java.util.Map;

/**
 * The exact input-gradient penalty by double backprop (Drucker &amp; LeCun), for comparison with
 * the finite-difference {@link Tikhonov}: loss = mean ℓ + λ · mean ½‖∇ₓℓ‖₂² (ℓ1: ½‖∇ₓℓ‖₁²/n,
 * the limit of the finite-difference form with the sign direction).
 */
public final class TikhonovExact implements Objective {
    /** Its settings: weight λ and the gradient's dual norm (l2 or l1). Defaults: λ 0.1, l2. */
    public record Settings(double lambda, String norm) {
        public static Settings parse(RegularizerOptions o) {
            return new Settings(o.number("lambda", 0.1), o.text("norm", "l2"));
        }
    }

    private final Loss loss;
    private final double lambda;
    private final Dual dual;
    /** As given (the norm's spelling included), for {@link #spec()}. */
    private final Settings settings;

    /** From its settings record (how the registry builds it). */
    public TikhonovExact(Loss loss, Settings s) {
        this(loss, s.lambda(), Regularizers.dual(s.norm()), s);
    }

    public TikhonovExact(double lambda, Dual dual) {
        this(Loss.CROSS_ENTROPY, lambda, dual);
    }

    public TikhonovExact(Loss loss, double lambda, Dual dual) {
        this(loss, lambda, dual, new Settings(lambda, dual == Dual.L2 ? "l2" : "l1"));
    }

    private TikhonovExact(Loss loss, double lambda, Dual dual, Settings settings) {
        this.settings = settings;
        this.loss = loss;
        if (!(lambda >= 0 && lambda < Double.POSITIVE_INFINITY)) throw new IllegalArgumentException("--lambda must be ≥ 0 and finite, got " + lambda);
        this.lambda = lambda;
        this.dual = dual;
    }

    @Override public Result evaluate(Module model, Tensor x, Tensor y) {
        InputGradients.Evaluated at = InputGradients.evaluate(model, loss, x, y);
        Tensor penalty = penalty(at, x);
        Tensor data = at.losses().mean();
        return new Result(data.add(penalty.mul(lambda)), at.logits(), Map.of("data", data, "penalty", penalty));
    }

    Tensor penalty(InputGradients.Evaluated at, Tensor x) {
        Tensor g = at.differentiableGradient();
        Tensor squared = dual == Dual.L2 ? g.flatten(1, -1).square().sum(1, false)
                : g.normPerExample(1).square().div(InputGradients.dimension(x));
        return squared.mean().mul(0.5);
    }

    @Override public ObjectiveSpec spec() {
        return ObjectiveSpec.of("tikhonov-exact", settings, loss.name());
    }

    @Override public String describe() {
        return loss.describe() + " + " + lambda + " · tikhonov(double backprop, squared " + (dual == Dual.L2 ? "l2" : "l1") + ")";
    }
}
