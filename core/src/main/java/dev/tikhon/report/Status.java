package dev.tikhon.report;

import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Where a long piece of work stands, told by code deep inside it (a branch-and-bound search inside a certification step)
 * to whatever shows it on this thread: the progress bar of the loop that runs the step. A step run where nothing shows
 * it (a Spark executor, a library call) tells no one.
 */
public final class Status {
    private static final ThreadLocal<Consumer<String>> SHOWN_BY = new ThreadLocal<>();

    private Status() {}

    /**
     * Runs {@code work} with its status shown as {@code progress}'s extra text, cleared after if any was shown (a bar
     * whose work tells nothing is left as it was); null shows nothing.
     */
    public static <T> T shownBy(Progress progress, Supplier<T> work) {
        if (progress == null) return work.get();
        Consumer<String> before = SHOWN_BY.get();
        boolean[] told = {false};
        SHOWN_BY.set(line -> {
            told[0] = true;
            progress.setExtra(line);
        });
        try {
            return work.get();
        } finally {
            if (told[0]) progress.setExtra("");
            if (before == null) SHOWN_BY.remove();
            else SHOWN_BY.set(before);
        }
    }

    /** The status of the work under way on this thread, shown where {@link #shownBy} asked for it. */
    public static void show(String line) {
        Consumer<String> sink = SHOWN_BY.get();
        if (sink != null) sink.accept(line);
    }
}
