package dev.tikhon.verify;

import dev.tikhon.engine.Tensor;

import java.util.IdentityHashMap;
import java.util.Map;

/** What one bound computation learned on its way forward: each layer's input bounds, and the activation relaxations. */
final class Trace {
    private final Map<Node, Interval> inputs;
    private final Map<Node, Object> cache = new IdentityHashMap<>();
    private final Map<Node, Tensor> slopes;
    final LowerSlope alpha;

    Trace(LowerSlope alpha) {
        this(alpha, new IdentityHashMap<>(), Map.of());
    }

    private Trace(LowerSlope alpha, Map<Node, Interval> inputs, Map<Node, Tensor> slopes) {
        this.alpha = alpha;
        this.inputs = inputs;
        this.slopes = slopes;
    }

    /**
     * A trace for another backward walk over the same recorded input bounds, with the lower slopes of some ReLU layers
     * given per specification row (α-CROWN): nothing derived from the slopes is shared with this one.
     */
    Trace withSlopes(Map<Node, Tensor> perLayer) {
        Map<Node, Tensor> copy = new IdentityHashMap<>(perLayer);
        return new Trace(alpha, inputs, copy);
    }

    /** The lower slopes given for {@code node}'s unstable units, [N, S, …], or null. */
    Tensor slopes(Node node) { return slopes.get(node); }

    void input(Node node, Interval in) { inputs.put(node, in); }

    Interval input(Node node) {
        Interval in = inputs.get(node);
        if (in == null) throw new IllegalStateException("no input bounds recorded for " + node);
        return in;
    }

    /** A value derived from a layer's input bounds, computed once per bound computation. */
    @SuppressWarnings("unchecked")
    <T> T cached(Node node, java.util.function.Supplier<T> make) {
        return (T) cache.computeIfAbsent(node, k -> make.get());
    }

    /** A running sum of [N, S] constants. */
    static final class Sum {
        private Tensor total;

        void add(Tensor t) { total = total == null ? t : total.add(t); }

        Tensor value(Tensor like) { return total == null ? like : total.add(like); }
    }

    /** Sum over every dimension after the first two: [N, S, …] → [N, S]. */
    static Tensor sumTail(Tensor t) {
        return t.dim() == 2 ? t : t.flatten(2, -1).sum(2, false);
    }
}
