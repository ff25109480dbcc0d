package dev.tikhon.attack;

import dev.tikhon.engine.Tensor;

import java.util.function.Supplier;

/**
 * Where a model's inputs live, and so where attacks may move them and over what verifiers prove: the box [0, 1] for
 * images ({@link #IMAGES}, the default), or all of ℝᴰ for data that are not images ({@link #UNBOUNDED}: the 2-D toy
 * sets, whose points lie outside [0, 1]). Clipping a toy point to [0, 1] would move it far beyond any ε before the
 * attack begins, and a verifier's ball ∩ [0, 1]ᴰ would be empty for most of them, "verifying" vacuously.
 *
 * <p>The domain is in force for a scope on the current thread ({@link #within}), like {@link Budget}'s deadline: the
 * runs that know their data (evaluation, verification, certification, training) set it from the data set, and every
 * attack, projection and input region inside reads it. Outside any scope it is {@link #IMAGES}. The attacks' and the
 * verifiers' public entry points refuse inputs outside the domain in force ({@link #require}), so that a
 * non-image data set attacked without {@code within(UNBOUNDED, …)} fails with the fix named, never silently clipped.
 */
public record InputDomain(double lo, double hi) implements java.io.Serializable {
    public static final InputDomain IMAGES = new InputDomain(0, 1);
    public static final InputDomain UNBOUNDED = new InputDomain(Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);

    private static final ThreadLocal<InputDomain> CURRENT = new ThreadLocal<>();
    /** Pixels read as bytes / 255 are exactly in [0, 1]; a resized or re-encoded image may be off by rounding. */
    private static final double TOLERANCE = 1e-5;

    public InputDomain {
        if (Double.isNaN(lo) || Double.isNaN(hi) || !(lo < hi)) throw new IllegalArgumentException("an input domain needs lo < hi, got [" + lo + ", " + hi + "]");
    }

    /** The domain of images ({@code true}) or of unbounded real-valued data. */
    public static InputDomain of(boolean images) {
        return images ? IMAGES : UNBOUNDED;
    }

    /** The domain in force on this thread. */
    public static InputDomain current() {
        InputDomain d = CURRENT.get();
        return d == null ? IMAGES : d;
    }

    /** Runs {@code body} with {@code domain} in force on this thread, restoring the previous one after. */
    public static <T> T within(InputDomain domain, Supplier<T> body) {
        InputDomain previous = CURRENT.get();
        CURRENT.set(domain);
        try {
            return body.get();
        } finally {
            if (previous == null) CURRENT.remove(); else CURRENT.set(previous);
        }
    }

    /** The same for a body without a result. */
    public static void within(InputDomain domain, Runnable body) {
        within(domain, () -> {
            body.run();
            return null;
        });
    }

    public boolean bounded() {
        return Double.isFinite(lo) || Double.isFinite(hi);
    }

    /** {@code t} clipped to the domain: a new tensor, or {@code t} itself where the domain is unbounded. */
    public Tensor clamp(Tensor t) {
        return bounded() ? t.clamp(lo, hi) : t;
    }

    /** {@code t} clipped to the domain in place; returns it. */
    public Tensor clamp_(Tensor t) {
        return bounded() ? t.clamp_(lo, hi) : t;
    }

    /** {@code v} clipped to the domain. */
    public double clamp(double v) {
        return Math.min(Math.max(v, lo), hi);
    }

    /**
     * Refuses inputs that lie outside this domain (one read of their range from the device), naming the way out:
     * non-image data are attacked and verified within {@link #UNBOUNDED}.
     */
    public void require(Tensor x, String who) {
        if (!bounded()) return;
        double[] range = x.minMax();
        if (range[0] < lo - TOLERANCE || range[1] > hi + TOLERANCE || Double.isNaN(range[0]) || Double.isNaN(range[1])) {
            throw new IllegalArgumentException(who + ": the inputs range over [" + range[0] + ", " + range[1] + "], outside the input domain "
                    + this + (this.equals(IMAGES) ? " of images" : "") + "; for data that are not images (such as the 2-D toy sets) "
                    + "run it within InputDomain.within(InputDomain.UNBOUNDED, …), which the commands do for such data");
        }
    }

    @Override public String toString() {
        return "[" + (Double.isInfinite(lo) ? "−∞" : fmt(lo)) + ", " + (Double.isInfinite(hi) ? "∞" : fmt(hi)) + "]";
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
