package dev.tikhon.experiments;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tikhon.certify.CertificationLog;
import dev.tikhon.certify.CertificationRun;
import dev.tikhon.certify.CohenCertification;
import dev.tikhon.certify.HeatCertification;
import dev.tikhon.certify.HeatConfig;
import dev.tikhon.certify.HeatSmoother;
import dev.tikhon.certify.RandomizedSmoothing;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.io.AtomicFiles;
import dev.tikhon.lipschitz.LipschitzCertification;
import dev.tikhon.lipschitz.LipschitzCertifier;
import dev.tikhon.lipschitz.SoundnessCheck;
import dev.tikhon.nn.Module;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import dev.tikhon.regularize.Regularizers;
import dev.tikhon.report.Charts;
import dev.tikhon.report.Csv;
import dev.tikhon.report.Json;
import dev.tikhon.report.Progress;
import dev.tikhon.scaleout.Runner;
import dev.tikhon.train.DataInfo;
import dev.tikhon.train.ObjectiveSpec;
import dev.tikhon.train.TrainConfig;
import dev.tikhon.train.Trainer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Sound one-pass certificates against randomized smoothing on Fashion-MNIST, side by side on the same first test
 * images:
 * <ol>
 *   <li>the undefended small CNN, with the sound Lipschitz certificate;</li>
 *   <li>a Lipschitz-margin (GloRo) trained model, with the sound Lipschitz certificate;</li>
 *   <li>Cohen et al.'s CERTIFY on a noise-trained (σ 0.25) CNN: probabilistic;</li>
 *   <li>the undefended CNN heat-smoothed (revision schedule, σ 0.25), certificate (a): CERTIFY on it with the
 *       single-pass class fixed, probabilistic.</li>
 * </ol>
 * Every sound certificate is attacked inside its radius ({@link SoundnessCheck}); violations must be 0. Models are
 * resumable run directories under the output directory (rerunning continues them; a finished one is loaded), and so
 * is Monte Carlo certification, image by image ({@code <variant>/certify.jsonl}); a soundness check already done on the
 * same model, certificates and attacks is kept ({@code <variant>/soundness.json}). Monte Carlo certification is the
 * expensive part: its image count and N are budget options, reported as used.
 */
public final class LipschitzCertifyExperiment {

    /**
     * @param baseEpochs      epochs of the undefended and the noise-trained CNN (SGD, Tikhon's defaults)
     * @param lipArch         architecture of the Lipschitz-margin model (mlp or cnn)
     * @param lipReg          gloro or lipschitz-margin
     * @param lipEps          the ε it is trained for
     * @param lipEpochs       its epochs (Adam)
     * @param lipLr           its Adam learning rate
     * @param smoothSubset    training images of the heat-smoothing epoch (0: all)
     * @param heat            the heat-smoothing settings
     * @param smoothLr        Adam learning rate of heat smoothing
     * @param images          test images of the sound certificates
     * @param mcImages        test images of the Monte Carlo certificates (iii), (iv)
     * @param n               CERTIFY's N
     * @param predictImages   images PREDICT (N samples) is timed on, for (iii)'s classification time
     * @param ddnImages       certified images per sound model attacked by DDN (the first ones)
     * @param ddnSteps        DDN steps of the soundness check
     * @param ensembleImages  certified images per sound model attacked by the ensemble at their radius
     * @param attackSteps     APGD steps of the ensemble
     */
    public record Budget(int baseEpochs, String lipArch, String lipReg, double lipEps, int lipEpochs, double lipLr, int smoothSubset,
                         HeatConfig heat, double smoothLr, int images, int mcImages, int n, int predictImages, int ddnImages, int ddnSteps,
                         int ensembleImages, int attackSteps, long seed) {}

    /** One row of the table. */
    public record Row(String variant, String kind, int images, double cleanAccuracy, double[] certified, double classifyMs,
                      double certifyMs, String violations) {}

    /**
     * The experiment's result.
     *
     * @param variants each variant's certification summary (its certificate's {@code summary()}, with the soundness check of
     *                 the sound ones), by label
     * @param certificationSpeedupOverCohen certify time per image of Cohen's CERTIFY over the Lipschitz-margin model's sound one
     */
    public record Result(Budget budget, Map<String, Map<String, Object>> variants, List<Row> rows,
                         @JsonProperty("certification_speedup_over_cohen") double certificationSpeedupOverCohen) {}

    private final DataSets.Loaded data;
    private final DataInfo info;
    private final Budget budget;
    private final Device device;
    private final Path out;

    public LipschitzCertifyExperiment(DataSets.Loaded data, DataInfo info, Budget budget, Device device, Path out) {
        this.data = data;
        this.info = info;
        this.budget = budget;
        this.device = device;
        this.out = out;
    }

    private ModelSpec spec(String arch) {
        long[] s = data.train().inputShape();
        return Models.spec(arch, List.of(s[0], s[1], s[2]), data.train().numClasses(), Map.of());
    }

    private Module train(String name, String arch, ObjectiveSpec objective, TrainConfig c, Function<String, Trainer.Listener> listeners) {
        Trainer t = new Trainer(spec(arch), Regularizers.build(objective), c, data.train(), null, data.test(), info, device,
                out.resolve(name), listeners.apply(name));
        return t.onlySameSettings().run(true).model();
    }

    /** Trains (or loads) every model, certifies, attacks the sound certificates; writes results.csv and the plot. */
    public Result run(Function<String, Trainer.Listener> listeners) {
        TrainConfig base = TrainConfig.builder().epochs(budget.baseEpochs()).seed(budget.seed()).build();
        Module undefended = train("undefended", "cnn", ObjectiveSpec.plain(), base, listeners);
        ObjectiveSpec lip = Regularizers.spec(budget.lipReg(), Map.of("eps", budget.lipEps()));
        TrainConfig lipConfig = TrainConfig.builder().epochs(budget.lipEpochs()).optimizer("adam").lr(budget.lipLr()).seed(budget.seed())
                .objective(lip).build();
        Module lipschitz = train("lipschitz-margin", budget.lipArch(), lip, lipConfig, listeners);
        Map<String, Map<String, Object>> variants = new LinkedHashMap<>();
        List<Row> rows = new ArrayList<>();
        List<Charts.Series> curves = new ArrayList<>();
        for (Object[] v : new Object[][]{{"undefended CNN, sound", "undefended", undefended},
                {budget.lipReg() + " " + budget.lipArch() + " ε " + budget.lipEps() + ", sound", "lipschitz-margin", lipschitz}}) {
            String label = (String) v[0];
            Module m = (Module) v[2];
            LipschitzCertification.Result r;
            try (Progress p = Progress.start("certify " + v[1] + " (lipschitz)", budget.images())) {
                r = LipschitzCertification.run(m, data.test(), budget.images(), dev.tikhon.attack.Norm.L2, 100, device, p);
            }
            SoundnessCheck.Result check = soundness((String) v[1], m, r);
            Map<String, Object> summary = new LinkedHashMap<>(r.summary());
            summary.put("soundness_check", check);
            variants.put(label, summary);
            save((String) v[1], summary, r);
            double[] acc = new double[CertificationRun.RADII.length];
            for (int k = 0; k < acc.length; k++) acc[k] = r.certifiedAccuracy(CertificationRun.RADII[k]);
            rows.add(new Row(label, "sound", r.images().size(), r.cleanAccuracy(), acc, 1000 * r.meanSeconds(), 1000 * r.meanSeconds(),
                    check.violations() + " of " + check.tested() + " (DDN), " + check.ensembleViolations() + " of " + check.ensembleTested()
                            + " (ensemble)"));
            for (Charts.Series c : r.asCertificationRun().curves("", 1.25)) curves.add(new Charts.Series(label, c.x(), c.y(), c.stroke()));
        }

        // the Monte Carlo side: its models are trained after the sound certificates are written
        ObjectiveSpec noise = Regularizers.spec("noise", Map.of("sigma", 0.25));
        Module noise25 = train("noise-0.25", "cnn", noise, TrainConfig.builder().epochs(budget.baseEpochs()).seed(budget.seed())
                .objective(noise).build(), listeners);
        Module heat = smooth(undefended, listeners);
        RandomizedSmoothing rs = new RandomizedSmoothing(new RandomizedSmoothing.Config(0.25, 100, budget.n(), 0.001,
                RandomizedSmoothing.DEFAULT_NOISE_BATCH, budget.seed()));
        CertificationRun.Result cohen = monteCarlo("noise-0.25", "cohen, N " + budget.n(), noise25,
                CohenCertification.plan(rs, budget.predictImages()), rs.config());
        CertificationRun.Result heatRun = monteCarlo("heat-revision", "a, N " + budget.n(), heat,
                HeatCertification.plan(budget.heat().sigma(), rs), rs.config());
        String cohenLabel = "Cohen, noise σ 0.25 CNN, N " + budget.n();
        String heatLabel = "heat CNN σ " + budget.heat().sigma() + " (a), N " + budget.n();
        for (Object[] v : new Object[][]{{cohenLabel, "noise-0.25", cohen, "cohen"}, {heatLabel, "heat-revision", heatRun, HeatCertification.MONTE_CARLO}}) {
            CertificationRun.Result r = (CertificationRun.Result) v[2];
            String cert = (String) v[3];
            Map<String, Object> summary = new LinkedHashMap<>(r.summary());
            variants.put((String) v[0], summary);
            save((String) v[1], summary, null);
            r.writeCsv(out.resolve((String) v[1]).resolve("certify.csv"));
            double[] acc = new double[CertificationRun.RADII.length];
            for (int k = 0; k < acc.length; k++) acc[k] = r.certifiedAccuracy(cert, CertificationRun.RADII[k]);
            double classify = cert.equals("cohen") ? 1000 * r.predictSeconds() : 1000 * r.meanClassifySeconds();
            rows.add(new Row((String) v[0], "probabilistic (α 0.001)", r.images().size(), r.cleanAccuracy(), acc, classify,
                    1000 * r.meanCertifySeconds(), "n/a (holds for the smoothed classifier with probability 1 − α)"));
            Charts.Series s = r.curves("", 1.25).get(r.certificateNames().indexOf(cert));   // curves come in certificate order
            curves.add(new Charts.Series(v[0] + ", probabilistic", s.x(), s.y(), s.stroke()));
        }

        List<String> header = new ArrayList<>(List.of("variant", "kind", "images", "clean_acc"));
        for (double radius : CertificationRun.RADII) header.add("r=" + radius);
        header.addAll(List.of("classify_ms_per_image", "certify_ms_per_image", "violations"));
        List<List<Object>> table = new ArrayList<>();
        for (Row r : rows) {
            List<Object> line = new ArrayList<>(List.of(r.variant(), r.kind(), r.images(), r.cleanAccuracy()));
            for (double a : r.certified()) line.add(a);
            line.add(Double.isNaN(r.classifyMs()) ? "" : r.classifyMs());
            line.add(r.certifyMs());
            line.add(r.violations());
            table.add(line);
        }
        Csv.write(out.resolve("results.csv"), header, table);
        Charts.line(out.resolve("certified_accuracy.png"), "Certified accuracy, Fashion-MNIST (sound vs probabilistic)", "ℓ2 radius",
                "certified accuracy", curves);
        double lipMs = rows.get(1).certifyMs(), cohenMs = rows.get(2).certifyMs();
        return new Result(budget, variants, rows, cohenMs / lipMs);
    }

    /**
     * Certifies the first {@code mcImages} test images with {@code plan}, keeping each image in {@code <name>/certify.jsonl}
     * as it is certified, so that a stopped experiment continues where it stopped: the images kept are reused when the
     * model's checkpoint and the plan are the ones they were certified with (recorded in {@code certify.key}), and
     * certified again otherwise. The noise of each image derives from its index, so a continued run equals one that was
     * never stopped (times aside).
     */
    private CertificationRun.Result monteCarlo(String name, String what, Module model, CertificationRun.Plan plan,
                                               RandomizedSmoothing.Config config) {
        Path dir = out.resolve(name);
        Path keyFile = dir.resolve(KEY);
        Path checkpoint = dir.resolve(dev.tikhon.train.Checkpoint.FILE_NAME);
        // without its checkpoint the model cannot be named, and nothing kept is trusted
        String key = Files.exists(checkpoint) ? plan.description() + "; " + config + "; model checkpoint sha256 "
                + AtomicFiles.sha256(checkpoint) : null;
        boolean resume;
        try {
            resume = key != null && Files.exists(keyFile) && Files.readString(keyFile).equals(key);
            if (key == null) Files.deleteIfExists(keyFile);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        try (CertificationLog log = CertificationLog.open(dir, plan.columns().get(0), resume)) {
            if (!log.done().isEmpty()) System.out.println("resume: " + log.done().size() + " image(s) of " + name + " already certified");
            if (key != null) AtomicFiles.writeString(keyFile, key);
            try (Progress p = Progress.start("certify " + name + " (" + what + ")", budget.mcImages())) {
                return CertificationRun.run(Runner.local(model, data.test(), device), model, data.test(), budget.mcImages(), plan, device, p,
                        log.done(), log::append);
            }
        }
    }

    /** The file beside a Monte Carlo variant's {@code certify.jsonl} that names the model and plan its images were certified with. */
    static final String KEY = "certify.key";

    /** The file in a sound variant's folder that keeps its soundness check with the key of what it was computed from. */
    static final String SOUNDNESS = "soundness.json";

    /** What {@value #SOUNDNESS} holds: the check and the key of everything that determined it. */
    record KeptCheck(String key, SoundnessCheck.Result result) {}

    /**
     * The soundness check of a sound variant's certificates: the one kept in {@code <name>/soundness.json} when it was
     * computed from the same model (the SHA-256 of its parameters and buffers), the same certificates and test images
     * (indices, labels, predictions, radii and input values), the same attack budget, seed, device, thread count and
     * Tikhon version; otherwise the attacks are run and their result kept (atomically). A rerun in the same folder thus
     * attacks nothing it attacked before, and a changed setting attacks again.
     */
    private SoundnessCheck.Result soundness(String name, Module model, LipschitzCertification.Result certified) {
        Path file = out.resolve(name).resolve(SOUNDNESS);
        String key = soundnessKey(budget, device, dev.tikhon.engine.Engine.threads(), modelSha256(model), imagesSha256(certified.images()));
        SoundnessCheck.Result kept = kept(file, key);
        if (kept != null) {
            System.out.println("resume: soundness check of " + name + " kept (same model, certificates and attacks)");
            return kept;
        }
        SoundnessCheck.Result check = SoundnessCheck.run(model, data.test(), certified.images(), budget.ddnImages(), budget.ddnSteps(),
                budget.ensembleImages(), budget.attackSteps(), SOUNDNESS_BATCH, budget.seed(), device);
        Json.write(file, new KeptCheck(key, check));
        return check;
    }

    /** The batch of the soundness check's DDN attacks. */
    private static final int SOUNDNESS_BATCH = 100;

    /** The key a soundness check is kept under: everything its result depends on, the model and images by their hashes. */
    static String soundnessKey(Budget budget, Device device, int threads, String modelSha256, String imagesSha256) {
        return "tikhon " + dev.tikhon.Version.VERSION + "; DDN " + budget.ddnImages() + " images × " + budget.ddnSteps()
                + " steps; ensemble " + budget.ensembleImages() + " images × " + budget.attackSteps() + " steps; batch " + SOUNDNESS_BATCH
                + "; seed " + budget.seed() + "; " + device + ", " + threads + " thread(s); model sha256 " + modelSha256
                + "; images sha256 " + imagesSha256;
    }

    /** The check kept in {@code file} under {@code key}; null when there is none, it is unreadable, or its key is another. */
    static SoundnessCheck.Result kept(Path file, String key) {
        if (!Files.isRegularFile(file)) return null;
        try {
            KeptCheck kept = Json.read(file, KeptCheck.class);
            return key.equals(kept.key()) ? kept.result() : null;
        } catch (RuntimeException e) {
            return null;   // unreadable: attacked again and written anew
        }
    }

    /** SHA-256 of a model's parameters and buffers: names, dtypes, shapes and values. */
    static String modelSha256(Module model) {
        MessageDigest d = AtomicFiles.sha256();
        try (Scope s = Scope.open()) {
            for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
                Tensor t = e.getValue();
                d.update((e.getKey() + " " + t.dtype() + " " + java.util.Arrays.toString(t.shape()) + "\n").getBytes(StandardCharsets.UTF_8));
                update(d, t.toDoubleArray());
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }

    /** SHA-256 of the certified images as the check reads them: index, label, prediction, radius, and their test inputs. */
    private String imagesSha256(List<LipschitzCertification.Image> images) {
        MessageDigest d = AtomicFiles.sha256();
        long[] ids = new long[images.size()];
        for (int i = 0; i < ids.length; i++) {
            LipschitzCertification.Image im = images.get(i);
            ids[i] = im.index();
            d.update((im.index() + " " + im.label() + " " + im.prediction() + " " + Double.toHexString(im.radius()) + "\n")
                    .getBytes(StandardCharsets.UTF_8));
        }
        if (ids.length > 0) {
            try (Scope s = Scope.open()) {
                Tensor idx = Tensor.fromLongs(ids, ids.length);
                update(d, data.test().batchInputs(idx).toDoubleArray());
                for (long label : data.test().batchLabels(idx).toLongArray()) d.update(Long.toString(label).getBytes(StandardCharsets.UTF_8));
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }

    private static void update(MessageDigest d, double[] values) {
        ByteBuffer b = ByteBuffer.allocate(8 * values.length);
        for (double x : values) b.putDouble(x);
        d.update(b.array());
    }

    private Module smooth(Module undefended, Function<String, Trainer.Listener> listeners) {
        Module start = Models.build(spec("cnn"));
        start.loadStateDict(undefended.stateDict());
        Dataset train = budget.smoothSubset() > 0 ? data.train().head(budget.smoothSubset()) : data.train();
        TrainConfig c = TrainConfig.builder().optimizer("adam").lr(budget.smoothLr()).schedule("constant").seed(budget.seed()).build();
        return HeatSmoother.run(start, () -> Models.build(spec("cnn")), spec("cnn"), budget.heat(), c, train, data.test(), info, device,
                out.resolve("heat-revision"), step -> listeners.apply("heat-revision " + step), true, true).model();
    }

    private void save(String name, Map<String, Object> summary, LipschitzCertification.Result r) {
        Path dir = out.resolve(name);
        try {
            Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        if (r != null) r.writeCsv(dir.resolve("certify.csv"));
        Json.write(dir.resolve("certify.json"), summary);
    }
}
