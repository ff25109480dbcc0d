package dev.tikhon.vnnlib;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.verify.BoundedNetwork;
import dev.tikhon.verify.InputRegion;
import dev.tikhon.verify.LowerSlope;
import dev.tikhon.verify.Rounding;
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
 * sound lower bound L_k of −c_k·Y over the case's box (IBP, CROWN or α-CROWN on the specification rows −c_k) exceeds d_k,
 * so that g_k &lt; 0 on the whole box; an empty box is refuted by itself. Every case refuted: "unsat" (the property holds,
 * a sound certificate). Otherwise an attack looks for a counterexample in the cases not refuted: the box's centre and
 * corners, then sign-gradient ascent (PGD) on min_k g_k(f(x)) clamped to the box, from the centre and random starts; a point
 * whose forward pass satisfies every g_k ≥ 0: "sat"; else "unknown".
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
        UNSAT, SAT, UNKNOWN;

        public String word() { return name().toLowerCase(java.util.Locale.ROOT); }
    }

    /** Per case: whether its box is empty; per method, the constraint index that refuted it (−1: none) and each L_k − d_k. */
    public record CaseResult(int index, boolean empty, Map<Verification.Method, Integer> refutedBy, Map<Verification.Method, double[]> margins) {
        public boolean refuted() { return empty || refutedBy.values().stream().anyMatch(k -> k >= 0); }
    }

    /** The verdict; the counterexample (x flat, y) for "sat", else null; seconds per method and of the attack. */
    public record Result(Verdict verdict, List<CaseResult> cases, double[] x, double[] y, int counterexampleCase,
                         Map<Verification.Method, Double> boundSeconds, double attackSeconds) {
        public long refuted(Verification.Method m) {
            return cases.stream().filter(c -> c.empty || c.refutedBy.get(m) >= 0).count();
        }
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

    public Result run(VnnLib.Property p, List<Verification.Method> methods, int attackSteps, long seed) {
        BoundedNetwork net = rounding ? Rounding.accounted(() -> BoundedNetwork.of(model)) : BoundedNetwork.of(model);
        Map<Verification.Method, Double> seconds = new LinkedHashMap<>();
        List<Map<Verification.Method, Integer>> by = new ArrayList<>();
        List<Map<Verification.Method, double[]>> margins = new ArrayList<>();
        for (int k = 0; k < p.cases().size(); k++) { by.add(new LinkedHashMap<>()); margins.add(new LinkedHashMap<>()); }
        // cases with the same box (a robustness property's disjuncts) are bounded together: one specification of all their rows
        Map<String, List<Integer>> byBox = new LinkedHashMap<>();
        for (int k = 0; k < p.cases().size(); k++) {
            VnnLib.Case c = p.cases().get(k);
            if (c.empty() || c.constraints().isEmpty()) continue;
            byBox.computeIfAbsent(Arrays.toString(c.loOut()) + Arrays.toString(c.hiOut()), b -> new ArrayList<>()).add(k);
        }
        for (Verification.Method m : methods) {
            long t0 = System.nanoTime();
            double[][] lowers = new double[p.cases().size()][];
            for (List<Integer> group : byBox.values()) {
                VnnLib.Case first = p.cases().get(group.get(0));
                List<VnnLib.Constraint> rows = new ArrayList<>();
                for (int k : group) rows.addAll(p.cases().get(k).constraints());
                double[] all = rounding ? Rounding.accounted(() -> lower(net, m, first, rows)) : lower(net, m, first, rows);
                int at = 0;
                for (int k : group) {
                    int size = p.cases().get(k).constraints().size();
                    lowers[k] = Arrays.copyOfRange(all, at, at + size);
                    at += size;
                }
            }
            for (int k = 0; k < p.cases().size(); k++) {
                VnnLib.Case c = p.cases().get(k);
                double[] lower = lowers[k] != null ? lowers[k] : new double[c.constraints().size()];
                int refutedBy = -1;
                double[] margin = new double[lower.length];
                for (int j = 0; j < lower.length; j++) {
                    VnnLib.Constraint g = c.constraints().get(j);
                    margin[j] = lower[j] - g.d().doubleValue();
                    boolean usable = !rounding || g.exactCoefficients();
                    if (!c.empty() && refutedBy < 0 && usable && Double.isFinite(lower[j]) && new BigDecimal(lower[j]).compareTo(g.d()) > 0) refutedBy = j;
                }
                by.get(k).put(m, refutedBy);
                margins.get(k).put(m, c.empty() ? new double[0] : margin);
            }
            seconds.put(m, (System.nanoTime() - t0) / 1e9);
        }
        List<CaseResult> cases = new ArrayList<>();
        for (int k = 0; k < p.cases().size(); k++) cases.add(new CaseResult(k, p.cases().get(k).empty(), by.get(k), margins.get(k)));
        if (cases.stream().allMatch(CaseResult::refuted)) return new Result(Verdict.UNSAT, cases, null, null, -1, seconds, 0);
        long t0 = System.nanoTime();
        Random rng = new Random(seed);
        for (CaseResult cr : cases) {
            if (cr.refuted()) continue;
            double[] x = attack(p.cases().get(cr.index()), attackSteps, rng);
            if (x != null) {
                return new Result(Verdict.SAT, cases, x, forward(x), cr.index(), seconds, (System.nanoTime() - t0) / 1e9);
            }
        }
        return new Result(Verdict.UNKNOWN, cases, null, null, -1, seconds, (System.nanoTime() - t0) / 1e9);
    }

    /** Sound lower bounds of −c_k·Y over the case's outward box, one per constraint of {@code constraints}. */
    private double[] lower(BoundedNetwork net, Verification.Method m, VnnLib.Case c, List<VnnLib.Constraint> constraints) {
        try (Scope s = Scope.open()) {
            InputRegion region = InputRegion.box(batch(c.loOut(), 1), batch(c.hiOut(), 1));
            int k = constraints.size(), n = constraints.get(0).c().length;
            double[] rows = new double[k * n];
            for (int j = 0; j < k; j++) {
                double[] cj = constraints.get(j).coefficients();
                for (int i = 0; i < n; i++) rows[j * n + i] = -cj[i];
            }
            Tensor spec = Tensor.fromDoubles(rows, 1, k, n).to(model.device(), model.dtype());
            Tensor lo = switch (m) {
                case IBP -> net.ibp(region, spec).lo();
                case CROWN -> net.crownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, LowerSlope.ADAPTIVE);
                case ALPHA_CROWN -> net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, Verification.ALPHA_STEPS, Verification.ALPHA_LR);
                default -> throw new IllegalArgumentException("a VNN-LIB property is bounded by ibp, crown or alpha-crown, not " + m);
            };
            return lo.to(DType.FLOAT64).toDoubleArray();
        }
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
    double[] attack(VnnLib.Case c, int steps, Random rng) {
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
        for (int t = 0; t < steps; t++) {
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
