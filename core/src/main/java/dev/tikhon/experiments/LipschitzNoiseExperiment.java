package dev.tikhon.experiments;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.generalization.DataLipschitz;
import dev.tikhon.nn.Module;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import dev.tikhon.regularize.GradientNormPenalty;
import dev.tikhon.regularize.Regularizers;
import dev.tikhon.report.Charts;
import dev.tikhon.report.Csv;
import dev.tikhon.report.FieldChart;
import dev.tikhon.report.Json;
import dev.tikhon.train.DataInfo;
import dev.tikhon.train.ObjectiveSpec;
import dev.tikhon.train.TrainConfig;
import dev.tikhon.train.Trainer;

import java.awt.Color;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The label-noise claim of Oberman &amp; Calder ("Lipschitz regularized deep neural networks converge
 * and generalize") and Finlay, Calder, Abbasi &amp; Oberman (docs/methods.md §2): with corrupted labels, the
 * Lipschitz-regularized minimizer converges, as the number of training points grows, to a
 * regularized label function rather than to the noise.
 *
 * <p>Problem: x uniform on [−1, 1]², clean label 1 above the curve x₂ = ½ sin(πx₁) and 0 below;
 * a fraction (10%) of the training labels flipped at random. For each training-set size n and each
 * variant (plain cross-entropy, and cross-entropy + λ · max over the batch of ‖∇ₓℓ‖, the
 * {@code lipschitz} regularizer) the same MLP is trained for the same number of steps, then
 * measured: error against the <em>clean</em> labels on fresh test points, how many of the flipped
 * training labels the model reproduces (memorized noise), the model's Lipschitz constant
 * (max ‖∇ₓ p₁‖ over a grid of the square) beside the data's (max |Δy|/‖Δx‖ of the noisy and the clean
 * training set). Each run is a few seconds and is saved as it ends, so a killed experiment
 * continues where it stopped.
 */
public final class LipschitzNoiseExperiment {
    /** One trained configuration. */
    public record Variant(String name, ObjectiveSpec objective) {}

    /**
     * @param sizes      training-set sizes n
     * @param flip       fraction of training labels flipped
     * @param hidden     MLP hidden widths
     * @param steps      optimizer steps per run (whatever n is)
     * @param batchSize  mini-batch size (full batch when n is smaller)
     * @param lr         Adam learning rate (constant)
     * @param seeds      repetitions (data, flips and initialization all derive from the seed)
     * @param testPoints fresh test points with clean labels
     * @param plotSizes  sizes whose decision maps are drawn (seed 0)
     */
    public record Settings(List<Integer> sizes, double flip, List<Integer> hidden, int steps, int batchSize, double lr,
                           int seeds, int testPoints, List<Integer> plotSizes, List<Variant> variants) {}

    /** One measured run. */
    public record Row(String variant, int n, int seed, double cleanTestError, double noisyTrainAgreement,
                      double flippedReproduced, double cleanTrainError, double modelLipschitz, double dataLipschitzNoisy,
                      double dataLipschitzClean, double seconds) {}

    /** A sample of the problem: inputs, noisy labels, clean labels, which were flipped. */
    public record Sample(Tensor x, long[] noisy, long[] clean, boolean[] flipped) {
        Dataset dataset(String name) {
            return new Dataset(name, "LipschitzNoiseExperiment", x, Tensor.fromLongs(noisy, noisy.length), 2, List.of("below", "above"));
        }
    }

    /** The Lipschitz penalty alone with weight {@code weight} (h 1e-3, ℓ2). */
    public static ObjectiveSpec lipschitz(double weight) {
        return ObjectiveSpec.of("lipschitz", new GradientNormPenalty.Settings(0, weight, 1e-3, "l2"));
    }

    public static List<Variant> defaultVariants() {
        ObjectiveSpec plain = ObjectiveSpec.plain();
        return List.of(new Variant("unregularized", plain),
                new Variant("lipschitz-0.01", lipschitz(0.01)),
                new Variant("lipschitz-0.03", lipschitz(0.03)));
    }

    /** The clean label function: 1 above x₂ = ½ sin(πx₁). */
    public static long cleanLabel(double x1, double x2) {
        return x2 > 0.5 * Math.sin(Math.PI * x1) ? 1 : 0;
    }

    /** n uniform points with clean labels, a fraction {@code flip} of them flipped; a pure function of (n, flip, seed). */
    public static Sample sample(int n, double flip, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[2 * n];
        long[] noisy = new long[n], clean = new long[n];
        boolean[] flipped = new boolean[n];
        int flips = (int) Math.round(flip * n);
        for (int i = 0; i < n; i++) {
            x[2 * i] = (float) (2 * r.nextDouble() - 1);
            x[2 * i + 1] = (float) (2 * r.nextDouble() - 1);
            clean[i] = cleanLabel(x[2 * i], x[2 * i + 1]);
        }
        // exactly round(flip · n) flips, at a random set of points
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = 0; i < flips; i++) {
            int k = i + r.nextInt(n - i);
            int t = order[i]; order[i] = order[k]; order[k] = t;
            flipped[order[i]] = true;
        }
        for (int i = 0; i < n; i++) noisy[i] = flipped[i] ? 1 - clean[i] : clean[i];
        return new Sample(Tensor.fromFloats(x, n, 2).keep(), noisy, clean, flipped);
    }

    private final Settings settings;
    private final Device device;
    private final Path out;

    public LipschitzNoiseExperiment(Settings settings, Device device, Path out) {
        this.settings = settings;
        this.device = device;
        this.out = out;
    }

    /** Runs (or reads back) every (variant, n, seed); {@code progress} hears a line per run. */
    public List<Row> run(Consumer<String> progress) {
        List<Row> rows = new ArrayList<>();
        Sample test = sample(settings.testPoints(), 0, 0x7E57);
        int total = settings.variants().size() * settings.sizes().size() * settings.seeds(), done = 0;
        for (int seed = 0; seed < settings.seeds(); seed++) {
            for (int n : settings.sizes()) {
                Sample train = sample(n, settings.flip(), dev.tikhon.engine.Rng.derive(seed, n));
                double lipNoisy = Double.NaN, lipClean = Double.NaN;
                for (Variant v : settings.variants()) {
                    Path saved = out.resolve("runs").resolve(v.name() + "-n" + n + "-seed" + seed + ".json");
                    String key = key(v, n, seed);
                    Row row = cached(saved, key);
                    if (row == null) {
                        if (Double.isNaN(lipNoisy)) {
                            Tensor yNoisy = Tensor.fromLongs(train.noisy(), n), yClean = Tensor.fromLongs(train.clean(), n);
                            lipNoisy = DataLipschitz.compute(train.x(), yNoisy, 1024, false).lipschitz01();
                            lipClean = DataLipschitz.compute(train.x(), yClean, 1024, false).lipschitz01();
                        }
                        row = runOne(v, n, seed, train, test, lipNoisy, lipClean);
                        Json.write(saved, new Saved(key, row));
                    }
                    rows.add(row);
                    done++;
                    progress.accept(String.format(java.util.Locale.ROOT,
                            "[%d/%d] %-14s n %6d seed %d: clean test error %.4f, flipped labels reproduced %.2f, model Lip grid estimate (lower) %.3g (%.1f s)",
                            done, total, v.name(), n, seed, row.cleanTestError(), row.flippedReproduced(), row.modelLipschitz(),
                            row.seconds()));
                }
            }
        }
        return rows;
    }

    /** A run's row with the settings it was measured with: reused only by a run with the same settings. */
    record Saved(String settings, Row row) {}

    /** Everything a row depends on (a folder reused with other --steps, --lr, … must not reuse its rows). */
    private String key(Variant v, int n, int seed) {
        return String.format(java.util.Locale.ROOT, "%s n %d seed %d flip %s hidden %s steps %d batch %d lr %s test points %d", v, n, seed,
                settings.flip(), settings.hidden(), settings.steps(), settings.batchSize(), settings.lr(), settings.testPoints());
    }

    /** The row saved in {@code file} if it was measured with settings {@code key}; null if none, or other settings. */
    static Row cached(Path file, String key) {
        if (!Files.exists(file)) return null;
        try {
            Saved s = Json.read(file, Saved.class);
            return key.equals(s.settings()) ? s.row() : null;
        } catch (RuntimeException e) {
            return null;   // unreadable, or from a version that saved no settings: measured again
        }
    }

    private Row runOne(Variant v, int n, int seed, Sample train, Sample test, double lipNoisy, double lipClean) {
        long t0 = System.nanoTime();
        Dataset data = train.dataset("noisy-sine n" + n);
        ModelSpec spec = Models.spec("mlp", List.of(2L), 2, Map.of("hidden", settings.hidden(), "activation", "relu"));
        int batch = Math.min(settings.batchSize(), n);
        int perEpoch = (n + batch - 1) / batch;
        int epochs = Math.max(1, (int) Math.ceil((double) settings.steps() / perEpoch));
        TrainConfig c = TrainConfig.builder().epochs(epochs).batchSize(batch).optimizer("adam").lr(settings.lr()).schedule("constant")
                .seed(seed).evalBatchSize(4096).objective(v.objective()).build();
        Trainer t = new Trainer(spec, Regularizers.build(v.objective()), c, data, null, null,
                new DataInfo("noisy-sine", null, "2-D sine boundary, " + settings.flip() + " flipped"), device, null, null);
        Module model = t.run(false).model();
        model.train(false);
        long[] testPred = predict(model, test.x());
        long[] trainPred = predict(model, train.x());
        int wrong = 0;
        for (int i = 0; i < testPred.length; i++) if (testPred[i] != test.clean()[i]) wrong++;
        int agree = 0, flips = 0, flipsReproduced = 0, cleanWrong = 0;
        for (int i = 0; i < n; i++) {
            if (trainPred[i] == train.noisy()[i]) agree++;
            if (trainPred[i] != train.clean()[i]) cleanWrong++;
            if (train.flipped()[i]) {
                flips++;
                if (trainPred[i] == train.noisy()[i]) flipsReproduced++;
            }
        }
        double modelLip = gridLipschitz(model, 101);
        if (settings.plotSizes().contains(n) && seed == 0) drawMap(model, v, n, train);
        return new Row(v.name(), n, seed, (double) wrong / testPred.length, (double) agree / n,
                flips == 0 ? Double.NaN : (double) flipsReproduced / flips, (double) cleanWrong / n, modelLip, lipNoisy, lipClean,
                (System.nanoTime() - t0) / 1e9);
    }

    static long[] predict(Module model, Tensor x) {
        try (Autograd.Guard g = Autograd.noGrad(); Scope s = Scope.open()) {
            return model.forward(x.to(device(model))).argmax(1).cpu().toLongArray();
        }
    }

    private static Device device(Module m) { return m.device(); }

    /** p₁ = softmax(f)₁ on a grid over [−1, 1]², row-major from the bottom row. */
    static double[] gridProbabilities(Module model, int cells) {
        Tensor grid = grid(cells);
        try (Autograd.Guard g = Autograd.noGrad(); Scope s = Scope.open()) {
            return model.forward(grid.to(device(model))).softmax(1).select(1, 1).cpu().toDoubleArray();
        }
    }

    private static Tensor grid(int cells) {
        float[] pts = new float[2 * cells * cells];
        for (int r = 0; r < cells; r++) {
            for (int c = 0; c < cells; c++) {
                pts[2 * (r * cells + c)] = (float) (-1 + 2.0 * c / (cells - 1));
                pts[2 * (r * cells + c) + 1] = (float) (-1 + 2.0 * r / (cells - 1));
            }
        }
        return Tensor.fromFloats(pts, (long) cells * cells, 2);
    }

    /** The model's Lipschitz constant on the square, estimated as max ‖∇ₓ p₁‖₂ over a grid. */
    static double gridLipschitz(Module model, int cells) {
        try (Scope s = Scope.open()) {
            Tensor x = grid(cells).to(device(model)).requiresGrad(true);
            Tensor p1 = model.forward(x).softmax(1).select(1, 1);
            return Autograd.grad(p1.sum(), x, false).normPerExample(2).max().item();
        }
    }

    private void drawMap(Module model, Variant v, int n, Sample train) {
        int cells = 161;
        double[] field = gridProbabilities(model, cells);
        float[] xy = train.x().toFloatArray();
        List<double[]> c0 = List.of(new double[n], new double[n]), c1 = List.of(new double[n], new double[n]);
        List<Double> fx = new ArrayList<>(), fy = new ArrayList<>();
        int n0 = 0, n1 = 0;
        for (int i = 0; i < n; i++) {
            if (train.flipped()[i]) {
                fx.add((double) xy[2 * i]);
                fy.add((double) xy[2 * i + 1]);
            }
            if (train.noisy()[i] == 0) { c0.get(0)[n0] = xy[2 * i]; c0.get(1)[n0++] = xy[2 * i + 1]; }
            else { c1.get(0)[n1] = xy[2 * i]; c1.get(1)[n1++] = xy[2 * i + 1]; }
        }
        List<FieldChart.Points> pts = List.of(
                new FieldChart.Points("label 0", java.util.Arrays.copyOf(c0.get(0), n0), java.util.Arrays.copyOf(c0.get(1), n0),
                        new Color(20, 40, 160), false),
                new FieldChart.Points("label 1", java.util.Arrays.copyOf(c1.get(0), n1), java.util.Arrays.copyOf(c1.get(1), n1),
                        new Color(170, 20, 20), false),
                new FieldChart.Points("flipped label", fx.stream().mapToDouble(Double::doubleValue).toArray(),
                        fy.stream().mapToDouble(Double::doubleValue).toArray(), Color.BLACK, true));
        // the clean boundary, for reference, as a dotted curve
        int m = 200;
        double[] bx = new double[m], by = new double[m];
        for (int i = 0; i < m; i++) { bx[i] = -1 + 2.0 * i / (m - 1); by[i] = 0.5 * Math.sin(Math.PI * bx[i]); }
        List<FieldChart.Points> all = new ArrayList<>(pts);
        all.add(new FieldChart.Points("clean boundary", bx, by, new Color(0, 150, 0), false));
        FieldChart.write(out.resolve("map-" + v.name() + "-n" + n + ".png"), v.name() + ", n = " + n + " (10% labels flipped)",
                -1, 1, -1, 1, cells, cells, field, all);
    }

    /** What the standard deviation over seeds is with fewer than two finite values. */
    public static final String SD_ONE_SEED = "n/a (one seed)";

    /**
     * metrics.json's means over seeds of one (variant, n). {@code cleanTestErrorSd} is the sample standard deviation over
     * seeds, null with one seed (then left out, and {@code clean_test_error_sd_note} says why); {@code modelLipschitzMean} is
     * the mean of max ‖∇ₓp₁‖ on a 101 × 101 grid, a lower estimate of the model's Lipschitz constant.
     */
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    public record Summary(@JsonProperty("clean_test_error_mean") double cleanTestErrorMean,
                          @JsonProperty("clean_test_error_sd") Double cleanTestErrorSd,
                          @JsonProperty("clean_test_error_sd_note") String cleanTestErrorSdNote,
                          @JsonProperty("flipped_reproduced_mean") double flippedReproducedMean,
                          @JsonProperty("model_lipschitz_grid_lower_estimate_mean") double modelLipschitzMean,
                          @JsonProperty("data_lipschitz_noisy_mean") double dataLipschitzNoisyMean,
                          @JsonProperty("data_lipschitz_clean_mean") double dataLipschitzCleanMean) {}

    /**
     * Means over seeds per (variant, n); writes results.csv, summary.csv and the error-vs-n chart. Returns, for metrics.json,
     * each variant's summaries by training-set size.
     */
    public Map<String, Map<String, Summary>> report(List<Row> rows) {
        List<List<Object>> table = new ArrayList<>();
        for (Row r : rows) {
            table.add(List.of(r.variant(), r.n(), r.seed(), r.cleanTestError(), r.noisyTrainAgreement(), r.flippedReproduced(),
                    r.cleanTrainError(), r.modelLipschitz(), r.dataLipschitzNoisy(), r.dataLipschitzClean(), r.seconds()));
        }
        Csv.write(out.resolve("results.csv"), List.of("variant", "n", "seed", "clean_test_error", "noisy_train_agreement",
                "flipped_reproduced", "clean_train_error", "model_lipschitz_grid_lower_estimate", "data_lipschitz_noisy", "data_lipschitz_clean",
                "seconds"), table);
        Map<String, Map<String, Summary>> summary = new LinkedHashMap<>();
        List<List<Object>> sum = new ArrayList<>();
        List<Charts.Series> series = new ArrayList<>();
        for (Variant v : settings.variants()) {
            double[] xs = new double[settings.sizes().size()], ys = new double[xs.length];
            Map<String, Summary> byN = new LinkedHashMap<>();
            for (int k = 0; k < xs.length; k++) {
                int n = settings.sizes().get(k);
                List<Row> rs = rows.stream().filter(r -> r.variant().equals(v.name()) && r.n() == n).toList();
                double err = mean(rs, Row::cleanTestError), sd = sd(rs, Row::cleanTestError), flip = mean(rs, Row::flippedReproduced),
                        lip = mean(rs, Row::modelLipschitz), dataNoisy = mean(rs, Row::dataLipschitzNoisy),
                        dataClean = mean(rs, Row::dataLipschitzClean);
                xs[k] = Math.log10(n);
                ys[k] = err;
                boolean oneSeed = !Double.isFinite(sd);
                sum.add(List.of(v.name(), n, rs.size(), err, oneSeed ? SD_ONE_SEED : sd, flip, lip, dataNoisy, dataClean));
                byN.put(String.valueOf(n), new Summary(err, oneSeed ? null : sd, oneSeed ? SD_ONE_SEED : null, flip, lip, dataNoisy,
                        dataClean));
            }
            series.add(new Charts.Series(v.name(), xs, ys));
            summary.put(v.name(), byN);
        }
        Csv.write(out.resolve("summary.csv"), List.of("variant", "n", "seeds", "clean_test_error_mean", "clean_test_error_sd",
                "flipped_reproduced_mean", "model_lipschitz_grid_lower_estimate_mean", "data_lipschitz_noisy_mean", "data_lipschitz_clean_mean"), sum);
        Charts.line(out.resolve("clean_error_vs_n.png"), "Error against the clean labels (10% of training labels flipped)",
                "log10 training points", "clean test error", series, true);
        return summary;
    }

    private static double mean(List<Row> rs, java.util.function.ToDoubleFunction<Row> f) {
        return rs.stream().mapToDouble(f).filter(Double::isFinite).average().orElse(Double.NaN);
    }

    private static double sd(List<Row> rs, java.util.function.ToDoubleFunction<Row> f) {
        double m = mean(rs, f);
        double[] v = rs.stream().mapToDouble(f).filter(Double::isFinite).toArray();
        if (v.length < 2) return Double.NaN;
        double s = 0;
        for (double x : v) s += (x - m) * (x - m);
        return Math.sqrt(s / (v.length - 1));
    }
}
