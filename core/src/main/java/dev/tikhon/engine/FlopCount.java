package dev.tikhon.engine;

/**
 * Counts the floating-point operations of {@link Ops#conv2d} and {@link Ops#linear} on the calling thread (for
 * benchmarks: a step's GFLOP/s against the machine's matmul ceiling). A multiply-add is two operations. The
 * backward pass is counted at the forward call: a weight gradient costs what the forward product does, and so
 * does an input gradient, which is counted only when the input requires one. Odd-channel padding is not counted
 * (it is not the model's arithmetic). Element-wise operations, pooling and the optimizer are not counted.
 */
public final class FlopCount {
    private static final ThreadLocal<long[]> ACTIVE = new ThreadLocal<>();

    private FlopCount() {}

    /** Starts counting on this thread (from zero). */
    public static void start() {
        ACTIVE.set(new long[2]);
    }

    /** Stops counting on this thread; returns {forward, backward} operations since {@link #start}. */
    public static long[] stop() {
        long[] c = ACTIVE.get();
        ACTIVE.remove();
        return c == null ? new long[2] : c;
    }

    static boolean active() {
        return ACTIVE.get() != null;
    }

    static void conv2d(Tensor x, Tensor weight, int stride, int padding) {
        long n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        long o = weight.size(0), kh = weight.size(2), kw = weight.size(3);
        long ho = (h + 2L * padding - kh) / stride + 1, wo = (w + 2L * padding - kw) / stride + 1;
        add(2 * n * o * ho * wo * c * kh * kw, x.requiresGrad(), weight.requiresGrad());
    }

    static void linear(Tensor x, Tensor weight) {
        long in = weight.size(1), out = weight.size(0);
        add(2 * (x.numel() / in) * in * out, x.requiresGrad(), weight.requiresGrad());
    }

    private static void add(long forward, boolean inputGrad, boolean weightGrad) {
        long[] c = ACTIVE.get();
        c[0] += forward;
        c[1] += (inputGrad ? forward : 0) + (weightGrad ? forward : 0);
    }
}
