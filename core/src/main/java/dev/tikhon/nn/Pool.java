package dev.tikhon.nn;

import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;

/** Spatial pooling and reshaping layers. */
public final class Pool extends Module {
    public enum Kind { MAX, AVG, GLOBAL_AVG, FLATTEN }

    private final Kind kind;
    private final int kernel, stride;

    private Pool(Kind kind, int kernel, int stride) {
        this.kind = kind;
        this.kernel = kernel;
        this.stride = stride;
    }

    public static Pool max(int kernel) { return new Pool(Kind.MAX, kernel, kernel); }

    public static Pool avg(int kernel) { return new Pool(Kind.AVG, kernel, kernel); }

    /** [N, C, H, W] → [N, C]. */
    public static Pool globalAvg() { return new Pool(Kind.GLOBAL_AVG, 0, 0); }

    /** [N, ...] → [N, prod(...)]. */
    public static Pool flatten() { return new Pool(Kind.FLATTEN, 0, 0); }

    public Kind kind() { return kind; }

    /** Window size of max and average pooling; 0 for the others. */
    public int kernel() { return kernel; }

    public int stride() { return stride; }

    @Override public Tensor forward(Tensor x) {
        switch (kind) {
            case MAX: return Ops.maxPool2d(x, kernel, stride);
            case AVG: return Ops.avgPool2d(x, kernel, stride);
            case GLOBAL_AVG: return Ops.globalAvgPool(x);
            case FLATTEN: return Ops.flattenFeatures(x);
            default: throw new AssertionError(kind);
        }
    }

    @Override public String describe() {
        return kind == Kind.MAX || kind == Kind.AVG ? kind.name().toLowerCase() + "-pool(" + kernel + ")" : kind.name().toLowerCase();
    }
}
