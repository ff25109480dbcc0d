package dev.tikhon.engine;

import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Seeding. Tikhon derives every random stream from the user's seed and the position in the run
 * (epoch, step), so that a resumed run draws exactly what an uninterrupted one would have.
 *
 * <p>Each thread has its own CPU generator: {@link #seed} seeds the calling thread's, and every CPU
 * draw of {@link Tensor} ({@code randn}, {@code rand}, {@code randint}, {@code randperm}, {@code randnLike},
 * {@code randLike}) takes it. Why: several evaluations share one process when Spark runs tasks as threads
 * ({@code local[N]}), and with libtorch's one global generator a seed set by one task would be consumed by
 * another's draws, so results would depend on timing. A fresh generator with seed s draws the same numbers
 * as the global one after {@code manual_seed(s)}. Draws on a GPU and libtorch's own (dropout) use the
 * device's global generator, which {@link #seed} seeds too.
 */
public final class Rng {
    static {
        Engine.init();
    }

    private Rng() {}

    private static final ThreadLocal<Generator> CPU = new ThreadLocal<>();

    /** Seeds the calling thread's CPU generator and libtorch's global generators (CPU and, when present, CUDA). */
    public static void seed(long seed) {
        torch.manual_seed(seed);
        Generator g = CPU.get();
        if (g == null) {
            g = torch.createCPUGenerator(seed);
            g.retainReference();   // lives as long as the thread, not as the Scope it may be created in
            CPU.set(g);
        } else {
            g.set_current_seed(seed);
        }
    }

    /**
     * The generator for a draw on {@code device}: the thread's CPU generator once {@link #seed} has run on this
     * thread, else (and on a GPU) libtorch's global one.
     */
    static GeneratorOptional generator(Device device) {
        Generator g = CPU.get();
        return g != null && !device.isCuda() ? new GeneratorOptional(g) : new GeneratorOptional();
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
