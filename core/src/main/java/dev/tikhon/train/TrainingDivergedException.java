package dev.tikhon.train;

import java.nio.file.Path;

/**
 * The loss became NaN or infinite, or stayed finite but runaway (above {@code Trainer.RUNAWAY_LOSS} for
 * {@code Trainer.RUNAWAY_STEPS} steps in a row); says where, so the run can be diagnosed or resumed from the last checkpoint.
 */
public final class TrainingDivergedException extends RuntimeException {
    public final int epoch, batch;
    public final double loss;
    /** The run directory, or null for a run without one. */
    public final Path dir;
    /** The position (epochs done, batch) of the good checkpoint kept in {@link #dir}, or null when none was written. */
    public final int[] kept;
    /**
     * Whether the run counts iterations (a flow), not epochs of batches: then {@link #batch} is the iteration (from 0) and
     * {@link #kept} holds the iterations done ({@code {0, n}}); a flow's divergence had read "at epoch 1, batch 2".
     */
    public final boolean iterations;

    public TrainingDivergedException(int epoch, int batch, double loss, String hint) {
        this(epoch, batch, loss, null, null, hint, null, false);
    }

    public TrainingDivergedException(int epoch, int batch, double loss, Path dir, int[] kept, String hint) {
        this(epoch, batch, loss, dir, kept, hint, null, false);
    }

    /** A run counted in iterations diverged at {@code iteration} (from 0). */
    public static TrainingDivergedException atIteration(int iteration, double loss, String hint) {
        return new TrainingDivergedException(0, iteration, loss, null, null, hint, null, true);
    }

    private TrainingDivergedException(int epoch, int batch, double loss, Path dir, int[] kept, String hint, Throwable cause,
                                      boolean iterations) {
        super("training diverged: the loss became " + loss + " at " + (iterations ? "iteration " + (batch + 1)
                : "epoch " + (epoch + 1) + ", batch " + (batch + 1)) + "; " + hint, cause);
        this.epoch = epoch;
        this.batch = batch;
        this.loss = loss;
        this.dir = dir;
        this.kept = kept == null ? null : kept.clone();
        this.iterations = iterations;
        this.hint = hint;
    }

    private final String hint;

    /** The same divergence with another hint (a command's own way out). */
    public TrainingDivergedException withHint(String hint) {
        return new TrainingDivergedException(epoch, batch, loss, dir, kept, hint, this, iterations);
    }

    /**
     * The same divergence of a run counted in iterations, with its folder and the iterations its last good checkpoint holds
     * ({@code keptIterations}, or none when 0), that hint followed by what the folder keeps.
     */
    public TrainingDivergedException keptIn(Path dir, int keptIterations) {
        int[] k = keptIterations > 0 ? new int[]{0, keptIterations} : null;
        return new TrainingDivergedException(epoch, batch, loss, dir, k, hint + "; " + keptText(dir, k, iterations), this, iterations);
    }

    /** What {@link #dir} keeps: "the last good checkpoint (after epoch 2) is kept in DIR", or that it has none. */
    public String keptText() {
        return keptText(dir, kept, iterations);
    }

    private static String keptText(Path dir, int[] kept, boolean iterations) {
        if (iterations && dir != null && kept != null) return "the last good checkpoint (after iteration " + kept[1] + ") is kept in " + dir;
        return keptText(dir, kept);
    }

    static String keptText(Path dir, int[] kept) {
        if (dir == null) return "";
        if (kept == null) return "it diverged before its first checkpoint in " + dir + ", so there is none to resume";
        return "the last good checkpoint (" + (kept[1] == 0 ? "after epoch " + kept[0] : "epoch " + (kept[0] + 1) + ", batch " + kept[1])
                + ") is kept in " + dir;
    }
}
