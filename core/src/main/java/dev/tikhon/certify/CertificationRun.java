package dev.tikhon.certify;

import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.report.Charts;
import dev.tikhon.report.Csv;
import dev.tikhon.report.Progress;
import dev.tikhon.scaleout.Runner;
import dev.tikhon.scaleout.Unit;
import dev.tikhon.scaleout.UnitTask;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Certifies the first images of a data set, one at a time, and summarizes: per-image results,
 * certified accuracy at given radii (the fraction of images whose certificate proves the true
 * label at that radius; abstentions count as failures), timings, and for heat-smoothed models the
 * agreement between the single pass and the Monte Carlo smoothed classifier.
 *
 * <ul>
 *   <li>{@link #cohen}: CERTIFY on the base model; classification time is PREDICT's with the same N,
 *       measured on the first {@code predictImages} images.</li>
 *   <li>{@link #heat}: one deterministic pass gives ĉ and the single-pass radii (b) and (c); then
 *       (a), CERTIFY's estimation on v with ĉ fixed.</li>
 * </ul>
 */
public final class CertificationRun {
    /** The radii of the certified-accuracy table. */
    public static final double[] RADII = {0, 0.25, 0.5, 0.75, 1.0};

    /** One image: the prediction used for accuracy, each certificate, and times in seconds. */
    public record Image(long index, long label, int prediction, Map<String, Certificate> certificates,
                        double classifySeconds, double certifySeconds, int monteCarloPrediction) implements java.io.Serializable {
        public boolean correct() { return prediction == label; }
    }

    /**
     * @param predictSeconds PREDICT's time per image (cohen), NaN when not measured
     * @param agreement      fraction of images where the smoothed classifier's Monte Carlo majority
     *                       equals the single-pass class (heat), NaN otherwise
     */
    public record Result(String method, List<Image> images, List<String> certificateNames, double predictSeconds,
                         int predictImages, double agreement) {

        /** Accuracy of the prediction used for accuracy: CERTIFY's class (abstaining counts as wrong) or the single pass. */
        public double cleanAccuracy() {
            return images.stream().filter(Image::correct).count() / (double) images.size();
        }

        public double certifiedAccuracy(String certificate, double r) {
            long n = images.stream().filter(i -> i.certificates().get(certificate).certifies(i.label(), r)).count();
            return n / (double) images.size();
        }

        public double abstentionRate(String certificate) {
            return images.stream().filter(i -> i.certificates().get(certificate).abstained()).count() / (double) images.size();
        }

        public double meanClassifySeconds() {
            return images.stream().mapToDouble(Image::classifySeconds).average().orElse(Double.NaN);
        }

        public double meanCertifySeconds() {
            return images.stream().mapToDouble(Image::certifySeconds).average().orElse(Double.NaN);
        }

        /** Certified accuracy at {@link #RADII} for each certificate. */
        public Map<String, Object> summary() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("method", method);
            m.put("images", images.size());
            m.put("clean_accuracy", cleanAccuracy());
            Map<String, Object> certs = new LinkedHashMap<>();
            for (String c : certificateNames) {
                Map<String, Object> one = new LinkedHashMap<>();
                Certificate first = images.get(0).certificates().get(c);
                one.put("kind", first.kind().name().toLowerCase(java.util.Locale.ROOT));
                if (first.kind() == Certificate.Kind.PROBABILISTIC) one.put("alpha", first.alpha());
                Map<String, Double> acc = new LinkedHashMap<>();
                for (double r : RADII) acc.put(String.valueOf(r), certifiedAccuracy(c, r));
                one.put("certified_accuracy", acc);
                one.put("abstention_rate", abstentionRate(c));
                certs.put(c, one);
            }
            m.put("certificates", certs);
            m.put("classify_ms_per_image", 1000 * meanClassifySeconds());
            m.put("certify_ms_per_image", 1000 * meanCertifySeconds());
            if (!Double.isNaN(predictSeconds)) {
                m.put("predict_ms_per_image", 1000 * predictSeconds);
                m.put("predict_images_timed", predictImages);
            }
            if (!Double.isNaN(agreement)) m.put("single_pass_vs_smoothed_agreement", agreement);
            return m;
        }

        /** {@code certify.csv}: one row per image. */
        public void writeCsv(Path file) {
            List<String> header = new ArrayList<>(List.of("index", "label", "prediction", "correct"));
            for (String c : certificateNames) {
                header.add("prediction_" + c);
                header.add("radius_" + c);
            }
            header.addAll(List.of("monte_carlo_prediction", "classify_ms", "certify_ms"));
            List<List<Object>> rows = new ArrayList<>();
            for (Image i : images) {
                List<Object> r = new ArrayList<>(List.of(i.index(), i.label(), i.prediction(), i.correct() ? 1 : 0));
                for (String c : certificateNames) {
                    Certificate cert = i.certificates().get(c);
                    r.add(cert.abstained() ? "abstain" : cert.prediction());
                    r.add(cert.radius());
                }
                r.add(i.monteCarloPrediction() < 0 ? "" : i.monteCarloPrediction());
                r.add(1000 * i.classifySeconds());
                r.add(1000 * i.certifySeconds());
                rows.add(r);
            }
            Csv.write(file, header, rows);
        }

        /** The certified-accuracy curves, one series per certificate, over r ∈ [0, max]. */
        public List<Charts.Series> curves(String prefix, double max) {
            List<Charts.Series> out = new ArrayList<>();
            int points = 101;
            for (String c : certificateNames) {
                double[] x = new double[points], y = new double[points];
                for (int p = 0; p < points; p++) {
                    x[p] = max * p / (points - 1);
                    y[p] = certifiedAccuracy(c, x[p]);
                }
                out.add(new Charts.Series(prefix + c, x, y));
            }
            return out;
        }
    }

    private CertificationRun() {}

    /** Cohen et al.'s CERTIFY on the first {@code limit} images, on this machine; PREDICT timed on the first {@code predictImages}. */
    public static Result cohen(Module model, Dataset data, int limit, RandomizedSmoothing rs, int predictImages,
                               Device device, Progress progress) {
        return cohen(Runner.local(model, data, device), model, data, limit, rs, predictImages, device, progress);
    }

    /**
     * CERTIFY on the first {@code limit} images, one unit per image, wherever {@code runner} runs them; PREDICT
     * (a timing, not a result) on the first {@code predictImages} here, with {@code model}.
     */
    public static Result cohen(Runner runner, Module model, Dataset data, int limit, RandomizedSmoothing rs, int predictImages,
                               Device device, Progress progress) {
        int n = Math.min(limit, data.size());
        List<Image> images = runner.run(Unit.split(n, 1), new CohenTask(rs.config()), progress);
        double predict = Double.NaN;
        int timed = Math.min(predictImages, n);
        if (timed > 0) {
            rs.counts(model, image(data, 0, device), 0, RandomizedSmoothing.PHASE_PREDICT, rs.config().batchSize());   // warm-up, untimed
            long t0 = System.nanoTime();
            for (int i = 0; i < timed; i++) rs.predict(model, image(data, i, device), i);
            predict = (System.nanoTime() - t0) / 1e9 / timed;
            List<Image> withTime = new ArrayList<>();
            for (Image im : images) {
                withTime.add(new Image(im.index(), im.label(), im.prediction(), im.certificates(), predict, im.certifySeconds(),
                        im.monteCarloPrediction()));
            }
            images = withTime;
        }
        return new Result("cohen", images, List.of("cohen"), predict, timed, Double.NaN);
    }

    /** CERTIFY on one image (a unit of one). */
    record CohenTask(RandomizedSmoothing.Config config) implements UnitTask<Image> {
        @Override public Image run(Module model, Tensor x, Tensor y, Unit unit) {
            long t0 = System.nanoTime();
            RandomizedSmoothing.Estimate e = new RandomizedSmoothing(config).certifyWithCounts(model, x.squeeze(0), unit.start());
            double certify = (System.nanoTime() - t0) / 1e9;
            Certificate c = e.certificate();
            return new Image(unit.start(), y.itemLong(), c.prediction(), Map.of("cohen", c), Double.NaN, certify, e.mostFrequent());
        }
    }

    /**
     * Heat-smoothed model v, on this machine: a single pass per image (timed) gives ĉ and radii (b), (c); with
     * {@code rs} non-null, certificate (a) = CERTIFY's estimation on v with ĉ fixed.
     */
    public static Result heat(Module model, Dataset data, int limit, double sigma, RandomizedSmoothing rs, Device device,
                              Progress progress) {
        return heat(Runner.local(model, data, device), model, data, limit, sigma, rs, device, progress);
    }

    /** As {@link #heat(Module, Dataset, int, double, RandomizedSmoothing, Device, Progress)}, one unit per image on {@code runner}. */
    public static Result heat(Runner runner, Module model, Dataset data, int limit, double sigma, RandomizedSmoothing rs, Device device,
                              Progress progress) {
        int n = Math.min(limit, data.size());
        // warm-up, untimed (JIT, allocator), so that the first image's single-pass time is not inflated; executors warm up on their own
        if (n > 0 && !runner.distributed()) GaussianAverageCertificate.probabilities(model, image(data, 0, device).unsqueeze(0));
        List<Image> images = runner.run(Unit.split(n, 1), new HeatTask(sigma, rs != null ? rs.config() : null), progress);
        int agree = 0;
        for (Image im : images) if (im.monteCarloPrediction() == im.prediction()) agree++;
        List<String> names = rs != null ? List.of("a", "b", "c") : List.of("b", "c");
        return new Result("heat", images, names, Double.NaN, 0, rs != null ? agree / (double) n : Double.NaN);
    }

    /** The single pass and, with a smoothing config, certificate (a), on one image. */
    record HeatTask(double sigma, RandomizedSmoothing.Config config) implements UnitTask<Image> {
        @Override public Image run(Module model, Tensor x, Tensor y, Unit unit) {
            long t0 = System.nanoTime();
            double[] p = GaussianAverageCertificate.probabilities(model, x)[0];
            GaussianAverageCertificate.Radii r = GaussianAverageCertificate.radii(sigma, p);
            double classify = (System.nanoTime() - t0) / 1e9;
            Map<String, Certificate> certs = new LinkedHashMap<>();
            int mc = -1;
            double certify = 0;
            if (config != null) {
                long t1 = System.nanoTime();
                RandomizedSmoothing.Estimate e = new RandomizedSmoothing(config).certifyClass(model, x.squeeze(0), unit.start(), r.prediction());
                certify = (System.nanoTime() - t1) / 1e9;
                certs.put("a", new Certificate(e.certificate().prediction(), e.certificate().radius(),
                        Certificate.Kind.PROBABILISTIC, config.alpha(), "heat-a"));
                mc = e.mostFrequent();
            }
            certs.put("b", new Certificate(r.prediction(), r.lipschitz(), Certificate.Kind.HEURISTIC, 0, "heat-b"));
            certs.put("c", new Certificate(r.prediction(), r.phiInverse(), Certificate.Kind.HEURISTIC, 0, "heat-c"));
            return new Image(unit.start(), y.itemLong(), r.prediction(), certs, classify, certify, mc);
        }
    }

    /** Whether an image has a single-pass radius worth attacking: (b) or (c) above 1e-6. */
    public static boolean attackable(Image im) {
        return im.certificates().get("b").radius() > 1e-6 || im.certificates().get("c").radius() > 1e-6;
    }

    /**
     * Attacks each image's single-pass radii (b) and (c) with ℓ2 PGD ({@code steps} steps, step
     * 2.5ε/steps, from x and then {@code restarts − 1} random starts, seeded from (seed, image, certificate))
     * at ε = {@code fraction} × radius, against the deterministic model; counts the images where the attack
     * changes the class. One unit per {@link #attackable} image; progress steps once per image.
     *
     * @return certificate name → {tested, broken}
     */
    public static Map<String, long[]> attackSinglePass(Runner runner, Result result, double fraction, int steps, int restarts, long seed,
                                                       Progress progress) {
        Map<Integer, double[]> radii = new java.util.TreeMap<>();   // image → {class, radius b, radius c}
        List<Unit> units = new ArrayList<>();
        for (Image im : result.images()) {
            if (!attackable(im)) continue;
            Certificate b = im.certificates().get("b"), c = im.certificates().get("c");
            radii.put((int) im.index(), new double[]{b.prediction(), b.radius(), c.radius()});
            units.add(new Unit(units.size(), (int) im.index(), (int) im.index() + 1));
        }
        List<boolean[]> outcomes = runner.run(units, new SinglePassAttackTask(radii, fraction, steps, restarts, seed), progress);
        Map<String, long[]> out = new LinkedHashMap<>();
        out.put("b", new long[2]);
        out.put("c", new long[2]);
        for (boolean[] o : outcomes) {
            for (int k = 0; k < 2; k++) {
                long[] tally = out.get(k == 0 ? "b" : "c");
                if (o[2 * k]) tally[0]++;
                if (o[2 * k + 1]) tally[1]++;
            }
        }
        return out;
    }

    /**
     * Attacks every image's randomized-smoothing certificate {@code certificate} ("cohen", or "a" of a heat run) through
     * the smoothed classifier, judged by PREDICT with {@code judge} (same σ, N, α as the certification, its own seed):
     * see {@link SmoothedAttack}. One unit per image with a positive radius; progress steps once per image.
     */
    public static SmoothedAttack.Tally attackSmoothed(Runner runner, Result result, String certificate, RandomizedSmoothing.Config judge,
                                                      SmoothedAttack.Settings settings, Progress progress) {
        Map<Integer, Certificate> certs = new java.util.TreeMap<>();
        List<Unit> units = new ArrayList<>();
        for (Image im : result.images()) {
            Certificate c = im.certificates().get(certificate);
            if (c == null || c.abstained() || !(c.radius() > 1e-6)) continue;
            certs.put((int) im.index(), c);
            units.add(new Unit(units.size(), (int) im.index(), (int) im.index() + 1));
        }
        SmoothedAttack.Tally total = new SmoothedAttack.Tally(0, 0, 0);
        for (SmoothedAttack.Tally t : runner.run(units, new SmoothedAttackTask(certs, judge, settings), progress)) total = total.plus(t);
        return total;
    }

    /** How many images {@link #attackSmoothed} attacks for {@code certificate}: those certified with a positive radius. */
    public static long attackableSmoothed(Result result, String certificate) {
        return result.images().stream().map(im -> im.certificates().get(certificate))
                .filter(c -> c != null && !c.abstained() && c.radius() > 1e-6).count();
    }

    record SmoothedAttackTask(Map<Integer, Certificate> certs, RandomizedSmoothing.Config judge, SmoothedAttack.Settings settings)
            implements UnitTask<SmoothedAttack.Tally> {
        @Override public SmoothedAttack.Tally run(Module model, Tensor x, Tensor y, Unit unit) {
            return SmoothedAttack.attack(model, x.squeeze(0), unit.start(), certs.get(unit.start()), new RandomizedSmoothing(judge), settings);
        }
    }

    /** PGD at 0.999 × each single-pass radius of one image: {tested b, broken b, tested c, broken c}. */
    record SinglePassAttackTask(Map<Integer, double[]> radii, double fraction, int steps, int restarts, long seed)
            implements UnitTask<boolean[]> {
        @Override public boolean[] run(Module model, Tensor x, Tensor y, Unit unit) {
            double[] r = radii.get(unit.start());
            int cls = (int) r[0];
            boolean[] out = new boolean[4];
            boolean was = model.isTraining();
            model.train(false);
            try {
                Tensor target = Tensor.fromLongs(new long[]{cls}, 1).to(x.device());
                for (int k = 0; k < 2; k++) {
                    double radius = r[1 + k];
                    if (radius <= 1e-6) continue;
                    out[2 * k] = true;
                    double eps = fraction * radius;
                    for (int run = 0; run < restarts; run++) {
                        dev.tikhon.engine.Rng.seed(dev.tikhon.engine.Rng.derive(seed, unit.start(), k, run));
                        Tensor adv = new dev.tikhon.attack.Pgd(dev.tikhon.attack.Norm.L2, eps, steps, 2.5 * eps / steps, run > 0)
                                .perturb(model, x, target);
                        long pred;
                        try (dev.tikhon.engine.Autograd.Guard g = dev.tikhon.engine.Autograd.noGrad()) {
                            pred = model.forward(adv).argmax(1).itemLong();
                        }
                        if (pred != cls) {
                            out[2 * k + 1] = true;
                            break;
                        }
                    }
                }
            } finally {
                model.train(was);
            }
            return out;
        }
    }

    /** Image i of the data set as one FLOAT32 input in [0, 1], without a batch dimension. */
    static Tensor image(Dataset data, int i, Device device) {
        try (Scope s = Scope.open()) {
            return data.batchInputs(Tensor.fromLongs(new long[]{i}, 1)).squeeze(0).to(device).keep();
        }
    }
}
