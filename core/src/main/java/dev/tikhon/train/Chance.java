package dev.tikhon.train;

import dev.tikhon.data.Dataset;

/**
 * Whether a trained model did no better than always predicting a data set's most frequent class: a run can end without
 * diverging and still not have learnt (a learning rate far too small, weight decay or a regularizer weight far too
 * large), and its accuracy alone does not say so.
 */
public final class Chance {
    private Chance() {}

    /** The fraction of {@code data} in its most frequent class. */
    public static double majorityRate(Dataset data) {
        long[] counts = new long[Math.max(1, data.numClasses())];
        long[] labels = data.labels().toLongArray();
        for (long y : labels) if (y >= 0 && y < counts.length) counts[(int) y]++;
        long most = 0;
        for (long c : counts) most = Math.max(most, c);
        return labels.length == 0 ? 0 : (double) most / labels.length;
    }

    /**
     * A note where {@code accuracy} on {@code n} examples of {@code data} is within three standard errors of the majority
     * rate p₀ (√(p₀(1 − p₀)/n): what a model that learnt nothing reaches by luck), else null; {@code remedy} ends it.
     */
    public static String note(double accuracy, int n, Dataset data, String remedy) {
        if (n <= 0 || data.numClasses() < 2) return null;
        double p0 = majorityRate(data), margin = 3 * Math.sqrt(p0 * (1 - p0) / n);
        if (!(accuracy <= p0 + margin)) return null;
        return String.format(java.util.Locale.ROOT, "test accuracy %.4f is no better than always predicting the most frequent class "
                + "(%.4f of the test set, ± %.4f by chance on %d examples): the model did not learn; %s", accuracy, p0, margin, n, remedy);
    }
}
