package dev.tikhon.kernel;

import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** Kernel methods on a {@link Dataset}: subsets, targets, the bandwidth heuristic, and fitting by name. */
public final class KernelMethods {
    public static final String KRR = "krr", RFF = "rff", SGD = "sgd";

    private KernelMethods() {}

    /** {@code count} distinct indices of 0..n−1, seeded, in increasing order (all of them when count ≥ n). */
    public static long[] sample(int n, int count, long seed) {
        long[] perm = new long[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        if (count >= n) return perm;
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < count; i++) {   // partial Fisher–Yates
            int k = i + rng.nextInt(n - i);
            long t = perm[i]; perm[i] = perm[k]; perm[k] = t;
        }
        long[] out = Arrays.copyOf(perm, count);
        Arrays.sort(out);
        return out;
    }

    /** Flattened float64 inputs of the examples at {@code idx}. */
    public static Tensor inputs(Dataset d, long[] idx) {
        return d.batchInputs(Tensor.fromLongs(idx, idx.length)).flatten(1, -1).to(DType.FLOAT64);
    }

    /**
     * The largest squared norm of the examples at {@code idx} as models see them, in blocks of 4,096 (all of Fashion-MNIST's
     * training set in float64 at once would be 376 MB, for one number).
     */
    static double largestSquaredNorm(Dataset d, long[] idx) {
        double max = 0;
        for (int start = 0; start < idx.length; start += 4096) {
            try (dev.tikhon.engine.Scope s = dev.tikhon.engine.Scope.open()) {
                long[] part = Arrays.copyOfRange(idx, start, Math.min(idx.length, start + 4096));
                max = Math.max(max, inputs(d, part).square().sum(1, false).max().item());
            }
        }
        return max;
    }

    /** One-hot float64 targets of the examples at {@code idx}. */
    public static Tensor oneHotTargets(Dataset d, long[] idx) {
        return d.batchLabels(Tensor.fromLongs(idx, idx.length)).oneHot(d.numClasses()).to(DType.FLOAT64);
    }

    /**
     * The bandwidth σ of a kernel when none is given: the median heuristic ({@link #medianDistance}) for the
     * distance kernels (rbf/gaussian, laplace), 1 for the others (which ignore it).
     */
    public static double defaultBandwidth(String kernel, Dataset train, long seed) {
        return kernel.startsWith("rbf") || kernel.startsWith("gauss") || kernel.startsWith("lap") ? medianDistance(train, seed) : 1;
    }

    /** Training examples when none is given: 5000 for kernel ridge regression (an n × n solve), all otherwise (0). */
    public static int defaultTrainSize(String method) {
        return KRR.equals(method) ? 5000 : 0;
    }

    /** Random features when none is given: 2048 for rff. */
    public static int defaultFeatures(String method, int features) {
        return RFF.equals(method) && features == 0 ? 2048 : features;
    }

    /** The median heuristic for σ: the median distance between pairs of up to 1,000 random training points. */
    public static double medianDistance(Dataset d, long seed) {
        long[] idx = sample(d.size(), Math.min(1000, d.size()), seed);
        try (Autograd.Guard g = Autograd.noGrad()) {
            Tensor x = inputs(d, idx);
            double[] d2 = Kernel.squaredDistances(x, x).toDoubleArray();
            int n = idx.length;
            double[] off = new double[n * (n - 1) / 2];
            int k = 0;
            for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) off[k++] = d2[i * n + j];
            Arrays.sort(off);
            return off.length == 0 ? 1 : Math.sqrt(off[off.length / 2]);
        }
    }

    /**
     * A note where the kernel is degenerate on the training points (up to 256 of them, sampled with {@code seed}), else null:
     * every value between two distinct points is 0 (a bandwidth far below their distances: the model memorizes its
     * training points and scores every other input 0), or every value is the same to nine digits (the kernel cannot tell
     * the points apart). Either way the fit runs and means little; the note names the fix.
     */
    public static String degeneracy(Kernel kernel, Dataset train, long seed) {
        int n = Math.min(256, train.size());
        if (n < 2) return null;
        long[] idx = sample(train.size(), n, seed);
        double[] k;
        try (dev.tikhon.engine.Scope s = dev.tikhon.engine.Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            Tensor x = inputs(train, idx);
            k = kernel.matrix(x, x).toDoubleArray();
        }
        double offMax = 0, min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double v = k[i * n + j];
                if (i != j) offMax = Math.max(offMax, Math.abs(v));
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        boolean bandwidth = kernel instanceof Kernel.Rbf || kernel instanceof Kernel.Laplace;
        String median = bandwidth ? String.format(java.util.Locale.ROOT, " (the median distance between training points is %.4g; "
                + "--sigma 0 takes it)", medianDistance(train, seed)) : "";
        if (offMax == 0) {
            return "the " + kernel.describe() + " kernel is 0 between every two of " + n + " sampled training points: the model "
                    + "can only memorize its training points and scores every other input 0; " + (bandwidth ? "raise --sigma" + median
                    : "use another kernel or its options");
        }
        if (Double.isFinite(max) && max - min <= 1e-9 * Math.max(Math.abs(max), Math.abs(min))) {
            return "the " + kernel.describe() + " kernel takes the same value (to nine digits) on every pair of " + n + " sampled "
                    + "training points: it cannot tell them apart; " + (bandwidth ? "lower --sigma" + median
                    : kernel instanceof Kernel.Polynomial ? "raise --gamma" : "use another kernel");
        }
        return null;
    }

    /**
     * Settings of a fit.
     *
     * @param trainSize points used (krr: the n of the n × n solve; rff/sgd: 0 for all)
     * @param features  random features (rff; sgd when &gt; 0)
     * @param centres   centres of the SGD classifier (when features = 0)
     * @param lambda    ridge λ in (K + nλI)α = Y (krr, rff)
     * @param sgd       SGD settings (sgd)
     */
    public record FitOptions(String method, int trainSize, int features, int centres, double lambda, long seed,
                             KernelSgd.Options sgd) {}

    /** A fitted model with its training history (SGD) and timing. */
    public record Fit(KernelModel model, java.util.List<Map<String, Object>> history, int trainPoints, double seconds) {}

    public static Fit fit(Kernel kernel, Dataset train, FitOptions o, Device device,
                          java.util.function.Consumer<Map<String, Object>> onEpoch) {
        long t0 = System.nanoTime();
        int n = o.trainSize() > 0 ? Math.min(o.trainSize(), train.size()) : train.size();
        long[] idx = sample(train.size(), n, Rng.derive(o.seed(), 0x7A));
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("train_points", n);
        details.put("seed", o.seed());
        details.put("data", train.name());
        KernelModel model;
        java.util.List<Map<String, Object>> history = java.util.List.of();
        // SGD's models compute in float32, the solves in float64
        kernel.checkRange(largestSquaredNorm(train, idx), o.method().equals(SGD) ? DType.FLOAT32 : DType.FLOAT64);
        switch (o.method()) {
            case KRR:
                model = KernelRidge.fit(kernel, inputs(train, idx), oneHotTargets(train, idx), o.lambda(), details);
                break;
            case RFF:
                model = KernelRidge.fitRandomFeatures(kernel, o.features(), o.seed(), inputs(train, idx), oneHotTargets(train, idx),
                        o.lambda(), 2048, details);
                break;
            case SGD: {
                Dataset set = n == train.size() ? train : train.subset(idx);
                details.put("loss", o.sgd().loss().describe());
                details.put("epochs", o.sgd().epochs());
                details.put("lr", o.sgd().lr());
                details.put("weight_decay", o.sgd().weightDecay());
                model = KernelSgd.model(kernel, set, o.centres(), o.features(), o.seed(), details);
                history = KernelSgd.train(model, set, o.sgd(), device, onEpoch);
                break;
            }
            default: throw new IllegalArgumentException("unknown --method '" + o.method() + "': use krr, rff or sgd");
        }
        return new Fit(model, history, n, (System.nanoTime() - t0) / 1e9);
    }
}
