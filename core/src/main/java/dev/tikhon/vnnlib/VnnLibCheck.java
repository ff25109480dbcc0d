package dev.tikhon.vnnlib;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.verify.BoundedNetwork;
import dev.tikhon.verify.BranchAndBound;
import dev.tikhon.verify.InputRegion;
import dev.tikhon.verify.InputSplitting;
import dev.tikhon.verify.LowerSlope;
import dev.tikhon.verify.Rounding;
import dev.tikhon.verify.SearchHooks;
import dev.tikhon.verify.Verification;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Checks a {@link VnnLib.Property} on a network. A case is refuted when, for some constraint g_k = c_k·Y + d_k ≥ 0 of it, a
 * sound lower bound L_k of −c_k·Y over the case's box (IBP, CROWN or α-CROWN on the specification rows −c_k, or branch and
 * bound on the row −c_k searched until it exceeds d_k) exceeds d_k, so that g_k &lt; 0 on the whole box; or, by input
 * splitting ({@link InputSplitting}, which may also find a counterexample), when every sub-box of a cover of the box is
 * refuted so by one of the constraints; an empty box is refuted by itself. Every case refuted: "unsat" (the property holds, a sound certificate). Otherwise an attack looks for a
 * counterexample in the cases not refuted: the box's centre and corners, then sign-gradient ascent (PGD) on
 * min_k g_k(f(x)) clamped to the box, from the centre and random starts (a random source per case, from the seed); a point
 * whose forward pass satisfies every g_k ≥ 0: "sat"; else "unknown" ("timeout" where the time limit stopped it first).
 * By default the methods run as a cascade ({@link Options#cascade}).
 *
 * <p>The bounds are taken over the case's box rounded outward to doubles (it holds the exact decimal box) and L_k is
 * compared with the exact d_k. Where rounding is accounted ({@link Rounding#accounted}, the model in float64) a constraint
 * whose coefficients are not doubles exactly (0.1, not 0.5) is not used to refute: its rounded rows would be bounded, not its own.
 */
public final class VnnLibCheck {
    /** Attack starts per case: the centre and this many − 1 uniform random points of the box. */
    public static final int STARTS = 10;
    /** Corners tried per case: all 2^D where D ≤ 10, else this many at random. */
    public static final int CORNERS = 1024;

    public enum Verdict {
        UNSAT, SAT, UNKNOWN, TIMEOUT;

        public String word() { return name().toLowerCase(java.util.Locale.ROOT); }
    }

    /**
     * How a check runs.
     *
     * @param cascade        the methods cheapest first (ibp, crown, alpha-crown, bab-input, bab), each given only the cases the
     *                       earlier ones left, and the attack tried on what ibp and crown leave before alpha-crown, bab-input and bab
     *                       (a counterexample ends the check); false: every method bounds every case, then the attack
     * @param bab            branch and bound's settings, read by {@link Verification.Method#BAB}; bab-input reads its budget
     *                       of domains (per case)
     * @param timeoutSeconds the check stops between steps (a box's bound, a step of α-CROWN's ascent, a case of bab, a batch
     *                       of bab's domains or bab-input's sub-boxes, a case or PGD step of the attack) once this many seconds
     *                       have passed, with {@link Verdict#TIMEOUT}
     *                       unless it has already proved or falsified the property; ≤ 0: no limit
     */
    public record Options(boolean cascade, BranchAndBound.Settings bab, double timeoutSeconds) {
        public static final Options DEFAULT = new Options(true, BranchAndBound.Settings.DEFAULT, 0);

        public Options withCascade(boolean on) { return new Options(on, bab, timeoutSeconds); }

        public Options withBab(BranchAndBound.Settings b) { return new Options(cascade, b, timeoutSeconds); }

        public Options withTimeout(double seconds) { return new Options(cascade, bab, seconds); }
    }

    /** The order of a cascade: cheapest first. */
    static final List<Verification.Method> CASCADE = List.of(Verification.Method.IBP, Verification.Method.CROWN,
            Verification.Method.ALPHA_CROWN, Verification.Method.BAB_INPUT, Verification.Method.BAB);

    /**
     * {@link CaseResult#refutedBy}'s value where input splitting refuted the case with different constraints on different
     * sub-boxes (no one constraint refutes the whole box).
     */
    public static final int BY_SEVERAL = Integer.MAX_VALUE;

    /**
     * Per case: whether its box is empty; per method given the case, the constraint index that refuted it (−1: none) and
     * each L_k − d_k (NaN where that method did not bound the constraint: bab stops at the first it refutes). A method
     * absent from the maps was not given the case (a cascade: an earlier method refuted it; or the time ran out).
     */
    public record CaseResult(int index, boolean empty, Map<Verification.Method, Integer> refutedBy, Map<Verification.Method, double[]> margins) {
        public boolean refuted() { return empty || refutedBy.values().stream().anyMatch(k -> k >= 0); }
    }

    /** The verdict; the counterexample (x flat, y) for "sat", else null; seconds per method and of the attack. */
    public record Result(Verdict verdict, List<CaseResult> cases, double[] x, double[] y, int counterexampleCase,
                         Map<Verification.Method, Double> boundSeconds, double attackSeconds) {
        /** Cases the method refuted, of those it was given. */
        public long refuted(Verification.Method m) {
            return cases.stream().filter(c -> c.refutedBy.getOrDefault(m, -1) >= 0).count();
        }

        /** Cases the method was given (bounded). */
        public long given(Verification.Method m) {
            return cases.stream().filter(c -> c.refutedBy.containsKey(m)).count();
        }

        /** Cases refuted by some method or empty. */
        public long refutedCases() { return cases.stream().filter(CaseResult::refuted).count(); }
    }

    private final Module model;
    private final long[] inputShape;
    private final boolean rounding;

    /**
     * @param model      in evaluation mode (float64 where {@code rounding})
     * @param inputShape per example; X_i is the i-th value of the input flattened in row-major order
     * @param rounding   bound inside {@link Rounding#accounted}
     */
    public VnnLibCheck(Module model, long[] inputShape, boolean rounding) {
        this.model = model;
        this.inputShape = inputShape.clone();
        this.rounding = rounding;
    }

    /** {@link Options#DEFAULT}: a cascade, no time limit. */
    public Result run(VnnLib.Property p, List<Verification.Method> methods, int attackSteps, long seed) {
        return run(p, methods, attackSteps, seed, Options.DEFAULT);
    }

    public Result run(VnnLib.Property p, List<Verification.Method> methods, int attackSteps, long seed, Options options) {
        long start = System.nanoTime();
        long limit = options.timeoutSeconds() > 0 ? (long) Math.min(Long.MAX_VALUE / 4.0, options.timeoutSeconds() * 1e9) : -1;
        java.util.function.BooleanSupplier expired = () -> limit >= 0 && System.nanoTime() - start >= limit;
        BoundedNetwork net = rounding ? Rounding.accounted(() -> BoundedNetwork.of(model)) : BoundedNetwork.of(model);
        Map<Verification.Method, Double> seconds = new LinkedHashMap<>();
        List<Map<Verification.Method, Integer>> by = new ArrayList<>();
        List<Map<Verification.Method, double[]>> margins = new ArrayList<>();
        for (int k = 0; k < p.cases().size(); k++) { by.add(new LinkedHashMap<>()); margins.add(new LinkedHashMap<>()); }
        List<Verification.Method> order = new ArrayList<>(methods);
        if (options.cascade()) order.sort(java.util.Comparator.comparingInt(CASCADE::indexOf));
        boolean[] attacked = new boolean[p.cases().size()];
        double attackSeconds = 0;
        for (Verification.Method m : order) {
            List<Integer> open = new ArrayList<>();   // the cases this method is given
            for (int k = 0; k < p.cases().size(); k++) {
                if (!p.cases().get(k).empty() && (!options.cascade() || !refuted(by.get(k)))) open.add(k);
            }
            if (open.isEmpty() || expired.getAsBoolean()) break;
            if (options.cascade() && (m == Verification.Method.ALPHA_CROWN || m == Verification.Method.BAB || m == Verification.Method.BAB_INPUT)) {
                // falsify before the expensive methods: a counterexample ends the property
                long t0 = System.nanoTime();
                for (int k : open) {
                    if (attacked[k] || expired.getAsBoolean()) continue;
                    double[] x = attack(p.cases().get(k), attackSteps, caseRng(seed, k), expired);
                    attacked[k] = !expired.getAsBoolean() || x != null;
                    if (x != null) {
                        return new Result(Verdict.SAT, results(p, by, margins), x, forward(x), k, seconds,
                                attackSeconds + (System.nanoTime() - t0) / 1e9);
                    }
                }
                attackSeconds += (System.nanoTime() - t0) / 1e9;
                if (expired.getAsBoolean()) break;
            }
            long t0 = System.nanoTime();
            int found = -1;   // a case input splitting found a counterexample in
            double[] point = null;
            if (m == Verification.Method.BAB || m == Verification.Method.BAB_INPUT) {
                // the cascade ends at the first counterexample; without it the method still bounds every case, to compare
                for (int k : open) {
                    if (expired.getAsBoolean()) break;
                    double[] x = m == Verification.Method.BAB ? bab(net, p.cases().get(k), by.get(k), margins.get(k), options.bab(), expired)
                            : babInput(net, p.cases().get(k), by.get(k), margins.get(k), options.bab(), expired);
                    if (x != null && point == null) {
                        point = x;
                        found = k;
                    }
                    if (point != null && options.cascade()) break;
                }
            } else bound(net, m, p, open, by, margins, expired);
            seconds.put(m, (System.nanoTime() - t0) / 1e9);
            if (point != null) {
                return new Result(Verdict.SAT, results(p, by, margins), point, forward(point), found, seconds, attackSeconds);
            }
        }
        List<CaseResult> cases = results(p, by, margins);
        if (cases.stream().allMatch(CaseResult::refuted)) return new Result(Verdict.UNSAT, cases, null, null, -1, seconds, attackSeconds);
        long t0 = System.nanoTime();
        for (CaseResult cr : cases) {
            if (cr.refuted() || attacked[cr.index()]) continue;   // an attack is deterministic per case: no second try
            if (expired.getAsBoolean()) break;
            double[] x = attack(p.cases().get(cr.index()), attackSteps, caseRng(seed, cr.index()), expired);
            if (x != null) {
                return new Result(Verdict.SAT, cases, x, forward(x), cr.index(), seconds, attackSeconds + (System.nanoTime() - t0) / 1e9);
            }
        }
        attackSeconds += (System.nanoTime() - t0) / 1e9;
        return new Result(expired.getAsBoolean() ? Verdict.TIMEOUT : Verdict.UNKNOWN, cases, null, null, -1, seconds, attackSeconds);
    }

    private static boolean refuted(Map<Verification.Method, Integer> by) { return by.values().stream().anyMatch(k -> k >= 0); }

    private static List<CaseResult> results(VnnLib.Property p, List<Map<Verification.Method, Integer>> by, List<Map<Verification.Method, double[]>> margins) {
        List<CaseResult> cases = new ArrayList<>();
        for (int k = 0; k < p.cases().size(); k++) {
            cases.add(new CaseResult(k, p.cases().get(k).empty(), new LinkedHashMap<>(by.get(k)), new LinkedHashMap<>(margins.get(k))));
        }
        return cases;
    }

    /** The attack's random source for case k: its own, so that a case's attack does not depend on which others ran before it. */
    static Random caseRng(long seed, int k) { return new Random(seed * 0x9E3779B97F4A7C15L + k); }

    /** Whether the sound lower bound {@code lower} of −c·Y refutes g = c·Y + d ≥ 0 (exceeds the exact d), and may be used to. */
    private boolean refutes(VnnLib.Constraint g, double lower) {
        return (!rounding || g.exactCoefficients()) && Double.isFinite(lower) && new BigDecimal(lower).compareTo(g.d()) > 0;
    }

    /** The first of a case's constraints whose bound ({@code bounds}[at + j] for constraint j) refutes it, or −1. */
    private int refuting(List<VnnLib.Constraint> constraints, double[] bounds, int at) {
        for (int j = 0; j < constraints.size(); j++) if (refutes(constraints.get(j), bounds[at + j])) return j;
        return -1;
    }

    /**
     * IBP, CROWN or α-CROWN on the given cases; cases with the same box (a robustness property's disjuncts) are bounded
     * together: one specification of all their rows.
     */
    private void bound(BoundedNetwork net, Verification.Method m, VnnLib.Property p, List<Integer> open,
                       List<Map<Verification.Method, Integer>> by, List<Map<Verification.Method, double[]>> margins,
                       java.util.function.BooleanSupplier expired) {
        Map<String, List<Integer>> byBox = new LinkedHashMap<>();
        for (int k : open) {
            VnnLib.Case c = p.cases().get(k);
            byBox.computeIfAbsent(Arrays.toString(c.loOut()) + Arrays.toString(c.hiOut()), b -> new ArrayList<>()).add(k);
        }
        for (List<Integer> group : byBox.values()) {
            if (expired.getAsBoolean()) return;
            VnnLib.Case first = p.cases().get(group.get(0));
            List<VnnLib.Constraint> rows = new ArrayList<>();
            for (int k : group) rows.addAll(p.cases().get(k).constraints());
            java.util.function.Predicate<double[]> decided = decided(p, group);
            double[] all = rows.isEmpty() ? new double[0]
                    : rounding ? Rounding.accounted(() -> lower(net, m, first, rows, decided, expired))
                    : lower(net, m, first, rows, decided, expired);
            int at = 0;
            for (int k : group) {
                VnnLib.Case c = p.cases().get(k);
                int size = c.constraints().size();
                double[] margin = new double[size];
                for (int j = 0; j < size; j++) margin[j] = all[at + j] - c.constraints().get(j).d().doubleValue();
                by.get(k).put(m, refuting(c.constraints(), all, at));
                at += size;
                margins.get(k).put(m, margin);
            }
        }
    }

    /**
     * Branch and bound on one case: its constraints one at a time, the most promising first (the largest bound any method
     * found), each searched for a lower bound of −c·Y over the box above d, until one refutes the case. Records the case's
     * result and returns a counterexample a search found (a search of one constraint ends at a point where that constraint
     * cannot refute the case, {@link BranchAndBound.Settings#falsify}; the point counts where it satisfies the case's every
     * constraint, confirmed by a forward pass), or null.
     */
    private double[] bab(BoundedNetwork net, VnnLib.Case c, Map<Verification.Method, Integer> by, Map<Verification.Method, double[]> margins,
                         BranchAndBound.Settings settings, java.util.function.BooleanSupplier expired) {
        int size = c.constraints().size();
        double[] best = new double[size];
        Arrays.fill(best, Double.NEGATIVE_INFINITY);
        for (double[] v : margins.values()) for (int j = 0; j < size; j++) if (!Double.isNaN(v[j])) best[j] = Math.max(best[j], v[j]);
        Integer[] tries = new Integer[size];
        for (int j = 0; j < size; j++) tries[j] = j;
        Arrays.sort(tries, (a, b) -> Double.compare(best[b], best[a]));
        double[] margin = new double[size];
        Arrays.fill(margin, Double.NaN);
        int refutedBy = -1;
        double[] counterexample = null;
        for (int j : tries) {
            VnnLib.Constraint g = c.constraints().get(j);
            if (rounding && !g.exactCoefficients()) continue;   // not usable to refute
            if (expired.getAsBoolean()) break;
            double[][] told = new double[1][];
            SearchHooks hooks = new SearchHooks() {
                @Override public void counterexample(int example, double[] point) { told[0] = point; }
            };
            double lower = rounding ? Rounding.accounted(() -> babLower(net, c, g, settings, expired, hooks)) : babLower(net, c, g, settings, expired, hooks);
            margin[j] = lower - g.d().doubleValue();
            if (refutes(g, lower)) { refutedBy = j; break; }
            counterexample = told[0] == null ? null : inCase(c, told[0]);
            if (counterexample != null) break;
        }
        by.put(Verification.Method.BAB, refutedBy);
        margins.put(Verification.Method.BAB, margin);
        return counterexample;
    }

    /**
     * Input splitting on one case: its constraints together, a sub-box refuted by any one of them (each searched until its
     * bound exceeds d_k). Records the case's result (per constraint the minimum of the leaves' bounds, sound over the box) and
     * returns a counterexample its points found, confirmed by a forward pass of the model (null: none).
     */
    private double[] babInput(BoundedNetwork net, VnnLib.Case c, Map<Verification.Method, Integer> by, Map<Verification.Method, double[]> margins,
                              BranchAndBound.Settings bab, java.util.function.BooleanSupplier expired) {
        int size = c.constraints().size();
        if (size == 0) {   // nothing to refute: every point of the box is a counterexample, which the attack gives
            by.put(Verification.Method.BAB_INPUT, -1);
            margins.put(Verification.Method.BAB_INPUT, new double[0]);
            return null;
        }
        double[] t = new double[size];
        for (int j = 0; j < size; j++) {
            VnnLib.Constraint g = c.constraints().get(j);
            // above d (rounded up); a constraint not usable to refute never proves a sub-box
            t[j] = rounding && !g.exactCoefficients() ? Double.POSITIVE_INFINITY : Math.nextUp(g.d().doubleValue());
        }
        InputSplitting.Settings settings = InputSplitting.Settings.like(bab);
        java.util.function.Supplier<InputSplitting.Outcome> run = () -> {
            try (Scope s = Scope.open()) {
                return InputSplitting.search(net, batch(c.loOut(), 1), batch(c.hiOut(), 1), negatedRows(c.constraints()), t,
                        InputSplitting.Goal.ANY, settings, expired);
            }
        };
        InputSplitting.Outcome o = rounding ? Rounding.accounted(run) : run.get();
        double[] margin = new double[size];
        for (int j = 0; j < size; j++) margin[j] = o.rows()[j] - c.constraints().get(j).d().doubleValue();
        int refutedBy = refuting(c.constraints(), o.rows(), 0);
        if (refutedBy < 0 && o.proved()) refutedBy = BY_SEVERAL;
        by.put(Verification.Method.BAB_INPUT, refutedBy);
        margins.put(Verification.Method.BAB_INPUT, margin);
        return o.counterexample() == null ? null : inCase(c, o.counterexample());
    }

    /**
     * A search's point (found in the case's outward box) moved back into the case's own box, where the model's forward pass
     * confirms it as a counterexample of the case (it satisfies every constraint), else null.
     */
    private double[] inCase(VnnLib.Case c, double[] point) {
        double[] x = point.clone();
        for (int i = 0; i < x.length; i++) x[i] = clamp(x[i], c, i);
        return violates(c, x) ? x : null;
    }

    /** A sound lower bound of −c·Y over the case's outward box by branch and bound, searching until it exceeds d. */
    private double babLower(BoundedNetwork net, VnnLib.Case c, VnnLib.Constraint g, BranchAndBound.Settings settings,
                            java.util.function.BooleanSupplier expired, SearchHooks hooks) {
        try (Scope s = Scope.open()) {
            InputRegion region = InputRegion.box(batch(c.loOut(), 1), batch(c.hiOut(), 1));
            Tensor spec = negatedRows(List.of(g));
            // the search's target: above d (rounded up, so that a bound it stops at is above the exact d where it can be)
            double threshold = Math.nextUp(g.d().doubleValue());
            return BranchAndBound.worstLower(net, region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, settings, threshold, expired, hooks)
                    .to(DType.FLOAT64).toDoubleArray()[0];
        }
    }

    /**
     * Whether bounds of the constraints of the cases of {@code group} (in order, as {@link #bound} stacks them) refute every
     * one of those cases: each has a constraint whose bound refutes it.
     */
    private java.util.function.Predicate<double[]> decided(VnnLib.Property p, List<Integer> group) {
        return bounds -> {
            int at = 0;
            for (int k : group) {
                List<VnnLib.Constraint> constraints = p.cases().get(k).constraints();
                if (refuting(constraints, bounds, at) < 0) return false;
                at += constraints.size();
            }
            return true;
        };
    }

    /**
     * Sound lower bounds of −c_k·Y over the case's outward box, one per constraint of {@code constraints}; α-CROWN's ascent
     * ends once {@code decided} holds of its bounds (every case of the box refuted) or, between steps, once {@code expired}
     * says so, with the best bounds so far (sound, at least CROWN's).
     */
    private double[] lower(BoundedNetwork net, Verification.Method m, VnnLib.Case c, List<VnnLib.Constraint> constraints,
                           java.util.function.Predicate<double[]> decided, java.util.function.BooleanSupplier expired) {
        try (Scope s = Scope.open()) {
            InputRegion region = InputRegion.box(batch(c.loOut(), 1), batch(c.hiOut(), 1));
            Tensor spec = negatedRows(constraints);
            Tensor lo = switch (m) {
                case IBP -> net.ibp(region, spec).lo();
                case CROWN -> net.crownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, LowerSlope.ADAPTIVE);
                case ALPHA_CROWN -> net.alphaCrownLowerUntil(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, Verification.ALPHA_STEPS,
                        Verification.ALPHA_LR, decided, expired);
                default -> throw new IllegalArgumentException("a VNN-LIB property is bounded by ibp, crown or alpha-crown here, not " + m);
            };
            return lo.to(DType.FLOAT64).toDoubleArray();
        }
    }

    /** The specification [1, k, outputs] whose rows are −c_j of the k constraints, in the model's type and on its device. */
    private Tensor negatedRows(List<VnnLib.Constraint> constraints) {
        int k = constraints.size(), n = constraints.get(0).c().length;
        double[] rows = new double[k * n];
        for (int j = 0; j < k; j++) {
            double[] cj = constraints.get(j).coefficients();
            for (int i = 0; i < n; i++) rows[j * n + i] = -cj[i];
        }
        return Tensor.fromDoubles(rows, 1, k, n).to(model.device(), model.dtype());
    }

    /** {@code rows} points of D values each, as a batch [rows, …input shape] of the model's type and device. */
    private Tensor batch(double[] flat, int rows) {
        long[] shape = new long[inputShape.length + 1];
        shape[0] = rows;
        System.arraycopy(inputShape, 0, shape, 1, inputShape.length);
        return Tensor.fromDoubles(flat, shape).to(model.device(), model.dtype());
    }

    /** The network's outputs at x (flat), in the model's precision. */
    public double[] forward(double[] x) {
        try (Scope s = Scope.open()) {
            return model.forward(batch(x, 1)).to(DType.FLOAT64).flatten(0, -1).toDoubleArray();
        }
    }

    /** Whether f(x) satisfies every constraint of the case: x is a counterexample (x is in the box by construction). */
    public boolean violates(VnnLib.Case c, double[] x) {
        double[] y = forward(x);
        for (VnnLib.Constraint g : c.constraints()) if (!(g.value(y) >= 0)) return false;
        return true;
    }

    /** A counterexample in the case's (nearest-double) box, or null. */
    double[] attack(VnnLib.Case c, int steps, Random rng) { return attack(c, steps, rng, () -> false); }

    /** The same, stopping between PGD steps once {@code expired} says so (null: none found in time). */
    double[] attack(VnnLib.Case c, int steps, Random rng, java.util.function.BooleanSupplier expired) {
        int d = c.lo().length;
        double[] centre = new double[d];
        for (int i = 0; i < d; i++) centre[i] = clamp(c.lo()[i] + (c.hi()[i] - c.lo()[i]) / 2, c, i);
        if (violates(c, centre)) return centre;
        // corners: all of them for few inputs, a random sample otherwise
        boolean all = d <= 10;
        int corners = all ? 1 << d : CORNERS;
        List<double[]> pts = new ArrayList<>();
        for (int j = 0; j < corners; j++) {
            double[] x = new double[d];
            for (int i = 0; i < d; i++) x[i] = (all ? (j >> i & 1) == 1 : rng.nextBoolean()) ? c.hi()[i] : c.lo()[i];
            pts.add(x);
        }
        double[] hit = firstViolating(c, pts);
        if (hit != null) return hit;
        if (c.constraints().isEmpty() || steps <= 0) return null;
        // PGD: sign-gradient ascent on min_k g_k(f(x)), from the centre and random starts, all at once
        List<double[]> starts = new ArrayList<>(List.of(centre));
        for (int j = 1; j < STARTS; j++) {
            double[] x = new double[d];
            for (int i = 0; i < d; i++) x[i] = c.lo()[i] + rng.nextDouble() * (c.hi()[i] - c.lo()[i]);
            starts.add(x);
        }
        double[] cur = new double[STARTS * d], lo = new double[STARTS * d], hi = new double[STARTS * d], step = new double[STARTS * d];
        for (int j = 0; j < STARTS; j++) {
            System.arraycopy(starts.get(j), 0, cur, j * d, d);
            System.arraycopy(c.lo(), 0, lo, j * d, d);
            System.arraycopy(c.hi(), 0, hi, j * d, d);
            for (int i = 0; i < d; i++) step[j * d + i] = 2.5 * (c.hi()[i] - c.lo()[i]) / 2 / steps;
        }
        int k = c.constraints().size(), n = c.constraints().get(0).c().length;
        double[] cm = new double[n * k], dv = new double[k];
        for (int j = 0; j < k; j++) {
            double[] cj = c.constraints().get(j).coefficients();
            for (int i = 0; i < n; i++) cm[i * k + j] = cj[i];
            dv[j] = c.constraints().get(j).d().doubleValue();
        }
        for (int t = 0; t < steps && !expired.getAsBoolean(); t++) {
            double[] grad;
            try (Scope s = Scope.open()) {
                Tensor x = batch(cur, STARTS).detach().requiresGrad(true);
                Tensor cmT = Tensor.fromDoubles(cm, n, k).to(model.device(), model.dtype());
                Tensor dT = Tensor.fromDoubles(dv, k).to(model.device(), model.dtype());
                Tensor g = model.forward(x).reshape(STARTS, n).matmul(cmT).add(dT);   // [STARTS, K]
                Tensor objective = g.minWithIndex(1)[0].sum();
                grad = Autograd.grad(objective, x, false).to(DType.FLOAT64).flatten(0, -1).toDoubleArray();
            }
            for (int i = 0; i < cur.length; i++) {
                cur[i] = Math.max(lo[i], Math.min(hi[i], cur[i] + step[i] * Math.signum(grad[i])));
            }
            pts.clear();
            for (int j = 0; j < STARTS; j++) pts.add(Arrays.copyOfRange(cur, j * d, (j + 1) * d));
            hit = firstViolating(c, pts);
            if (hit != null) return hit;
        }
        return null;
    }

    private static double clamp(double v, VnnLib.Case c, int i) { return Math.max(c.lo()[i], Math.min(c.hi()[i], v)); }

    /** The first of the points whose forward pass satisfies every constraint, checked one batch at a time. */
    private double[] firstViolating(VnnLib.Case c, List<double[]> pts) {
        int d = c.lo().length;
        for (int from = 0; from < pts.size(); from += 256) {
            int rows = Math.min(256, pts.size() - from);
            double[] flat = new double[rows * d];
            for (int j = 0; j < rows; j++) System.arraycopy(pts.get(from + j), 0, flat, j * d, d);
            double[] y;
            try (Scope s = Scope.open()) {
                y = model.forward(batch(flat, rows)).to(DType.FLOAT64).flatten(0, -1).toDoubleArray();
            }
            int n = y.length / rows;
            for (int j = 0; j < rows; j++) {
                double[] yj = Arrays.copyOfRange(y, j * n, (j + 1) * n);
                boolean all = true;
                for (VnnLib.Constraint g : c.constraints()) if (!(g.value(yj) >= 0)) { all = false; break; }
                if (all && violates(c, pts.get(from + j))) return pts.get(from + j);   // confirmed by a pass of its own
            }
        }
        return null;
    }
}
