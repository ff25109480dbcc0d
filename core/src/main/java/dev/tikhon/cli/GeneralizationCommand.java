package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tikhon.UserError;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.generalization.DataLipschitz;
import dev.tikhon.generalization.GeneralizationReport;
import dev.tikhon.kernel.KernelMethods;
import dev.tikhon.loss.Loss;
import dev.tikhon.loss.Losses;
import dev.tikhon.nn.Module;
import dev.tikhon.report.Json;
import dev.tikhon.report.RunDirectory;
import dev.tikhon.train.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon generalization}: train/test gap beside the model's and the data's Lipschitz constants. */
@Command(name = "generalization", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Generalization report of a trained model: train and test accuracy and loss, their gap, the model's "
                + "Lipschitz constant measured on the data (max ‖∇ₓ softmax f‖₂, and max ‖∇ₓℓ‖₂ of its training loss) and the data "
                + "set's (max |Δlabel|/‖Δx‖ over training pairs)."})
final class GeneralizationCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, paramLabel = "PATH", description = "A checkpoint.tkn, or the run directory that holds it.")
    Path checkpoint;

    @Mixin DataOptions data = new DataOptions();

    @Option(names = "--max-points", defaultValue = "10000",
            description = "Points of each split measured (seeded random subset; 0: all). Default: ${DEFAULT-VALUE}.")
    int maxPoints;

    @Option(names = "--data-lipschitz", paramLabel = "DIR", description = "Use the data set's constant from a data-lipschitz run "
            + "(its metrics.json) instead of computing it on the measured training points.")
    Path dataLipschitzRun;

    @Option(names = "--batch-size", defaultValue = "256", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--seed", defaultValue = "0", description = "Seed for the subsets and generated data sets. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Mixin OutputOptions output = new OutputOptions("runs", "generalization");

    @Override public Integer call() {
        Device device = output.apply();
        RunDirectory run = output.create();
        Checkpoint.Loaded ck = Checkpoint.load(checkpoint);
        Module model = ModelSource.builder(ck.meta().model()).get();   // also a heat-smoothed TorchScript or ONNX model's checkpoint
        model.loadStateDict(ck.model());
        model.to(device);
        Loss loss = Losses.parse(ck.meta().config().objective().loss());
        String dataName = data.nameOr(ck.meta().data().name());
        Path dataDir = data.dir;
        if (dataDir == null && data.name == null && ck.meta().data().dir() != null) dataDir = Path.of(ck.meta().data().dir());
        DataSets.Loaded loaded = DataSets.load(dataName, dataDir, System.getenv(), ck.meta().config().seed());
        Dataset train = subset(loaded.train(), seed), test = subset(loaded.test(), seed + 1);
        dev.tikhon.train.InputFit.check(model, ck.meta().model(), train, ck.meta().model().arch() + " " + checkpoint, loaded.description(), device);
        System.out.println("data:  " + loaded.description() + "; measuring " + train.size() + " train and " + test.size() + " test points");
        System.out.println("model: " + ck.meta().model().arch() + " " + ck.meta().model().options() + ", trained on " + ck.meta().objective());

        DataLipschitz.Result dl;
        String dlSource;
        if (dataLipschitzRun != null) {
            dl = readDataLipschitz(dataLipschitzRun);
            dlSource = dataLipschitzRun.toString();
        } else {
            dl = DataLipschitz.compute(List.of(train), 0, seed, 512, true);
            dlSource = "computed on the " + train.size() + " measured training points"
                    + (train.size() < loaded.train().size() ? " (a subset: a lower bound of the full set's)" : "");
        }
        GeneralizationReport r = GeneralizationReport.measure(model, loss, train, test, dl, batchSize, device);
        Map<String, Object> metrics = RunReport.header("generalization", device);
        metrics.put("checkpoint", checkpoint.toString());
        metrics.put("model", ck.meta().model());
        metrics.put("objective", ck.meta().objective());
        metrics.put("data", loaded.description());
        metrics.put("data_lipschitz_source", dlSource);
        metrics.put("report", dev.tikhon.report.Json.toMap(r));
        run.writeMetrics(metrics);
        run.writeIndex("Tikhon generalization report", ck.meta().objective() + " on " + loaded.description(), metrics);
        System.out.printf(Locale.ROOT, "accuracy  train %.4f  test %.4f  gap %+.4f%n", r.train().accuracy(), r.test().accuracy(), r.accuracyGap());
        System.out.printf(Locale.ROOT, "loss (CE) train %.4f  test %.4f  gap %+.4f%n", r.train().loss(), r.test().loss(), r.lossGap());
        System.out.printf(Locale.ROOT, "model Lipschitz, max ‖∇ₓ softmax f‖₂: train %.4g  test %.4g (mean %.4g / %.4g)%n",
                r.modelTrain().max(), r.modelTest().max(), r.modelTrain().mean(), r.modelTest().mean());
        System.out.printf(Locale.ROOT, "loss gradient, max ‖∇ₓℓ‖₂ (%s): train %.4g  test %.4g%n", loss.describe(), r.lossTrain().l2Max(),
                r.lossTest().l2Max());
        System.out.printf(Locale.ROOT, "data Lipschitz: %.4g (0–1 labels), %.4g (one-hot) — %s%n", dl.lipschitz01(), dl.lipschitzOneHot(), dlSource);
        System.out.println("outputs: " + run.path());
        return 0;
    }

    private Dataset subset(Dataset d, long s) {
        if (maxPoints == 0 || maxPoints >= d.size()) return d;
        return d.subset(KernelMethods.sample(d.size(), maxPoints, s));
    }

    private static DataLipschitz.Result readDataLipschitz(Path dir) {
        Path file = Files.isDirectory(dir) ? dir.resolve(RunDirectory.METRICS_FILE) : dir;
        JsonNode r = Json.readTree(file).path("result");
        if (!r.has("min_distance")) throw new UserError(file + ": not the metrics.json of a data-lipschitz run (no result.min_distance)");
        return new DataLipschitz.Result(r.path("n").asInt(), r.path("subsampled").asBoolean(), r.path("min_distance").asDouble(),
                r.path("lipschitz_01_labels").asDouble(), r.path("lipschitz_one_hot_labels").asDouble(),
                r.path("conflicting_identical_pairs").asLong(), r.path("nearest_pair").path(0).asInt(), r.path("nearest_pair").path(1).asInt(),
                r.path("nearest_pair_labels").path(0).asLong(), r.path("nearest_pair_labels").path(1).asLong(), r.path("seconds").asDouble());
    }
}
