package dev.tikhon.certify;

import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.report.Charts;
import dev.tikhon.report.Csv;
import dev.tikhon.report.Progress;

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
                        double classifySeconds, double certifySeconds, int monteCarloPrediction) {
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

    /** Cohen et al.'s CERTIFY on the first {@code limit} images; PREDICT timed on the first {@code predictImages}. */
    public static Result cohen(Module model, Dataset data, int limit, RandomizedSmoothing rs, int predictImages,
                               Device device, Progress progress) {
        int n = Math.min(limit, data.size());
        List<Image> images = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Tensor x = image(data, i, device);
            long label = data.labels().select(0, i).itemLong();
            long t0 = System.nanoTime();
            RandomizedSmoothing.Estimate e = rs.certifyWithCounts(model, x, i);
            double certify = (System.nanoTime() - t0) / 1e9;
            Certificate c = e.certificate();
            images.add(new Image(i, label, c.prediction(), Map.of("cohen", c), Double.NaN, certify, e.mostFrequent()));
            if (progress != null) progress.step();
        }
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

    /**
     * Heat-smoothed model v: a single pass per image (timed) gives ĉ and radii (b), (c); with
     * {@code rs} non-null, certificate (a) = CERTIFY's estimation on v with ĉ fixed.
     */
    public static Result heat(Module model, Dataset data, int limit, double sigma, RandomizedSmoothing rs, Device device,
                              Progress progress) {
        int n = Math.min(limit, data.size());
        List<Image> images = new ArrayList<>();
        int agree = 0;
        if (n > 0) GaussianAverageCertificate.probabilities(model, image(data, 0, device).unsqueeze(0));   // warm-up, untimed (JIT, allocator)
        for (int i = 0; i < n; i++) {
            Tensor x = image(data, i, device);
            long label = data.labels().select(0, i).itemLong();
            long t0 = System.nanoTime();
            double[] p = GaussianAverageCertificate.probabilities(model, x.unsqueeze(0))[0];
            GaussianAverageCertificate.Radii r = GaussianAverageCertificate.radii(sigma, p);
            double classify = (System.nanoTime() - t0) / 1e9;
            Map<String, Certificate> certs = new LinkedHashMap<>();
            int mc = -1;
            double certify = 0;
            if (rs != null) {
                long t1 = System.nanoTime();
                RandomizedSmoothing.Estimate e = rs.certifyClass(model, x, i, r.prediction());
                certify = (System.nanoTime() - t1) / 1e9;
                certs.put("a", new Certificate(e.certificate().prediction(), e.certificate().radius(),
                        Certificate.Kind.PROBABILISTIC, rs.config().alpha(), "heat-a"));
                mc = e.mostFrequent();
                if (mc == r.prediction()) agree++;
            }
            certs.put("b", new Certificate(r.prediction(), r.lipschitz(), Certificate.Kind.HEURISTIC, 0, "heat-b"));
            certs.put("c", new Certificate(r.prediction(), r.phiInverse(), Certificate.Kind.HEURISTIC, 0, "heat-c"));
            images.add(new Image(i, label, r.prediction(), certs, classify, certify, mc));
            if (progress != null) progress.step();
        }
        List<String> names = rs != null ? List.of("a", "b", "c") : List.of("b", "c");
        return new Result("heat", images, names, Double.NaN, 0, rs != null ? agree / (double) n : Double.NaN);
    }

    /**
     * Attacks each image's single-pass radii (b) and (c) with ℓ2 PGD ({@code steps} steps, step
     * 2.5ε/steps, from x and then {@code restarts − 1} random starts) at ε = {@code fraction} × radius,
     * against the deterministic model; counts the images where the attack changes the class.
     *
     * @return certificate name → {tested, broken}
     */
    public static Map<String, long[]> attackSinglePass(Module model, Dataset data, Result result, double fraction, int steps,
                                                       int restarts, Device device, Progress progress) {
        Map<String, long[]> out = new LinkedHashMap<>();
        boolean was = model.isTraining();
        model.train(false);
        try {
            for (String name : List.of("b", "c")) {
                long tested = 0, broken = 0;
                for (Image im : result.images()) {
                    Certificate c = im.certificates().get(name);
                    if (c == null || c.radius() <= 1e-6) continue;
                    tested++;
                    try (Scope s = Scope.open()) {
                        Tensor x = image(data, (int) im.index(), device).unsqueeze(0);
                        Tensor y = Tensor.fromLongs(new long[]{c.prediction()}, 1).to(device);
                        double eps = fraction * c.radius();
                        for (int r = 0; r < restarts; r++) {
                            Tensor adv = new dev.tikhon.attack.Pgd(dev.tikhon.attack.Norm.L2, eps, steps, 2.5 * eps / steps, r > 0)
                                    .perturb(model, x, y);
                            long pred;
                            try (dev.tikhon.engine.Autograd.Guard g = dev.tikhon.engine.Autograd.noGrad()) {
                                pred = model.forward(adv).argmax(1).itemLong();
                            }
                            if (pred != c.prediction()) {
                                broken++;
                                break;
                            }
                        }
                    }
                    if (progress != null) progress.step();
                }
                out.put(name, new long[]{tested, broken});
            }
        } finally {
            model.train(was);
        }
        return out;
    }

    /** Image i of the data set as one FLOAT32 input in [0, 1], without a batch dimension. */
    static Tensor image(Dataset data, int i, Device device) {
        try (Scope s = Scope.open()) {
            return data.batchInputs(Tensor.fromLongs(new long[]{i}, 1)).squeeze(0).to(device).keep();
        }
    }
}
