package dev.tikhon.verify;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Branch and bound on ReLU splits over CROWN bounds (Bunel et al., "Branch and bound for piecewise linear neural network
 * verification", JMLR 2020; the domain bounds as in Wang et al.'s β-CROWN, NeurIPS 2021). Where the root's bounds leave
 * an example's worst margin ≤ 0, the region is split into two domains on one unstable ReLU (its input ≥ 0, or ≤ 0), each
 * bounded again with that unit's relaxation exact ({@link Splits}); domains whose bound is &gt; 0 are done, the others
 * split further, the lowest bound first, until every domain is verified, a domain has no unstable unit left, or the
 * budget of bound computations runs out.
 *
 * <p>Before any split, an image is bounded by CROWN and IBP on the whole batch, then by α-CROWN where they leave it
 * unverified; only what all three leave is searched. A domain's intermediate bounds are CROWN's over its clipped
 * intervals, intersected with the root α-CROWN's (which hold on every domain). Its final walk optimizes the splits'
 * multipliers β and (by default) the ReLUs' lower slopes α jointly, by Adam from β = 0 and CROWN's adaptive slopes. Its
 * bound is the larger of that and IBP's over its clipped intervals, both sound on it. The result is the minimum over
 * the leaf domains of their bounds: sound, since each domain's bound is a lower bound on it and the leaves cover the
 * region (an empty domain holds no input). A domain's bound is at least its parent's and the root's (both are sound for
 * it), so the result is never below CROWN's, IBP's or α-CROWN's.
 *
 * <p>A false property is never proved, so each batch also evaluates the network where each domain's final linear bound
 * is lowest ({@link Settings#falsify}): a margin ≤ the threshold there ends the example's search on that counterexample,
 * as α,β-CROWN checks its domains' minimizers.
 *
 * <p>Branching ({@link Branching}): by default the unit whose triangle relaxation costs the final bound most, |A⁻|·h
 * with A⁻ the negative part of the walk's coefficient on the unit's output and h = −l·u/(u − l) the relaxation's
 * intercept (the intercept term of Bunel et al.'s BaBSR score); where no unit costs anything, the largest h.
 *
 * <p>Every activation can be split, those inside residual blocks and other forks too ({@link BoundedNetwork#splittableLayers}:
 * the chain's by their index, nested ones numbered after them); a nested split clips the unit's input interval where the
 * forward pass computes it inside the fork, and its β enters the final walk there.
 *
 * <p>Other activations (tanh, sigmoid, the imported {@link Layers.Unit}s) are split as in Shi et al.'s general branch
 * and bound (GenBaB, TACAS 2025): a unit's input interval [l, u] is cut at its midpoint (or a kink inside it:
 * {@link Pointwise#splitPoints}) into [l, p] and [p, u], each
 * child relaxed over its own part ({@link Splits}' cuts, whose constraints also enter the final walk with multipliers,
 * optimized with the ReLUs' β). Its score is |A|·g, g the
 * most its CROWN lines part over [l, u]; ReLU units and these compete on one scale in a mixed network.
 *
 * <p>Products of two computed values x·y (gates: GLU, squeeze-and-excitation) are split the same way, on a factor:
 * x's interval (its chain's output) is cut at its midpoint, and each child's McCormick planes are made over the
 * narrower box ({@link BoundedNetwork#factor}; GenBaB splits multiplications too). Score: |A|·2·r_x·r_y, A the walk's
 * coefficient on the product, 2·r_x·r_y the planes' gap, summed over the products a unit of x enters
 * ({@link Products#splitScores}).
 */
public final class BranchAndBound {
    /** Bound computations (domains) per example. */
    public static final int DEFAULT_DOMAINS = 1024;
    /**
     * Adam steps on the split multipliers β (and the slopes α) per batch of domains that start cold (from β = 0 and CROWN's
     * slopes), per batch that starts from the parents' values on a network with ReLUs, and their step size. Warm, 5 steps
     * verify what 20 do on the MLPs measured in docs/verification.md, in half the time; a network without ReLUs (tanh,
     * SiLU, products: every split a cut) keeps 20 warm, where 5 bound worse than 20 cold.
     */
    public static final int BETA_STEPS = 20;
    public static final int WARM_STEPS = 5;
    public static final double BETA_LR = 0.1;
    /** Domains bounded at once. */
    static final int BATCH = 64;
    /** The narrowest input interval of a non-ReLU unit that a cut still splits (float32 midpoints need room). */
    static final double MIN_CUT = 1e-5;

    private BranchAndBound() {}

    /** Which unstable unit a domain splits next. */
    public enum Branching {
        /** The largest triangle-relaxation height −l·u/(u − l): what the relaxation leaves open, whatever the bound needs. */
        HEIGHT,
        /**
         * The largest cost of the unit's relaxation in the final walk, |A⁻|·(−l·u/(u − l)) (BaBSR's intercept term); HEIGHT
         * where no unit costs anything.
         */
        INTERCEPT
    }

    /**
     * How a search runs.
     *
     * @param maxDomains bound computations per example
     * @param rootAlphaSteps α-CROWN's steps before branching, whose intermediate bounds every domain then reuses (0: none)
     * @param steps      Adam steps on β (and α) per batch of domains that start cold; 0: the splits act through the
     *                   intervals only
     * @param warmSteps  the same for a batch whose domains all start from their parents' values, on a network with ReLUs
     * @param lr         their step size
     * @param domainAlpha whether each domain's final walk optimizes the lower slopes α with β (α-β-CROWN), or keeps CROWN's
     * @param branching  the split rule
     * @param warmStart  whether a domain's α and β (and the cuts' multipliers) start from its parent's last values (β-CROWN's
     *                   warm start) rather than from CROWN's and 0; only where they are small ({@link #WARM_ELEMENTS} per domain)
     * @param cutBeta    whether the cuts of non-ReLU activations and of products' factors enter the final walk with
     *                   multipliers too ({@link Splits}), optimized with the ReLUs' β (from 0 in every batch)
     * @param seconds    each example's search (its α-CROWN and its domains, after the batch's CROWN bound) ends once this
     *                   many seconds have passed, with the bound reached so far (as sound as any); 0: no limit. With a
     *                   limit, what is proved depends on the machine's speed
     * @param falsify    whether each batch of domains also evaluates the network where each domain's final linear bound is
     *                   lowest ({@link InputRegion#lowestPoints}), ending the example's search at the first point whose
     *                   margin is ≤ the threshold: a counterexample, told to the hooks (a false property is never proved,
     *                   and would spend the whole budget)
     */
    public record Settings(int maxDomains, int rootAlphaSteps, int steps, int warmSteps, double lr, boolean domainAlpha,
                           Branching branching, boolean warmStart, boolean cutBeta, double seconds, boolean falsify) implements java.io.Serializable {   // certify's steps carry it to Spark executors
        public static final Settings DEFAULT = new Settings(DEFAULT_DOMAINS, Verification.ALPHA_STEPS, BETA_STEPS, WARM_STEPS, BETA_LR,
                true, Branching.INTERCEPT, true, true, 0, true);

        public Settings {
            if (maxDomains < 1) throw new IllegalArgumentException("at least one domain per example, not " + maxDomains);
            if (steps < 0 || warmSteps < 0) throw new IllegalArgumentException("Adam steps must be ≥ 0, not " + steps + " and " + warmSteps);
            if (!(seconds >= 0)) throw new IllegalArgumentException("a search's time limit must be ≥ 0 seconds (0: none), not " + seconds);
        }

        public Settings withDomains(int n) {
            return new Settings(n, rootAlphaSteps, steps, warmSteps, lr, domainAlpha, branching, warmStart, cutBeta, seconds, falsify);
        }

        public Settings withRootAlphaSteps(int n) {
            return new Settings(maxDomains, n, steps, warmSteps, lr, domainAlpha, branching, warmStart, cutBeta, seconds, falsify);
        }

        /** {@code n} steps per batch, warm or cold. */
        public Settings withSteps(int n) { return withSteps(n, n); }

        /** {@code cold} steps per batch that starts cold, {@code warm} per batch that starts warm on a network with ReLUs. */
        public Settings withSteps(int cold, int warm) {
            return new Settings(maxDomains, rootAlphaSteps, cold, warm, lr, domainAlpha, branching, warmStart, cutBeta, seconds, falsify);
        }

        public Settings withDomainAlpha(boolean on) {
            return new Settings(maxDomains, rootAlphaSteps, steps, warmSteps, lr, on, branching, warmStart, cutBeta, seconds, falsify);
        }

        public Settings withBranching(Branching b) {
            return new Settings(maxDomains, rootAlphaSteps, steps, warmSteps, lr, domainAlpha, b, warmStart, cutBeta, seconds, falsify);
        }

        public Settings withCutBeta(boolean on) {
            return new Settings(maxDomains, rootAlphaSteps, steps, warmSteps, lr, domainAlpha, branching, warmStart, on, seconds, falsify);
        }

        public Settings withWarmStart(boolean on) {
            return new Settings(maxDomains, rootAlphaSteps, steps, warmSteps, lr, domainAlpha, branching, on, cutBeta, seconds, falsify);
        }

        /** Whether searches end at a counterexample found at their domains' lowest points. */
        public Settings withFalsify(boolean on) {
            return new Settings(maxDomains, rootAlphaSteps, steps, warmSteps, lr, domainAlpha, branching, warmStart, cutBeta, seconds, on);
        }

        /** Each example's search ends after {@code s} seconds (0: no limit), as {@link #untilDeadline} says. */
        public Settings withSeconds(double s) {
            return new Settings(maxDomains, rootAlphaSteps, steps, warmSteps, lr, domainAlpha, branching, warmStart, cutBeta, s, falsify);
        }

        /**
         * The stop hook of one example's search started now: {@code expired}, or {@link #seconds} past now where there is a
         * limit. Asked between batches of domains, so a search overruns it by at most one batch.
         */
        java.util.function.BooleanSupplier untilDeadline(java.util.function.BooleanSupplier expired) {
            if (!(seconds > 0) || seconds == Double.POSITIVE_INFINITY) return expired;
            long deadline = System.nanoTime() + (long) (seconds * 1e9);
            return () -> expired.getAsBoolean() || System.nanoTime() - deadline >= 0;
        }
    }

    /**
     * The most values per domain that a warm start keeps on the host for each open domain ({@link Warm}): a ReLU MLP's α and
     * β, 2 × margins × units, fit (9 × 768: 13,824), and a tanh or SiLU MLP's two lines and two cut multipliers per unit
     * (9 × 200 × 4); the Fashion-MNIST CNN's 2 × 9 × 58,624 would take 4 MB per domain, and starts cold.
     */
    static final long WARM_ELEMENTS = 1L << 17;

    /**
     * What one example's search did: its final bound, the domains bounded, whether it ended with domains open, whether
     * on one with nothing left to split, and whether on a counterexample ({@link Settings#falsify}).
     */
    public record Outcome(double lower, int domains, boolean exhausted, boolean stuck, boolean refuted) {}

    /**
     * One domain: its splits (split id {@link BoundedNetwork#splittableLayers}, inside residual blocks too; flat unit; side
     * ±1: the unit's input ≥ or ≤ the point, 0 for a ReLU), a lower bound on it (its parent's until it is bounded), and
     * what its parent's final walk ended with ({@link Warm}; null: start cold), shared by both children.
     */
    private record Domain(int[] layers, int[] units, byte[] sides, double[] points, double bound, Warm warm) {
        static Domain root(double bound) {
            return new Domain(new int[0], new int[0], new byte[0], new double[0], bound, null);
        }

        Domain split(int layer, int unit, byte side, double point, double b, Warm warm) {
            int n = layers.length;
            int[] l = java.util.Arrays.copyOf(layers, n + 1), u = java.util.Arrays.copyOf(units, n + 1);
            byte[] s = java.util.Arrays.copyOf(sides, n + 1);
            double[] p = java.util.Arrays.copyOf(points, n + 1);
            l[n] = layer;
            u[n] = unit;
            s[n] = side;
            p[n] = point;
            return new Domain(l, u, s, p, b, warm);
        }

        Domain withBound(double b) { return new Domain(layers, units, sides, points, b, warm); }
    }

    /**
     * β-CROWN's warm start: the variables a domain's final walk ended with, from which its children start — α per node
     * that had them (a ReLU's lower slopes, [margins, …units]; the two lines' fractions of tanh, sigmoid and imported
     * activations, or a product's mix, [2·margins, …units]), β per ReLU split layer and each cut layer's two multipliers
     * (its lower and upper end's, [margins, …units]); on a network with ReLUs, their α and β only. Any value in a
     * variable's range gives a sound bound, so the parent's are only a start; where the parent kept none for a variable,
     * the child starts it as a cold domain does.
     */
    private record Warm(Map<Node, Saved> alpha, Map<Integer, Saved> beta, Map<Integer, Saved> cutLo, Map<Integer, Saved> cutHi) {}

    /** One domain's values of one variable, flat, and their shape without the domain axis. */
    private record Saved(float[] values, long[] shape) {}

    /**
     * Per example, a sound lower bound of min over the rows of {@code spec} of C·z over the region, by branch and bound
     * from CROWN ({@code crownUnits}: CROWN-tightened intermediate bounds up to that width).
     *
     * @param spec every row a margin that must be &gt; 0 (no zero row: use {@link BoundedNetwork#marginsOverOthers})
     * @return [N]
     */
    public static Tensor worstLower(BoundedNetwork net, InputRegion region, Tensor spec, int crownUnits, Settings settings) {
        return worstLower(net, region, spec, crownUnits, settings, 0, () -> false);
    }

    /**
     * The same, searching until the bound exceeds {@code threshold} rather than 0 (a domain is done once its bound is
     * &gt; threshold: a VNN-LIB constraint's constant), and stopping before the next batch of domains once {@code expired}
     * says so (a time limit): the result is then the bound reached so far, as sound as any.
     */
    public static Tensor worstLower(BoundedNetwork net, InputRegion region, Tensor spec, int crownUnits, Settings settings,
                                    double threshold, java.util.function.BooleanSupplier expired) {
        return worstLower(net, region, spec, crownUnits, settings, threshold, expired, SearchHooks.NONE);
    }

    /**
     * The same, asking {@code hooks} which of the examples the root leaves open are refuted already (an attack's
     * counterexample): their search is skipped and the root's bound stands.
     */
    public static Tensor worstLower(BoundedNetwork net, InputRegion region, Tensor spec, int crownUnits, Settings settings,
                                    double threshold, java.util.function.BooleanSupplier expired, SearchHooks hooks) {
        long n = spec.size(0);
        double[] out;
        boolean[] hopeless;
        try (Scope s = Scope.open(); dev.tikhon.engine.Autograd.Guard g = dev.tikhon.engine.Autograd.noGrad()) {   // CROWN and IBP on the batch first
            out = net.crownLower(region, spec, crownUnits, LowerSlope.ADAPTIVE).maximum(net.ibp(region, spec).lo()).minWithIndex(1)[0].toDoubleArray();
            // the margins at the centre itself: where one is ≤ 0 (a misclassified image) no bound over the region can be > 0, so
            // there is nothing to search for (skipping a search is sound either way: the root's bound stands)
            hopeless = net.hopeless(region, spec, threshold);
            int[] todo = java.util.stream.IntStream.range(0, (int) n).filter(i -> !(out[i] > threshold) && !hopeless[i]).toArray();
            if (settings.rootAlphaSteps() > 0 && todo.length > 0) {   // then α-CROWN on what they leave
                Tensor rows = Tensor.fromLongs(java.util.Arrays.stream(todo).asLongStream().toArray(), todo.length).to(spec.device());
                double[] alpha = net.alphaCrownLowerAbove(region.rows(rows), spec.indexSelect(0, rows), crownUnits, settings.rootAlphaSteps(),
                        Verification.ALPHA_LR, threshold, expired).minWithIndex(1)[0].toDoubleArray();
                for (int j = 0; j < todo.length; j++) out[todo[j]] = Math.max(out[todo[j]], alpha[j]);
            }
        }
        Map<Integer, long[]> shapes = net.splittableInputShapes(region);
        boolean[] skip = refutedAtRoot(out, hopeless, threshold, hooks);
        for (int i = 0; i < n && !shapes.isEmpty(); i++) {   // no activation to split: the root's bound stands
            // verified at the root, misclassified at the centre, refuted by the caller, or out of time
            if (out[i] > threshold || hopeless[i] || skip[i] || expired.getAsBoolean()) continue;
            Outcome o = search(net, region, spec, i, crownUnits, settings, shapes, out[i], threshold, settings.untilDeadline(expired), hooks);
            out[i] = Math.max(out[i], o.lower());
            hooks.searched(i, o.domains(), SearchHooks.End.of(out[i] > threshold, o.refuted(), o.stuck(), o.domains(), settings.maxDomains()));
        }
        return Tensor.fromDoubles(out, n).to(spec.dtype()).to(spec.device());
    }

    /**
     * Per example, whether {@code hooks} refutes it: asked once, for the examples whose root bound {@code root} is not above
     * the threshold and that are not hopeless (nothing is asked when none is open).
     */
    static boolean[] refutedAtRoot(double[] root, boolean[] hopeless, double threshold, SearchHooks hooks) {
        boolean[] skip = new boolean[root.length];
        int[] open = java.util.stream.IntStream.range(0, root.length).filter(i -> !(root[i] > threshold) && !hopeless[i]).toArray();
        if (open.length == 0) return skip;
        boolean[] refuted = hooks.refuted(open);
        if (refuted.length != open.length) {
            throw new IllegalStateException("a search hook answered " + refuted.length + " flags for " + open.length + " open examples");
        }
        for (int j = 0; j < open.length; j++) skip[open[j]] = refuted[j];
        return skip;
    }

    /** The search for example {@code i}. */
    static Outcome search(BoundedNetwork net, InputRegion region, Tensor spec, int i, int crownUnits, Settings settings) {
        return search(net, region, spec, i, crownUnits, settings, Double.NEGATIVE_INFINITY);
    }

    /** The same, from a sound bound {@code rootBound} on the whole region (every domain's bound is at least it). */
    static Outcome search(BoundedNetwork net, InputRegion region, Tensor spec, int i, int crownUnits, Settings settings, double rootBound) {
        return search(net, region, spec, i, crownUnits, settings, net.splittableInputShapes(region), rootBound, 0, () -> false, SearchHooks.NONE);
    }

    /** The unit the root domain of example {@code i} splits first: {split id, flat unit}, or {−1, −1} where none is unstable. */
    static int[] rootSplit(BoundedNetwork net, InputRegion region, Tensor spec, int i, int crownUnits, Settings settings) {
        try (Scope s = Scope.open()) {
            Step step = bound(net, region, spec, i, crownUnits, net.reluLayers(), net.splittableInputShapes(region),
                    List.of(Domain.root(Double.NEGATIVE_INFINITY)), settings.withFalsify(false), null);
            return step.unit[0] < 0 ? new int[]{-1, -1} : new int[]{step.layer[0], step.unit[0]};
        }
    }

    private static Outcome search(BoundedNetwork net, InputRegion region, Tensor spec, int i, int crownUnits, Settings settings,
                                  Map<Integer, long[]> shapes, double rootBound, double threshold, java.util.function.BooleanSupplier expired,
                                  SearchHooks hooks) {
        try (Scope s = Scope.open()) {
            Map<Integer, Interval> known = null;
            if (settings.rootAlphaSteps() > 0) {   // α-CROWN on the example: its bound, and its intermediate bounds, which hold on every domain
                known = new HashMap<>();
                double alpha = net.alphaCrownLower(region.narrow(i, 1), spec.narrow(0, i, 1), crownUnits, settings.rootAlphaSteps(),
                        Verification.ALPHA_LR, new AlphaSlopes(), known, BoundedNetwork.Stop.never(expired)).min().item();
                rootBound = Math.max(rootBound, alpha);
            }
            return search(net, region, spec, i, crownUnits, settings, shapes, rootBound, known, threshold, expired, hooks);
        }
    }

    private static Outcome search(BoundedNetwork net, InputRegion region, Tensor spec, int i, int crownUnits, Settings settings,
                                  Map<Integer, long[]> shapes, double rootBound, Map<Integer, Interval> known, double threshold,
                                  java.util.function.BooleanSupplier expired, SearchHooks hooks) {
        List<Integer> relus = net.reluLayers();
        PriorityQueue<Domain> open = new PriorityQueue<>((a, b) -> Double.compare(a.bound(), b.bound()));
        open.add(Domain.root(rootBound));
        double verifiedMin = Double.POSITIVE_INFINITY;
        int bounded = 0;
        boolean stuck = false, refuted = false;
        while (!open.isEmpty() && bounded < settings.maxDomains() && !stuck && !refuted && !expired.getAsBoolean()) {
            List<Domain> batch = new ArrayList<>();
            while (!open.isEmpty() && batch.size() < Math.min(BATCH, settings.maxDomains() - bounded)) batch.add(open.poll());
            bounded += batch.size();
            try (Scope s = Scope.open()) {
                Step step = bound(net, region, spec, i, crownUnits, relus, shapes, batch, settings, known);
                for (int d = 0; d < batch.size(); d++) {
                    Domain dom = batch.get(d);
                    if (step.infeasible[d]) continue;   // no input: nothing to verify
                    double b = Math.max(step.bound[d], dom.bound());   // both sound on this domain
                    if (b > threshold) {
                        verifiedMin = Math.min(verifiedMin, b);
                    } else if (step.unit[d] < 0) {   // nothing unstable left: splitting cannot raise it; the batch is still finished
                        open.add(dom.withBound(b));
                        stuck = true;
                    } else {
                        Warm warm = step.warm == null ? null : step.warm[d];
                        open.add(dom.split(step.layer[d], step.unit[d], (byte) 1, step.point[d], b, warm));
                        open.add(dom.split(step.layer[d], step.unit[d], (byte) -1, step.point[d], b, warm));
                    }
                }
                double[] point = step.lowest == null ? null : counterexample(net, region, spec, i, step, threshold);
                if (point != null) {   // the batch's domains are in the queue: the bound below stays sound
                    refuted = true;
                    hooks.counterexample(i, point);
                }
            }
            hooks.progress(i, bounded, min(open, verifiedMin));
        }
        return new Outcome(min(open, verifiedMin), bounded, !stuck && !refuted && !open.isEmpty(), stuck, refuted);
    }

    private static double min(PriorityQueue<Domain> open, double verifiedMin) {
        return open.isEmpty() ? verifiedMin : Math.min(open.peek().bound(), verifiedMin);
    }

    /**
     * Per domain of a batch: its bound, whether it is empty, the unit to split next (layer, flat unit; −1 if none) and
     * where (0 for a ReLU), the variables it ended with for its children (null without a warm start), and where
     * {@link Settings#falsify}: the point of the region where its worst row's final linear bound is lowest
     * ({@code lowest}, [d, …input], in the step's scope) and the worst margin there ({@code lowestMargin}; else both null).
     */
    private record Step(double[] bound, boolean[] infeasible, int[] layer, int[] unit, double[] point, Warm[] warm, Tensor lowest,
                        double[] lowestMargin) {}

    /**
     * The first of a step's lowest points whose worst margin is ≤ {@code threshold}, moved inside the exact ball where the
     * region is one ({@link InputRegion#inside}) and evaluated again if that moved it (flat, the model's values), or null.
     */
    private static double[] counterexample(BoundedNetwork net, InputRegion region, Tensor spec, int i, Step step, double threshold) {
        for (int d = 0; d < step.lowestMargin.length; d++) {
            if (!(step.lowestMargin[d] <= threshold)) continue;
            Tensor x = step.lowest.narrow(0, d, 1);
            double[] point = x.to(DType.FLOAT64).flatten(0, -1).toDoubleArray();
            double[] inside = region.narrow(i, 1).inside(point, x.dtype());
            if (java.util.Arrays.equals(inside, point)) return point;
            Tensor moved = Tensor.fromDoubles(inside, x.shape()).to(x.device(), x.dtype());
            if (worstMarginAt(net, moved, spec.narrow(0, i, 1))[0] <= threshold) return inside;
        }
        return null;
    }

    /**
     * Per point of {@code x} [P, …input], the worst margin of its row of {@code spec} [P, S, K] there: the forward pass's
     * upper end (with rounding accounted where it is, an upper bound for the exact network).
     */
    private static double[] worstMarginAt(BoundedNetwork net, Tensor x, Tensor spec) {
        return net.upperAt(x, spec).minWithIndex(1)[0].to(DType.FLOAT64).toDoubleArray();
    }

    private static Step bound(BoundedNetwork net, InputRegion region, Tensor spec, int i, int crownUnits, List<Integer> relus,
                              Map<Integer, long[]> shapes, List<Domain> batch, Settings settings, Map<Integer, Interval> known) {
        int d = batch.size();
        Tensor rows = Tensor.full(i, DType.INT64, spec.device(), d);
        InputRegion domains = region.rows(rows);
        Tensor specs = spec.indexSelect(0, rows);
        Map<Integer, double[]> host = new HashMap<>(), cutLo = new HashMap<>(), cutHi = new HashMap<>();
        for (int k = 0; k < d; k++) {
            Domain dom = batch.get(k);
            for (int j = 0; j < dom.layers().length; j++) {
                int layer = dom.layers()[j];
                int units = (int) unitsOf(shapes.get(layer));
                int at = k * units + dom.units()[j];
                if (relus.contains(layer)) {
                    host.computeIfAbsent(layer, l -> new double[d * units])[at] = dom.sides()[j];
                } else if (dom.sides()[j] > 0) {   // z ≥ p; a unit cut twice keeps the narrower of each end
                    double[] lo = cutLo.computeIfAbsent(layer, l -> filled(d * units, Double.NEGATIVE_INFINITY));
                    lo[at] = Math.max(lo[at], dom.points()[j]);
                    cutHi.computeIfAbsent(layer, l -> filled(d * units, Double.POSITIVE_INFINITY));
                } else {   // z ≤ p
                    double[] hi = cutHi.computeIfAbsent(layer, l -> filled(d * units, Double.POSITIVE_INFINITY));
                    hi[at] = Math.min(hi[at], dom.points()[j]);
                    cutLo.computeIfAbsent(layer, l -> filled(d * units, Double.NEGATIVE_INFINITY));
                }
            }
        }
        Map<Integer, Tensor> state = new HashMap<>();   // each layer's states in its own shape, [d, …units]
        host.forEach((layer, s) -> state.put(layer, Tensor.fromDoubles(s, BoundedNetwork.withHead(d, shapes.get(layer))).to(spec.dtype())
                .to(spec.device())));
        Map<Integer, Interval> cuts = new HashMap<>();   // the same point rounds the same way in both children: they still cover
        cutLo.forEach((layer, lo) -> {
            long[] shape = BoundedNetwork.withHead(d, shapes.get(layer));
            cuts.put(layer, new Interval(Tensor.fromDoubles(lo, shape).to(spec.dtype()).to(spec.device()),
                    Tensor.fromDoubles(cutHi.get(layer), shape).to(spec.dtype()).to(spec.device())));
        });
        Splits splits = new Splits(state, cuts);
        AlphaSlopes slopes = settings.domainAlpha() && settings.steps() > 0 ? AlphaSlopes.finalWalkOnly(net.finalOrigin()) : null;
        Map<Node, Tensor> coefficients = settings.branching() == Branching.INTERCEPT ? new java.util.IdentityHashMap<>() : null;
        // the warm start: each domain's variables from its parent's last values (where it has none, as a cold start)
        int margins = (int) specs.size(1);
        // a network with ReLUs carries their α and β only and takes fewer steps warm, as before; one without (every split a
        // cut) carries all its variables and keeps 20 steps: 5 warm steps, or the tangent fractions and products' mix
        // carried beside ReLUs, bound worse (docs/verification.md)
        boolean warm = settings.warmStart() && settings.steps() > 0, withRelus = !relus.isEmpty();
        int steps = warm && withRelus && batch.stream().allMatch(dom -> dom.warm() != null) ? settings.warmSteps() : settings.steps();
        if (slopes != null && warm) slopes.startFrom(parents(batch, Warm::alpha, Float.NaN, specs));
        Map<Integer, Tensor> betaStart = warm ? parents(batch, Warm::beta, 0, specs) : Map.of();
        Map<Integer, Tensor> betas = new HashMap<>();   // β per split layer, [d, margins, …units]: the storage its loop steps
        for (int layer : state.keySet()) {
            Tensor start = betaStart.get(layer);
            betas.put(layer, startOrZeros(start, BoundedNetwork.withHead(d, BoundedNetwork.withHead(margins, shapes.get(layer))), specs));
        }
        Map<Integer, Tensor[]> cutBetas = new HashMap<>();   // the cuts' multipliers, {lower end's, upper end's}
        if (settings.cutBeta() && settings.steps() > 0) {
            Map<Integer, Tensor> loStart = warm ? parents(batch, Warm::cutLo, 0, specs) : Map.of();
            Map<Integer, Tensor> hiStart = warm ? parents(batch, Warm::cutHi, 0, specs) : Map.of();
            cuts.forEach((layer, cut) -> {
                long[] shape = BoundedNetwork.withHead(d, BoundedNetwork.withHead(margins, shapes.get(layer)));
                cutBetas.put(layer, new Tensor[]{startOrZeros(loStart.get(layer), shape, specs), startOrZeros(hiStart.get(layer), shape, specs)});
            });
        }
        Trace trace;
        Tensor lower;
        try (dev.tikhon.engine.Autograd.Guard g = dev.tikhon.engine.Autograd.noGrad()) {   // only α and β are differentiated, in their loop
            trace = net.forwardOnDomains(domains, crownUnits, splits, slopes, known);
            trace.coefficients = coefficients;
            trace.keepInputCoefficients = settings.falsify();   // the last walk's, in this scope (optimize)
            lower = optimize(net, domains, specs, trace, splits, slopes, betas, cutBetas, steps, settings.lr());
            trace.coefficients = null;
            Tensor ibp = net.foldedIbpLower(specs, trace);   // also sound on the domain; tighter on IBP-trained networks
            if (ibp != null) lower = lower.maximum(ibp);
        }
        Tensor[] worst = lower.minWithIndex(1);
        Tensor lowest = null;
        double[] lowestMargin = null;
        if (settings.falsify() && trace.inputCoefficients != null) {
            try (dev.tikhon.engine.Autograd.Guard g = dev.tikhon.engine.Autograd.noGrad()) {
                lowest = domains.lowestPoints(worstRow(trace.inputCoefficients.detach(), worst[1]));
                lowestMargin = worstMarginAt(net, lowest, specs);
            }
        }
        double[] bound = worst[0].toDoubleArray();
        boolean[] infeasible = splits.infeasible() == null ? new boolean[d] : splits.infeasible().toBooleanArray();
        // branching: per domain the unit of highest score over every splittable layer
        List<Integer> candidates = net.splittableLayers();
        long[] at = new long[candidates.size() + 1];   // layer j's units are [at[j], at[j + 1]) of the scores
        for (int j = 0; j < candidates.size(); j++) at[j + 1] = at[j] + unitsOf(shapes.get(candidates.get(j)));
        List<Tensor> heights = new ArrayList<>(), costs = new ArrayList<>(), stables = new ArrayList<>(), points = new ArrayList<>();
        boolean intercept = settings.branching() == Branching.INTERCEPT;
        for (int layer : candidates) {
            Node node = net.node(layer);
            Interval in = net.splitInterval(trace, layer);
            Tensor l = in.lo().flatten(1, -1), u = in.hi().flatten(1, -1);
            Tensor stable, height, cost = null;
            int side = net.factor(layer);
            if (side >= 0) {   // a product's factor, cut at its midpoint: the planes' gap 2·r_x·r_y shrinks with r_x
                Tensor a = null;   // the worst margin's coefficients on the product, in its shape
                if (intercept) {
                    Tensor all = coefficients.get(node);   // [d, S, …the product's shape]
                    a = worstRow(all, worst[1]).reshape(BoundedNetwork.withHead(d, java.util.Arrays.copyOfRange(all.shape(), 2, all.dim())));
                }
                Tensor[] score = Products.splitScores(in, trace.joined(node).get(1 - side), a);
                height = score[0].flatten(1, -1);
                stable = height.le(0).logicalOr(u.sub(l).le(MIN_CUT));
                height = height.maskedFill(stable, 0);
                points.add(l.add(u).mul(0.5));
                if (intercept) cost = score[1].flatten(1, -1).maskedFill(stable, 0);
            } else if (relus.contains(layer)) {
                stable = l.lt(0).logicalAnd(u.gt(0)).logicalNot();
                height = l.neg().mul(u).div(u.sub(l).maskedFill(stable, 1)).maskedFill(stable, 0);
                points.add(l.zerosLike());
            } else {   // cut at the midpoint (a kink); what is left open is the most the lines part over [l, u]
                height = gap(node, in).flatten(1, -1);
                stable = height.le(0).logicalOr(u.sub(l).le(MIN_CUT));
                height = height.maskedFill(stable, 0);
                points.add(node instanceof Layers.Unit f ? f.f().splitPoints(l, u) : l.add(u).mul(0.5));
            }
            heights.add(height);
            stables.add(stable);
            if (intercept && cost == null) {
                // the worst margin's coefficient on the unit's output: its negative part times the intercept is what the
                // relaxation costs the bound, and what splitting the unit gives back (either part for other activations:
                // the walk takes the upper line where it is negative, the lower where positive)
                Tensor a = worstRow(coefficients.get(node), worst[1]);
                cost = (relus.contains(layer) ? a.neg().relu() : a.abs()).mul(height);
            }
            if (cost != null) costs.add(cost);
        }
        if (heights.isEmpty()) {   // nothing to split: the domains' bounds stand (worstLower does not search such a network)
            heights.add(Tensor.zeros(lower.dtype(), lower.device(), d, 1));
            stables.add(Tensor.ones(lower.dtype(), lower.device(), d, 1).gt(0));
            points.add(Tensor.zeros(lower.dtype(), lower.device(), d, 1));
            at = new long[]{0, 1};
        }
        Tensor score = Tensor.cat(heights, 1);
        if (!costs.isEmpty()) {   // where no unit costs anything, the height decides
            Tensor cost = Tensor.cat(costs, 1);
            Tensor anyCost = cost.neg().minWithIndex(1)[0].lt(0).unsqueeze(1);
            score = Tensor.where(anyCost.expand(cost.shape()), cost, score);
        }
        Tensor[] best = score.maskedFill(Tensor.cat(stables, 1), -1).neg().minWithIndex(1);
        double[] value = best[0].toDoubleArray();
        long[] index = best[1].toLongArray();
        double[] point = Tensor.cat(points, 1).gather(1, best[1].reshape(d, 1)).squeeze(1).toDoubleArray();
        int[] layer = new int[d], unit = new int[d];
        for (int k = 0; k < d; k++) {
            if (-value[k] <= 0) {
                unit[k] = -1;
                continue;
            }
            int r = candidates.size() - 1;
            while (at[r] > index[k]) r--;
            layer[k] = candidates.get(r);
            unit[k] = (int) (index[k] - at[r]);
        }
        Warm[] ends = null;
        if (warm) {   // what the children start from, where it is small enough to keep
            Map<Node, Tensor> alphas = new java.util.IdentityHashMap<>();
            if (slopes != null) slopes.valuesOf(net.finalOrigin()).forEach((node, t) -> { if (!withRelus || Layers.isRelu(node)) alphas.put(node, t); });
            Map<Integer, Tensor> lo = new HashMap<>(), hi = new HashMap<>();
            if (!withRelus) cutBetas.forEach((l, pair) -> {
                lo.put(l, pair[0]);
                hi.put(l, pair[1]);
            });
            long per = 0;
            for (Map<?, Tensor> m : List.of(alphas, betas, lo, hi)) for (Tensor t : m.values()) per += t.numel() / d;
            if (per <= WARM_ELEMENTS) {
                List<Map<Node, Saved>> a = perDomain(alphas, d);
                List<Map<Integer, Saved>> b = perDomain(betas, d), cl = perDomain(lo, d), ch = perDomain(hi, d);
                ends = new Warm[d];
                for (int k = 0; k < d; k++) ends[k] = new Warm(a.get(k), b.get(k), cl.get(k), ch.get(k));
            }
        }
        return new Step(bound, infeasible, layer, unit, point, ends, lowest, lowestMargin);
    }

    /** A multiplier's storage, the Adam loop's leaf: its parent's values, or zeros (shape {@code shape}, as {@code like}). */
    private static Tensor startOrZeros(Tensor start, long[] shape, Tensor like) {
        return (start == null ? Tensor.zeros(like.dtype(), like.device(), shape) : start).requiresGrad(true);
    }

    /**
     * Per unit of a non-ReLU activation layer, the most its CROWN lines part over its input interval [l, u]: the lines'
     * difference is linear, so its maximum is at l or u. [N, …units].
     */
    private static Tensor gap(Node node, Interval in) {
        Relaxation r = node instanceof Layers.Unit unit ? unit.f().relaxation(in)
                : Relaxation.of(((Layers.Act) node).kind(), in, LowerSlope.ADAPTIVE);
        Tensor slope = r.upperSlope().sub(r.lowerSlope()), intercept = r.upperIntercept().sub(r.lowerIntercept());
        return slope.mul(in.lo()).add(intercept).maximum(slope.mul(in.hi()).add(intercept)).clampMin(0);
    }

    /** Per domain, the walk's coefficients [d, S, …] on a node's output in the row of its worst margin ({@code worst}: [d]), flat: [d, units]. */
    private static Tensor worstRow(Tensor coefficients, Tensor worst) {
        Tensor flat = coefficients.flatten(2, -1);
        long d = flat.size(0);
        return flat.gather(1, worst.reshape(d, 1, 1).expand(d, 1, flat.size(2))).squeeze(1);
    }

    private static double[] filled(int n, double v) {
        double[] out = new double[n];
        java.util.Arrays.fill(out, v);
        return out;
    }

    /**
     * Per variable that some domain's parent kept ({@code of}), the batch's start values [d, …] ({@code fill} where a domain's
     * parent had none: NaN, CROWN's start, for α; 0 for the multipliers), in {@code like}'s type and device.
     */
    private static <K> Map<K, Tensor> parents(List<Domain> batch, java.util.function.Function<Warm, Map<K, Saved>> of, float fill, Tensor like) {
        Map<K, long[]> shapes = null;
        for (Domain dom : batch) {
            if (dom.warm() == null) continue;
            Map<K, Saved> saved = of.apply(dom.warm());
            if (shapes == null) shapes = likeKeys(saved);
            for (Map.Entry<K, Saved> e : saved.entrySet()) shapes.putIfAbsent(e.getKey(), e.getValue().shape());
        }
        if (shapes == null) return Map.of();
        Map<K, Tensor> out = likeKeys(shapes);
        shapes.forEach((key, shape) -> {
            int per = (int) unitsOf(shape), d = batch.size();
            float[] all = new float[d * per];
            for (int k = 0; k < d; k++) {
                Saved v = batch.get(k).warm() == null ? null : of.apply(batch.get(k).warm()).get(key);
                if (v == null) java.util.Arrays.fill(all, k * per, (k + 1) * per, fill);
                else System.arraycopy(v.values(), 0, all, k * per, per);
            }
            out.put(key, Tensor.fromFloats(all, BoundedNetwork.withHead(d, shape)).to(like.dtype()).to(like.device()));
        });
        return out;
    }

    /** An empty map that compares keys as {@code like} does: nodes by identity (two alike are equal records), layers by value. */
    private static <K, V> Map<K, V> likeKeys(Map<K, ?> like) {
        return like instanceof java.util.IdentityHashMap ? new java.util.IdentityHashMap<>() : new HashMap<>();
    }

    /** Each variable's values [d, …], split into the d domains' own. */
    private static <K> List<Map<K, Saved>> perDomain(Map<K, Tensor> vars, int d) {
        List<Map<K, Saved>> out = new ArrayList<>();
        for (int k = 0; k < d; k++) out.add(likeKeys(vars));
        vars.forEach((key, t) -> {
            long[] shape = java.util.Arrays.copyOfRange(t.shape(), 1, t.dim());
            float[] all = t.detach().toFloatArray();
            int per = all.length / d;
            for (int k = 0; k < d; k++) out.get(k).put(key, new Saved(java.util.Arrays.copyOfRange(all, k * per, (k + 1) * per), shape));
        });
        return out;
    }

    /**
     * The final walk's bounds [N, S] with the splits' β and the final walk's slopes α ({@code slopes}, or null: CROWN's
     * adaptive slopes) optimized jointly: from {@code betas}' values (the storage stepped in place: zeros, or the parent's),
     * {@code cutBetas}' (the cuts' multipliers, per layer its lower and upper end's: zeros) and the slopes' start (CROWN's adaptive slopes, or the parent's), then {@code steps} Adam steps ({@code lr}) up the
     * sum of the bounds, each β projected back to ≥ 0 and each α to [0, 1]; per row the best
     * bound of the steps + 1 walks (each sound), as α-CROWN's loop keeps its best. The intermediate bounds are the forward
     * pass's, fixed. The last walk runs in the caller's scope, so what it records in the trace (the coefficients for
     * branching) outlives the loop.
     */
    static Tensor optimize(BoundedNetwork net, InputRegion domains, Tensor specs, Trace trace, Splits splits, AlphaSlopes slopes,
                           Map<Integer, Tensor> betas, Map<Integer, Tensor[]> cutBetas, int steps, double lr) {
        if (steps == 0 || (slopes == null && betas.isEmpty() && cutBetas.isEmpty())) return net.finalWalk(specs, domains, trace);
        List<Tensor> betaVars = new ArrayList<>(betas.values()), alphas = List.of(), m = new ArrayList<>(), v = new ArrayList<>();
        for (Tensor[] pair : cutBetas.values()) betaVars.addAll(List.of(pair));
        long rows = specs.size(1);
        for (Tensor beta : betaVars) {
            m.add(beta.detach().zerosLike());
            v.add(beta.detach().zerosLike());
        }
        Map<Node, Tensor> record = trace.coefficients;
        Tensor best = Tensor.full(Double.NEGATIVE_INFINITY, specs.dtype(), specs.device(), specs.size(0), rows);   // outlives the steps' scopes
        splits.betas = betas;
        splits.cutBetas = cutBetas;
        try {
            for (int k = 0; k <= steps; k++) {   // the walk at the start values, then one after each step
                boolean first = k == 0, last = k == steps;   // the first makes α's variables and the last records: the caller's scope
                trace.coefficients = last ? record : null;
                try (Scope it = first || last ? null : Scope.open();
                     dev.tikhon.engine.Autograd.Guard g = last ? dev.tikhon.engine.Autograd.noGrad() : dev.tikhon.engine.Autograd.enableGrad()) {
                    if (slopes != null && !first) slopes.renewLeaves();
                    Tensor bound = net.finalWalk(specs, domains, trace);
                    best.copy_(best.maximum(bound.detach()));   // every β ≥ 0 and α in [0, 1] give a sound bound
                    if (last) break;
                    if (first && slopes != null) {
                        slopes.freeze();
                        alphas = slopes.all();
                        for (Tensor alpha : alphas) {
                            m.add(alpha.detach().zerosLike());
                            v.add(alpha.detach().zerosLike());
                        }
                    }
                    List<Tensor> vars = new ArrayList<>(betaVars);
                    vars.addAll(slopes == null ? List.of() : first ? alphas : slopes.leaves());
                    if (vars.isEmpty()) {   // nothing to optimize: the bound is CROWN's on the domain
                        trace.coefficients = record;
                        if (record != null) net.finalWalk(specs, domains, trace);
                        break;
                    }
                    List<Tensor> grads = dev.tikhon.engine.Autograd.grad(List.of(bound.sum()), vars, null, false, false);
                    for (int i = 0; i < vars.size(); i++) {
                        boolean isBeta = i < betaVars.size();
                        Tensor x = (isBeta ? betaVars.get(i) : alphas.get(i - betaVars.size())).detach();   // the storage, stepped in place
                        dev.tikhon.optim.Adam.step(x, m.get(i), v.get(i), grads.get(i).neg(), k + 1, lr, 0.9, 0.999, 1e-8);   // ascent
                        if (isBeta) x.clamp_(0, Float.MAX_VALUE);   // β ≥ 0 (an upper end float32 can hold)
                        else x.clamp_(0, 1);
                    }
                }
            }
        } finally {
            splits.betas = null;
            splits.cutBetas = null;
            trace.coefficients = record;
        }
        return best;
    }

    private static long unitsOf(long[] shape) {
        long n = 1;
        for (long v : shape) n *= v;
        return n;
    }
}
