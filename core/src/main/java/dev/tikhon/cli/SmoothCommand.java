package dev.tikhon.cli;

import dev.tikhon.certify.HeatConfig;
import dev.tikhon.certify.HeatSmoother;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.nn.ScriptedModel;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.report.RunDirectory;
import dev.tikhon.train.DataInfo;
import dev.tikhon.train.Evaluator;
import dev.tikhon.train.TrainConfig;
import dev.tikhon.train.Trainer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon smooth}: heat-smooths a trained model into its own Gaussian average, without labels. */
@Command(name = "smooth", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Heat smoothing (Campbell, Finlay & Oberman): retrain a trained model, without labels, into an approximation "
                + "of its Gaussian average v = E f(x + η), η ~ N(0, σ²I), so that `certify --method heat` classifies "
                + "in one pass; its one-pass radii are heuristic (they hold only insofar as the model is a Gaussian average, which "
                + "one implicit step is not), its probabilistic certificate costs N samples as Cohen's. Schedules: revision (one warm-started epoch, softmax distance, noise on half the batch) and v1 "
                + "(n_T implicit Euler steps, logits). Checkpoints, --resume and progress as for train."})
final class SmoothCommand implements Callable<Integer>, RunFolder.Owner {
    @ArgGroup(exclusive = false, multiplicity = "1")
    ModelSource source;

    @Mixin DataOptions data = new DataOptions();

    @Option(names = "--schedule", defaultValue = "revision", description = "revision or v1. Default: ${DEFAULT-VALUE}.")
    String schedule;

    @Option(names = "--sigma", description = "σ of the Gaussian average. Default: 0.25 (revision), 0.1 (v1).")
    Double sigma;

    @Option(names = "--lambda", description = "Weight λ of the gradient penalty (½ is the exact heat step). Default: 1 (revision), 5 (v1).")
    Double lambda;

    @Option(names = "--kappa", description = "Random projections κ for the Frobenius estimate. Default: 6 (revision), 10 (v1).")
    Integer kappa;

    @Option(names = "--delta", description = "Finite-difference step δ. Default: 0.01 (revision), 0.1 (v1).")
    Double delta;

    @Option(names = "--steps", description = "Implicit Euler steps n_T (v1). Default: 5 (v1), 1 (revision).")
    Integer steps;

    @Option(names = "--epochs", defaultValue = "1", description = "Epochs per implicit step. Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--subset", defaultValue = "0", paramLabel = "N",
            description = "Smooth on the first N training images only (0: all). Default: ${DEFAULT-VALUE}.")
    int subset;

    @Option(names = "--batch-size", defaultValue = "128", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--optimizer", defaultValue = "adam", description = "sgd, adam or adamw. Default: ${DEFAULT-VALUE}.")
    String optimizer;

    @Option(names = "--lr", defaultValue = "1e-4", description = "Learning rate. Default: ${DEFAULT-VALUE}.")
    double lr;

    @Option(names = "--momentum", defaultValue = "0.9", description = "SGD momentum. Default: ${DEFAULT-VALUE}.")
    double momentum;

    @Option(names = "--lr-schedule", defaultValue = "constant", description = "constant, piecewise or cosine (per step). Default: ${DEFAULT-VALUE}.")
    String lrSchedule;

    @Option(names = "--milestones", split = ",", defaultValue = "0.5,0.75", paramLabel = "F,F",
            description = "With --lr-schedule piecewise: the fractions of smoothing at which the learning rate is multiplied by --gamma. "
                    + "Default: ${DEFAULT-VALUE}.")
    List<Double> milestones;

    @Option(names = "--gamma", defaultValue = "0.1", description = "With --lr-schedule piecewise: the factor at each milestone. Default: ${DEFAULT-VALUE}.")
    double gamma;

    @Option(names = "--seed", defaultValue = "0", description = "Seed for shuffling, noise and projections. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--checkpoint-every", defaultValue = "0", paramLabel = "STEPS",
            description = "Also checkpoint every STEPS steps within an epoch (0: at epoch ends only). Default: ${DEFAULT-VALUE}.")
    int checkpointEvery;

    @Mixin ResumeOptions resumeOptions = new ResumeOptions();

    @Option(names = "--out", paramLabel = "DIR", description = "Run directory. Default: runs/smooth.")
    Path out;

    @Mixin RuntimeOptions runtime = new RuntimeOptions();

    @Override public Path outDir() {
        return out != null ? out : Path.of("runs", "smooth");
    }

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec command;

    @Override public Integer call() {
        Device device = runtime.apply();
        if (OptionChecks.given(command, "--momentum") && !optimizer.equalsIgnoreCase("sgd")) {
            OptionChecks.noteIgnored("--momentum", "--optimizer " + optimizer);   // Adam's moments take its place (as in train)
        }
        OptionChecks.checkPiecewise(command, "--lr-schedule", lrSchedule, milestones, gamma);
        HeatConfig d = HeatConfig.defaults(schedule);
        HeatConfig heat = new HeatConfig(schedule, sigma != null ? sigma : d.sigma(), lambda != null ? lambda : d.lambda(),
                kappa != null ? kappa : d.kappa(), delta != null ? delta : d.delta(), steps != null ? steps : d.steps(), epochs);
        Path outDir = outDir();
        RunDirectory run = RunDirectory.create(outDir);
        ModelSource.Loaded base = source.load();
        DataOptions.Choice choice = data.choose(base.meta() != null ? base.meta().data() : null, base.meta() != null ? base.meta().config().seed() : null);
        DataSets.Loaded loaded = choice.load(seed);
        Dataset train = subset > 0 ? loaded.train().head(subset) : loaded.train();
        base.checkFits(train, loaded.description(), choice);
        ModelSpec spec = base.meta() != null ? base.meta().model()
                : source.fileSpec(TrainCommand.boxed(train.inputShape()), train.numClasses());
        base.model().to(device);
        Evaluator.Result before = Evaluator.evaluate(base.model(), loaded.test(), 256, device);
        System.out.println("data:   " + loaded.description() + (subset > 0 ? " (smoothing on the first " + train.size() + " training images)" : ""));
        System.out.println("model:  " + base.name() + String.format(" (test accuracy %.4f before smoothing)", before.accuracy()));
        System.out.println("heat:   " + heat.describe() + " — labels are not used");

        TrainConfig config = TrainConfig.builder().batchSize(batchSize).optimizer(optimizer).lr(lr).momentum(momentum)
                .schedule(lrSchedule).milestones(milestones).gamma(gamma).seed(seed).checkpointEvery(checkpointEvery).objective(heat.toSpec()).build();
        DataInfo info = choice.info(loaded.description(), seed);
        List<ProgressListener> bars = new java.util.ArrayList<>();
        long t0 = System.nanoTime();
        HeatSmoother.Outcome o;
        try {
            o = HeatSmoother.run(base.model(), base.fresh(), spec, heat, config, train, loaded.test(), info, device, outDir,
                    name -> {
                        bars.forEach(ProgressListener::close);
                        ProgressListener p = new ProgressListener(name);
                        bars.add(p);
                        return p;
                    }, resumeOptions.resume);
        } catch (dev.tikhon.train.TrainingDivergedException e) {
            throw RunFolder.diverged(e, "a smaller --lr");   // smooth has no warm-up
        } catch (dev.tikhon.train.Checkpoint.Corrupt e) {
            if (!resumeOptions.resume) throw e;
            throw RunFolder.unreadable(e);
        } finally {
            bars.forEach(ProgressListener::close);
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        ScriptedModel script = base.model() instanceof ScriptedModel s ? s
                : base.model() instanceof dev.tikhon.nn.Sequential q && q.layers().size() == 2
                        && q.layers().get(0) instanceof dev.tikhon.nn.Normalize && q.layers().get(1) instanceof ScriptedModel s ? s : null;
        if (script != null) {
            dev.tikhon.io.AtomicFiles.writeVia(run.resolve("smoothed.pt"), script::save);
            System.out.println("saved:  " + run.resolve("smoothed.pt") + " (TorchScript, for certify --torchscript"
                    + (script == base.model() ? ")" : " with the same --normalize " + source.normalize + ")"));
        }
        if (source.isOnnx()) {
            dev.tikhon.onnx.OnnxExport.write(base.model(), spec.inputShape(), run.resolve("smoothed.onnx"));
            System.out.println("saved:  " + run.resolve("smoothed.onnx") + " (ONNX, for certify --onnx or any ONNX runtime"
                    + (source.normalization() == null ? ")" : "; the normalization is inside it: no --normalize)"));
        }

        Map<String, Object> metrics = RunReport.header("smooth", device);
        metrics.put("started", java.time.Instant.now().minusNanos((long) (wall * 1e9)).toString());
        metrics.put("data", loaded.description());
        metrics.put("training_images", train.size());
        metrics.put("model", base.name());
        metrics.put("heat", heat);
        metrics.put("objective", o.steps().isEmpty() ? "" : heat.toSpec());
        Map<String, Object> opt = new LinkedHashMap<>(Map.of("name", optimizer, "lr", lr, "batch_size", batchSize, "lr_schedule", lrSchedule));
        if (lrSchedule.equalsIgnoreCase("piecewise") || lrSchedule.equalsIgnoreCase("step")) {
            opt.put("milestones", milestones);
            opt.put("gamma", gamma);
        }
        metrics.put("optimizer", opt);
        metrics.put("test_accuracy_before", before.accuracy());
        metrics.put("test_accuracy_after", o.test() != null ? o.test().accuracy() : Double.NaN);
        List<Map<String, Object>> perStep = new java.util.ArrayList<>();
        for (Trainer.Outcome s : o.steps()) {
            Map<String, Object> m = new LinkedHashMap<>(s.history().isEmpty() ? Map.of() : s.history().get(s.history().size() - 1));
            perStep.add(m);
        }
        metrics.put("steps", perStep);
        metrics.put("train_seconds", o.trainSeconds());
        metrics.put("wall_seconds", wall);
        run.writeMetrics(metrics);
        run.writeIndex("Tikhon heat smoothing", base.name() + " on " + loaded.description(), metrics);
        System.out.printf("test accuracy %.4f before, %.4f after smoothing (%.1f s training)%n", before.accuracy(),
                o.test() != null ? o.test().accuracy() : Double.NaN, o.trainSeconds());
        System.out.println("outputs: " + run.path() + " (checkpoint.tkn" + (heat.steps() > 1 ? " in step-N/" : "")
                + ", metrics.json, index.html); next: tikhon certify --method heat --checkpoint "
                + (heat.steps() > 1 ? outDir.resolve("step-" + heat.steps()) : outDir));
        return 0;
    }
}
