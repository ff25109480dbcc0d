package dev.tikhon.report;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Progress as whole lines, for output that is not a terminal. A line is printed each time another
 * tenth of the total is done, or when 30 s have passed since the last line, whichever comes
 * first: about ten lines for a fast loop, a heartbeat for a slow one. Each line carries the
 * count, percentage, rate, elapsed time, ETA and the extra message, and ends in a newline only.
 */
final class PlainProgress extends Progress {
    static final long HEARTBEAT_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final String task;
    private final long total;
    private final long tenth;
    private final PrintStream out;
    private final LongSupplier clock;
    private final long startNanos;
    private long count;
    /** Steps done before this run ({@link #skip}): left out of the rate. */
    private long skipped;
    private long nextMark;
    private long printedCount;
    private long printedNanos;
    private String extra = "";
    private boolean closed;
    private Runnable onClose;

    /** @param clock nanosecond time source; tests pass a fake one */
    PlainProgress(String task, long total, PrintStream out, LongSupplier clock) {
        this.task = task;
        this.total = total;
        this.tenth = Math.max(1, (total + 9) / 10);
        this.out = out;
        this.clock = clock;
        this.startNanos = clock.getAsLong();
        this.printedNanos = startNanos;
        this.nextMark = total > 0 ? Math.min(total, tenth) : Long.MAX_VALUE;
    }

    @Override
    public synchronized void step(long n) {
        if (closed) return;
        count += n;
        long now = clock.getAsLong();
        if (count >= nextMark || now - printedNanos >= HEARTBEAT_NANOS) print(now);
    }

    @Override
    public synchronized void skip(long n) {
        skipped += n;
        step(n);
    }

    /**
     * A heartbeat without a step: prints the current line when 30 s have passed since the last one. A timer calls it
     * (see {@link Progress#plain}), so a loop whose steps are long (one batch of an attack, one image of a
     * certification) still shows it is alive.
     */
    synchronized void tick() {
        if (closed) return;
        long now = clock.getAsLong();
        if (now - printedNanos >= HEARTBEAT_NANOS) print(now);
    }

    /** Prints the starting line (count 0), so that a log shows at once what runs and how much there is to do. */
    synchronized void announce() {
        out.println(task + ": started" + (total > 0 ? ", " + total + " to do" : ""));
        out.flush();
    }

    @Override
    public synchronized void setExtra(String extra) {
        this.extra = extra == null ? "" : extra;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (onClose != null) onClose.run();
        if (count != printedCount) print(clock.getAsLong());
    }

    /** Runs {@code action} once, on close (the timer's cancellation). */
    synchronized void onClose(Runnable action) {
        this.onClose = action;
    }

    private void print(long now) {
        out.println(line(now));
        out.flush();
        printedCount = count;
        printedNanos = now;
        if (total > 0) nextMark = count >= total ? Long.MAX_VALUE : Math.min(total, (count / tenth + 1) * tenth);
    }

    private String line(long now) {
        double seconds = (now - startNanos) / 1e9;
        double rate = seconds > 0 ? (count - skipped) / seconds : Double.NaN;
        StringBuilder line = new StringBuilder(task).append(": ").append(count);
        if (total > 0) {
            line.append('/').append(total)
                    .append(String.format(Locale.ROOT, " (%.0f%%)", 100.0 * count / total));
        }
        line.append(", ").append(Double.isNaN(rate) ? "?" : Format.number(rate)).append("/s")
                .append(", elapsed ").append(duration(seconds));
        if (total > 0) {
            double eta = rate > 0 ? Math.max(0, total - count) / rate : count >= total ? 0 : Double.NaN;
            line.append(", ETA ").append(Double.isNaN(eta) ? "?" : duration(eta));
        }
        if (!extra.isBlank()) line.append(" | ").append(extra.replaceAll("[\\r\\n]+", " "));
        return line.toString();
    }

    /** {@code m:ss} or {@code h:mm:ss}. */
    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600
                ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
