package dev.tikhon.loss;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Tensor;

import java.util.List;
import java.util.Locale;

/**
 * The classification losses of docs/methods.md §9 (Oberman, "PDE regularization for supervised machine
 * learning"), each a per-example ℓ(z, y) of logits z [N, K] and INT64 labels y [N], differentiable
 * in z (autograd; tested against finite differences in float64), with its Lipschitz constant in z
 * (ℓ2 norm) where one exists:
 *
 * <pre>
 *   cross-entropy   −log softmax(z)_y                                   Lip √2   (∇ = p − e_y)
 *   hinge           max(0, 1 + max_{j≠y} z_j − z_y)  (Crammer–Singer)   Lip √2
 *   logistic        Σ_j log(1 + exp(−s_j z_j)), s = 2e_y − 1 (one-vs-all) Lip √K
 *   squared         ½‖z − e_y‖²                                          not Lipschitz
 *   cw[:κ]          max(max_{j≠y} z_j − z_y, −κ)  (Carlini–Wagner margin, κ = 0)  Lip √2
 *   smoothed-kl[:ε] KL(ỹ ‖ softmax(z)), ỹ = (1 − ε)e_y + ε/K (ε = 0.1)   Lip √2   (∇ = p − ỹ)
 * </pre>
 *
 * The smoothed KL is the KL divergence to a label-smoothed target: it is zero exactly at
 * softmax(z) = ỹ, so it has a finite minimizer, and it differs from label-smoothed cross-entropy by
 * the constant entropy of ỹ. Names take an optional parameter after a colon: {@code cw:5},
 * {@code smoothed-kl:0.2}.
 */
public final class Losses {
    public static final List<String> NAMES = List.of("cross-entropy", "hinge", "logistic", "squared", "cw", "smoothed-kl");
    public static final double DEFAULT_SMOOTHING = 0.1;

    private Losses() {}

    /** The loss a name (with an optional {@code :parameter}) denotes. */
    public static Loss parse(String spec) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        String name = s, arg = null;
        int colon = s.indexOf(':');
        if (colon >= 0) {
            name = s.substring(0, colon);
            arg = s.substring(colon + 1);
        }
        switch (name) {
            case "cross-entropy": case "ce": noArg(name, arg); return Loss.CROSS_ENTROPY;
            case "hinge": noArg(name, arg); return new Hinge();
            case "logistic": noArg(name, arg); return new Logistic();
            case "squared": case "mse": noArg(name, arg); return new SquaredOneHot();
            case "cw": return new CarliniWagner(arg == null ? 0 : number(name, arg));
            case "smoothed-kl": return new SmoothedKl(arg == null ? DEFAULT_SMOOTHING : number(name, arg));
            default: throw new IllegalArgumentException("unknown --loss '" + spec + "': use one of " + String.join(", ", NAMES)
                    + " (cw:κ and smoothed-kl:ε take a parameter)");
        }
    }

    /** The canonical name of a loss spec (for storing in checkpoints): "ce" → "cross-entropy". */
    public static String canonical(String spec) {
        return parse(spec).name();
    }

    private static void noArg(String name, String arg) {
        if (arg != null) throw new IllegalArgumentException("--loss " + name + " takes no parameter, got ':" + arg + "'");
    }

    private static double number(String name, String arg) {
        try {
            return Double.parseDouble(arg);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--loss " + name + ":" + arg + ": the parameter must be a number");
        }
    }

    /** One-hot of the labels in the logits' dtype, [N, K]. */
    static Tensor oneHot(Tensor logits, Tensor labels) {
        return labels.oneHot(logits.size(1)).to(logits.dtype());
    }

    /** z_y, [N]. */
    static Tensor trueLogit(Tensor logits, Tensor labels) {
        return logits.gather(1, labels.unsqueeze(1)).squeeze(1);
    }

    /** max_{j≠y} z_j, [N]. */
    static Tensor bestOtherLogit(Tensor logits, Tensor labels) {
        Tensor isTrue = labels.oneHot(logits.size(1)).to(DType.BOOL);
        return logits.maskedFill(isTrue, Double.NEGATIVE_INFINITY).amax(1, false);
    }

    /** Crammer–Singer multiclass hinge. */
    static final class Hinge implements Loss {
        @Override public Tensor perExample(Tensor z, Tensor y) {
            return bestOtherLogit(z, y).sub(trueLogit(z, y)).add(1).clampMin(0);
        }

        @Override public String describe() { return "hinge"; }

        @Override public double lipschitz(int numClasses) { return Math.sqrt(2); }
    }

    /** One-vs-all logistic loss. */
    static final class Logistic implements Loss {
        @Override public Tensor perExample(Tensor z, Tensor y) {
            Tensor sign = oneHot(z, y).mul(2).sub(1);
            return z.mul(sign).neg().softplus(1, 20).sum(1, false);
        }

        @Override public String describe() { return "logistic"; }

        @Override public double lipschitz(int numClasses) { return Math.sqrt(numClasses); }
    }

    /** Squared error against the one-hot target. */
    static final class SquaredOneHot implements Loss {
        @Override public Tensor perExample(Tensor z, Tensor y) {
            return z.sub(oneHot(z, y)).square().sum(1, false).mul(0.5);
        }

        @Override public String describe() { return "squared"; }

        @Override public double lipschitz(int numClasses) { return Double.POSITIVE_INFINITY; }
    }

    /** Carlini–Wagner margin loss with confidence κ. */
    static final class CarliniWagner implements Loss {
        private final double kappa;

        CarliniWagner(double kappa) {
            if (!(kappa >= 0)) throw new IllegalArgumentException("--loss cw:κ needs κ ≥ 0, got " + kappa);
            this.kappa = kappa;
        }

        @Override public Tensor perExample(Tensor z, Tensor y) {
            return bestOtherLogit(z, y).sub(trueLogit(z, y)).clampMin(-kappa);
        }

        @Override public String describe() { return kappa == 0 ? "cw" : "cw:" + num(kappa); }

        @Override public double lipschitz(int numClasses) { return Math.sqrt(2); }
    }

    /** KL divergence from the label-smoothed target ỹ to softmax(z). */
    static final class SmoothedKl implements Loss {
        private final double eps;

        SmoothedKl(double eps) {
            if (!(eps > 0 && eps < 1)) throw new IllegalArgumentException("--loss smoothed-kl:ε needs 0 < ε < 1, got " + eps);
            this.eps = eps;
        }

        @Override public Tensor perExample(Tensor z, Tensor y) {
            int k = (int) z.size(1);
            Tensor target = oneHot(z, y).mul(1 - eps).add(eps / k);
            return target.mul(target.log().sub(z.logSoftmax(1))).sum(1, false);
        }

        @Override public String describe() { return eps == DEFAULT_SMOOTHING ? "smoothed-kl" : "smoothed-kl:" + num(eps); }

        @Override public double lipschitz(int numClasses) { return Math.sqrt(2); }
    }

    private static String num(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
}
