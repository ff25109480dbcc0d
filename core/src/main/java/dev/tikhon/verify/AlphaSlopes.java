package dev.tikhon.verify;

import dev.tikhon.engine.Tensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * α-CROWN's variables: for each ReLU layer and each backward walk that crosses it (a walk starts at the node whose
 * input bounds it computes, inside a residual branch or not, or at the logits for the final specification; its
 * <em>origin</em> is that node's number in forward order, {@code BoundedNetwork.origins}), one lower slope per
 * example, specification row and unit, [N, R, …units]. They are created on the first bound computation from CROWN's
 * adaptive slopes and reused, as fresh leaves, by every later one. A (layer, origin) pair whose tensor would exceed
 * {@link #MAX_ELEMENTS} keeps the adaptive rule (a convolution's 21,632 units for each of an intermediate pass's
 * hundreds of rows would take gigabytes). Tanh and sigmoid layers and the imported activations that have variables
 * ({@link Pointwise#alpha}) have, per the same (layer, origin, example, row, unit), two instead, one for the lower and one
 * for the upper line ({@link #tangents}): tangent points, or slopes for the piecewise-linear ones.
 */
final class AlphaSlopes {
    /** The largest slope tensor created for one (layer, origin) pair: 16 Mi elements (64 MiB of float32). */
    static final long MAX_ELEMENTS = 16L << 20;

    /** The variables' storage, made in the first computation's scope (the caller's), updated in place by the ascent. */
    private final Map<Node, Map<Integer, Tensor>> values = new IdentityHashMap<>();
    /** What the walks read: the variables themselves in the first computation, fresh leaves on them in each later one. */
    private final Map<Node, Map<Integer, Tensor>> leaves = new IdentityHashMap<>();
    private final Map<Integer, long[]> units = new HashMap<>();
    private boolean collecting = true;
    /** The one walk (by origin) that has variables, or −1 for every walk. */
    private final int onlyOrigin;
    /** Start values of the variables by layer, [N, rows, …units], NaN where the adaptive rule starts; null: all adaptive. */
    private Map<Node, Tensor> start;

    /** Variables for every walk: the final one and each intermediate pass (α-CROWN). */
    AlphaSlopes() {
        this(-1);
    }

    private AlphaSlopes(int onlyOrigin) {
        this.onlyOrigin = onlyOrigin;
    }

    /**
     * Variables for the final walk only (from the logits, {@code depth} its origin, {@code BoundedNetwork.finalOrigin}): the intermediate
     * passes keep the adaptive rule and need no graph. Branch and bound optimizes these per domain (ReLUs' slopes, and the
     * tangent points or slopes of the other activations), over intermediate bounds that stay fixed, as β-CROWN does.
     */
    static AlphaSlopes finalWalkOnly(int depth) {
        return new AlphaSlopes(depth);
    }

    /**
     * Start values for variables not yet made ({@code byNode}: per node the variable's shape, [N, rows, …units] for a ReLU
     * layer, [N, 2·rows, …units] for two lines or a product's mix; NaN where CROWN's start should be taken): branch and
     * bound starts a domain from its parent's.
     */
    void startFrom(Map<Node, Tensor> byNode) { start = byNode; }

    /** The variable of {@code node} for the walk from {@code origin} (its storage), or null where it has none. */
    Tensor value(Node node, int origin) {
        Map<Integer, Tensor> byOrigin = values.get(node);
        return byOrigin == null ? null : byOrigin.get(origin);
    }

    /** Every node's variable for the walk from {@code origin} (its storage), by node. */
    Map<Node, Tensor> valuesOf(int origin) {
        Map<Node, Tensor> out = new IdentityHashMap<>();
        values.forEach((node, byOrigin) -> {
            Tensor t = byOrigin.get(origin);
            if (t != null) out.put(node, t);
        });
        return out;
    }

    /** After the first bound computation: no new variables, and each intermediate pass keeps its units. */
    void freeze() { collecting = false; }

    /**
     * The slopes of {@code node} for the rows [rowStart, rowStart + rowCount) of a walk from {@code origin} with
     * {@code rows} rows in all, created from the adaptive rule on the first computation; null where the layer keeps the
     * adaptive rule.
     */
    Tensor slopes(Node node, int origin, long rows, long rowStart, long rowCount, Tensor l, Tensor u) {
        if (onlyOrigin >= 0 && origin != onlyOrigin) return null;
        Map<Integer, Tensor> byOrigin = leaves.computeIfAbsent(node, k -> new HashMap<>());
        Tensor alpha = byOrigin.get(origin);
        if (alpha == null) {
            if (!collecting || l.size(0) * rows * (l.numel() / l.size(0)) > MAX_ELEMENTS) return null;
            if (l.lt(0).logicalAnd(u.gt(0)).sum().item() == 0) return null;   // nothing unstable: the relaxation is exact
            Tensor adaptive = Relaxation.relu(l, u, LowerSlope.ADAPTIVE).lowerSlope();
            Tensor initial = Layers.rows(adaptive).expand(Layers.withRows(l.shape(), rows));
            alpha = keep(node, origin, started(node, initial));
        }
        return alpha.narrow(1, rowStart, rowCount);
    }

    /** {@code initial}, where {@link #startFrom} gave no finite value for {@code node}'s variable. */
    private Tensor started(Node node, Tensor initial) {
        Tensor given = start == null ? null : start.get(node);
        return given == null ? initial : Tensor.where(given.isFinite(), given, initial);
    }

    private Tensor keep(Node node, int origin, Tensor initial) {
        Tensor alpha = initial.contiguous().requiresGrad(true);
        leaves.computeIfAbsent(node, k -> new HashMap<>()).put(origin, alpha);
        values.computeIfAbsent(node, k -> new HashMap<>()).put(origin, alpha);
        return alpha;
    }

    /**
     * The two variables of a tanh, sigmoid or imported activation layer ({@link Pointwise#alphaLines}: tangent points, or
     * slopes as fractions of the pieces' slope range, described here for the points) for the rows [rowStart, rowStart +
     * rowCount) of a walk from {@code origin}, as fractions t in [0, 1] of each unit's [l, u] (d = l + t·(u − l), so that the
     * ascent's projection onto [0, 1] keeps d in whatever [l, u] the step brings): {lower, upper}, each [N, rowCount, …units];
     * one variable [N, 2·rows, …] holds the lower rows, then the upper. Created on the first computation from {@code start}
     * ([N, …] each: the points that give CROWN's lines); null where the layer keeps its fixed lines (branch and bound's
     * final-walk-only variables: in every walk but the final one, whose tangent points each domain optimizes from CROWN's).
     */
    Tensor[] tangents(Node node, int origin, long rows, long rowStart, long rowCount, Tensor l,
                      java.util.function.Supplier<Tensor[]> start) {
        if (onlyOrigin >= 0 && origin != onlyOrigin) return null;   // branch and bound: the final walk's only
        Map<Integer, Tensor> byOrigin = leaves.computeIfAbsent(node, k -> new HashMap<>());
        Tensor t = byOrigin.get(origin);
        if (t == null) {
            if (!collecting || 2 * l.size(0) * rows * (l.numel() / l.size(0)) > MAX_ELEMENTS) return null;
            Tensor[] s = start.get();
            long[] shape = Layers.withRows(l.shape(), rows);
            t = keep(node, origin, started(node, Tensor.cat(List.of(Layers.rows(s[0]).expand(shape), Layers.rows(s[1]).expand(shape)), 1)));
        }
        return new Tensor[]{t.narrow(1, rowStart, rowCount), t.narrow(1, rows + rowStart, rowCount)};
    }

    /**
     * Whether a walk from {@code origin} can depend on a variable: one of its own, where a layer with variables it crosses
     * (ReLU, tanh, sigmoid, an imported activation with variables) is small enough for {@code examplesTimesRows} rows ({@code reluUnits}: their unit counts, −1
     * where not known), or one of an earlier walk's, whose bounds it reads. Where it cannot, the walk needs no graph.
     */
    boolean reaches(int origin, long examplesTimesRows, List<Long> reluUnits) {
        for (Map<Integer, Tensor> byOrigin : values.values()) {
            for (int o : byOrigin.keySet()) if (o <= origin) return true;
        }
        return collecting && (onlyOrigin < 0 || origin == onlyOrigin)
                && reluUnits.stream().anyMatch(u -> u < 0 || examplesTimesRows * u <= MAX_ELEMENTS);
    }

    /** The units an intermediate pass from {@code origin} tightens: those of the first computation, fixed after it. */
    long[] units(int origin, long[] computed) {
        if (collecting) {
            units.put(origin, computed);
            return computed;
        }
        return units.getOrDefault(origin, computed);
    }

    /** The walks (by origin) that have variables. */
    java.util.Set<Integer> origins() {
        java.util.Set<Integer> out = new java.util.TreeSet<>();
        for (Map<Integer, Tensor> byOrigin : values.values()) out.addAll(byOrigin.keySet());
        return out;
    }

    /** Every variable's storage, in a fixed order. */
    List<Tensor> all() {
        List<Tensor> out = new ArrayList<>();
        for (Map<Integer, Tensor> byOrigin : values.values()) out.addAll(byOrigin.values());
        return out;
    }

    /** The leaves the last computation read, in the order of {@link #all} (walked through its table, not this one's). */
    List<Tensor> leaves() {
        List<Tensor> out = new ArrayList<>();
        values.forEach((node, byOrigin) -> byOrigin.keySet().forEach(origin -> out.add(leaves.get(node).get(origin))));
        return out;
    }

    /** Fresh leaves on the variables' storage for the next computation's graph (made in the caller's scope: one step's). */
    void renewLeaves() {
        renewLeaves(null);
    }

    /**
     * The same for the examples {@code rows} picks ([R] INT64; null: all): leaves on copies of their rows, so that the
     * computation bounds only those examples (α-CROWN's examples still open) and the gradient is theirs, [R, …].
     */
    void renewLeaves(Tensor rows) {
        values.forEach((node, byOrigin) -> {
            Map<Integer, Tensor> fresh = new HashMap<>();
            byOrigin.forEach((origin, alpha) -> fresh.put(origin, (rows == null ? alpha.detach() : alpha.detach().indexSelect(0, rows)).requiresGrad(true)));
            leaves.put(node, fresh);
        });
    }

    /** Examples each computation bounded, in order (the first CROWN's): where α-CROWN freezes, how the batch narrowed. */
    final List<Long> bounded = new ArrayList<>();
}
