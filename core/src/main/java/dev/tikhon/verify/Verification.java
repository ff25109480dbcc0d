package dev.tikhon.verify;

import dev.tikhon.attack.Attack;
import dev.tikhon.attack.InputDomain;
import dev.tikhon.attack.MinimumDistance;
import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntPredicate;
import java.util.function.IntToDoubleFunction;
import java.util.stream.IntStream;

/**
 * Robustness verification of a classifier: an example (x, y) is verified at radius ε when every margin
 * z_y − z_j (j ≠ y) has a positive sound lower bound over the ℓp ball of radius ε around x intersected with
 * [0, 1] — no point of that set is classified otherwise. The certificate is of kind sound: up to the floating-point
 * rounding of the bound computation itself, or, run inside {@link Rounding#accounted}, for the exact network.
 */
public final class Verification {
    public enum Method {
        IBP, CROWN,
        /** CROWN with the unstable ReLUs' lower slopes optimized per margin ({@link BoundedNetwork#alphaCrownLower}). */
        ALPHA_CROWN,
        /** Branch and bound on ReLU splits over CROWN with the splits' β multipliers ({@link BranchAndBound}). */
        BAB,
        /** Branch and bound on the input box over CROWN, for ℓ∞ regions of few input dimensions ({@link InputSplitting}). */
        BAB_INPUT;

        public static Method parse(String s) {
            switch (s.toLowerCase(Locale.ROOT)) {
                case "ibp": return IBP;
                case "crown": return CROWN;
                case "alpha-crown": return ALPHA_CROWN;
                case "bab": return BAB;
                case "bab-input": return BAB_INPUT;
                default: throw new IllegalArgumentException("unknown --method '" + s + "': use ibp, crown, alpha-crown, bab or bab-input");
            }
        }

        /** Whether it searches over domains (bab, bab-input), so that a budget of domains applies to it. */
        public boolean searches() { return this == BAB || this == BAB_INPUT; }

        @Override public String toString() { return name().toLowerCase(Locale.ROOT).replace('_', '-'); }
    }

    /** α-CROWN's Adam steps on the slopes, and its step size. */
    public static final int ALPHA_STEPS = 20;
    public static final double ALPHA_LR = 0.1;

    private Verification() {}

    /**
     * Per example, the smallest lower bound over j ≠ y of z_y − z_j over the region (the ball ∩ the {@link InputDomain} in
     * force): verified where it is &gt; 0. Radii must be finite and ≥ 0 and the inputs in the domain: a negative radius or
     * a point outside [0, 1] would make the region empty, and every bound over an empty region "verifies".
     *
     * @param eps one radius per example, [N]
     * @return [N]
     */
    public static Tensor worstMargin(Module model, Method method, Tensor x, Tensor y, Tensor eps, Norm norm, int numClasses) {
        return worstMargin(model, method, x, y, eps, norm, numClasses, BranchAndBound.Settings.DEFAULT);
    }

    /**
     * The same, with branch and bound's settings ({@code bab}, read by {@link Method#BAB}; {@link Method#BAB_INPUT} reads its
     * budget of domains).
     */
    public static Tensor worstMargin(Module model, Method method, Tensor x, Tensor y, Tensor eps, Norm norm, int numClasses,
                                     BranchAndBound.Settings bab) {
        return worstMargin(model, method, x, y, eps, norm, numClasses, bab, SearchHooks.NONE);
    }

    /**
     * The same; a search ({@link Method#searches}) asks {@code hooks} which examples its root leaves open are refuted
     * already, and tells it the counterexamples it finds (the other methods ignore it).
     */
    public static Tensor worstMargin(Module model, Method method, Tensor x, Tensor y, Tensor eps, Norm norm, int numClasses,
                                     BranchAndBound.Settings bab, SearchHooks hooks) {
        Tensor out = Tensor.zeros(x.dtype(), x.device(), x.size(0));   // outside the scope: it outlives the bound computation
        try (Autograd.Guard g = Autograd.noGrad(); Scope s = Scope.open()) {
            requireRadii(eps);
            InputDomain.current().require(x, "verification (" + method + ")");
            BoundedNetwork net = BoundedNetwork.of(model);
            InputRegion region = InputRegion.inDomain(x, eps, norm);
            if (method == Method.BAB) {   // every row a rival class: no zero row to mask
                out.copy_(BranchAndBound.worstLower(net, region, BoundedNetwork.marginsOverOthers(y, numClasses, x),
                        BoundedNetwork.DEFAULT_CROWN_UNITS, bab, 0, () -> false, hooks));
                return out;
            }
            if (method == Method.BAB_INPUT) {   // ℓ∞ only: InputSplitting.worstLower refuses an ℓ2 ball (requireBox)
                out.copy_(InputSplitting.worstLower(net, region, BoundedNetwork.marginsOverOthers(y, numClasses, x),
                        InputSplitting.Settings.like(bab), 0, () -> false, hooks));
                return out;
            }
            Tensor spec = BoundedNetwork.margins(y, numClasses, x);
            Tensor lower = switch (method) {
                case IBP -> net.ibp(region, spec).lo();
                case CROWN -> net.crownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, LowerSlope.ADAPTIVE);
                // stops a chunk's ascent once it is verified: the verdict is what this answers
                case ALPHA_CROWN -> net.alphaCrownLowerUntilVerified(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, ALPHA_STEPS, ALPHA_LR);
                case BAB, BAB_INPUT -> throw new AssertionError();
            };
            Tensor own = y.oneHot(numClasses).eq(1);
            out.copy_(lower.maskedFill(own, Double.POSITIVE_INFINITY).minWithIndex(1)[0]);
        }
        return out;
    }

    /** Input splitting halves boxes: an ℓ2 ball is not one. */
    public static void requireBox(Norm norm) {
        if (norm != Norm.LINF) {
            throw new IllegalArgumentException("bab-input splits the input box, so it verifies ℓ∞ balls only, not " + norm
                    + ": use --norm linf, or bab or alpha-crown for " + norm);
        }
    }

    private static void requireRadii(Tensor eps) {
        double[] range = eps.minMax();
        if (!(range[0] >= 0) || !(range[1] < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("verified radii must be finite and ≥ 0, got radii from " + range[0] + " to " + range[1]);
        }
    }

    /** Whether each example is verified at its radius. */
    public static boolean[] verified(Module model, Method method, Tensor x, Tensor y, Tensor eps, Norm norm, int numClasses) {
        return verified(model, method, x, y, eps, norm, numClasses, BranchAndBound.Settings.DEFAULT);
    }

    static boolean[] verified(Module model, Method method, Tensor x, Tensor y, Tensor eps, Norm norm, int numClasses,
                              BranchAndBound.Settings bab) {
        return verified(model, method, x, y, eps, norm, numClasses, bab, SearchHooks.NONE);
    }

    static boolean[] verified(Module model, Method method, Tensor x, Tensor y, Tensor eps, Norm norm, int numClasses,
                              BranchAndBound.Settings bab, SearchHooks hooks) {
        return worstMargin(model, method, x, y, eps, norm, numClasses, bab, hooks).gt(0).toBooleanArray();
    }

    /**
     * Each example's largest verified radius in [0, max], by bisection on the verified/not-verified boundary down to a
     * bracket of width max / 2^{@code steps} (all examples at once, each at its own radius; see {@link RadiusSearch}).
     * The answer is a radius at which the example <em>is</em> verified (the lower end of the final bracket): 0 where not
     * even the clean point is verified, {@code max} where the whole range is. Bound propagation is not monotone in ε in
     * exact arithmetic for every method, so this is the largest verified radius found, itself verified.
     */
    public static double[] radius(Module model, Method method, Tensor x, Tensor y, Norm norm, int numClasses, double max, int steps) {
        return radius(model, method, x, y, norm, numClasses, max, steps, BranchAndBound.Settings.DEFAULT);
    }

    /** The same, with branch and bound's settings ({@code bab}, read by {@link Method#BAB} only). */
    public static double[] radius(Module model, Method method, Tensor x, Tensor y, Norm norm, int numClasses, double max, int steps,
                                  BranchAndBound.Settings bab) {
        return new RadiusSearch(model, x, y, norm, numClasses, max, steps, bab).radius(method);
    }

    /**
     * The largest verified radius of a batch of examples, per method, each searched once. Every bisection step bounds
     * only the examples whose bracket is still wider than max / 2^steps (IBP and CROWN reach exactly the radii of a plain
     * bisection of [0, max]). The costly methods start from a narrower bracket:
     * <ul>
     * <li>below: α-CROWN and branch and bound from CROWN's radius. It is verified, and verified by the costlier methods
     *     too (α-CROWN's bound is at least CROWN's, branch and bound's at least all three), so it changes no answer's
     *     soundness, only where the search starts;</li>
     * <li>above, for branch and bound: the smallest adversarial distance found by a minimum-distance attack
     *     ({@link #adversarialDistance}): no sound method verifies a ball that holds an adversarial point, so the bisection
     *     never spends a search on one. The attack changes only where the search ends; the answer is still a radius the
     *     method verified.</li>
     * </ul>
     * Each branch-and-bound step below its answer mostly ends at the root, and each above it spends the whole domain
     * budget; the bracket spares only those above the attack's distance, so the steps near the answer still cost most
     * (docs/verification.md measures it).
     */
    public static final class RadiusSearch {
        /** The upper end's attack: DDN and FAB-T at the {@code attack} command's defaults (100 steps, 9 targets). */
        static final int ATTACK_STEPS = 100, ATTACK_TARGETS = 9;

        private final Module model;
        private final Tensor x, y;
        private final Norm norm;
        private final int numClasses, steps;
        private final double max;
        private final BranchAndBound.Settings bab;
        private final Map<Method, double[]> found = new EnumMap<>(Method.class);
        private double[] adversarial;
        private SearchStatus status = (row, radius, domains, lower) -> {};

        /** Where a branch-and-bound search stands: example {@code row} at {@code radius}, after {@code domains}, its bound so far. */
        public interface SearchStatus {
            void searching(int row, double radius, int domains, double lower);
        }

        public RadiusSearch(Module model, Tensor x, Tensor y, Norm norm, int numClasses, double max, int steps,
                            BranchAndBound.Settings bab) {
            if (!(max > 0)) throw new IllegalArgumentException("the largest radius must be positive, got " + max);
            if (steps < 0) throw new IllegalArgumentException("bisection steps must be ≥ 0, got " + steps);
            this.model = model;
            this.x = x;
            this.y = y;
            this.norm = norm;
            this.numClasses = numClasses;
            this.max = max;
            this.steps = steps;
            this.bab = bab;
        }

        /** Tells {@code status} after each batch of domains of each search (bab, bab-input), for a status line. */
        public RadiusSearch onSearch(SearchStatus status) {
            this.status = status;
            return this;
        }

        /** Each example's largest verified radius by {@code method} (computed once; the cascade's cheaper ones too). */
        public double[] radius(Method method) {
            double[] r = found.get(method);
            if (r == null) {
                r = switch (method) {
                    case IBP, CROWN -> bisect(method, new double[(int) x.size(0)], null);
                    // an α-CROWN step costs about what the attack does, and the attack saves it one or two steps: not worth it
                    case ALPHA_CROWN -> bisect(method, radius(Method.CROWN), null);
                    // not from α-CROWN's: branch and bound runs α-CROWN at its root anyway, so a step below α-CROWN's radius
                    // costs one α-CROWN pass either way, and α-CROWN's own bisection would add a dozen
                    case BAB, BAB_INPUT -> bisect(method, radius(Method.CROWN), adversarialDistance());
                };
                found.put(method, r);
            }
            return r.clone();
        }

        /**
         * Per example, the smallest distance (in the threat norm) at which the attack found a point classified other than
         * y: an upper end of every sound radius. +∞ where it found none; 0 where the example itself is misclassified.
         */
        public double[] adversarialDistance() {
            if (adversarial == null) {
                int k = Math.max(1, Math.min(ATTACK_TARGETS, numClasses - 1));
                adversarial = new double[(int) x.size(0)];
                try (Scope s = Scope.open()) {
                    Attack.Result a = MinimumDistance.standard(norm, ATTACK_STEPS, ATTACK_STEPS, k).find(model, x, y).result();
                    for (int i = 0; i < adversarial.length; i++) adversarial[i] = a.success()[i] ? a.distance()[i] : Double.POSITIVE_INFINITY;
                }
            }
            return adversarial.clone();
        }

        /**
         * Bisection of each example's bracket [lo, hi] with the method. {@code below}: per example a radius some method
         * verified (0: not known to verify even the clean point). {@code above}: per example a radius no method can
         * verify (null: none known; the search then tries max itself).
         */
        private double[] bisect(Method method, double[] below, double[] above) {
            int n = below.length;
            double resolution = max / Math.pow(2, steps);
            double[] lo = below.clone(), hi = new double[n];
            boolean[] open = new boolean[n];
            for (int i = 0; i < n; i++) {
                hi[i] = above == null ? max : Math.min(max, above[i]);
                open[i] = lo[i] < hi[i];
            }
            boolean[] atZero = check(method, open, i -> lo[i] == 0, i -> 0.0);
            for (int i = 0; i < n; i++) if (open[i] && lo[i] == 0 && !atZero[i]) open[i] = false;   // not even the clean point
            boolean[] atMax = check(method, open, i -> hi[i] == max, i -> max);
            for (int i = 0; i < n; i++) {
                if (open[i] && hi[i] == max && atMax[i]) {
                    lo[i] = max;
                    open[i] = false;
                }
            }
            while (true) {
                boolean[] active = new boolean[n];
                double[] mid = new double[n];
                boolean any = false;
                for (int i = 0; i < n; i++) {
                    active[i] = open[i] && hi[i] - lo[i] > resolution * (1 + 1e-9);
                    mid[i] = (lo[i] + hi[i]) / 2;
                    any |= active[i];
                }
                if (!any) return lo;
                boolean[] ok = check(method, active, i -> true, i -> mid[i]);
                for (int i = 0; i < n; i++) {
                    if (!active[i]) continue;
                    if (ok[i]) lo[i] = mid[i];
                    else hi[i] = mid[i];
                }
            }
        }

        /**
         * Bounds the examples that are {@code open} and pass {@code which}, each at its radius, in one batch: per example
         * whether it was verified (false for those not bounded).
         */
        private boolean[] check(Method method, boolean[] open, IntPredicate which,
                                IntToDoubleFunction radius) {
            int n = open.length;
            int[] rows = IntStream.range(0, n).filter(i -> open[i] && which.test(i)).toArray();
            boolean[] out = new boolean[n];
            if (rows.length == 0) return out;
            double[] eps = Arrays.stream(rows).mapToDouble(radius).toArray();
            try (Scope s = Scope.open()) {
                Tensor index = Tensor.fromLongs(Arrays.stream(rows).asLongStream().toArray(), rows.length).to(x.device());
                SearchHooks hooks = new SearchHooks() {
                    @Override public void progress(int j, int domains, double lower) {
                        status.searching(rows[j], eps[j], domains, lower);
                    }
                };
                boolean[] ok = verified(model, method, x.indexSelect(0, index), y.indexSelect(0, index),
                        Tensor.fromDoubles(eps, rows.length).to(x.dtype()).to(x.device()), norm, numClasses, bab, hooks);
                for (int j = 0; j < rows.length; j++) out[rows[j]] = ok[j];
            }
            return out;
        }
    }

    static Tensor full(Tensor x, double v) {
        return Tensor.full(v, x.dtype(), x.device(), x.size(0));
    }
}
