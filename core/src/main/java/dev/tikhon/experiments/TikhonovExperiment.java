package dev.tikhon.experiments;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tikhon.data.DataSets;
import dev.tikhon.engine.Device;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import dev.tikhon.attack.Norm;
import dev.tikhon.data.Dataset;
import dev.tikhon.regularize.AdversarialTraining;
import dev.tikhon.regularize.GradientNorms;
import dev.tikhon.report.RunDirectory;
import dev.tikhon.robustness.RobustnessEvaluation;
import dev.tikhon.robustness.RobustnessReport;
import dev.tikhon.regularize.NoiseAugmentation;
import dev.tikhon.regularize.Regularizers;
import dev.tikhon.regularize.Tikhonov;
import dev.tikhon.regularize.TikhonovExact;
import dev.tikhon.regularize.Trades;
import dev.tikhon.report.Charts;
import dev.tikhon.report.Csv;
import dev.tikhon.train.DataInfo;
import dev.tikhon.train.Objective;
import dev.tikhon.train.ObjectiveSpec;
import dev.tikhon.train.TrainConfig;
import dev.tikhon.train.Trainer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The claim of Finlay &amp; Oberman's "Scaleable input gradient regularization": finite-difference
 * Tikhonov regularization shrinks input-gradient norms by an order of magnitude at a few points of
 * clean accuracy, at a fraction of the cost of adversarial training. Trains the small CNN once per
 * variant with the same seed, data and schedule, then measures clean accuracy, mean and max
 * ‖∇ₓℓ‖ on the test set, and training time. Each variant is its own resumable run directory, so a
 * killed experiment continues where it stopped.
 */
public final class TikhonovExperiment {

    /** One trained configuration of the comparison. */
    public record Variant(String name, ObjectiveSpec objective) {}

    /**
     * One row of the result table. {@code robustness} is null when robustness was not evaluated.
     */
    public record Row(String variant, String objective, double testAccuracy, double testLoss, GradientNorms norms,
                      double trainSeconds, double stepsPerSecond, Robustness robustness) {}

    /**
     * The robustness columns of the scaleable-input-gradient paper's tables, on the first {@code images} test images:
     * clean accuracy on those same images (robust accuracy is never above it), robust accuracy under the ℓ∞ attack at each
     * radius, median smallest ℓ2 adversarial distance (DDN) and median L-bound (ℓ2, estimate).
     */
    public record Robustness(int images, double cleanAccuracy, double[] linfEps, double[] linfRobustAccuracy, double medianL2Distance,
                             double medianL2LBound, long boundViolations, List<String> warnings) {}

    /** metrics.json's account of one variant; {@code robustness} is absent when robustness was not evaluated. */
    public record Summary(String objective, @JsonProperty("test_acc") double testAccuracy, @JsonProperty("test_loss") double testLoss,
                          @JsonProperty("input_gradient_norms") GradientNorms inputGradientNorms,
                          @JsonProperty("train_seconds") double trainSeconds, @JsonProperty("steps_per_second") double stepsPerSecond,
                          @JsonInclude(JsonInclude.Include.NON_NULL) RobustnessSummary robustness) {}

    /** The robustness columns in metrics.json: ℓ∞ robust accuracy by radius name (e.g. "8/255"), DDN and L-bound medians. */
    public record RobustnessSummary(int images, @JsonProperty("clean_accuracy_same_images") double cleanAccuracy,
                                    @JsonProperty("linf_robust_accuracy") Map<String, Double> linfRobustAccuracy,
                                    @JsonProperty("median_l2_distance") double medianL2Distance,
                                    @JsonProperty("median_l2_lbound_estimate") double medianL2LBoundEstimate,
                                    @JsonProperty("l_bound_violations") long lBoundViolations, List<String> warnings) {}

    /** How the robustness columns were measured, as metrics.json records it. */
    public record RobustnessSettingsSummary(String linf, String l2, int images) {}

    /** What {@link #report} returns for metrics.json: each variant by name, and the robustness settings (null when not evaluated). */
    public record Report(Map<String, Summary> variants, RobustnessSettingsSummary robustnessSettings) {}

    /** How the robustness columns are measured: an ℓ∞ evaluation at the radii, and an ℓ2 one (DDN and bounds only). */
    public record RobustnessSettings(int images, RobustnessEvaluation.Config linf, RobustnessEvaluation.Config l2) {
        /** ℓ∞ at 2/255 and 8/255 by the ensemble with a reduced budget (APGD 20 steps, 3 targets, Square 300 queries); DDN 100 steps. */
        public static RobustnessSettings standard(int images, long seed) {
            return new RobustnessSettings(images,
                    new RobustnessEvaluation.Config(Norm.LINF, new double[]{2.0 / 255, 8.0 / 255}, "ensemble", 20, 1, 3, 300, 100,
                            false, false, 0, 250, seed),
                    new RobustnessEvaluation.Config(Norm.L2, new double[0], "none", 20, 1, 3, 300, 100, true, true, 0, 250, seed));
        }
    }

    public static List<Variant> variants() {
        ObjectiveSpec p = ObjectiveSpec.plain();
        return List.of(
                new Variant("undefended", p),
                new Variant("tikhonov-fd-0.1", ObjectiveSpec.of("tikhonov", new Tikhonov.Settings(0.1, 0.01, "l2", false))),
                new Variant("tikhonov-fd-1", ObjectiveSpec.of("tikhonov", new Tikhonov.Settings(1, 0.01, "l2", false))),
                new Variant("tikhonov-exact-0.1", ObjectiveSpec.of("tikhonov-exact", new TikhonovExact.Settings(0.1, "l2"))),
                new Variant("pgd-7", ObjectiveSpec.of("pgd", new AdversarialTraining.Settings("linf", 0.1, 7, 0, true))),
                // TRADES with PGD-7's ascent (7 steps of 2.5ε/7 at the same ε): the same inner cost, another objective
                new Variant("trades-6", ObjectiveSpec.of("trades", new Trades.Settings("linf", 0.1, 7, 0, 6))),
                new Variant("noise-0.25", ObjectiveSpec.of("noise", new NoiseAugmentation.Settings(0.25))));
    }

    private final DataSets.Loaded data;
    private final DataInfo dataInfo;
    private final TrainConfig base;
    private final Device device;
    private final Path out;

    private final RobustnessSettings robustness;

    public TikhonovExperiment(DataSets.Loaded data, DataInfo dataInfo, TrainConfig base, Device device, Path out,
                              RobustnessSettings robustness) {
        this.robustness = robustness;
        this.data = data;
        this.dataInfo = dataInfo;
        this.base = base;
        this.device = device;
        this.out = out;
    }

    /** Trains (or resumes) every variant and measures it; {@code listeners} gives a progress listener per variant name. */
    public List<Row> run(List<Variant> variants, java.util.function.Function<String, Trainer.Listener> listeners) {
        ModelSpec spec = Models.spec("cnn", List.of(data.train().inputShape()[0], data.train().inputShape()[1],
                data.train().inputShape()[2]), data.train().numClasses(), Map.of());
        List<Row> rows = new ArrayList<>();
        for (Variant v : variants) {
            TrainConfig c = TrainConfig.builder().epochs(base.epochs()).batchSize(base.batchSize()).lr(base.lr())
                    .momentum(base.momentum()).schedule(base.schedule()).seed(base.seed()).evalBatchSize(base.evalBatchSize())
                    .objective(v.objective()).build();
            Objective objective = Regularizers.build(v.objective());
            Trainer t = new Trainer(spec, objective, c, data.train(), null, data.test(), dataInfo,
                    device, out.resolve(v.name()), listeners.apply(v.name()));
            Trainer.Outcome o = t.onlySameSettings().run(true);
            GradientNorms norms = GradientNorms.measure(o.model(), data.test(), base.evalBatchSize(), device);
            rows.add(new Row(v.name(), objective.describe(), o.test().accuracy(), o.test().loss(), norms,
                    o.trainSeconds(), o.stepsPerSecond(), robustness == null ? null : robustness(o.model(), out.resolve(v.name()))));
        }
        return rows;
    }

    /**
     * Attacks and bounds for one trained variant, written to its robust-linf/ and robust-l2/ run directories; a variant whose
     * evaluations are already there (a resumed experiment) is read back instead of re-attacked.
     */
    private Robustness robustness(dev.tikhon.nn.Module model, Path variantDir) {
        Dataset images = data.test().head(Math.min(robustness.images(), data.test().size()));
        RobustnessEvaluation.Result linf = evaluateOnce(model, images, robustness.linf(), variantDir.resolve("robust-linf"));
        RobustnessEvaluation.Result l2 = evaluateOnce(model, images, robustness.l2(), variantDir.resolve("robust-l2"));
        double[] acc = new double[robustness.linf().eps().length];
        for (int e = 0; e < acc.length; e++) acc[e] = linf.robustAccuracy(e);
        double[] dist = l2.rows().stream().filter(RobustnessEvaluation.Row::correct).mapToDouble(RobustnessEvaluation.Row::minDistance).sorted().toArray();
        double[] lb = l2.rows().stream().filter(RobustnessEvaluation.Row::correct).mapToDouble(RobustnessEvaluation.Row::lBound).sorted().toArray();
        List<String> warnings = new ArrayList<>(linf.warnings());
        warnings.addAll(l2.warnings());
        return new Robustness(images.size(), linf.cleanAccuracy(), robustness.linf().eps(), acc, RobustnessReport.median(dist), RobustnessReport.median(lb), l2.violations(false), warnings);
    }

    private RobustnessEvaluation.Result evaluateOnce(dev.tikhon.nn.Module model, Dataset images, RobustnessEvaluation.Config config, Path dir) {
        Path saved = dir.resolve("evaluation.bin");
        if (java.nio.file.Files.exists(saved)) {
            try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(java.nio.file.Files.newInputStream(saved))) {
                Object o = in.readObject();
                if (o instanceof RobustnessEvaluation.Result r && describe(r.config()).equals(describe(config)) && r.n() == images.size()) return r;
            } catch (java.io.IOException | ClassNotFoundException | RuntimeException e) {
                // unreadable or from another version: evaluate again
            }
        }
        RobustnessEvaluation.Result r = RobustnessEvaluation.run(model, images, config, device);
        RunDirectory run = RunDirectory.create(dir);
        RobustnessReport.write(run, r, new LinkedHashMap<>(Map.of("command", "reproduce tikhonov", "data", data.description())),
                "Robustness of " + dir.getParent().getFileName());
        // atomic and durable: a killed run never leaves a half-written cache
        dev.tikhon.io.AtomicFiles.write(saved, out -> {
            java.io.ObjectOutputStream o = new java.io.ObjectOutputStream(out);
            o.writeObject(r);
            o.flush();
        });
        return r;
    }

    private static String describe(RobustnessEvaluation.Config c) {
        return c.norm() + " " + java.util.Arrays.toString(c.eps()) + " " + c.attack() + " " + c.steps() + " " + c.restarts() + " " + c.targets()
                + " " + c.squareQueries() + " " + c.ddnSteps() + " " + c.minDistance() + " " + c.bounds() + " " + c.lanczosSteps() + " " + c.seed()
                + " " + c.schedule();
    }

    /** results.csv and the plots; returns the metrics for metrics.json. */
    public Report report(List<Row> rows) {
        List<List<Object>> table = new ArrayList<>();
        double baseSeconds = rows.get(0).trainSeconds(), baseGrad = rows.get(0).norms().l2Mean();
        boolean robust = rows.stream().allMatch(r -> r.robustness() != null);
        for (Row r : rows) {
            List<Object> row = new ArrayList<>(List.of(r.variant(), r.testAccuracy(), r.testLoss(), r.norms().l2Mean(), r.norms().l2Max(),
                    r.norms().l1Mean(), r.norms().l1Max(), r.norms().l2Mean() / baseGrad, r.trainSeconds(), r.trainSeconds() / baseSeconds));
            if (robust) {
                row.add(r.robustness().images());
                row.add(r.robustness().cleanAccuracy());
                for (double a : r.robustness().linfRobustAccuracy()) row.add(a);
                row.add(r.robustness().medianL2Distance());
                row.add(r.robustness().medianL2LBound());
            }
            row.add(r.objective());
            table.add(row);
        }
        List<String> header = new ArrayList<>(List.of("variant", "test_acc", "test_loss", "grad_l2_mean", "grad_l2_max",
                "grad_l1_mean", "grad_l1_max", "grad_l2_mean_vs_undefended", "train_seconds", "time_vs_undefended"));
        if (robust) {
            header.add("robust_images");
            header.add("clean_acc_robust_images");
            for (double e : rows.get(0).robustness().linfEps()) header.add("robust_acc_linf_" + epsName(e));
            header.add("median_l2_distance");
            header.add("median_l2_lbound_estimate");
        }
        header.add("objective");
        Csv.write(out.resolve("results.csv"), header, table);
        List<String> names = rows.stream().map(Row::variant).toList();
        Charts.bar(out.resolve("gradient_norms.png"), "Mean ‖∇ₓℓ‖₂ on the test set", names,
                rows.stream().mapToDouble(r -> r.norms().l2Mean()).toArray());
        Charts.bar(out.resolve("accuracy.png"), "Clean test accuracy", names, rows.stream().mapToDouble(Row::testAccuracy).toArray());
        Charts.bar(out.resolve("training_time.png"), "Training time (s)", names, rows.stream().mapToDouble(Row::trainSeconds).toArray());
        Map<String, Summary> m = new LinkedHashMap<>();
        for (Row r : rows) {
            RobustnessSummary rs = null;
            if (r.robustness() != null) {
                Robustness rb = r.robustness();
                Map<String, Double> acc = new LinkedHashMap<>();
                for (int e = 0; e < rb.linfEps().length; e++) acc.put(epsName(rb.linfEps()[e]), rb.linfRobustAccuracy()[e]);
                rs = new RobustnessSummary(rb.images(), rb.cleanAccuracy(), acc, rb.medianL2Distance(), rb.medianL2LBound(), rb.boundViolations(), rb.warnings());
            }
            m.put(r.variant(), new Summary(r.objective(), r.testAccuracy(), r.testLoss(), r.norms(), r.trainSeconds(), r.stepsPerSecond(), rs));
        }
        return new Report(m, robust ? new RobustnessSettingsSummary(describe(robustness.linf()), describe(robustness.l2()),
                robustness.images()) : null);
    }

    /** 2/255 → "2/255" when ε is a whole number of 255ths, else the number. */
    static String epsName(double eps) {
        double k = eps * 255;
        return Math.abs(k - Math.rint(k)) < 1e-9 ? (long) Math.rint(k) + "/255" : String.valueOf(eps);
    }
}
