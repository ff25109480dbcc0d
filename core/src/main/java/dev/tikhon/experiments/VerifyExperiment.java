package dev.tikhon.experiments;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tikhon.attack.Norm;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import dev.tikhon.regularize.Regularizers;
import dev.tikhon.report.Charts;
import dev.tikhon.report.Csv;
import dev.tikhon.report.Json;
import dev.tikhon.report.Progress;
import dev.tikhon.train.DataInfo;
import dev.tikhon.train.Objective;
import dev.tikhon.train.ObjectiveSpec;
import dev.tikhon.train.TrainConfig;
import dev.tikhon.train.Trainer;
import dev.tikhon.verify.CertifiedTraining;
import dev.tikhon.verify.Verification;
import dev.tikhon.verify.VerificationRun;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Verified robustness of the small CNN on Fashion-MNIST at ℓ∞ ε (0.1): undefended, PGD-7 adversarial training, IBP
 * training (Gowal et al. 2018) and CROWN-IBP training (Zhang et al. 2020). For each, on the first {@code images} test
 * images: clean accuracy, robust accuracy under the attack ensemble (run on every image), verified accuracy by IBP and
 * by CROWN, and the soundness check image by image — verified ⇒ not broken by any attack ⇒ correctly classified; the
 * number of images verified but broken (violations) must be 0. Each variant is a resumable run directory.
 *
 * @see dev.tikhon.verify.CertifiedTraining
 */
public final class VerifyExperiment {

    public record Variant(String name, ObjectiveSpec objective, int epochs) {}

    /**
     * @param epochs          epochs of the undefended and PGD-7 runs
     * @param certifiedEpochs epochs of the IBP and CROWN-IBP runs
     * @param warmup          certified runs: clean epochs before ε grows
     * @param ramp            certified runs: epochs of the ε/κ ramp
     * @param trainImages     train on the first this many training images (0: all)
     */
    public record Config(double eps, int epochs, int certifiedEpochs, double warmup, double ramp, double kappaEnd, int batchSize,
                         String optimizer, double lr, long seed, int images, int attackSteps, int targets, int queries, int boundBatch,
                         int trainImages) {}

    public record Row(String variant, String objective, int epochs, double trainSeconds, double clean, double robust,
                      double verifiedIbp, double verifiedCrown, long violations, long orderViolations,
                      double ibpSecondsPerImage, double crownSecondsPerImage, double attackSeconds) {}

    public static List<Variant> variants(Config c) {
        ObjectiveSpec pgd = Regularizers.spec("pgd", Map.of("norm", "linf", "eps", c.eps(), "pgd-steps", 7));
        CertifiedTraining.Settings schedule = new CertifiedTraining.Settings("linf", c.eps(), c.warmup(), c.ramp(), c.kappaEnd());
        ObjectiveSpec ibp = ObjectiveSpec.of("ibp", schedule), crownIbp = ObjectiveSpec.of("crown-ibp", schedule);
        return List.of(new Variant("undefended", ObjectiveSpec.plain(), c.epochs()), new Variant("pgd-7", pgd, c.epochs()),
                new Variant("ibp", ibp, c.certifiedEpochs()), new Variant("crown-ibp", crownIbp, c.certifiedEpochs()));
    }

    private final DataSets.Loaded data;
    private final DataInfo info;
    private final Config config;
    private final Device device;
    private final Path out;

    public VerifyExperiment(DataSets.Loaded data, DataInfo info, Config config, Device device, Path out) {
        this.data = data;
        this.info = info;
        this.config = config;
        this.device = device;
        this.out = out;
    }

    public List<Row> run(List<Variant> variants, java.util.function.Function<String, Trainer.Listener> listeners) {
        long[] shape = data.train().inputShape();
        ModelSpec spec = Models.spec("cnn", List.of(shape[0], shape[1], shape[2]), data.train().numClasses(), Map.of());
        Dataset images = data.test().head(Math.min(config.images(), data.test().size()));
        Dataset train = config.trainImages() > 0 ? data.train().head(config.trainImages()) : data.train();
        List<Row> rows = new ArrayList<>();
        for (Variant v : variants) {
            TrainConfig c = TrainConfig.builder().epochs(v.epochs()).batchSize(config.batchSize()).optimizer(config.optimizer())
                    .lr(config.lr()).momentum(0.9).schedule("cosine").seed(config.seed()).evalBatchSize(256).objective(v.objective()).build();
            Objective objective = Regularizers.build(v.objective());
            Path dir = out.resolve(v.name());
            // A variant already trained and evaluated with these settings (a resumed or combined experiment) is read back.
            String key = v + " " + c + " on " + train.size() + " images; evaluated at ε " + config.eps() + " on " + images.size()
                    + " images, attacks " + config.attackSteps() + "/" + config.targets() + "/" + config.queries();
            Path saved = dir.resolve("verify-row.json");
            if (java.nio.file.Files.exists(saved) && java.nio.file.Files.exists(dir.resolve("verify.csv"))) {
                Saved prior = Json.read(saved, Saved.class);
                if (prior.key().equals(key)) {
                    rows.add(prior.row());
                    continue;
                }
            }
            Trainer.Outcome o = new Trainer(spec, objective, c, train, null, data.test(), info, device, out.resolve(v.name()),
                    listeners.apply(v.name())).onlySameSettings().run(true);
            VerificationRun.Settings s = new VerificationRun.Settings(List.of(Verification.Method.IBP, Verification.Method.CROWN),
                    Norm.LINF, new double[]{config.eps()}, config.boundBatch(), true, true, config.attackSteps(), 1, config.targets(),
                    config.queries(), config.seed(), 0, 0, dev.tikhon.verify.BranchAndBound.Settings.DEFAULT);
            VerificationRun.Result r;
            try (Progress bar = Progress.start("verify " + v.name() + " (ibp, crown, attacks)", images.size())) {
                r = VerificationRun.run(o.model(), images, s, device, bar::step);
            }
            writeImages(out.resolve(v.name()).resolve("verify.csv"), r);
            long order = r.rows().stream().filter(x -> (!x.broken()[0] && !x.correct()) || (x.verified(0, 0) || x.verified(1, 0)) && !x.correct())
                    .count();
            rows.add(new Row(v.name(), objective.describe(), v.epochs(), o.trainSeconds(), r.cleanAccuracy(), r.robustAccuracy(0),
                    r.verifiedAccuracy(0, 0), r.verifiedAccuracy(1, 0), r.violations(0), order, r.boundSecondsPerImage()[0],
                    r.boundSecondsPerImage()[1], r.attackSeconds()));
            Json.write(saved, new Saved(key, rows.get(rows.size() - 1)));
        }
        return rows;
    }

    /** A variant's row with the settings it was measured under. */
    public record Saved(String key, Row row) {}

    static void writeImages(Path file, VerificationRun.Result r) {
        List<List<Object>> table = new ArrayList<>();
        for (VerificationRun.Row x : r.rows()) {
            table.add(List.of(x.index(), x.label(), x.prediction(), x.correct(), !x.broken()[0], x.brokenBy()[0] == null ? "" : x.brokenBy()[0],
                    x.margin()[0][0], x.margin()[1][0], x.verdict(0, 0), x.verdict(1, 0)));
        }
        Csv.write(file, List.of("image", "label", "prediction", "correct", "robust", "broken_by", "ibp_margin_lower", "crown_margin_lower",
                "ibp_verdict", "crown_verdict"), table);
    }

    /** metrics.json's account of one variant; every verified accuracy is a sound certificate's. */
    public record Summary(String objective, int epochs, @JsonProperty("clean_acc") double cleanAccuracy,
                          @JsonProperty("robust_acc_ensemble") double robustAccuracyEnsemble,
                          @JsonProperty("verified_acc_ibp") double verifiedAccuracyIbp, @JsonProperty("verified_acc_crown") double verifiedAccuracyCrown,
                          @JsonProperty("certificate_kind") String certificateKind,
                          @JsonProperty("violations_verified_but_broken") long violationsVerifiedButBroken,
                          @JsonProperty("order_violations") long orderViolations, @JsonProperty("train_seconds") double trainSeconds,
                          @JsonProperty("ibp_seconds_per_image") double ibpSecondsPerImage,
                          @JsonProperty("crown_seconds_per_image") double crownSecondsPerImage,
                          @JsonProperty("attack_seconds") double attackSeconds) {}

    /** results.csv and the bar charts; returns each variant's summary by name, for metrics.json. */
    public Map<String, Summary> report(List<Row> rows) {
        List<List<Object>> table = new ArrayList<>();
        Map<String, Summary> m = new LinkedHashMap<>();
        for (Row r : rows) {
            table.add(List.of(r.variant(), r.epochs(), r.clean(), r.robust(), r.verifiedIbp(), r.verifiedCrown(), r.violations(),
                    r.orderViolations(), r.trainSeconds(), r.ibpSecondsPerImage(), r.crownSecondsPerImage(), r.objective()));
            m.put(r.variant(), new Summary(r.objective(), r.epochs(), r.clean(), r.robust(), r.verifiedIbp(), r.verifiedCrown(), "sound",
                    r.violations(), r.orderViolations(), r.trainSeconds(), r.ibpSecondsPerImage(), r.crownSecondsPerImage(), r.attackSeconds()));
        }
        Csv.write(out.resolve("results.csv"), List.of("variant", "epochs", "clean_acc", "robust_acc", "verified_acc_ibp", "verified_acc_crown",
                "violations", "order_violations", "train_seconds", "ibp_s_per_image", "crown_s_per_image", "objective"), table);
        List<String> names = rows.stream().map(Row::variant).toList();
        Charts.bar(out.resolve("verified_crown.png"), "Verified accuracy (CROWN), ℓ∞ ε = " + config.eps(), names,
                rows.stream().mapToDouble(Row::verifiedCrown).toArray());
        Charts.bar(out.resolve("verified_ibp.png"), "Verified accuracy (IBP), ℓ∞ ε = " + config.eps(), names,
                rows.stream().mapToDouble(Row::verifiedIbp).toArray());
        Charts.bar(out.resolve("robust.png"), "Robust accuracy (attack ensemble), ℓ∞ ε = " + config.eps(), names,
                rows.stream().mapToDouble(Row::robust).toArray());
        return m;
    }
}
