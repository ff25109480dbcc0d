package dev.tikhon.verify;

import dev.tikhon.engine.Tensor;

import java.util.IdentityHashMap;
import java.util.Map;

/** What one bound computation learned on its way forward: each layer's input bounds, and the activation relaxations. */
final class Trace {
    private final Map<Node, Interval> inputs = new IdentityHashMap<>();
    private final Map<Node, Object> cache = new IdentityHashMap<>();
    final LowerSlope alpha;
    /** α-CROWN's variables, or null for CROWN's fixed slopes. */
    final AlphaSlopes slopes;
    /** Branch and bound's ReLU splits, or null. */
    final Splits splits;
    /** The walk under way: its origin (the layer whose input it bounds; the node count for the logits), rows in all, and the rows it covers. */
    int origin;
    long rows, rowStart, rowCount;
    /**
     * Sound bounds on some layers' inputs (by split id, {@link BoundedNetwork#splittableLayers}) known before this computation, [1 or N, …], intersected with
     * what it computes: branch and bound's root α-CROWN bounds, which hold on every domain. Null: none.
     */
    Map<Integer, Interval> known;
    /** Whether this computation accounts for floating-point rounding ({@link Rounding}): fixed when it starts. */
    final boolean rounding = Rounding.on();
    private final Map<Node, Tensor> magnitudes = new IdentityHashMap<>();
    /** Where set, each activation records the coefficients [N, S, …units] on its output that the walk under way brings it (branching reads them). */
    Map<Node, Tensor> coefficients;
    /** Where set, the walk keeps its coefficients on the input in {@link #inputCoefficients} (the last walk's stay). */
    boolean keepInputCoefficients;
    Tensor inputCoefficients;

    Trace(LowerSlope alpha) {
        this(alpha, null);
    }

    Trace(LowerSlope alpha, AlphaSlopes slopes) {
        this(alpha, slopes, null);
    }

    Trace(LowerSlope alpha, AlphaSlopes slopes, Splits splits) {
        this.alpha = alpha;
        this.slopes = slopes;
        this.splits = splits;
    }

    /** Marks the start of a backward walk from {@code origin} over rows [start, start + count) of {@code total}. */
    void walk(int origin, long total, long start, long count) {
        this.origin = origin;
        this.rows = total;
        this.rowStart = start;
        this.rowCount = count;
    }

    void input(Node node, Interval in) { inputs.put(node, in); }

    Interval input(Node node) {
        Interval in = inputs.get(node);
        if (in == null) throw new IllegalStateException("no input bounds recorded for " + node);
        return in;
    }

    private final Map<Node, java.util.List<Interval>> joined = new IdentityHashMap<>();

    /** Records the bounds of the chains a product fork joins (the latest, tightest, win). */
    void joined(Node fork, java.util.List<Interval> chainOutputs) { joined.put(fork, chainOutputs); }

    /** The bounds of the chains a product fork joined on the way forward. */
    java.util.List<Interval> joined(Node fork) {
        java.util.List<Interval> outs = joined.get(fork);
        if (outs == null) throw new IllegalStateException("no chain bounds recorded for " + fork);
        return outs;
    }

    /** The input bounds recorded for {@code node}, or null where the computation did not reach it. */
    Interval recorded(Node node) { return inputs.get(node); }

    /** A value derived from a layer's input bounds, computed once per bound computation. */
    @SuppressWarnings("unchecked")
    <T> T cached(Node node, java.util.function.Supplier<T> make) {
        return (T) cache.computeIfAbsent(node, k -> make.get());
    }

    /** A node's |W| ẑ + |b| for {@link Rounding}, computed once per bound computation. */
    Tensor magnitude(Node node, java.util.function.Supplier<Tensor> make) {
        return magnitudes.computeIfAbsent(node, k -> make.get());
    }

    /** That magnitude where it was computed, else null. */
    Tensor magnitude(Node node) { return magnitudes.get(node); }

    /** A running sum of [N, S] constants; where it accounts for rounding, also the sum of their magnitudes and their count. */
    static final class Sum {
        private final boolean rounding;
        private Tensor total, absolute;
        private long terms;

        Sum() { this(false); }

        Sum(boolean rounding) { this.rounding = rounding; }

        void add(Tensor t) {
            total = total == null ? t : total.add(t);
            if (rounding) {
                absolute = absolute == null ? t.abs() : absolute.add(t.abs());
                terms++;
            }
        }

        Tensor value(Tensor like) { return total == null ? like : total.add(like); }

        /** Σ|tᵢ| over the terms added (with rounding accounted), plus {@code like}. */
        Tensor absolute(Tensor like) { return absolute == null ? like : absolute.add(like); }

        long terms() { return terms; }
    }

    /** Sum over every dimension after the first two: [N, S, …] → [N, S]. */
    static Tensor sumTail(Tensor t) {
        return t.dim() == 2 ? t : t.flatten(2, -1).sum(2, false);
    }
}
