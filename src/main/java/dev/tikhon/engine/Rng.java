package dev.tikhon.engine;

import org.bytedeco.pytorch.global.torch;

/**
 * Seeding. Tikhon derives every random stream from the user's seed and the position in the run
 * (epoch, step), so that a resumed run draws exactly what an uninterrupted one would have.
 */
public final class Rng {
    static {
        Engine.init();
    }

    private Rng() {}

    /** Seeds libtorch's default generators (CPU and, when present, CUDA). */
    public static void seed(long seed) {
        torch.manual_seed(seed);
    }

    /** A well-mixed 64-bit seed from a base seed and a path of integers (SplitMix64 finalizer). */
    public static long derive(long seed, long... path) {
        long h = mix(seed ^ 0x9E3779B97F4A7C15L);
        for (long p : path) h = mix(h ^ mix(p + 0x632BE59BD9B4E019L));
        return h & Long.MAX_VALUE;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
