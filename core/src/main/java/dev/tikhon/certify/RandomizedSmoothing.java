package dev.tikhon.certify;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.ArrayList;
import java.util.List;

/**
 * Randomized smoothing, exactly as Cohen, Rosenfeld &amp; Kolter (2019), "Certified adversarial
 * robustness via randomized smoothing", Algorithms CERTIFY and PREDICT. The smoothed classifier is
 * g(x) = argmax_c P(f(x + η) = c), η ~ N(0, σ²I); f is the base model's argmax.
 *
 * <pre>
 * CERTIFY: ĉ = most frequent class of f on N0 noisy copies of x
 *          n_A = count of ĉ on N fresh noisy copies
 *          p_A = Clopper–Pearson lower bound at level α = Beta quantile (α; n_A, N − n_A + 1)
 *          return ĉ with radius R = σ Φ⁻¹(p_A) if p_A &gt; ½, else abstain (as the paper; the reference code
 *          abstains only below ½, which at p_A = ½ would "certify" ĉ at radius 0 though another class may tie)
 * PREDICT: top two counts n_A, n_B of N noisy copies; abstain unless the two-sided binomial test
 *          of n_A against Bin(n_A + n_B, ½) has p-value ≤ α
 * </pre>
 *
 * Noise is drawn in batches of {@code batchSize} from {@link GaussianNoise} streams (seed, index,
 * phase), phase 0 for selection, 1 for estimation, 2 for PREDICT; inputs are not clipped to the
 * box (as in the reference implementation). The largest radius CERTIFY can return is
 * σ Φ⁻¹(α^{1/N}). Defaults: N0 = 100, N = 100 000, α = 0.001.
 */
public final class RandomizedSmoothing implements Certifier {
    public static final int PHASE_SELECT = 0, PHASE_ESTIMATE = 1, PHASE_PREDICT = 2;

    /**
     * Noisy copies per forward pass by default. Larger is not faster: on the development CPU the small
     * CNN's forward pass ran at ~1,300 images/s in batches of 200 but ~60 images/s in batches of 1,000
     * (its activations leave the cache; `./tikhon bench conv --batch B --threads 1`). Results do not
     * depend on it (noise comes in seeded blocks of {@link GaussianNoise#BLOCK}).
     */
    public static final int DEFAULT_NOISE_BATCH = 200;
    /** Cohen et al.'s selection and estimation sample counts and failure probability: the CLI's and {@link Config#defaults}'. */
    public static final int DEFAULT_N0 = 100, DEFAULT_N = 100_000;
    public static final double DEFAULT_ALPHA = 0.001;

    /**
     * @param batchSize      noisy copies of each input per forward pass
     * @param imagesPerBatch inputs whose noisy copies share a forward pass (of imagesPerBatch × batchSize): on a GPU,
     *                       fuller batches for a model too small to fill one with one input's copies. Results do not
     *                       depend on it either.
     */
    public record Config(double sigma, int n0, int n, double alpha, int batchSize, long seed, int imagesPerBatch)
            implements java.io.Serializable {
        public Config {
            if (!(sigma > 0)) throw new IllegalArgumentException("--sigma must be positive, got " + sigma);
            if (n0 < 1 || n < 1) throw new IllegalArgumentException("--n0 and --n must be at least 1, got " + n0 + ", " + n);
            if (!(alpha > 0 && alpha < 1)) throw new IllegalArgumentException("--alpha must be in (0, 1), got " + alpha);
            if (batchSize < 1) throw new IllegalArgumentException("--noise-batch must be at least 1, got " + batchSize);
            if (imagesPerBatch < 1) throw new IllegalArgumentException("--images-per-batch must be at least 1, got " + imagesPerBatch);
        }

        /** One input per forward pass. */
        public Config(double sigma, int n0, int n, double alpha, int batchSize, long seed) {
            this(sigma, n0, n, alpha, batchSize, seed, 1);
        }

        /** The documented defaults (those of {@code certify}): N0 100, N 100,000, α 0.001, noise batch 200, seed 0. */
        public static Config defaults(double sigma) {
            return new Config(sigma, DEFAULT_N0, DEFAULT_N, DEFAULT_ALPHA, DEFAULT_NOISE_BATCH, 0);
        }

        public Config withN(int newN) { return new Config(sigma, n0, newN, alpha, batchSize, seed, imagesPerBatch); }

        public Config withBatchSize(int b) { return new Config(sigma, n0, n, alpha, b, seed, imagesPerBatch); }

        public Config withSeed(long s) { return new Config(sigma, n0, n, alpha, batchSize, s, imagesPerBatch); }

        public Config withImagesPerBatch(int k) { return new Config(sigma, n0, n, alpha, batchSize, seed, k); }
    }

    /** PREDICT's answer: the class or abstain, the counts it saw and the test's p-value. */
    public record Prediction(int prediction, long[] counts, double pValue) {
        public boolean abstained() { return prediction == Certificate.ABSTAIN; }
    }

    /** CERTIFY's intermediate numbers, for reports: the estimation counts and the bound. */
    public record Estimate(Certificate certificate, long[] counts, double pLower) {
        /** The smoothed classifier's Monte Carlo prediction from the estimation counts. */
        public int mostFrequent() { return argmax(counts); }
    }

    private final Config config;

    public RandomizedSmoothing(Config config) {
        this.config = config;
    }

    public Config config() { return config; }

    /** CERTIFY (Cohen et al., Algorithm 1). */
    @Override public Certificate certify(Module model, Tensor x, long index) {
        return certifyWithCounts(model, x, index).certificate();
    }

    /** CERTIFY on each row of {@code xs}, {@link Config#imagesPerBatch} rows sharing each forward pass. */
    @Override public List<Certificate> certifyBatch(Module model, Tensor xs, long[] indices) {
        List<Certificate> out = new ArrayList<>(indices.length);
        for (Estimate e : certifyWithCounts(model, xs, indices)) out.add(e.certificate());
        return out;
    }

    /** CERTIFY, with the estimation counts behind it. */
    public Estimate certifyWithCounts(Module model, Tensor x, long index) {
        return certifyWithCounts(model, x.unsqueeze(0), new long[]{index}).get(0);
    }

    /** CERTIFY on each row of {@code xs} [B, ...] (the data set's inputs {@code indices}), with the counts behind it. */
    public List<Estimate> certifyWithCounts(Module model, Tensor xs, long[] indices) {
        long[][] select = counts(model, xs, indices, PHASE_SELECT, config.n0());
        int[] cHat = new int[indices.length];
        for (int i = 0; i < cHat.length; i++) cHat[i] = argmax(select[i]);
        return certifyClasses(model, xs, indices, cHat);
    }

    /**
     * CERTIFY's estimation step with ĉ given rather than selected by N0 samples — for a model
     * whose class comes from a single deterministic pass (certificate (a) of heat smoothing).
     */
    public Estimate certifyClass(Module model, Tensor x, long index, int cHat) {
        return certifyClasses(model, x.unsqueeze(0), new long[]{index}, new int[]{cHat}).get(0);
    }

    /** {@link #certifyClass} on each row of {@code xs}, with its own ĉ. */
    public List<Estimate> certifyClasses(Module model, Tensor xs, long[] indices, int[] cHat) {
        long[][] counts = counts(model, xs, indices, PHASE_ESTIMATE, config.n());
        List<Estimate> out = new ArrayList<>(indices.length);
        for (int i = 0; i < indices.length; i++) {
            long nA = cHat[i] < counts[i].length ? counts[i][cHat[i]] : 0;
            double pA = ClopperPearson.lowerBound(nA, config.n(), config.alpha());
            Certificate c = !(pA > 0.5) ? Certificate.abstain(Certificate.Kind.PROBABILISTIC, config.alpha(), "cohen")
                    : new Certificate(cHat[i], radius(pA), Certificate.Kind.PROBABILISTIC, config.alpha(), "cohen");
            out.add(new Estimate(c, counts[i], pA));
        }
        return out;
    }

    /** PREDICT (Cohen et al., Algorithm 2) with N noisy copies. */
    public Prediction predict(Module model, Tensor x, long index) {
        long[] counts = counts(model, x, index, PHASE_PREDICT, config.n());
        int a = argmax(counts);
        long nA = counts[a];
        long nB = 0;
        for (int c = 0; c < counts.length; c++) if (c != a) nB = Math.max(nB, counts[c]);
        double p = ClopperPearson.binomialTestHalf(nA, nA + nB);
        return new Prediction(p > config.alpha() ? Certificate.ABSTAIN : a, counts, p);
    }

    /** σ Φ⁻¹(p_A). */
    public double radius(double pA) {
        return config.sigma() * ClopperPearson.normalQuantile(pA);
    }

    /** The largest radius CERTIFY can return with N samples: σ Φ⁻¹(α^{1/N}). */
    public double maxRadius() {
        return radius(Math.pow(config.alpha(), 1.0 / config.n()));
    }

    /**
     * How often the base model predicts each class on {@code num} noisy copies of x, noise from
     * stream (seed, index, phase). The model is put in evaluation mode for the count.
     */
    public long[] counts(Module model, Tensor x, long index, int phase, int num) {
        return counts(model, x.unsqueeze(0), new long[]{index}, phase, num)[0];
    }

    /**
     * {@link #counts(Module, Tensor, long, int, int)} for each row of {@code xs} [B, ...], row k's noise from stream
     * (seed, indices[k], phase): the rows are taken {@link Config#imagesPerBatch} at a time, and each forward pass holds
     * the next {@link Config#batchSize} noisy copies of every row of the group.
     */
    public long[][] counts(Module model, Tensor xs, long[] indices, int phase, int num) {
        if (xs.size(0) != indices.length) {
            throw new IllegalArgumentException(xs.size(0) + " inputs but " + indices.length + " indices");
        }
        boolean wasTraining = model.isTraining();
        model.train(false);
        try (Autograd.Guard g = Autograd.noGrad()) {
            long[][] out = new long[indices.length][];
            for (int from = 0; from < indices.length; from += config.imagesPerBatch()) {
                int k = Math.min(config.imagesPerBatch(), indices.length - from);
                long[][] group = countGroup(model, xs.narrow(0, from, k), java.util.Arrays.copyOfRange(indices, from, from + k), phase, num);
                System.arraycopy(group, 0, out, from, k);
            }
            return out;
        } finally {
            model.train(wasTraining);
        }
    }

    /** The counts of k inputs whose noisy copies share each forward pass: [k, ...] → k × classes. */
    private long[][] countGroup(Module model, Tensor xs, long[] indices, int phase, int num) {
        int k = indices.length;
        long[] shape = xs.shape();
        long[] sampleShape = java.util.Arrays.copyOfRange(shape, 1, shape.length);
        // Counted on the model's device and read back once: a read per batch would stall a GPU after every batch.
        Tensor total = null, offsets = null;
        long classes = 0;
        for (int done = 0; done < num; ) {
            int b = Math.min(config.batchSize(), num - done);
            try (Scope s = Scope.open()) {
                long[] noiseShape = new long[shape.length + 1];
                noiseShape[0] = k;
                noiseShape[1] = b;
                System.arraycopy(sampleShape, 0, noiseShape, 2, sampleShape.length);
                Tensor eta = Tensor.empty(xs.dtype(), xs.device(), noiseShape);
                for (int i = 0; i < k; i++) GaussianNoise.samplesInto(eta.select(0, i), config.seed(), indices[i], phase, done);
                long[] batchShape = java.util.Arrays.copyOfRange(noiseShape, 1, noiseShape.length);
                batchShape[0] = (long) k * b;
                Tensor batch = xs.unsqueeze(1).add(eta, config.sigma()).view(batchShape);
                Tensor logits = model.forward(batch);
                classes = logits.size(1);
                Tensor predicted = logits.argmax(1);
                if (k > 1) {   // input i's predictions counted in bins i·classes … (i + 1)·classes − 1
                    if (offsets == null) {
                        long[] first = new long[k];
                        for (int i = 0; i < k; i++) first[i] = i * classes;
                        offsets = Tensor.fromLongs(first, k, 1).to(predicted.device()).keep();
                    }
                    predicted = predicted.view(k, b).add(offsets).view(-1);
                }
                Tensor counts = predicted.bincount(k * classes);
                if (total == null) total = counts.keep();   // outlives the batch's scope; a few bytes, freed by the GC
                else total.add_(counts);
            }
            done += b;
        }
        long[] flat;
        try (Scope s = Scope.open()) {
            flat = total.toLongArray();
        }
        long[][] out = new long[k][];
        for (int i = 0; i < k; i++) out[i] = java.util.Arrays.copyOfRange(flat, (int) (i * classes), (int) ((i + 1) * classes));
        return out;
    }

    static int argmax(long[] counts) {
        int best = 0;
        for (int c = 1; c < counts.length; c++) if (counts[c] > counts[best]) best = c;
        return best;
    }

    @Override public String describe() {
        return "randomized smoothing (Cohen et al.): σ " + config.sigma() + ", N0 " + config.n0() + ", N " + config.n()
                + ", α " + config.alpha();
    }
}
