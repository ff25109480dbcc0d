package dev.tikhon.cli;

import dev.tikhon.report.Progress;
import dev.tikhon.train.Trainer;

import java.util.Locale;
import java.util.Map;

/** Shows training progress: one bar (or plain lines) per epoch, and a summary line after each. */
final class ProgressListener implements Trainer.Listener {
    /**
     * Runs {@code body} with a listener factory that opens one progress bar per variant (closing the previous one), and
     * closes the last bar however {@code body} ends: what an experiment over several training runs needs.
     */
    static <T> T perVariant(java.util.function.Function<java.util.function.Function<String, Trainer.Listener>, T> body) {
        java.util.List<ProgressListener> bars = new java.util.ArrayList<>();
        try {
            return body.apply(variant -> {
                bars.forEach(ProgressListener::close);
                ProgressListener p = new ProgressListener(variant);
                bars.add(p);
                return p;
            });
        } finally {
            bars.forEach(ProgressListener::close);
        }
    }

    private final String task;
    private Progress bar;
    private int epochs;

    ProgressListener(String task) {
        this.task = task;
    }

    @Override public void onEpochStart(int epoch, int epochs, int startBatch, int numBatches) {
        this.epochs = epochs;
        close();
        bar = Progress.start(task + " epoch " + (epoch + 1) + "/" + epochs, numBatches);
        if (startBatch > 0) bar.skip(startBatch);
    }

    @Override public void onStep(int epoch, int batch, double loss, double accuracy, double lr) {
        bar.setExtra(String.format(Locale.ROOT, "loss %.4f acc %.4f lr %.3g", loss, accuracy, lr));
        bar.step(1);
    }

    @Override public void onEpochEnd(Map<String, Object> row) {
        close();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "epoch %s/%d", row.get("epoch"), epochs));
        for (String k : new String[]{"train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc"}) {
            if (row.containsKey(k)) sb.append(String.format(Locale.ROOT, "  %s %.4f", k, ((Number) row.get(k)).doubleValue()));
        }
        sb.append(String.format(Locale.ROOT, "  (%.1f s, %.1f steps/s)", ((Number) row.get("seconds")).doubleValue(),
                ((Number) row.get("steps_per_second")).doubleValue()));
        System.out.println(sb);
    }

    void close() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }

    /** One progress listener per named task (a variant of an experiment), each closing the previous one; close() closes the last. */
    static final class PerTask implements java.util.function.Function<String, Trainer.Listener>, AutoCloseable {
        private ProgressListener current;

        @Override public Trainer.Listener apply(String task) {
            close();
            current = new ProgressListener(task);
            return current;
        }

        @Override public void close() {
            if (current != null) current.close();
        }
    }
}
