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
 * <p>Many examples at once ({@link #worstLower}): one batch bounds every example's box (its root: the bound, which decides
 * the examples proved there and which ones a caller's attack refutes first, and the split scores its search starts from,
 * so no root is bounded twice); then the examples left open are searched together. Each keeps its own open sub-boxes,
 * rows, thresholds, budget ({@link Settings#maxDomains}, the root counted as one), counterexample, stuck flag and
 * {@link Outcome}; a batch takes sub-boxes from the examples by turns, each example's lowest first (why: at
 * {@code take}), and bounds them in one computation, each box with its own example's rows. An example that needs two
 * boxes a round no longer runs a batch of two: the batch fills with the others' boxes. A counterexample, a stuck box or
 * a spent budget ends that example's search only; the stop hook, asked before each batch, ends all. The first examples
 * still searching take boxes ({@code OPEN_VALUES} caps how many at once by their open boxes' corners); {@link #search}
 * is the same search for one example, its root its first batch.
 *
 * <p>Counterexamples: after each batch, the centre of each sub-box bounded and the corner of it that minimizes the
 * deciding row's linear bound are evaluated (IBP at radius 0: the forward pass, its rounding added where
 * {@link Rounding#accounted} is on, so an upper end there is an upper end for the exact network); a point at which the
 * objective cannot exceed the thresholds (ALL: some row's value ≤ t_s; ANY: every row's) ends its example's search. Rounding: every
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
     * @param seconds    each example's search ends once it has spent this many seconds (each batch's time shared among its
     *                   examples by their sub-boxes in it; the roots, bounded together first, not counted), with the bound
     *                   reached so far; 0: no limit
     */
    public record Settings(int maxDomains, int alphaSteps, Branching branching, int batch, double seconds) implements java.io.Serializable {
        public static final Settings DEFAULT = new Settings(DEFAULT_DOMAINS, 0, Branching.SMEAR, DEFAULT_BATCH, 0);

        public Settings {
            if (maxDomains < 1) throw new IllegalArgumentException("at least one sub-box per example, not " + maxDomains);
            if (alphaSteps < 0) throw new IllegalArgumentException("α-CROWN steps must be ≥ 0, not " + alphaSteps);
            if (batch < 1) throw new IllegalArgumentException("at least one sub-box per batch, not " + batch);
            if (!(seconds >= 0)) throw new IllegalArgumentException("a search's time limit must be ≥ 0 seconds (0: none), not " + seconds);
        }

        public Settings withDomains(int n) { return new Settings(n, alphaSteps, branching, batch, seconds); }

        public Settings withAlphaSteps(int n) { return new Settings(maxDomains, n, branching, batch, seconds); }

        public Settings withBranching(Branching b) { return new Settings(maxDomains, alphaSteps, b, batch, seconds); }

        public Settings withBatch(int n) { return new Settings(maxDomains, alphaSteps, branching, n, seconds); }

        public Settings withSeconds(double s) { return new Settings(maxDomains, alphaSteps, branching, batch, s); }

        /** The default search with branch and bound's budget of domains and time ({@code --bab-domains}, {@code --bab-timeout}). */
        public static Settings like(BranchAndBound.Settings bab) { return DEFAULT.withDomains(bab.maxDomains()).withSeconds(bab.seconds()); }

        /** The seconds an example may spend: {@link #seconds}, or no limit. */
        double limit() { return seconds > 0 ? seconds : Double.POSITIVE_INFINITY; }
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
     * The corners of the open sub-boxes of the examples searched at once stay within about this many values (256 MB as
     * doubles): an example holds at most its budget + 1 open boxes, so with D inputs at most OPEN_VALUES / (2·D·(budget + 1))
     * examples take boxes at once, the first ones still searching, the next one joining as one ends (every example at once
     * for a 2-D input and the default budget; 20 for 784 inputs).
     */
    static final long OPEN_VALUES = 1L << 25;

    /**
     * One example's search: its row of the specification, its thresholds, its open sub-boxes (lowest objective first), the
     * proved ones folded into a per-row minimum and an objective minimum (the result needs nothing else of them), its
     * bound computations, whether a box of it could not be halved, and its counterexample.
     */
    private static final class Example {
        final int index;
        final double[] thresholds;
        final PriorityQueue<Box> open = new PriorityQueue<>((a, b) -> Double.compare(a.objective(), b.objective()));
        final double[] provedRows;
        double provedLower = Double.POSITIVE_INFINITY;
        int bounded;
        /** Seconds of the batches it took part in, each shared by sub-boxes. */
        double seconds;
        boolean stuck;
        double[] counterexample;

        Example(int index, double[] thresholds) {
            this.index = index;
            this.thresholds = thresholds;
            this.provedRows = new double[thresholds.length];
            Arrays.fill(provedRows, Double.POSITIVE_INFINITY);
        }

        /** Whether it takes more sub-boxes: open ones left, budget and time left, no counterexample, none stuck. */
        boolean searching(Settings settings) {
            return !open.isEmpty() && bounded < settings.maxDomains() && seconds < settings.limit() && !stuck && counterexample == null;
        }

        /** Per row the minimum over the leaves, proved and open: sound, since the leaves cover the box. */
        Outcome outcome() {
            double[] min = provedRows.clone();
            double lower = provedLower;
            for (Box b : open) {
                for (int j = 0; j < min.length; j++) min[j] = Math.min(min[j], b.rows()[j]);
                lower = Math.min(lower, b.objective());
            }
            return new Outcome(open.isEmpty() && counterexample == null, min, lower, bounded, counterexample,
                    counterexample == null && !open.isEmpty());
        }
    }

    /** A sub-box taken into a batch, and the example it belongs to. */
    private record Pick(Example example, Box box) {}

    /**
     * What every sub-box shares: the input's shape ([1, …]), the model's type and device, the goal, the settings, keepBoth,
     * and the open boxes' corners' cap ({@link #OPEN_VALUES}).
     */
    private record Space(long[] shape, DType dtype, dev.tikhon.engine.Device device, Goal goal, Settings settings, boolean keepBoth,
                         long openValues) {}

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
     * The same, bounding every example's box first, as one batch (each search's first domain: its bound and its split
     * scores, so no root is bounded twice), then searching together the examples that leaves open and {@code hooks} does
     * not refute (an attack's counterexample: the root's bound stands), and telling {@code hooks} each counterexample the
     * search finds and how each example's search ended. The roots are bounded whatever {@code expired} says; it is asked
     * before each later batch (so where it is on from the start, each open example's search is its root alone).
     */
    public static Tensor worstLower(BoundedNetwork net, InputRegion region, Tensor spec, Settings settings, double threshold,
                                    BooleanSupplier expired, SearchHooks hooks) {
        return worstLower(net, region, spec, settings, threshold, expired, hooks, OPEN_VALUES);
    }

    /** The same, with {@code openValues} in place of {@link #OPEN_VALUES} (1: one example at a time after the roots). */
    static Tensor worstLower(BoundedNetwork net, InputRegion region, Tensor spec, Settings settings, double threshold,
                             BooleanSupplier expired, SearchHooks hooks, long openValues) {
        Verification.requireBox(region.norm());
        int n = (int) spec.size(0);
        double[] t = new double[(int) spec.size(1)];
        Arrays.fill(t, threshold);
        // the box the sub-boxes cover: x₀ ± ε as computed, widened by its rounding where rounding is accounted (the exact ball)
        Interval box = Rounding.on() ? Rounding.box(region) : region.box();
        long[] shape = box.lo().shape();
        shape[0] = 1;
        Space space = new Space(shape, box.lo().dtype(), box.lo().device(), Goal.ALL, settings, true, openValues);
        double[] lo = box.lo().to(DType.FLOAT64).flatten(0, -1).toDoubleArray(), hi = box.hi().to(DType.FLOAT64).flatten(0, -1).toDoubleArray();
        int dims = lo.length / Math.max(1, n);
        List<Pick> roots = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            roots.add(new Pick(new Example(i, t), root(Arrays.copyOfRange(lo, i * dims, (i + 1) * dims),
                    Arrays.copyOfRange(hi, i * dims, (i + 1) * dims), t.length)));
        }
        double[] out = new double[n];
        boolean[] hopeless;
        Step step;
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {   // the root of every example at once
            step = bound(net, roots, space, spec);
            hopeless = net.hopeless(region, spec, threshold);
        }
        for (int i = 0; i < n; i++) out[i] = Arrays.stream(step.rows[i]).min().orElse(Double.POSITIVE_INFINITY);
        boolean[] skip = BranchAndBound.refutedAtRoot(out, hopeless, threshold, hooks);
        // proved at the root or refuted by the caller: the root's bound, as sound as any; the others go on from their root
        List<Example> open = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (out[i] > threshold || skip[i]) continue;
            Example e = roots.get(i).example();
            e.bounded = 1;
            e.counterexample = step.counterexample[i];
            settle(roots.get(i), step.rows[i], step.score[i], space);
            open.add(e);
        }
        run(net, open, space, spec, expired, hooks);
        for (Example e : open) {
            Outcome o = e.outcome();
            int i = e.index;
            out[i] = Math.max(out[i], Arrays.stream(o.rows()).min().orElse(Double.POSITIVE_INFINITY));   // both sound
            if (o.counterexample() != null) hooks.counterexample(i, o.counterexample());
            hooks.searched(i, o.domains(), SearchHooks.End.of(out[i] > threshold, o.counterexample() != null, e.stuck, o.domains(),
                    settings.maxDomains()));
        }
        return Tensor.fromDoubles(out, n).to(spec.dtype()).to(spec.device());
    }

    /**
     * The search on one box [lo, hi] ([1, …input shape] each, the model's type and device) for the rows of {@code spec}
     * ([1, S, outputs]) against their {@code thresholds} ([S]): {@link #worstLower}'s search for one example, its root
     * its first batch.
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
        Example e = new Example(0, thresholds);
        e.open.add(root(lo.to(DType.FLOAT64).flatten(0, -1).toDoubleArray(), hi.to(DType.FLOAT64).flatten(0, -1).toDoubleArray(),
                thresholds.length));
        run(net, List.of(e), new Space(lo.shape(), lo.dtype(), lo.device(), goal, settings, keepBoth, OPEN_VALUES), spec, expired,
                SearchHooks.NONE);
        return e.outcome();
    }

    /** A box not bounded yet: every row's bound −∞. */
    private static Box root(double[] lo, double[] hi, int rows) {
        double[] none = new double[rows];
        Arrays.fill(none, Double.NEGATIVE_INFINITY);
        return new Box(lo, hi, none, Double.NEGATIVE_INFINITY);
    }

    /**
     * The search of the {@code examples} (each with its open sub-boxes; {@code spec} [N, S, outputs] holds each one's rows at
     * {@link Example#index}) together: while one is still searching and the stop hook allows it (asked before each batch),
     * a batch of sub-boxes taken across the searching examples ({@link #take}) is bounded in one computation, each box
     * with its own example's rows, and each bounded box is settled by its own example ({@link #settle}); {@code hooks} then
     * hears each of the batch's examples' progress.
     */
    private static void run(BoundedNetwork net, List<Example> examples, Space space, Tensor spec, BooleanSupplier expired, SearchHooks hooks) {
        int max = space.settings().maxDomains();
        long perExample = 2L * max + 2;
        for (int i = 1; i < space.shape().length; i++) perExample *= space.shape()[i];
        int window = (int) Math.max(1, Math.min(Integer.MAX_VALUE, space.openValues() / perExample));
        int next = 0;   // the example index the next batch starts its turns from
        while (true) {
            List<Example> searching = new ArrayList<>();
            for (Example e : examples) {
                if (searching.size() == window) break;
                if (e.searching(space.settings())) searching.add(e);
            }
            if (searching.isEmpty() || expired.getAsBoolean()) return;
            List<Pick> batch = new ArrayList<>();
            next = take(searching, next, space.settings(), batch);
            for (Pick p : batch) p.example().bounded++;
            Step step;
            long t0 = System.nanoTime();
            try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {   // α-CROWN turns gradients on for its own loop
                step = bound(net, batch, space, spec);
            }
            double share = (System.nanoTime() - t0) / 1e9 / batch.size();   // each box's part of the batch's time
            for (Pick p : batch) p.example().seconds += share;
            // a counterexample ends its own example's search only: that example's boxes of this batch stay leaves
            for (int d = 0; d < batch.size(); d++) batch.get(d).example().counterexample = step.counterexample[d];
            for (int d = 0; d < batch.size(); d++) settle(batch.get(d), step.rows[d], step.score[d], space);
            if (hooks != SearchHooks.NONE) {
                for (Example e : new java.util.LinkedHashSet<>(batch.stream().map(Pick::example).toList())) {
                    hooks.progress(e.index, e.bounded, Arrays.stream(e.outcome().rows()).min().orElse(Double.POSITIVE_INFINITY));
                }
            }
        }
    }

    /**
     * Fills {@code batch} with sub-boxes of the {@code searching} examples (in index order) by turns: each example, from the
     * first whose index is at least {@code next} round to the one before it, gives its lowest-objective open box, then each
     * again, until the batch is full or none has a box or budget left; returns the index after the last example served,
     * where the next batch starts. By turns rather than the lowest objectives over all examples: those are on no common
     * scale (each example its own margins), and the lowest would go to the examples furthest from a proof (often false
     * ones, found out late) while an example that a few more boxes would prove waits. By turns each example still takes its
     * own boxes lowest first, as alone; a lone example takes exactly the batches it would alone; and where a batch is full,
     * the next one starts with the examples this one did not reach.
     */
    private static int take(List<Example> searching, int next, Settings settings, List<Pick> batch) {
        int start = 0;
        while (start < searching.size() && searching.get(start).index < next) start++;
        if (start == searching.size()) start = 0;
        int[] taken = new int[searching.size()];
        int last = searching.get(start).index;
        boolean more = true;
        while (more && batch.size() < settings.batch()) {
            more = false;
            for (int k = 0; k < searching.size() && batch.size() < settings.batch(); k++) {
                int at = (start + k) % searching.size();
                Example e = searching.get(at);
                if (e.open.isEmpty() || e.bounded + taken[at] >= settings.maxDomains()) continue;
                batch.add(new Pick(e, e.open.poll()));
                taken[at]++;
                last = e.index;
                more = true;
            }
        }
        return last + 1;
    }

    /**
     * A bounded box back into its example: per row the larger of its new bound and its parent's (both sound on it). Proved,
     * it joins the proved leaves; at a counterexample of its example it stays open with its new bounds (that example's
     * search ends); else its halves are open, or, where no coordinate can be halved in the model's type, it stays open and
     * its example is stuck (splitting cannot help it).
     */
    private static void settle(Pick p, double[] bound, double[] score, Space space) {
        Example e = p.example();
        Box b = p.box();
        double[] r = b.rows().clone();
        for (int j = 0; j < r.length; j++) r[j] = Math.max(r[j], bound[j]);
        Box bounded = new Box(b.lo(), b.hi(), r, objective(r, e.thresholds, space.goal()));
        if (proved(r, e.thresholds, space.goal())) {
            for (int j = 0; j < r.length; j++) e.provedRows[j] = Math.min(e.provedRows[j], r[j]);
            e.provedLower = Math.min(e.provedLower, bounded.objective());
            return;
        }
        if (e.counterexample != null) {
            e.open.add(bounded);
            return;
        }
        Box[] halves = split(bounded, score, space.dtype());
        if (halves == null) {
            e.open.add(bounded);
            e.stuck = true;
        } else {
            e.open.add(halves[0]);
            if (space.keepBoth()) e.open.add(halves[1]);
        }
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

    /**
     * Per box of a batch: its rows' bounds, each coordinate's branching score, and its example's counterexample found at
     * the points of its boxes of this batch (the same array for each of them), or null.
     */
    private record Step(double[][] rows, double[][] score, double[][] counterexample) {}

    /**
     * Bounds a batch in one computation, each box with its own example's rows of {@code spec} ([N, S, outputs]), and
     * evaluates two points of each box; per example, its first point at which the objective cannot exceed its thresholds
     * (the centres of its boxes in batch order, then their corners) is its counterexample.
     */
    private static Step bound(BoundedNetwork net, List<Pick> batch, Space space, Tensor spec) {
        Settings settings = space.settings();
        Goal goal = space.goal();
        DType dtype = space.dtype();
        dev.tikhon.engine.Device device = space.device();
        int n = batch.size(), dims = batch.get(0).box().lo().length, rows = (int) spec.size(1);
        double[] lo = new double[n * dims], hi = new double[n * dims];
        long[] owner = new long[2 * n];   // per box, then per point: its example's row of spec
        for (int d = 0; d < n; d++) {
            System.arraycopy(batch.get(d).box().lo(), 0, lo, d * dims, dims);
            System.arraycopy(batch.get(d).box().hi(), 0, hi, d * dims, dims);
            owner[d] = owner[n + d] = batch.get(d).example().index;
        }
        long[] batchShape = space.shape().clone();
        batchShape[0] = n;
        Tensor loT = Tensor.fromDoubles(lo, batchShape).to(device, dtype), hiT = Tensor.fromDoubles(hi, batchShape).to(device, dtype);
        InputRegion region = InputRegion.box(loT, hiT);
        Tensor ownerT = Tensor.fromLongs(owner, 2L * n).to(spec.device());
        Tensor specs = spec.indexSelect(0, ownerT.narrow(0, 0, n)).contiguous();
        Tensor[] crown = net.crownLowerWithInputCoefficients(region, specs, BoundedNetwork.DEFAULT_CROWN_UNITS);
        Tensor lower = crown[0];
        if (settings.alphaSteps() > 0) {
            lower = lower.maximum(net.alphaCrownLower(region, specs, BoundedNetwork.DEFAULT_CROWN_UNITS, settings.alphaSteps(),
                    Verification.ALPHA_LR).detach());
        }
        double[] flat = lower.to(DType.FLOAT64).flatten(0, -1).toDoubleArray();
        double[] a = crown[1].detach().to(DType.FLOAT64).flatten(0, -1).toDoubleArray();   // [n, rows, dims]
        double[][] bounds = new double[n][rows], score = new double[n][dims];
        double[] points = new double[2 * n * dims];   // per box its centre, then per box the corner that minimizes the deciding row
        for (int d = 0; d < n; d++) {
            System.arraycopy(flat, d * rows, bounds[d], 0, rows);
            double[] thresholds = batch.get(d).example().thresholds;
            int decide = 0;   // the row whose bound decides the box: the worst for ALL, the best for ANY
            for (int j = 1; j < rows; j++) {
                double v = bounds[d][j] - thresholds[j], w = bounds[d][decide] - thresholds[decide];
                if (goal == Goal.ALL ? v < w : v > w) decide = j;
            }
            Box b = batch.get(d).box();
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
        long[] pointShape = space.shape().clone();
        pointShape[0] = 2L * n;
        Tensor x = Tensor.fromDoubles(points, pointShape).to(device, dtype);
        Tensor specs2 = spec.indexSelect(0, ownerT).contiguous();
        double[] upper;
        try (Autograd.Guard g = Autograd.noGrad()) {   // the forward pass at each point; its upper end with rounding accounted
            upper = net.upperAt(x, specs2).to(DType.FLOAT64).flatten(0, -1).toDoubleArray();
        }
        double[] x64 = x.to(DType.FLOAT64).flatten(0, -1).toDoubleArray();
        java.util.Map<Example, double[]> found = new java.util.IdentityHashMap<>();
        for (int p = 0; p < 2 * n; p++) {
            Example e = batch.get(p % n).example();
            if (found.containsKey(e)) continue;   // its first point only
            double[] value = Arrays.copyOfRange(upper, p * rows, (p + 1) * rows);
            if (!proved(value, e.thresholds, goal)) found.put(e, Arrays.copyOfRange(x64, p * dims, (p + 1) * dims));
        }
        double[][] counterexample = new double[n][];
        for (int d = 0; d < n; d++) counterexample[d] = found.get(batch.get(d).example());
        return new Step(bounds, score, counterexample);
    }
}
