package dev.tikhon.attack;

import java.util.function.Supplier;

/**
 * A wall-clock budget for attacks: within {@link #within} every attack's iteration loop checks
 * {@link #exhausted} and stops early, returning what it has found so far (a success found is still a
 * success; a point that survived a cut-short attack is not shown robust, and the caller must say so).
 * The deadline is per thread, so batches running in parallel keep their own.
 */
public final class Budget {
    private static final ThreadLocal<long[]> DEADLINE = new ThreadLocal<>();

    private Budget() {}

    /** Runs {@code body} with a deadline {@code seconds} from now (≤ 0 or +∞: none), restoring the previous one after. */
    public static <T> T within(double seconds, Supplier<T> body) {
        if (!(seconds > 0) || Double.isInfinite(seconds)) return body.get();
        long[] previous = DEADLINE.get();
        DEADLINE.set(new long[]{System.nanoTime() + (long) (seconds * 1e9)});
        try {
            return body.get();
        } finally {
            if (previous == null) DEADLINE.remove(); else DEADLINE.set(previous);
        }
    }

    /** Whether this thread's deadline, if any, has passed. */
    public static boolean exhausted() {
        long[] d = DEADLINE.get();
        return d != null && System.nanoTime() > d[0];
    }
}
