package dev.tikhon.generalization;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.report.Progress;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The Lipschitz constant of a labelled data set (docs/methods.md §2; Oberman &amp; Calder, "Lipschitz regularized
 * deep neural networks converge and generalize"):
 *
 * <pre>
 *   L(D) = max over pairs i ≠ j of |yᵢ − yⱼ| / ‖xᵢ − xⱼ‖₂
 * </pre>
 *
 * For class labels |yᵢ − yⱼ| is 0 for equal labels, so only pairs of different classes count and
 * L = c / (minimum distance between differently labelled points), with c = 1 when labels are
 * compared with the 0–1 metric and c = √2 when they are one-hot vectors (‖e_a − e_b‖₂ = √2). So the
 * constant is a nearest-neighbour search across classes.
 *
 * <p>Method: all n² squared distances ‖a‖² + ‖b‖² − 2a·b in float32, one block of rows at a time
 * (matrix products; same-class entries masked), keeping each row's nearest other-class point;
 * then every row whose float32 minimum lies within a tolerance of the smallest (or of zero) is
 * recomputed exactly in float64 against all points. The result is exact for the points given
 * (O(n²d) work: full Fashion-MNIST, 60,000 × 60,000 × 784, is a few minutes on two cores).
 * Identical inputs with different labels (distance 0, L = ∞) are counted and reported separately,
 * and the constant is also given over the remaining pairs. With {@code maxPoints} below n the
 * points are a seeded random subset: the minimum distance over a subset can only be larger, so
 * the constant is then a <em>lower bound</em> of the full set's.
 */
public final class DataLipschitz {

    /**
     * @param n              points used
     * @param subsampled     whether they are a random subset (then the constants are lower bounds)
     * @param minDistance    smallest ‖xᵢ − xⱼ‖ over differently labelled pairs at positive distance
     * @param lipschitz01    1 / minDistance (labels compared with the 0–1 metric)
     * @param lipschitzOneHot √2 / minDistance (one-hot labels)
     * @param conflicts      pairs of identical inputs with different labels (each makes L infinite)
     * @param i, j           the closest differently labelled pair (indices into the points used)
     * @param labelI, labelJ their labels
     * @param seconds        wall time
     */
    @JsonPropertyOrder({"n", "subsampled", "min_distance", "lipschitz_01_labels", "lipschitz_one_hot_labels",
            "conflicting_identical_pairs", "nearest_pair", "nearest_pair_labels", "seconds"})
    public record Result(int n, boolean subsampled, @JsonProperty("min_distance") double minDistance,
                         @JsonProperty("lipschitz_01_labels") double lipschitz01,
                         @JsonProperty("lipschitz_one_hot_labels") double lipschitzOneHot,
                         @JsonProperty("conflicting_identical_pairs") long conflicts, @JsonIgnore int i, @JsonIgnore int j,
                         @JsonIgnore long labelI, @JsonIgnore long labelJ, double seconds) {
        /** The closest differently labelled pair, in reports. */
        @JsonProperty("nearest_pair") public List<Integer> nearestPair() { return List.of(i, j); }

        @JsonProperty("nearest_pair_labels") public List<Long> nearestPairLabels() { return List.of(labelI, labelJ); }
    }

    private DataLipschitz() {}

    /** Fewer than two points of different labels: no pair defines the constant (it was reported as 0, from distance ∞). */
    public static final class TooFewLabels extends IllegalArgumentException {
        public final int points;

        TooFewLabels(int points, String what) {
            super("the data set's Lipschitz constant needs at least two points with different labels; the " + points + " point(s) "
                    + what);
            this.points = points;
        }
    }

    /** Flattened inputs (float32, images in [0, 1]) and labels of one or more sets, concatenated. */
    public static Tensor[] points(List<Dataset> sets) {
        List<Tensor> xs = new ArrayList<>(), ys = new ArrayList<>();
        for (Dataset d : sets) {
            Tensor idx = Tensor.arange(d.size(), DType.INT64, Device.CPU);
            xs.add(d.batchInputs(idx).flatten(1, -1));
            ys.add(d.labels());
        }
        return new Tensor[]{Tensor.cat(xs, 0).contiguous().keep(), Tensor.cat(ys, 0).keep()};
    }

    /** Memory of one block of {@code rows} rows against {@code n} points: its float32 distances and two temporaries. */
    static long blockBytes(long rows, long n) {
        return 3L * rows * n * Float.BYTES;
    }

    /** The most rows per block whose {@link #blockBytes} fit a quarter of {@code memoryBytes} (no cap where it is 0), at least 1. */
    static int fittingBlock(long n, long memoryBytes) {
        if (memoryBytes <= 0 || n == 0) return Integer.MAX_VALUE;
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, memoryBytes / 4 / blockBytes(1, n)));
    }

    /** The machine's (or container's) physical memory in bytes; 0 where the JVM cannot tell. */
    static long physicalMemory() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getTotalMemorySize() : 0;
    }

    /** The constant of the sets' union (a seeded subset of {@code maxPoints} when there are more). */
    public static Result compute(List<Dataset> sets, int maxPoints, long seed, int blockSize, boolean showProgress) {
        Tensor[] p = points(sets);
        Tensor x = p[0], y = p[1];
        boolean sub = maxPoints > 0 && maxPoints < x.size(0);
        if (sub) {
            long[] perm = new long[(int) x.size(0)];
            SplittableRandom rng = new SplittableRandom(seed);
            for (int i = 0; i < perm.length; i++) perm[i] = i;
            for (int i = perm.length - 1; i > 0; i--) {   // Fisher–Yates
                int k = rng.nextInt(i + 1);
                long t = perm[i]; perm[i] = perm[k]; perm[k] = t;
            }
            perm = Arrays.copyOf(perm, maxPoints);
            Arrays.sort(perm);
            Tensor idx = Tensor.fromLongs(perm, perm.length);
            x = x.indexSelect(0, idx).keep();
            y = y.indexSelect(0, idx).keep();
        }
        Result r = compute(x, y, blockSize, showProgress);
        return new Result(r.n, sub, r.minDistance, r.lipschitz01, r.lipschitzOneHot, r.conflicts, r.i, r.j, r.labelI, r.labelJ,
                r.seconds);
    }

    /** The constant of points x [n, d] (any float type) with INT64 labels y [n]; exact. */
    public static Result compute(Tensor x, Tensor y, int blockSize, boolean showProgress) {
        return compute(x, y, blockSize, showProgress, physicalMemory());
    }

    /**
     * The same, with blocks of at most {@code blockSize} rows that also fit a quarter of {@code memoryBytes}
     * ({@link #blockBytes}; 0: not known, no cap). The block size is only a memory-for-speed choice, so where it is too large
     * for the machine (60,000 rows of 70,000 points need about 50 GB) it is cut, with a note, rather than let libtorch fail
     * to allocate or the system kill the process; the result is the same.
     */
    static Result compute(Tensor x, Tensor y, int blockSize, boolean showProgress, long memoryBytes) {
        long start = System.nanoTime();
        int n = (int) x.size(0);
        int fits = fittingBlock(n, memoryBytes);
        if (blockSize > fits && n > fits) {
            System.err.printf(java.util.Locale.ROOT, "note:   --block-size %d cut to %d: blocks of %d rows of %d points need about %.1f GB "
                    + "(3 × block × n × 4 bytes), more than a quarter of this machine's %.1f GB; the result is the same%n",
                    blockSize, fits, Math.min(blockSize, n), n, blockBytes(Math.min(blockSize, n), n) / 1e9, memoryBytes / 1e9);
            blockSize = fits;
        }
        long[] labels = y.toLongArray();
        boolean twoLabels = false;
        for (int i = 1; i < n && !twoLabels; i++) twoLabels = labels[i] != labels[0];
        if (!twoLabels) throw new TooFewLabels(n, n == 0 ? "given have none" : "given all have label " + labels[0]);
        Tensor xf = x.flatten(1, -1).to(DType.FLOAT32).contiguous().keep();
        Tensor sq = xf.square().sum(1, false).keep();
        double[] rowMin = new double[n];
        double maxSq = sq.max().item();
        try (Autograd.Guard g = Autograd.noGrad();
             Progress bar = showProgress ? Progress.start("data-lipschitz", n) : null) {
            Tensor yRow = y.unsqueeze(0);
            for (int s0 = 0; s0 < n; s0 += blockSize) {
                int len = Math.min(blockSize, n - s0);
                try (Scope s = Scope.open()) {
                    Tensor a = xf.narrow(0, s0, len);
                    Tensor d2 = sq.narrow(0, s0, len).unsqueeze(1).add(sq.unsqueeze(0)).sub(a.matmul(xf.t()).mul(2));
                    Tensor same = y.narrow(0, s0, len).unsqueeze(1).eq(yRow);
                    Tensor mins = d2.maskedFill(same, Double.POSITIVE_INFINITY).minWithIndex(1)[0];
                    System.arraycopy(mins.toDoubleArray(), 0, rowMin, s0, len);
                }
                if (bar != null) bar.step(len);
            }
        }
        // float32 rounding of ‖a‖² + ‖b‖² − 2a·b: a few ulps of the largest squared norm
        double tol = 64 * Math.ulp((float) (2 * maxSq)) + 1e-12;
        double bestPositive = Double.POSITIVE_INFINITY;
        for (double v : rowMin) if (v > tol) bestPositive = Math.min(bestPositive, v);
        List<Integer> candidates = new ArrayList<>();
        boolean[] isCandidate = new boolean[n];
        for (int i = 0; i < n; i++) {
            if (rowMin[i] <= tol || rowMin[i] <= bestPositive + 2 * tol) {
                candidates.add(i);
                isCandidate[i] = true;
            }
        }

        double best = Double.POSITIVE_INFINITY;
        int bi = -1, bj = -1;
        long conflicts = 0;
        try (Autograd.Guard g = Autograd.noGrad(); Scope outer = Scope.open()) {
            Tensor x64 = xf.to(DType.FLOAT64);   // differences of the float32 values are exact in float64
            for (int i : candidates) {
                try (Scope s = Scope.open()) {
                    double[] d2 = x64.sub(x64.narrow(0, i, 1)).square().sum(1, false).toDoubleArray();
                    for (int j = 0; j < n; j++) {
                        if (labels[j] == labels[i]) continue;
                        if (d2[j] == 0) {
                            if (j > i || !isCandidate[j]) conflicts++;
                        } else if (d2[j] < best) {
                            best = d2[j];
                            bi = Math.min(i, j);
                            bj = Math.max(i, j);
                        }
                    }
                }
            }
        }
        double dist = Math.sqrt(best);
        return new Result(n, false, dist, 1 / dist, Math.sqrt(2) / dist, conflicts, bi, bj,
                bi < 0 ? -1 : labels[bi], bj < 0 ? -1 : labels[bj], (System.nanoTime() - start) / 1e9);
    }
}
