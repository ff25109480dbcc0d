package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.loss.Loss;
import dev.tikhon.loss.Losses;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.ScriptedModel;
import dev.tikhon.nn.models.Models;
import dev.tikhon.regularize.GradientNorms;
import dev.tikhon.report.Charts;
import dev.tikhon.report.Csv;
import dev.tikhon.report.RunDirectory;
import dev.tikhon.train.Checkpoint;
import dev.tikhon.train.Evaluator;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon eval}: accuracy, loss, per-class accuracy and confusion matrix of a trained model. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluate a Tikhon checkpoint or a TorchScript model saved from PyTorch on a data set.")
final class EvalCommand implements Callable<Integer> {

    static final class Source {
        @Option(names = "--checkpoint", paramLabel = "PATH", required = true,
                description = "A checkpoint.tkn, or the run directory that holds it.")
        Path checkpoint;

        @Option(names = "--torchscript", paramLabel = "FILE", required = true,
                description = "A TorchScript model (torch.jit.script(model).save(FILE)) taking [N,C,H,W] inputs in [0,1] and returning logits.")
        Path torchscript;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Mixin DataOptions data = new DataOptions();

    @Option(names = "--split", defaultValue = "test", description = "test or train. Default: ${DEFAULT-VALUE}.")
    String split;

    @Option(names = "--batch-size", defaultValue = "256", description = "Default: ${DEFAULT-VALUE} (larger batches ran 6× slower per example on 2 cores).")
    int batchSize;

    @Option(names = "--grad-stats", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Also measure mean and max of ‖∇ₓℓ‖ (ℓ2 and ℓ1) over the set (one backward pass per batch). Default: on.")
    boolean gradStats;

    @Option(names = "--seed", defaultValue = "0", description = "Seed for generated data sets. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--out", paramLabel = "DIR", description = "Output directory. Default: runs/eval.")
    Path out;

    @Mixin RuntimeOptions runtime = new RuntimeOptions();

    @Override public Integer call() {
        Device device = runtime.apply();
        RunDirectory run = RunDirectory.create(out != null ? out : Path.of("runs", "eval"));
        Module model;
        String dataName;
        Path dataDir = data.dir;
        String modelName;
        Loss trainedLoss = Loss.CROSS_ENTROPY;
        if (source.checkpoint != null) {
            Checkpoint.Loaded ck = Checkpoint.load(source.checkpoint);
            model = Models.build(ck.meta().model());
            model.loadStateDict(ck.model());
            dataName = data.nameOr(ck.meta().data().name());
            if (dataDir == null && data.name == null && ck.meta().data().dir() != null) dataDir = Path.of(ck.meta().data().dir());
            modelName = ck.meta().model().arch() + " " + ck.meta().model().options();
            trainedLoss = Losses.parse(ck.meta().config().objective().loss());
        } else {
            model = ScriptedModel.load(source.torchscript);
            dataName = data.nameOr(DataOptions.DEFAULT);
            modelName = "TorchScript " + source.torchscript;
        }
        model.to(device);
        DataSets.Loaded loaded = DataSets.load(dataName, dataDir, System.getenv(), seed);
        Dataset set;
        switch (split) {
            case "test": set = loaded.test(); break;
            case "train": set = loaded.train(); break;
            default: throw new UserError("unknown --split '" + split + "': use test or train");
        }
        System.out.println("data:  " + loaded.description() + " [" + split + ", " + set.size() + " examples]");
        System.out.println("model: " + modelName);
        Evaluator.Result r;
        try {
            r = Evaluator.evaluate(model, set, batchSize, device);
        } catch (RuntimeException e) {
            if (source.torchscript != null) {
                throw new UserError(source.torchscript + ": forward failed on inputs of shape "
                        + Arrays.toString(set.inputShape()) + " (batched, float32 in [0,1]): " + firstLine(e.getMessage()), e);
            }
            throw e;
        }

        Map<String, Object> metrics = RunReport.header("eval", device);
        metrics.put("model", modelName);
        metrics.put("data", loaded.description());
        metrics.put("split", split);
        metrics.put("evaluation", RunReport.evaluation(r));
        metrics.put("training_loss", trainedLoss.describe());
        metrics.put("confusion", r.confusion());
        if (gradStats) {
            GradientNorms g = GradientNorms.measure(model, set, batchSize, device, trainedLoss);
            Map<String, Object> gm = new java.util.LinkedHashMap<>(g.toMap());
            gm.put("loss", trainedLoss.describe());
            metrics.put("input_gradient_norms", gm);
            System.out.printf((trainedLoss == Loss.CROSS_ENTROPY ? "" : "ℓ = " + trainedLoss.describe() + ": ") + "‖∇ₓℓ‖₂ mean %.4g max %.4g, ‖∇ₓℓ‖₁ mean %.4g max %.4g%n", g.l2Mean(), g.l2Max(), g.l1Mean(), g.l1Max());
        }
        writeTables(run, set, r);
        run.writeMetrics(metrics);
        run.writeIndex("Tikhon evaluation", modelName + " on " + loaded.description(), metrics);
        System.out.printf("%s accuracy %.4f, loss %.4f on %d examples (%.3f ms per example)%n", split, r.accuracy(), r.loss(),
                r.n(), 1000 * r.seconds() / r.n());
        System.out.println("outputs: " + run.path().toAbsolutePath());
        return 0;
    }

    private static void writeTables(RunDirectory run, Dataset set, Evaluator.Result r) {
        List<String> names = set.classNames();
        double[] acc = r.perClassAccuracy();
        List<List<Object>> rows = new ArrayList<>();
        for (int c = 0; c < acc.length; c++) {
            long total = Arrays.stream(r.confusion()[c]).sum();
            rows.add(List.of(c, names.get(c), total, acc[c]));
        }
        Csv.write(run.resolve("per_class.csv"), List.of("class", "name", "examples", "accuracy"), rows);
        List<String> header = new ArrayList<>(List.of("label\\prediction"));
        header.addAll(names);
        List<List<Object>> conf = new ArrayList<>();
        for (int c = 0; c < acc.length; c++) {
            List<Object> row = new ArrayList<>(List.of(names.get(c)));
            for (long v : r.confusion()[c]) row.add(v);
            conf.add(row);
        }
        Csv.write(run.resolve("confusion.csv"), header, conf);
        Charts.bar(run.resolve("per_class_accuracy.png"), "Accuracy per class", names, acc);
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }
}
