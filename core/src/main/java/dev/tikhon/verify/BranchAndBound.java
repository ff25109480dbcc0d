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
 * verification", JMLR 2020; the split bounds as in Wang et al.'s β-CROWN, NeurIPS 2021, without its β multipliers). Where
 * CROWN's bound of an example's worst margin is ≤ 0, the region is split into two domains on one unstable ReLU (its
 * input ≥ 0, or ≤ 0), each bounded again with that unit's relaxation exact ({@link Splits}); domains whose bound is &gt; 0
 * are done, the others split further, the lowest bound first, until every domain is verified, a domain has no unstable
 * unit left (its bound cannot improve by splitting: without β the split constraints enter only through the
 * intermediate bounds), or the budget of bound computations runs out.
 *
 * <p>Before any split, an image is bounded by CROWN and IBP on the whole batch, then by α-CROWN where they leave it
 * unverified; only what all three leave is searched. A domain's bound is the larger of CROWN's (with β) and IBP's over
 * its clipped intervals, both sound on it. The result
 * is sound either way: the minimum over the leaf domains of their bounds (each domain's bound is a lower bound on it,
 * and the leaves cover the region; an empty domain holds no input). A child's bound is at least its parent's (both are
 * sound for the child), so the result is never below CROWN's, IBP's or α-CROWN's.
 *
 * <p>Branching: the unit of largest triangle-relaxation height −l·u/(u − l) over all splittable ReLU layers, a cheap
 * stand-in for BaBSR's score.
 */
public final class BranchAndBound {
    /** Bound computations (domains) per example. */
    public static final int DEFAULT_DOMAINS = 1024;
    /** Adam steps on the split multipliers β per batch of domains, and their step size. */
    public static final int BETA_STEPS = 20;
    public static final double BETA_LR = 0.1;
    /** Domains bounded at once. */
    static final int BATCH = 64;

    private BranchAndBound() {}

    /** What one example's search did: its final bound, the domains bounded and whether it ended with every leaf verified. */
    public record Outcome(double lower, int domains, boolean exhausted, boolean stuck) {}

    /** One domain: its splits (layer, flat unit, side ±1), and a lower bound on it (its parent's until it is bounded). */
    private record Domain(int[] layers, int[] units, byte[] sides, double bound) {
        Domain split(int layer, int unit, byte side, double b) {
            int n = layers.length;
            int[] l = java.util.Arrays.copyOf(layers, n + 1), u = java.util.Arrays.copyOf(units, n + 1);
            byte[] s = java.util.Arrays.copyOf(sides, n + 1);
            l[n] = layer;
            u[n] = unit;
            s[n] = side;
            return new Domain(l, u, s, b);
        }
    }

    /**
     * Per example, a sound lower bound of min over the rows of {@code spec} of C·z over the region, by branch and bound
     * from CROWN ({@code crownUnits}: CROWN-tightened intermediate bounds up to that width).
     *
     * @param spec every row a margin that must be &gt; 0 (no zero row: use {@link BoundedNetwork#marginsOverOthers})
     * @return [N]
     */
    public static Tensor worstLower(BoundedNetwork net, InputRegion region, Tensor spec, int crownUnits, int maxDomains) {
        return worstLower(net, region, spec, crownUnits, maxDomains, Verification.ALPHA_STEPS, BETA_STEPS, BETA_LR);
    }

    /**
     * The same with {@code alphaSteps} steps of α-CROWN before branching (0: none) and {@code betaSteps} Adam steps of size
     * {@code betaLr} on β per batch of domains (0: splits through the intervals only).
     */
    public static Tensor worstLower(BoundedNetwork net, InputRegion region, Tensor spec, int crownUnits, int maxDomains, int alphaSteps,
                                    int betaSteps, double betaLr) {
        long n = spec.size(0);
        double[] out;
        try (Scope s = Scope.open(); dev.tikhon.engine.Autograd.Guard g = dev.tikhon.engine.Autograd.noGrad()) {   // CROWN and IBP on the batch first
            out = net.crownLower(region, spec, crownUnits, LowerSlope.ADAPTIVE).maximum(net.ibp(region, spec).lo()).minWithIndex(1)[0].toDoubleArray();
            int[] todo = java.util.stream.IntStream.range(0, (int) n).filter(i -> !(out[i] > 0)).toArray();
            if (alphaSteps > 0 && todo.length > 0) {   // then α-CROWN on what they leave
                Tensor rows = Tensor.fromLongs(java.util.Arrays.stream(todo).asLongStream().toArray(), todo.length).to(spec.device());
                double[] alpha = net.alphaCrownLower(region.rows(rows), spec.indexSelect(0, rows), crownUnits, alphaSteps, Verification.ALPHA_LR)
                        .minWithIndex(1)[0].toDoubleArray();
                for (int j = 0; j < todo.length; j++) out[todo[j]] = Math.max(out[todo[j]], alpha[j]);
            }
        }
        Map<Integer, long[]> shapes = net.reluInputShapes(region);
        for (int i = 0; i < n; i++) {
            if (out[i] > 0) continue;   // verified at the root
            out[i] = Math.max(out[i], search(net, region, spec, i, crownUnits, maxDomains, betaSteps, betaLr, shapes).lower());
        }
        return Tensor.fromDoubles(out, n).to(spec.dtype()).to(spec.device());
    }

    /** The search for example {@code i}. */
    static Outcome search(BoundedNetwork net, InputRegion region, Tensor spec, int i, int crownUnits, int maxDomains, int betaSteps,
                          double betaLr) {
        return search(net, region, spec, i, crownUnits, maxDomains, betaSteps, betaLr, net.reluInputShapes(region));
    }

    private static Outcome search(BoundedNetwork net, InputRegion region, Tensor spec, int i, int crownUnits, int maxDomains, int betaSteps,
                                  double betaLr, Map<Integer, long[]> shapes) {
        List<Integer> relus = net.reluLayers();
        PriorityQueue<Domain> open = new PriorityQueue<>((a, b) -> Double.compare(a.bound(), b.bound()));
        open.add(new Domain(new int[0], new int[0], new byte[0], Double.NEGATIVE_INFINITY));
        double verifiedMin = Double.POSITIVE_INFINITY;
        int bounded = 0;
        boolean stuck = false;
        while (!open.isEmpty() && bounded < maxDomains && !stuck) {
            List<Domain> batch = new ArrayList<>();
            while (!open.isEmpty() && batch.size() < Math.min(BATCH, maxDomains - bounded)) batch.add(open.poll());
            bounded += batch.size();
            try (Scope s = Scope.open()) {
                Step step = bound(net, region, spec, i, crownUnits, relus, shapes, batch, betaSteps, betaLr);
                for (int d = 0; d < batch.size(); d++) {
                    Domain dom = batch.get(d);
                    if (step.infeasible[d]) continue;   // no input: nothing to verify
                    double b = Math.max(step.bound[d], dom.bound());   // both sound on this domain
                    if (b > 0) {
                        verifiedMin = Math.min(verifiedMin, b);
                    } else if (step.unit[d] < 0) {   // nothing unstable left: splitting cannot raise it; the batch is still finished
                        open.add(new Domain(dom.layers(), dom.units(), dom.sides(), b));
                        stuck = true;
                    } else {
                        open.add(dom.split(step.layer[d], step.unit[d], (byte) 1, b));
                        open.add(dom.split(step.layer[d], step.unit[d], (byte) -1, b));
                    }
                }
            }
        }
        return new Outcome(min(open, verifiedMin), bounded, !stuck && !open.isEmpty(), stuck);
    }

    private static double min(PriorityQueue<Domain> open, double verifiedMin) {
        return open.isEmpty() ? verifiedMin : Math.min(open.peek().bound(), verifiedMin);
    }

    /** Per domain of a batch: its bound, whether it is empty, and the unit to split next (layer, flat unit; −1 if none). */
    private record Step(double[] bound, boolean[] infeasible, int[] layer, int[] unit) {}

    private static Step bound(BoundedNetwork net, InputRegion region, Tensor spec, int i, int crownUnits, List<Integer> relus,
                              Map<Integer, long[]> shapes, List<Domain> batch, int betaSteps, double betaLr) {
        int d = batch.size();
        Tensor rows = Tensor.full(i, DType.INT64, spec.device(), d);
        InputRegion domains = region.rows(rows);
        Tensor specs = spec.indexSelect(0, rows);
        Map<Integer, double[]> host = new HashMap<>();
        for (int k = 0; k < d; k++) {
            Domain dom = batch.get(k);
            for (int j = 0; j < dom.layers().length; j++) {
                int layer = dom.layers()[j];
                int units = (int) unitsOf(shapes.get(layer));
                double[] s = host.computeIfAbsent(layer, l -> new double[d * units]);
                s[k * units + dom.units()[j]] = dom.sides()[j];
            }
        }
        Map<Integer, Tensor> state = new HashMap<>();   // each layer's states in its own shape, [d, …units]
        host.forEach((layer, s) -> state.put(layer, Tensor.fromDoubles(s, BoundedNetwork.withHead(d, shapes.get(layer))).to(spec.dtype())
                .to(spec.device())));
        Splits splits = new Splits(state);
        Trace trace;
        Tensor lower;
        try (dev.tikhon.engine.Autograd.Guard g = dev.tikhon.engine.Autograd.noGrad()) {   // only β is differentiated, in its loop
            trace = net.forwardOnDomains(domains, crownUnits, splits);
            lower = optimizeBeta(net, domains, specs, trace, splits, betaSteps, betaLr);
            Tensor ibp = net.foldedIbpLower(specs, trace);   // also sound on the domain; tighter on IBP-trained networks
            if (ibp != null) lower = lower.maximum(ibp);
        }
        double[] bound = lower.minWithIndex(1)[0].toDoubleArray();
        boolean[] infeasible = splits.infeasible() == null ? new boolean[d] : splits.infeasible().toBooleanArray();
        // branching: the unstable unit of largest triangle height −l·u/(u − l), over every splittable layer
        List<Tensor> scores = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        long offset = 0;
        for (int layer : relus) {
            Interval in = trace.input(net.node(layer));
            Tensor l = in.lo().flatten(1, -1), u = in.hi().flatten(1, -1);
            Tensor unstable = l.lt(0).logicalAnd(u.gt(0));
            Tensor height = l.neg().mul(u).div(u.sub(l).maskedFill(unstable.logicalNot(), 1)).maskedFill(unstable.logicalNot(), -1);
            scores.add(height);
            offsets.add(offset);
            offset += l.size(1);
        }
        Tensor[] best = Tensor.cat(scores, 1).neg().minWithIndex(1);
        double[] value = best[0].toDoubleArray();
        long[] index = best[1].toLongArray();
        int[] layer = new int[d], unit = new int[d];
        for (int k = 0; k < d; k++) {
            if (-value[k] <= 0) {
                unit[k] = -1;
                continue;
            }
            int r = offsets.size() - 1;
            while (offsets.get(r) > index[k]) r--;
            layer[k] = relus.get(r);
            unit[k] = (int) (index[k] - offsets.get(r));
        }
        return new Step(bound, infeasible, layer, unit);
    }

    /**
     * The final walk's bounds [N, S] with the splits' β optimized: β = 0 first (CROWN on the domains), then {@code steps}
     * Adam steps ({@code lr}) up the sum of the bounds, each β projected back to ≥ 0; per row the best bound of the
     * steps + 1 walks (each sound), as α-CROWN's loop keeps its best. The intermediate bounds are the forward pass's, fixed.
     */
    static Tensor optimizeBeta(BoundedNetwork net, InputRegion domains, Tensor specs, Trace trace, Splits splits, int steps, double lr) {
        if (steps == 0 || splits.state().isEmpty()) return net.finalWalk(specs, domains, trace);
        Map<Integer, Tensor> betas = new HashMap<>();
        List<Tensor> vars = new ArrayList<>(), m = new ArrayList<>(), v = new ArrayList<>();
        long rows = specs.size(1);
        for (Map.Entry<Integer, Tensor> e : splits.state().entrySet()) {
            Tensor beta = Tensor.zeros(specs.dtype(), specs.device(), Layers.withRows(e.getValue().shape(), rows)).requiresGrad(true);
            betas.put(e.getKey(), beta);
            vars.add(beta);
            m.add(beta.detach().zerosLike());
            v.add(beta.detach().zerosLike());
        }
        Tensor best = Tensor.full(Double.NEGATIVE_INFINITY, specs.dtype(), specs.device(), specs.size(0), rows);   // outlives the steps' scopes
        splits.betas = betas;
        try {
            for (int k = 0; k <= steps; k++) {   // the walk at β = 0 (CROWN on the domains), then one after each step
                try (Scope it = Scope.open(); dev.tikhon.engine.Autograd.Guard g = dev.tikhon.engine.Autograd.enableGrad()) {
                    Tensor bound = net.finalWalk(specs, domains, trace);
                    best.copy_(best.maximum(bound.detach()));   // every β ≥ 0 gives a sound bound
                    if (k == steps) break;
                    List<Tensor> grads = dev.tikhon.engine.Autograd.grad(List.of(bound.sum()), vars, null, false, false);
                    for (int i = 0; i < vars.size(); i++) {
                        Tensor beta = vars.get(i).detach();   // the storage, stepped in place
                        dev.tikhon.optim.Adam.step(beta, m.get(i), v.get(i), grads.get(i).neg(), k + 1, lr, 0.9, 0.999, 1e-8);   // ascent
                        beta.clamp_(0, Float.MAX_VALUE);   // β ≥ 0 (an upper end float32 can hold)
                    }
                }
            }
        } finally {
            splits.betas = null;
        }
        return best;
    }

    private static long unitsOf(long[] shape) {
        long n = 1;
        for (long v : shape) n *= v;
        return n;
    }
}
