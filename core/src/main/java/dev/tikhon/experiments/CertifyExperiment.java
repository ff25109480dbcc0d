package dev.tikhon.experiments;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tikhon.certify.Certificate;
import dev.tikhon.certify.CertificationRun;
import dev.tikhon.certify.CohenCertification;
import dev.tikhon.certify.HeatCertification;
import dev.tikhon.certify.HeatConfig;
import dev.tikhon.certify.HeatSmoother;
import dev.tikhon.certify.RandomizedSmoothing;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.nn.Module;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import dev.tikhon.regularize.NoiseAugmentation;
import dev.tikhon.regularize.Regularizers;
import dev.tikhon.report.Charts;
import dev.tikhon.report.Csv;
import dev.tikhon.report.Json;
import dev.tikhon.report.Progress;
import dev.tikhon.train.DataInfo;
import dev.tikhon.train.ObjectiveSpec;
import dev.tikhon.train.TrainConfig;
import dev.tikhon.train.Trainer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The claim of Campbell, Finlay &amp; Oberman: heat smoothing certifies comparably to randomized
 * smoothing while classifying in one pass. On Fashion-MNIST with the small CNN:
 *
 * <ol>
 *   <li>undefended, noise-trained σ 0.25 and σ 0.5 (the base models of randomized smoothing),
 *       each trained by the ordinary trainer (resumable run directories);</li>
 *   <li>the undefended model heat-smoothed with σ 0.25, by the revision schedule (one warm-started
 *       epoch) and by the v1 schedule (n_T implicit steps), label-free;</li>
 *   <li>certification of the first M test images: Cohen's CERTIFY for the first three; for the heat
 *       models the single pass with certificates (a), (b), (c) and the agreement rate;</li>
 *   <li>the classification speed-up: single-pass time per image against PREDICT with
 *       {@code predictN} samples on a few images, measured in this run.</li>
 * </ol>
 * Base models and smoothing runs are resumable run directories (rerunning continues them); each
 * certification is written to {@code <variant>/certify.csv} and {@code certify.json}.
 */
public final class CertifyExperiment {

    /**
     * The experiment's budget.
     *
     * @param epochs          training epochs of the base models
     * @param smoothSubset    training images used by the revision schedule (0: all)
     * @param v1Subset        training images used by each v1 step (0: all)
     * @param revision        heat settings of the revision schedule
     * @param v1              heat settings of the v1 schedule
     * @param images          test images certified per variant
     * @param n               Monte Carlo samples N of CERTIFY
     * @param predictN        N of the PREDICT timing
     * @param predictImages   images PREDICT is timed on
     */
    public record Budget(int epochs, int smoothSubset, int v1Subset, HeatConfig revision, HeatConfig v1, double smoothLr, int images,
                         int n, int predictN, int predictImages, long seed) {}

    /**
     * One row of the result table.
     *
     * @param alpha            α of a probabilistic certificate, NaN for any other kind
     * @param cleanAccuracy    the model's own accuracy in one noise-free pass (heat: the single pass; cohen: the base
     *                         model's), NaN where not recorded
     * @param smoothedAccuracy cohen: the smoothed classifier's accuracy, CERTIFY's class with abstentions counted as wrong
     *                         (= certified accuracy at r = 0); NaN for heat, whose prediction is the single pass
     */
    public record Row(String variant, String certificate, String kind, double alpha, double sigma, double cleanAccuracy,
                      double smoothedAccuracy, double[] certified, double classifyMs, double certifyMs, double agreement) {}

    private final DataSets.Loaded data;
    private final DataInfo info;
    private final Budget budget;
    private final Device device;
    private final Path out;

    public CertifyExperiment(DataSets.Loaded data, DataInfo info, Budget budget, Device device, Path out) {
        this.data = data;
        this.info = info;
        this.budget = budget;
        this.device = device;
        this.out = out;
    }

    private ModelSpec spec() {
        long[] s = data.train().inputShape();
        return Models.spec("cnn", List.of(s[0], s[1], s[2]), data.train().numClasses(), Map.of());
    }

    private Module train(String name, ObjectiveSpec objective, Function<String, Trainer.Listener> listeners) {
        TrainConfig c = TrainConfig.builder().epochs(budget.epochs()).seed(budget.seed()).objective(objective).build();
        Trainer t = new Trainer(spec(), Regularizers.build(objective), c, data.train(), null, data.test(), info, device,
                out.resolve(name), listeners.apply(name));
        return t.onlySameSettings().run(true).model();
    }

    private Module smooth(String name, Module undefended, HeatConfig heat, Function<String, Trainer.Listener> listeners) {
        Module start = Models.build(spec());
        start.loadStateDict(undefended.stateDict());
        int subset = heat.schedule().equals(HeatConfig.V1) ? budget.v1Subset() : budget.smoothSubset();
        Dataset train = subset > 0 ? data.train().head(subset) : data.train();
        TrainConfig c = TrainConfig.builder().optimizer("adam").lr(budget.smoothLr()).schedule("constant").seed(budget.seed()).build();
        return HeatSmoother.run(start, () -> Models.build(spec()), spec(), heat, c, train, data.test(), info, device,
                out.resolve(name), step -> listeners.apply(name + " " + step), true, true).model();
    }

    /** Classification cost: the single pass (heat revision) against PREDICT with N samples (noise σ 0.25), per image. */
    public record Speedup(@JsonProperty("single_pass_ms_per_image") double singlePassMsPerImage,
                          @JsonProperty("predict_ms_per_image") double predictMsPerImage, @JsonProperty("predict_n") int predictN,
                          @JsonProperty("predict_images") int predictImages, double speedup) {}

    /**
     * The experiment's result.
     *
     * @param variants each variant's certification summary ({@link CertificationRun.Result#summary()}), by name
     */
    public record Result(Budget budget, Map<String, Object> variants,
                         @JsonProperty("classification_speedup") Speedup classificationSpeedup, List<Row> rows) {}

    /** Trains, smooths and certifies every variant; returns the result and writes the report files. */
    public Result run(Function<String, Trainer.Listener> listeners) {
        Module undefended = train("undefended", ObjectiveSpec.plain(), listeners);
        Module noise25 = train("noise-0.25", noise(0.25), listeners);
        Module noise50 = train("noise-0.5", noise(0.5), listeners);
        Module heatRevision = smooth("heat-revision", undefended, budget.revision(), listeners);
        Module heatV1 = smooth("heat-v1", undefended, budget.v1(), listeners);

        Map<String, CertificationRun.Result> results = new LinkedHashMap<>();
        Map<String, Double> sigmas = new LinkedHashMap<>();
        String revisionName = "heat revision σ " + budget.revision().sigma();
        results.put("undefended (cohen σ 0.25)", cohen("undefended", undefended, 0.25));
        sigmas.put("undefended (cohen σ 0.25)", 0.25);
        results.put("noise σ 0.25 (cohen)", cohen("noise-0.25", noise25, 0.25));
        sigmas.put("noise σ 0.25 (cohen)", 0.25);
        results.put("noise σ 0.5 (cohen)", cohen("noise-0.5", noise50, 0.5));
        sigmas.put("noise σ 0.5 (cohen)", 0.5);
        results.put(revisionName, heat("heat-revision", heatRevision, budget.revision().sigma()));
        sigmas.put(revisionName, budget.revision().sigma());
        results.put("heat v1 σ " + budget.v1().sigma(), heat("heat-v1", heatV1, budget.v1().sigma()));
        sigmas.put("heat v1 σ " + budget.v1().sigma(), budget.v1().sigma());

        // classification speed-up: single pass (heat revision) against PREDICT with predictN samples (noise σ 0.25)
        RandomizedSmoothing predictor = new RandomizedSmoothing(new RandomizedSmoothing.Config(0.25, 100, budget.predictN(),
                0.001, RandomizedSmoothing.DEFAULT_NOISE_BATCH, budget.seed()));
        predictor.counts(noise25, imageOf(0), 0, RandomizedSmoothing.PHASE_PREDICT, 1000);   // warm-up, untimed
        long t0 = System.nanoTime();
        for (int i = 0; i < budget.predictImages(); i++) {
            predictor.predict(noise25, imageOf(i), i);
        }
        double predictSeconds = (System.nanoTime() - t0) / 1e9 / budget.predictImages();
        double singlePassSeconds = results.get(revisionName).meanClassifySeconds();

        List<Row> rows = rows(results, sigmas);
        writeTable(out.resolve("results.csv"), rows);
        List<Charts.Series> curves = new ArrayList<>();
        for (Map.Entry<String, CertificationRun.Result> e : results.entrySet()) {
            for (Charts.Series s : e.getValue().curves(e.getKey() + " ", 1.25)) curves.add(s);
        }
        Charts.line(out.resolve("certified_accuracy.png"), "Certified accuracy, Fashion-MNIST, first " + budget.images()
                + " test images", "ℓ2 radius", "certified accuracy (heuristic curves: not certified)", curves);

        Map<String, Object> variants = new LinkedHashMap<>();
        results.forEach((k, v) -> variants.put(k, v.summary()));
        return new Result(budget, variants, new Speedup(1000 * singlePassSeconds, 1000 * predictSeconds, budget.predictN(),
                budget.predictImages(), predictSeconds / singlePassSeconds), rows);
    }

    /**
     * The table's rows: per variant and certificate, its kind and α, the accuracies (a Cohen run's prediction is the
     * smoothed classifier's, abstaining counted as wrong, so its accuracy is {@code smoothed_acc}, not a clean accuracy;
     * its {@code clean_acc} is the base model's noise-free pass), and certified accuracy at {@link CertificationRun#RADII}.
     */
    static List<Row> rows(Map<String, CertificationRun.Result> results, Map<String, Double> sigmas) {
        List<Row> rows = new ArrayList<>();
        for (Map.Entry<String, CertificationRun.Result> e : results.entrySet()) {
            CertificationRun.Result r = e.getValue();
            double sigma = sigmas.get(e.getKey());
            boolean smoothed = r.smoothedPrediction();
            double clean = !smoothed ? r.cleanAccuracy()
                    : r.details().get("base_model_clean_accuracy") instanceof Double d ? d : Double.NaN;
            for (String c : r.certificateNames()) {
                double[] acc = new double[CertificationRun.RADII.length];
                for (int k = 0; k < acc.length; k++) acc[k] = r.certifiedAccuracy(c, CertificationRun.RADII[k]);
                Certificate first = r.first(c);
                String kind = first.kind().name().toLowerCase(java.util.Locale.ROOT);
                rows.add(new Row(e.getKey(), c, kind, first.kind() == Certificate.Kind.PROBABILISTIC ? first.alpha() : Double.NaN, sigma,
                        clean, smoothed ? r.cleanAccuracy() : Double.NaN, acc,
                        r.method().equals("heat") ? 1000 * r.meanClassifySeconds() : Double.NaN, 1000 * r.meanCertifySeconds(),
                        r.agreement()));
            }
        }
        return rows;
    }

    /** results.csv: {@code variant, certificate, kind, alpha, sigma, clean_acc, smoothed_acc, r=…, times, agreement} (empty: n/a). */
    static void writeTable(Path file, List<Row> rows) {
        List<String> header = new ArrayList<>(List.of("variant", "certificate", "kind", "alpha", "sigma", "clean_acc", "smoothed_acc"));
        for (double radius : CertificationRun.RADII) header.add("r=" + radius);
        header.addAll(List.of("classify_ms_per_image", "certify_ms_per_image", "agreement"));
        List<List<Object>> table = new ArrayList<>();
        for (Row r : rows) {
            List<Object> line = new ArrayList<>(List.of(r.variant(), r.certificate(), r.kind(), blankIfNaN(r.alpha()), r.sigma(),
                    blankIfNaN(r.cleanAccuracy()), blankIfNaN(r.smoothedAccuracy())));
            for (double v : r.certified()) line.add(v);
            line.add(blankIfNaN(r.classifyMs()));
            line.add(r.certifyMs());
            line.add(blankIfNaN(r.agreement()));
            table.add(line);
        }
        Csv.write(file, header, table);
    }

    private static Object blankIfNaN(double v) {
        return Double.isNaN(v) ? "" : v;
    }

    private static ObjectiveSpec noise(double sigma) {
        return ObjectiveSpec.of("noise", new NoiseAugmentation.Settings(sigma));
    }

    private dev.tikhon.engine.Tensor imageOf(int i) {
        return data.test().batchInputs(dev.tikhon.engine.Tensor.fromLongs(new long[]{i}, 1)).squeeze(0).to(device);
    }

    private CertificationRun.Result cohen(String name, Module model, double sigma) {
        RandomizedSmoothing rs = new RandomizedSmoothing(new RandomizedSmoothing.Config(sigma, 100, budget.n(), 0.001, RandomizedSmoothing.DEFAULT_NOISE_BATCH, budget.seed()));
        try (Progress p = Progress.start("certify " + name + " (cohen σ " + sigma + ")", budget.images())) {
            CertificationRun.Result r = CertificationRun.run(model, data.test(), budget.images(), CohenCertification.plan(rs, 0), device, p);
            save(name, r, sigma);
            return r;
        }
    }

    private CertificationRun.Result heat(String name, Module model, double sigma) {
        RandomizedSmoothing rs = new RandomizedSmoothing(new RandomizedSmoothing.Config(sigma, 100, budget.n(), 0.001, RandomizedSmoothing.DEFAULT_NOISE_BATCH, budget.seed()));
        try (Progress p = Progress.start("certify " + name + " (heat σ " + sigma + ")", budget.images())) {
            CertificationRun.Result r = CertificationRun.run(model, data.test(), budget.images(), HeatCertification.plan(sigma, rs), device, p);
            save(name, r, sigma);
            return r;
        }
    }

    private void save(String name, CertificationRun.Result r, double sigma) {
        Path dir = out.resolve(name);
        try {
            Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        r.writeCsv(dir.resolve("certify.csv"));
        Map<String, Object> m = new LinkedHashMap<>(r.summary());
        m.put("sigma", sigma);
        Json.write(dir.resolve("certify.json"), m);
    }
}
