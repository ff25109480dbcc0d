package dev.tikhon.verify;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;
import java.util.function.BooleanSupplier;

/**
 * Branch and bound on the input box (ReluVal's iterative interval refinement, Wang et al., "Formal security analysis of
 * neural networks using symbolic intervals", USENIX Security 2018; α,β-CROWN's input split for low-dimensional inputs such
 * as ACAS Xu). The box is split in two along one coordinate at its midpoint, each half bounded again by CROWN (its
 * relaxations tighter, since every intermediate interval narrows with the box), the lowest bound first, until every
 * sub-box is proved, a point of a sub-box is a counterexample, the budget of bound computations runs out, or a stop hook
 * says so. Many sub-boxes are bounded at once, as one batch. Unlike {@link BranchAndBound} it splits the input rather than
 * activations: it refines every activation's relaxation (SiLU, GELU, tanh), and it is complete in the limit for a continuous network (a box's
 * CROWN bound tends to the network's minimum over it as the box shrinks), but its cost grows with the input dimension
 * (halving every coordinate once takes 2^D boxes): for inputs of a few dimensions.
 *
 * <p>The objective. Each specification row s has a threshold t_s; with L_s a sound lower bound of row s over a box, a box
 * is proved when every row has L_s &gt; t_s ({@link Goal#ALL}: a robustness margin against every other class) or some row
 * does ({@link Goal#ANY}: a VNN-LIB case, refuted by any one of its constraints, a different one on each sub-box if need
 * be). The comparisons are exact (no t_s subtracted), so a proof is a proof of the exact thresholds. A sub-box's bound on a
 * row is the larger of its own and its parent's (both sound on it). Sound result: per row the minimum of the leaves'
 * bounds (the leaves cover the box: both halves keep the midpoint, a value of the model's type), and the property is
 * proved when every leaf is.
 *
 * <p>Branching ({@link Branching}): by default the coordinate of largest |A_i|·(u_i − l_i), with A the final CROWN
 * walk's coefficients on the input for the row that decides the box (the worst for ALL, the best for ANY): the amount by
 * which that coordinate's width lowers the linear bound (the "smear" of ReluVal's smear heuristic, with CROWN's A for its
 * gradient interval). {@link Branching#WIDTH} splits the widest coordinate.
 *
 * <p>Counterexamples: after each batch, the centre of each sub-box bounded and the corner of it that minimizes the
 * deciding row's linear bound are evaluated (IBP at radius 0: the forward pass, its rounding added where
 * {@link Rounding#accounted} is on, so an upper end there is an upper end for the exact network); a point at which the
 * objective cannot exceed the thresholds (ALL: some row's value ≤ t_s; ANY: every row's) ends the search. Rounding: every
 * bound is a {@link BoundedNetwork} call, so inside {@link Rounding#accounted} they hold for the exact network.
 */
public final class InputSplitting {
    /** Bound computations (sub-boxes) per example and property, as {@link BranchAndBound#DEFAULT_DOMAINS}. */
    public static final int DEFAULT_DOMAINS = 1024;
    /** Sub-boxes bounded at once. */
    public static final int DEFAULT_BATCH = 128;

    private InputSplitting() {}

    /** Which coordinate a sub-box splits. */
    public enum Branching {
        /** The widest (relative to nothing: the raw width u_i − l_i). */
        WIDTH,
        /** The largest |A_i|·(u_i − l_i), A the final CROWN walk's input coefficients of the deciding row. */
        SMEAR
    }

    /** When a sub-box is proved. */
    public enum Goal {
        /** Every row's bound exceeds its threshold (a conjunction: robustness margins). */
        ALL,
        /** Some row's bound exceeds its threshold (a disjunction: a VNN-LIB case is refuted by any of its constraints). */
        ANY
    }

    /**
     * How a search runs.
     *
     * @param maxDomains bound computations per example (the root counts as one)
     * @param alphaSteps where &gt; 0, each sub-box's bound is also α-CROWN's with this many steps (tighter, slower)
     * @param branching  the split rule
     * @param batch      sub-boxes bounded at once
     */
    public record Settings(int maxDomains, int alphaSteps, Branching branching, int batch) implements java.io.Serializable {
        public static final Settings DEFAULT = new Settings(DEFAULT_DOMAINS, 0, Branching.SMEAR, DEFAULT_BATCH);

        public Settings {
            if (maxDomains < 1) throw new IllegalArgumentException("at least one sub-box per example, not " + maxDomains);
            if (alphaSteps < 0) throw new IllegalArgumentException("α-CROWN steps must be ≥ 0, not " + alphaSteps);
            if (batch < 1) throw new IllegalArgumentException("at least one sub-box per batch, not " + batch);
        }

        public Settings withDomains(int n) { return new Settings(n, alphaSteps, branching, batch); }

        public Settings withAlphaSteps(int n) { return new Settings(maxDomains, n, branching, batch); }

        public Settings withBranching(Branching b) { return new Settings(maxDomains, alphaSteps, b, batch); }

        public Settings withBatch(int n) { return new Settings(maxDomains, alphaSteps, branching, n); }
    }

    /**
     * What one search found.
     *
     * @param proved         every leaf proved: the property holds on the whole box
     * @param rows           per row, a sound lower bound of it over the whole box (the minimum over the leaves)
     * @param lower          a sound lower bound of the objective minus the thresholds (ALL: min over rows of value − t_s;
     *                       ANY: max), the minimum over the leaves, rounded as doubles subtract; &gt; 0 where proved
     * @param domains        bound computations spent
     * @param counterexample a point of the box (flat, the model's values) at which the objective is at most the thresholds,
     *                       or null
     * @param stopped        the budget or the stop hook ended it with leaves left open
     */
    public record Outcome(boolean proved, double[] rows, double lower, int domains, double[] counterexample, boolean stopped) {}

    /** One sub-box: its corners (flat, values of the model's type), per row its bound so far, the objective's. */
    private record Box(double[] lo, double[] hi, double[] rows, double objective) {}

    /**
     * Per example of {@code region} (ℓ∞ or a general box), a sound lower bound of min over the rows of {@code spec} of C·z
     * over the region, searching each example until its bound exceeds {@code threshold}; verified where &gt; threshold. An
     * example with a counterexample (some margin ≤ threshold at a point of the region) keeps the bound reached then.
     *
     * @param spec every row a margin that must be &gt; threshold (no zero row: use {@link BoundedNetwork#marginsOverOthers})
     * @return [N]
     */
    public static Tensor worstLower(BoundedNetwork net, InputRegion region, Tensor spec, Settings settings, double threshold,
                                    BooleanSupplier expired) {
        return worstLower(net, region, spec, settings, threshold, expired, SearchHooks.NONE);
    }

    /**
     * The same, bounding every box by CROWN first and searching only the examples that leaves open and {@code hooks} does
     * not refute (an attack's counterexample: the root's bound stands), and telling {@code hooks} each counterexample the
     * search finds.
     */
    public static Tensor worstLower(BoundedNetwork net, InputRegion region, Tensor spec, Settings settings, double threshold,
                                    BooleanSupplier expired, SearchHooks hooks) {
        Verification.requireBox(region.norm());
        int n = (int) spec.size(0);
        double[] t = new double[(int) spec.size(1)];
        Arrays.fill(t, threshold);
        // the box the sub-boxes cover: x₀ ± ε as computed, widened by its rounding where rounding is accounted (the exact ball)
        Interval box = Rounding.on() ? Rounding.box(region) : region.box();
        double[] out;
        boolean[] skip;
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {   // the root of every example at once
            out = net.crownLower(InputRegion.box(box.lo(), box.hi()), spec, BoundedNetwork.DEFAULT_CROWN_UNITS, LowerSlope.ADAPTIVE)
                    .minWithIndex(1)[0].to(DType.FLOAT64).toDoubleArray();
            skip = BranchAndBound.refutedAtRoot(out, net.hopeless(region, spec, threshold), threshold, hooks);
        }
        for (int i = 0; i < n; i++) {
            // proved at the root, refuted by the caller, or out of time: the root's bound, as sound as any
            if (out[i] > threshold || skip[i] || expired.getAsBoolean()) continue;
            try (Scope s = Scope.open()) {
                Outcome o = search(net, box.lo().narrow(0, i, 1), box.hi().narrow(0, i, 1), spec.narrow(0, i, 1), t, Goal.ALL, settings, expired);
                out[i] = Math.max(out[i], Arrays.stream(o.rows()).min().orElse(Double.POSITIVE_INFINITY));   // both sound
                if (o.counterexample() != null) hooks.counterexample(i, o.counterexample());
                // open boxes left within the budget and the time: none could be halved (stuck)
                boolean stuck = o.stopped() && o.domains() < settings.maxDomains() && !expired.getAsBoolean();
                hooks.searched(i, o.domains(), SearchHooks.End.of(out[i] > threshold, o.counterexample() != null, stuck, o.domains(),
                        settings.maxDomains()));
            }
        }
        return Tensor.fromDoubles(out, n).to(spec.dtype()).to(spec.device());
    }

    /**
     * The search on one box [lo, hi] ([1, …input shape] each, the model's type and device) for the rows of {@code spec}
     * ([1, S, outputs]) against their {@code thresholds} ([S]).
     */
    public static Outcome search(BoundedNetwork net, Tensor lo, Tensor hi, Tensor spec, double[] thresholds, Goal goal,
                                 Settings settings, BooleanSupplier expired) {
        return search(net, lo, hi, spec, thresholds, goal, settings, expired, true);
    }

    /** The same; {@code keepBoth} false keeps only the lower half of each split: unsound, for the test that its oracles catch it. */
    static Outcome search(BoundedNetwork net, Tensor lo, Tensor hi, Tensor spec, double[] thresholds, Goal goal,
                          Settings settings, BooleanSupplier expired, boolean keepBoth) {
        if (lo.size(0) != 1 || spec.size(0) != 1) throw new IllegalArgumentException("one box and one specification per search");
        if (thresholds.length != spec.size(1)) {
            throw new IllegalArgumentException(thresholds.length + " thresholds for " + spec.size(1) + " specification rows");
        }
        long[] shape = lo.shape();
        DType dtype = lo.dtype();
        int rows = thresholds.length;
        PriorityQueue<Box> open = new PriorityQueue<>((a, b) -> Double.compare(a.objective(), b.objective()));
        double[] none = new double[rows];
        Arrays.fill(none, Double.NEGATIVE_INFINITY);
        double[] lo0 = lo.to(DType.FLOAT64).flatten(0, -1).toDoubleArray(), hi0 = hi.to(DType.FLOAT64).flatten(0, -1).toDoubleArray();
        open.add(new Box(lo0, hi0, none, Double.NEGATIVE_INFINITY));
        List<Box> leaves = new ArrayList<>();   // the proved ones; the open ones are leaves too
        int bounded = 0;
        boolean stuck = false;
        while (!open.isEmpty() && bounded < settings.maxDomains() && !stuck && !expired.getAsBoolean()) {
            List<Box> batch = new ArrayList<>();
            while (!open.isEmpty() && batch.size() < Math.min(settings.batch(), settings.maxDomains() - bounded)) batch.add(open.poll());
            bounded += batch.size();
            Step step;
            try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {   // α-CROWN turns gradients on for its own loop
                step = bound(net, batch, shape, dtype, lo.device(), spec, thresholds, goal, settings);
            }
            for (int d = 0; d < batch.size(); d++) {
                Box b = batch.get(d);
                double[] r = b.rows().clone();
                for (int j = 0; j < rows; j++) r[j] = Math.max(r[j], step.rows[d][j]);   // both sound on this box
                Box bounded_ = new Box(b.lo(), b.hi(), r, objective(r, thresholds, goal));
                if (proved(r, thresholds, goal)) {
                    leaves.add(bounded_);
                    continue;
                }
                if (step.counterexample != null) {   // the search ends: the batch's boxes stay leaves, with their new bounds
                    open.add(bounded_);
                    continue;
                }
                Box[] halves = split(bounded_, step.score[d], dtype);
                if (halves == null) {   // no coordinate can be halved in the model's type: splitting cannot help
                    open.add(bounded_);
                    stuck = true;
                } else {
                    open.add(halves[0]);
                    if (keepBoth) open.add(halves[1]);
                }
            }
            if (step.counterexample != null) return outcome(leaves, open, rows, thresholds, goal, bounded, step.counterexample, false);
        }
        return outcome(leaves, open, rows, thresholds, goal, bounded, null, !open.isEmpty());
    }

    private static Outcome outcome(List<Box> leaves, PriorityQueue<Box> open, int rows, double[] thresholds, Goal goal, int bounded,
                                   double[] counterexample, boolean stopped) {
        double[] min = new double[rows];
        Arrays.fill(min, Double.POSITIVE_INFINITY);
        double lower = Double.POSITIVE_INFINITY;
        List<Box> all = new ArrayList<>(leaves);
        all.addAll(open);
        for (Box b : all) {
            for (int j = 0; j < rows; j++) min[j] = Math.min(min[j], b.rows()[j]);
            lower = Math.min(lower, b.objective());
        }
        boolean proved = open.isEmpty() && counterexample == null;
        return new Outcome(proved, min, lower, bounded, counterexample, stopped);
    }

    static boolean proved(double[] r, double[] t, Goal goal) {
        boolean all = true, any = false;
        for (int j = 0; j < r.length; j++) {
            boolean above = r[j] > t[j];
            all &= above;
            any |= above;
        }
        return goal == Goal.ALL ? all : any;
    }

    private static double objective(double[] r, double[] t, Goal goal) {
        double v = goal == Goal.ALL ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
        for (int j = 0; j < r.length; j++) v = goal == Goal.ALL ? Math.min(v, r[j] - t[j]) : Math.max(v, r[j] - t[j]);
        return v;
    }

    /** The two halves of {@code b} along its coordinate of highest score that the model's type can halve; null if none can. */
    private static Box[] split(Box b, double[] score, DType dtype) {
        Integer[] order = new Integer[score.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (x, y) -> Double.compare(score[y], score[x]));
        for (int i : order) {
            double l = b.lo()[i], u = b.hi()[i];
            double mid = l + (u - l) / 2;
            if (dtype == DType.FLOAT32) mid = (float) mid;   // both halves keep the same value: their union is the box
            if (!(mid > l && mid < u)) continue;
            double[] hiLeft = b.hi().clone(), loRight = b.lo().clone();
            hiLeft[i] = mid;
            loRight[i] = mid;
            return new Box[]{new Box(b.lo(), hiLeft, b.rows(), b.objective()), new Box(loRight, b.hi(), b.rows(), b.objective())};
        }
        return null;
    }

    /** Per box of a batch: its rows' bounds, each coordinate's branching score; a counterexample found at its points, or null. */
    private record Step(double[][] rows, double[][] score, double[] counterexample) {}

    private static Step bound(BoundedNetwork net, List<Box> batch, long[] shape, DType dtype, dev.tikhon.engine.Device device,
                              Tensor spec, double[] thresholds, Goal goal, Settings settings) {
        int n = batch.size(), dims = batch.get(0).lo().length, rows = thresholds.length;
        double[] lo = new double[n * dims], hi = new double[n * dims];
        for (int d = 0; d < n; d++) {
            System.arraycopy(batch.get(d).lo(), 0, lo, d * dims, dims);
            System.arraycopy(batch.get(d).hi(), 0, hi, d * dims, dims);
        }
        long[] batchShape = shape.clone();
        batchShape[0] = n;
        Tensor loT = Tensor.fromDoubles(lo, batchShape).to(device, dtype), hiT = Tensor.fromDoubles(hi, batchShape).to(device, dtype);
        InputRegion region = InputRegion.box(loT, hiT);
        Tensor specs = spec.expand(n, spec.size(1), spec.size(2)).contiguous();
        Tensor[] crown = net.crownLowerWithInputCoefficients(region, specs, BoundedNetwork.DEFAULT_CROWN_UNITS);
        Tensor lower = crown[0];
        if (settings.alphaSteps() > 0) {
            lower = lower.maximum(net.alphaCrownLower(region, specs, BoundedNetwork.DEFAULT_CROWN_UNITS, settings.alphaSteps(),
                    Verification.ALPHA_LR).detach());
        }
        double[] flat = lower.to(DType.FLOAT64).flatten(0, -1).toDoubleArray();
        double[] a = crown[1].detach().to(DType.FLOAT64).flatten(0, -1).toDoubleArray();   // [n, rows, dims]
        double[][] bounds = new double[n][rows], score = new double[n][dims];
        double[] points = new double[2 * n * dims];   // per box its centre, then the corner that minimizes the deciding row
        for (int d = 0; d < n; d++) {
            System.arraycopy(flat, d * rows, bounds[d], 0, rows);
            int decide = 0;   // the row whose bound decides the box: the worst for ALL, the best for ANY
            for (int j = 1; j < rows; j++) {
                double v = bounds[d][j] - thresholds[j], w = bounds[d][decide] - thresholds[decide];
                if (goal == Goal.ALL ? v < w : v > w) decide = j;
            }
            Box b = batch.get(d);
            for (int i = 0; i < dims; i++) {
                double coef = a[(d * rows + decide) * dims + i], width = b.hi()[i] - b.lo()[i];
                score[d][i] = settings.branching() == Branching.WIDTH ? width : Math.abs(coef) * width;
                double mid = b.lo()[i] + width / 2;
                points[d * dims + i] = Math.max(b.lo()[i], Math.min(b.hi()[i], mid));
                points[(n + d) * dims + i] = coef > 0 ? b.lo()[i] : b.hi()[i];
            }
            if (settings.branching() == Branching.SMEAR && Arrays.stream(score[d]).allMatch(v -> v == 0)) {
                for (int i = 0; i < dims; i++) score[d][i] = b.hi()[i] - b.lo()[i];   // a flat bound: the widest then
            }
        }
        long[] pointShape = shape.clone();
        pointShape[0] = 2L * n;
        Tensor x = Tensor.fromDoubles(points, pointShape).to(device, dtype);
        Tensor specs2 = spec.expand(2L * n, spec.size(1), spec.size(2)).contiguous();
        double[] upper;
        try (Autograd.Guard g = Autograd.noGrad()) {   // the forward pass at each point; its upper end with rounding accounted
            upper = net.ibp(InputRegion.ball(x, 0, Norm.LINF), specs2).hi().to(DType.FLOAT64).flatten(0, -1).toDoubleArray();
        }
        double[] x64 = x.to(DType.FLOAT64).flatten(0, -1).toDoubleArray();
        for (int p = 0; p < 2 * n; p++) {
            double[] value = Arrays.copyOfRange(upper, p * rows, (p + 1) * rows);
            if (!proved(value, thresholds, goal)) {   // not even the point's value exceeds the thresholds
                return new Step(bounds, score, Arrays.copyOfRange(x64, p * dims, (p + 1) * dims));
            }
        }
        return new Step(bounds, score, null);
    }
}
