package dev.tikhon.report;

import dev.tikhon.UserError;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Optional;

/**
 * Progress of a long loop (an epoch, an evaluation, a certification pass), on System.err.
 *
 * <p>In a terminal it is a live bar with rate, ETA and an extra message. Anywhere else (CI logs,
 * {@code nohup}, a file) a redrawn bar would be thousands of carriage-return fragments, so it is
 * a few plain lines instead (see {@link PlainProgress}). The environment variable
 * {@code TIKHON_PROGRESS=plain|bar|off} overrides the choice; {@code off} prints nothing.
 *
 * <pre>{@code
 * try (Progress p = Progress.start("epoch 3", batches)) {
 *     for (...) { ...; p.setExtra("loss 0.31 acc 0.89"); p.step(1); }
 * }
 * }</pre>
 */
public abstract class Progress implements AutoCloseable {
    public static final String ENV = "TIKHON_PROGRESS";

    /** Output style chosen by {@link #ENV}. */
    enum Mode {
        PLAIN, BAR, OFF;

        /** The mode named by an environment value; empty when unset, a {@link UserError} when unknown. */
        static Optional<Mode> parse(String value) {
            if (value == null || value.isBlank()) return Optional.empty();
            try {
                return Optional.of(valueOf(value.trim().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new UserError(ENV + " must be plain, bar or off, not '" + value + "'");
            }
        }

        static Optional<Mode> fromEnvironment() {
            return parse(System.getenv(ENV));
        }
    }

    /** For a caller that shows progress its own way (a library user's window, a test that records it). */
    protected Progress() {}

    /** Whether the progress-bar library is on the class path (an optional dependency of the library). */
    private static final boolean BARS_AVAILABLE = classPresent("me.tongfei.progressbar.ProgressBar");

    private static boolean classPresent(String name) {
        try {
            Class.forName(name, false, Progress.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Starts reporting, as a bar when {@link #isTerminal()} and as plain lines otherwise. */
    public static Progress start(String task, long total) {
        return start(task, total, isTerminal());
    }

    /**
     * Starts reporting {@code total} steps of {@code task}; {@code total <= 0} means unknown.
     * {@code terminal} picks a bar or plain lines unless {@link #ENV} says otherwise.
     */
    public static Progress start(String task, long total, boolean terminal) {
        Mode mode = Mode.fromEnvironment().orElse(terminal ? Mode.BAR : Mode.PLAIN);
        if (mode == Mode.BAR && !BARS_AVAILABLE) mode = Mode.PLAIN;
        return switch (mode) {
            case BAR -> new Bar(task, total, System.err);
            case PLAIN -> plain(task, total, System.err);
            case OFF -> new Silent();
        };
    }

    /** Seconds between checks for a due heartbeat line. */
    static final long TICK_SECONDS = 5;

    private static final java.util.concurrent.ScheduledExecutorService TIMER =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "tikhon-progress-heartbeat");
                t.setDaemon(true);
                return t;
            });

    /**
     * Plain-line reporting to any stream, for logs and tests: a starting line, then lines as {@link PlainProgress}
     * prints them, and a heartbeat line every 30 s even while no step completes.
     */
    public static Progress plain(String task, long total, PrintStream out) {
        PlainProgress p = new PlainProgress(task, total, out, System::nanoTime);
        p.announce();
        java.util.concurrent.ScheduledFuture<?> beat = TIMER.scheduleWithFixedDelay(p::tick, TICK_SECONDS, TICK_SECONDS,
                java.util.concurrent.TimeUnit.SECONDS);
        p.onClose(() -> beat.cancel(false));
        return p;
    }

    /** A live bar drawn on {@code out} (for tests; {@link #start} draws on System.err). */
    static Progress bar(String task, long total, PrintStream out) {
        return new Bar(task, total, out);
    }

    /**
     * Whether a live bar can be drawn: {@link #ENV} if set (only {@code bar} counts as a
     * terminal), otherwise a console is attached and {@code TERM} is not {@code dumb} (as in
     * Emacs shells, which do not interpret carriage returns).
     */
    public static boolean isTerminal() {
        return Mode.fromEnvironment()
                .map(mode -> mode == Mode.BAR)
                .orElseGet(() -> System.console() != null && !"dumb".equals(System.getenv("TERM")));
    }

    /** Records {@code n} more completed steps. */
    public abstract void step(long n);

    /**
     * Records {@code n} steps done before this run (the part of a resumed loop already done): they count toward the
     * position but not toward the rate and ETA, which measure this run's own steps.
     */
    public abstract void skip(long n);

    public void step() {
        step(1);
    }

    /** A short status shown after the counts, e.g. {@code "loss 0.31 acc 0.89"}. */
    public abstract void setExtra(String extra);

    /** Prints the final state; further calls do nothing. */
    @Override
    public abstract void close();

    /**
     * The progress-bar library fixes a bar's starting point when it builds it, so the bar is built at the first step,
     * message or close: steps {@link #skip}ped before that are where it starts.
     */
    private static final class Bar extends Progress {
        private final String task;
        private final long total;
        private final PrintStream out;
        private long skipped;
        private ProgressBar bar;

        Bar(String task, long total, PrintStream out) {
            this.task = task;
            this.total = total;
            this.out = out;
        }

        private ProgressBar bar() {
            if (bar == null) {
                bar = new ProgressBarBuilder()
                        .setTaskName(task)
                        .setInitialMax(total > 0 ? total : -1)
                        .setConsumer(new ConsoleProgressBarConsumer(out))
                        .setUpdateIntervalMillis(250)
                        .showSpeed()
                        .startsFrom(skipped, java.time.Duration.ZERO)
                        .build();
            }
            return bar;
        }

        @Override
        public void step(long n) {
            bar().stepBy(n);
        }

        @Override
        public void skip(long n) {
            if (bar == null) skipped += n;
            else bar.stepBy(n);
        }

        /** The bar's renderer glues the message to the rate ("12/sloss 0.3") unless it starts with a space. */
        @Override
        public void setExtra(String extra) {
            bar().setExtraMessage(extra == null || extra.isBlank() ? "" : " " + extra);
        }

        @Override
        public void close() {
            bar().close();
        }
    }

    private static final class Silent extends Progress {
        @Override
        public void step(long n) {}

        @Override
        public void skip(long n) {}

        @Override
        public void setExtra(String extra) {}

        @Override
        public void close() {}
    }
}
