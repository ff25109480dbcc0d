package dev.tikhon.cli;

import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.loss.Loss;
import dev.tikhon.nn.Module;
import dev.tikhon.regularize.GradientNorms;
import dev.tikhon.report.Charts;
import dev.tikhon.report.Csv;
import dev.tikhon.report.RunDirectory;
import dev.tikhon.train.Evaluator;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon eval}: accuracy, loss, per-class accuracy and confusion matrix of a trained model. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluate a Tikhon checkpoint or a TorchScript model saved from PyTorch on a data set.")
final class EvalCommand implements Callable<Integer> {

    @ArgGroup(exclusive = false, multiplicity = "1")
    ModelSource source;

    @Mixin DataOptions data = new DataOptions();

    @Option(names = "--split", defaultValue = "test", description = "test or train. Default: ${DEFAULT-VALUE}.")
    String split;

    @Option(names = "--batch-size", defaultValue = "256", description = "Default: ${DEFAULT-VALUE} (larger batches ran 6× slower per example on 2 cores).")
    int batchSize;

    @Option(names = "--grad-stats", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Also measure mean and max of ‖∇ₓℓ‖ (ℓ2 and ℓ1) over the set (one backward pass per batch). Default: on.")
    boolean gradStats;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of generated data sets and of a folder's held-out split, for data other than the model's own (its own is drawn with the seed it was trained with). Default: ${DEFAULT-VALUE}.")
    long seed;

    @Mixin OutputOptions output = new OutputOptions("runs", "eval");

    @Override public Integer call() {
        Device device = output.apply();
        RunDirectory run = output.create();
        ModelSource.Loaded loaded = source.load(device);
        Module model = loaded.model();
        String modelName = loaded.description();
        ModelSource.Loaded.Data selected = loaded.split(data, split, seed);
        Dataset set = selected.set();
        Loss trainedLoss = loaded.trainedLoss();
        Evaluator.Result r;
        try {
            r = Evaluator.evaluate(model, set, batchSize, device);
        } catch (RuntimeException e) {
            throw loaded.explain(e, set);
        }

        Map<String, Object> metrics = RunReport.header("eval", device);
        metrics.put("model", modelName);
        metrics.put("data", selected.description());
        metrics.put("split", split);
        metrics.put("evaluation", RunReport.evaluation(r));
        metrics.put("training_loss", trainedLoss.describe());
        metrics.put("confusion", r.confusion());
        if (gradStats) {
            GradientNorms g = GradientNorms.measure(model, set, batchSize, device, trainedLoss);
            Map<String, Object> gm = dev.tikhon.report.Json.toMap(g);
            gm.put("loss", trainedLoss.describe());
            metrics.put("input_gradient_norms", gm);
            System.out.printf((trainedLoss == Loss.CROSS_ENTROPY ? "" : "ℓ = " + trainedLoss.describe() + ": ") + "‖∇ₓℓ‖₂ mean %.4g max %.4g, ‖∇ₓℓ‖₁ mean %.4g max %.4g%n", g.l2Mean(), g.l2Max(), g.l1Mean(), g.l1Max());
        }
        writeTables(run, set, r);
        run.writeMetrics(metrics);
        run.writeIndex("Tikhon evaluation", modelName + " on " + selected.description(), metrics);
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
}
