package dev.tikhon.verify;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Tensor;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Branch and bound's ReLU splits for a batch of domains (one per example row): for some ReLU layers (by split id in
 * {@link BoundedNetwork#splittableLayers}: a layer of the network's own chain by its index, one inside a residual block or
 * another fork by a number after them), each unit free (0), active (+1: its input z is ≥ 0 on the domain) or inactive
 * (−1: z ≤ 0). The forward pass applies them wherever it computes the layer's input bounds, inside forks too.
 *
 * <p>A bound computation with splits clips each split unit's input interval to its side before the layer's relaxation,
 * so the bounds hold on the domain (the inputs of the region where the splits hold): the relaxation of a split unit is
 * then exact, and every later layer's bounds are computed from the clipped ones. A domain whose clipped interval is
 * empty holds no input: it is marked infeasible.
 *
 * <p>The split constraints s·z ≥ 0 also enter the final backward walk with multipliers β ≥ 0 (Wang et al.'s β-CROWN,
 * NeurIPS 2021): on the domain f ≥ f − β·s·z, so the coefficient of z at the ReLU's input becomes A − β·s and the walk
 * goes on; any β ≥ 0 gives a sound bound, and the best β recovers what the intervals lose (two units that cannot both
 * hold their sides, for instance).
 *
 * <p>Other activations (tanh, sigmoid, SiLU, GELU, …: Shi et al.'s general branch and bound, GenBaB, TACAS 2025) are split
 * at a point p of their input: a domain holds cuts, per unit an interval [lo, hi] (±∞ where uncut) that its input
 * interval is intersected with, so its relaxation is made over the narrower interval. The two children of a cut at p
 * keep z ≤ p and z ≥ p, the same float p, so they cover the parent's interval. A product's factor is cut the same way
 * ({@link BoundedNetwork#factor}): the interval is its chain's output, clipped where the product joins its chains.
 *
 * <p>A cut's constraints lo ≤ z ≤ hi enter the final walk with multipliers too, as the ReLUs' do: on the domain
 * f ≥ f − β_lo·(z − lo) − β_hi·(hi − z) for any β_lo, β_hi ≥ 0, so the coefficient of z becomes A − β_lo + β_hi and the
 * constants gain β_lo·lo − β_hi·hi (an end not cut, ±∞, has no multiplier). The intervals alone clip each unit on its
 * own; the multipliers also tie units cut on the same domain together (two cuts of one input that only one point meets).
 */
final class Splits {
    /** Per split layer, [N, …units] of −1, 0, +1 in the bounds' dtype. */
    private final Map<Integer, Tensor> state;
    /** The split layers' nodes, recorded as the forward pass meets them. */
    private final Map<Node, Integer> layers = new IdentityHashMap<>();
    /** β per split layer, [N, S, …units] ≥ 0, or null: the final walk's multipliers. */
    Map<Integer, Tensor> betas;
    /** Per cut layer (not a ReLU), [N, …units] bounds the input is intersected with (±∞ where uncut). */
    private final Map<Integer, Interval> cuts;
    /** β per cut layer, {the lower end's, the upper end's}, [N, S, …units] ≥ 0 each, or null: the final walk's multipliers. */
    Map<Integer, Tensor[]> cutBetas;
    /** Per node the cut layers applied to it, at slot side + 1 (an activation's input: slot 0; a product's factors: 1, 2). */
    private final Map<Node, int[]> cutAt = new IdentityHashMap<>();
    private Tensor infeasible;

    Splits(Map<Integer, Tensor> state) {
        this(state, Map.of());
    }

    Splits(Map<Integer, Tensor> state, Map<Integer, Interval> cuts) {
        this.state = state;
        this.cuts = cuts;
    }

    Map<Integer, Tensor> state() { return state; }

    /**
     * The interval of what layer {@code layer} splits (side −1: {@code node}'s input; 0, 1: that factor of the product
     * {@code node}) clipped to the splits' sides; infeasible domains recorded.
     */
    Interval apply(int layer, Node node, int side, Interval h) {
        Interval cut = cuts.get(layer);
        if (cut != null) {
            cutAt.computeIfAbsent(node, k -> new int[]{-1, -1, -1})[side + 1] = layer;
            return cut(cut, h);
        }
        Tensor s = state.get(layer);
        if (s == null) return h;
        layers.put(node, layer);
        Tensor active = s.gt(0), inactive = s.lt(0);
        Tensor lo = h.lo().maskedFill(active.logicalAnd(h.lo().lt(0)), 0);   // z ≥ 0: the lower end at least 0
        Tensor hi = h.hi().maskedFill(inactive.logicalAnd(h.hi().gt(0)), 0);   // z ≤ 0: the upper end at most 0
        // empty only where a split clipped it (an interval the rounding left inverted elsewhere is not this test's business)
        Tensor empty = lo.gt(hi).logicalAnd(active.logicalOr(inactive)).flatten(1, -1).to(DType.FLOAT32).sum(1, false).gt(0);   // [N]
        infeasible = infeasible == null ? empty : infeasible.logicalOr(empty);
        return new Interval(lo, hi.maximum(lo));   // an empty domain's bounds are discarded: keep them ordered (no NaN)
    }

    /** {@code h} intersected with a layer's cuts: only ever narrower, so every bound on it stays sound. */
    private Interval cut(Interval cut, Interval h) {
        Tensor lo = h.lo().maximum(cut.lo()), hi = h.hi().minimum(cut.hi());
        Tensor clipped = cut.lo().gt(h.lo()).logicalOr(cut.hi().lt(h.hi()));
        Tensor empty = lo.gt(hi).logicalAnd(clipped).flatten(1, -1).to(DType.FLOAT32).sum(1, false).gt(0);   // [N]
        infeasible = infeasible == null ? empty : infeasible.logicalOr(empty);
        return new Interval(lo, hi.maximum(lo));
    }

    /** Per domain, whether some split is impossible on it; [N] bool, or null where no split was applied. */
    Tensor infeasible() { return infeasible; }

    /**
     * The coefficients on the value {@code z} (bounds [N, …units]) that node {@code node} relaxes (side −1: an activation's
     * input) or multiplies (side 0, 1: a product's factor), with the β terms of its ReLU splits and of its cuts where β
     * is set; the cuts' constants β_lo·lo − β_hi·hi go into {@code sum}, and with {@code rounding} the rounding of the
     * coefficients' change and of those constants is subtracted.
     */
    Tensor withBeta(Node node, int side, Tensor coefficients, Interval z, Trace.Sum sum, boolean rounding) {
        Tensor out = side < 0 ? withBeta(node, coefficients) : coefficients;
        int[] at = cutBetas == null ? null : cutAt.get(node);
        int layer = at == null ? -1 : at[side + 1];
        if (layer < 0 || !cutBetas.containsKey(layer)) return out;
        Interval cut = cuts.get(layer);
        Tensor[] beta = cutBetas.get(layer);
        Tensor lo = cut.lo().unsqueeze(1), hi = cut.hi().unsqueeze(1), loCut = lo.isFinite(), hiCut = hi.isFinite();
        Tensor bLo = beta[0].mul(loCut.to(beta[0].dtype())), bHi = beta[1].mul(hiCut.to(beta[1].dtype()));
        Tensor loEnd = bLo.mul(lo.maskedFill(loCut.logicalNot(), 0)), hiEnd = bHi.mul(hi.maskedFill(hiCut.logicalNot(), 0));
        out = out.sub(bLo).add(bHi);
        sum.add(Trace.sumTail(loEnd.sub(hiEnd)));
        if (rounding) {   // the new coefficients against |z|, and the products and sum of the constants
            double u = Rounding.unit(out);
            long n = z.width() + 2;
            Tensor zHat = Layers.rows(Rounding.magnitude(z));
            sum.add(Trace.sumTail(out.abs().mul(zHat).mul(2.0 * Rounding.KAPPA * u).add(loEnd.abs().add(hiEnd.abs()).mul(Rounding.gamma(n, u))))
                    .add(Rounding.TINY).neg());
        }
        return out;
    }

    /** The coefficients A' [N, S, …units] on {@code node}'s input, with the β term −β·s of its ReLU splits where β is set. */
    private Tensor withBeta(Node node, Tensor coefficients) {
        Integer layer = betas == null ? null : layers.get(node);
        if (layer == null || !betas.containsKey(layer)) return coefficients;
        return coefficients.sub(betas.get(layer).mul(state.get(layer).unsqueeze(1)));
    }
}
