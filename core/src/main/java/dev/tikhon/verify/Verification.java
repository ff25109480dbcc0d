package dev.tikhon.verify;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.Locale;

/**
 * Robustness verification of a classifier: an example (x, y) is verified at radius ε when every margin
 * z_y − z_j (j ≠ y) has a positive sound lower bound over the ℓp ball of radius ε around x intersected with
 * [0, 1] — no point of that set is classified otherwise. The certificate is of kind sound (up to floating-point
 * rounding of the bound computation itself).
 */
public final class Verification {
    public enum Method {
        IBP, CROWN,
        /** CROWN with the unstable ReLUs' lower slopes optimized per margin ({@link BoundedNetwork#alphaCrownLower}). */
        ALPHA_CROWN,
        /** Branch and bound on ReLU splits over CROWN with the splits' β multipliers ({@link BranchAndBound}). */
        BAB;

        public static Method parse(String s) {
            switch (s.toLowerCase(Locale.ROOT)) {
                case "ibp": return IBP;
                case "crown": return CROWN;
                case "alpha-crown": return ALPHA_CROWN;
                case "bab": return BAB;
                default: throw new IllegalArgumentException("unknown --method '" + s + "': use ibp, crown, alpha-crown or bab");
            }
        }

        @Override public String toString() { return name().toLowerCase(Locale.ROOT).replace('_', '-'); }
    }

    /** α-CROWN's Adam steps on the slopes, and its step size. */
    public static final int ALPHA_STEPS = 20;
    public static final double ALPHA_LR = 0.1;

    private Verification() {}

    /**
     * Per example, the smallest lower bound over j ≠ y of z_y − z_j over the region: verified where it is &gt; 0.
     *
     * @param eps one radius per example, [N]
     * @return [N]
     */
    public static Tensor worstMargin(Module model, Method method, Tensor x, Tensor y, Tensor eps, Norm norm, int numClasses) {
        return worstMargin(model, method, x, y, eps, norm, numClasses, BranchAndBound.Settings.DEFAULT);
    }

    /** The same, with branch and bound's settings ({@code bab}, read by {@link Method#BAB} only). */
    public static Tensor worstMargin(Module model, Method method, Tensor x, Tensor y, Tensor eps, Norm norm, int numClasses,
                                     BranchAndBound.Settings bab) {
        Tensor out = Tensor.zeros(x.dtype(), x.device(), x.size(0));   // outside the scope: it outlives the bound computation
        try (Autograd.Guard g = Autograd.noGrad(); Scope s = Scope.open()) {
            BoundedNetwork net = BoundedNetwork.of(model);
            InputRegion region = InputRegion.images(x, eps, norm);
            if (method == Method.BAB) {   // every row a rival class: no zero row to mask
                out.copy_(BranchAndBound.worstLower(net, region, BoundedNetwork.marginsOverOthers(y, numClasses, x),
                        BoundedNetwork.DEFAULT_CROWN_UNITS, bab));
                return out;
            }
            Tensor spec = BoundedNetwork.margins(y, numClasses, x);
            Tensor lower = switch (method) {
                case IBP -> net.ibp(region, spec).lo();
                case CROWN -> net.crownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, LowerSlope.ADAPTIVE);
                case ALPHA_CROWN -> net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, ALPHA_STEPS, ALPHA_LR);
                case BAB -> throw new AssertionError();
            };
            Tensor own = y.oneHot(numClasses).eq(1);
            out.copy_(lower.maskedFill(own, Double.POSITIVE_INFINITY).minWithIndex(1)[0]);
        }
        return out;
    }

    /** Whether each example is verified at its radius. */
    public static boolean[] verified(Module model, Method method, Tensor x, Tensor y, Tensor eps, Norm norm, int numClasses) {
        return verified(model, method, x, y, eps, norm, numClasses, BranchAndBound.Settings.DEFAULT);
    }

    static boolean[] verified(Module model, Method method, Tensor x, Tensor y, Tensor eps, Norm norm, int numClasses,
                              BranchAndBound.Settings bab) {
        return worstMargin(model, method, x, y, eps, norm, numClasses, bab).gt(0).toBooleanArray();
    }

    /**
     * Each example's largest verified radius in [0, max], by bisection on the verified/not-verified boundary ({@code steps}
     * halvings, all examples at once, each at its own radius). The answer is a radius at which the example <em>is</em>
     * verified (the lower end of the final bracket): 0 where not even the clean point is verified, {@code max} where the
     * whole range is. Bound propagation is not monotone in ε in exact arithmetic for every method, so this is the largest
     * verified radius found, itself verified.
     */
    public static double[] radius(Module model, Method method, Tensor x, Tensor y, Norm norm, int numClasses, double max, int steps) {
        return radius(model, method, x, y, norm, numClasses, max, steps, BranchAndBound.Settings.DEFAULT);
    }

    /** The same, with branch and bound's settings ({@code bab}, read by {@link Method#BAB} only). */
    public static double[] radius(Module model, Method method, Tensor x, Tensor y, Norm norm, int numClasses, double max, int steps,
                                  BranchAndBound.Settings bab) {
        int n = (int) x.size(0);
        double[] lo = new double[n], hi = new double[n];
        boolean[] atZero = verified(model, method, x, y, full(x, 0), norm, numClasses, bab);
        boolean[] atMax = verified(model, method, x, y, full(x, max), norm, numClasses, bab);
        for (int i = 0; i < n; i++) {
            hi[i] = max;
            lo[i] = atMax[i] ? max : 0;
        }
        for (int s = 0; s < steps; s++) {
            double[] mid = new double[n];
            for (int i = 0; i < n; i++) mid[i] = (lo[i] + hi[i]) / 2;
            boolean[] ok = verified(model, method, x, y, Tensor.fromDoubles(mid, n).to(x.dtype()).to(x.device()), norm, numClasses, bab);
            for (int i = 0; i < n; i++) {
                if (!atZero[i] || atMax[i]) continue;
                if (ok[i]) lo[i] = mid[i];
                else hi[i] = mid[i];
            }
        }
        for (int i = 0; i < n; i++) if (!atZero[i]) lo[i] = 0;
        return lo;
    }

    static Tensor full(Tensor x, double v) {
        return Tensor.full(v, x.dtype(), x.device(), x.size(0));
    }
}
