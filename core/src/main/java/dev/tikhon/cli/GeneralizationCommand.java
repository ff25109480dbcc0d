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
        if (maxPoints == 1 && dataLipschitzRun == null) {   // before the data is read: one point makes no pair
            throw new UserError("--max-points 1: the data set's Lipschitz constant, computed on the measured training points, needs at "
                    + "least two points with different labels; give --max-points 2 or more (0: all), or --data-lipschitz DIR");
        }
        if (dataLipschitzRun != null) {   // before the model and the data are read: it was "File not found", after them
            Path file = Files.isDirectory(dataLipschitzRun) ? dataLipschitzRun.resolve(RunDirectory.METRICS_FILE) : dataLipschitzRun;
            if (!Files.isRegularFile(file)) {
                throw new UserError("--data-lipschitz " + dataLipschitzRun + ": " + (file == dataLipschitzRun ? "no such file or folder"
                        : "no " + RunDirectory.METRICS_FILE + " in it") + "; give the --out folder of a 'tikhon data-lipschitz' run, "
                        + "or drop --data-lipschitz to compute the constant on the measured points");
            }
        }
        Device device = output.apply();
        RunDirectory run = output.create();
        Checkpoint.Loaded ck = Checkpoint.load(checkpoint);
        Module model = ModelSource.builder(ck.meta().model()).get();   // also a heat-smoothed TorchScript or ONNX model's checkpoint
        model.loadStateDict(ck.model());
        Checkpoint.requireFinite(Checkpoint.fileIn(checkpoint, Checkpoint.FILE_NAME), model);
        model.to(device);
        Loss loss = Losses.parse(ck.meta().config().objective().loss());
        DataOptions.Choice choice = data.choose(ck.meta().data(), ck.meta().config().seed());
        String dataName = choice.name();
        DataSets.Loaded loaded = choice.load(ck.meta().config().seed());
        // a recorded constant is the data's: one of another data set or split would be reported as this one's
        DataLipschitz.Result recorded = dataLipschitzRun == null ? null : readDataLipschitz(dataLipschitzRun, dataName, loaded.description());
        Dataset train = subset(loaded.train(), seed), test = subset(loaded.test(), seed + 1);
        dev.tikhon.train.InputFit.check(model, ck.meta().model(), train, ck.meta().model().arch() + " " + checkpoint, loaded.description(), device,
                choice.refit(ck.meta().model().inputShape(), train.inputShape()));
        System.out.println("data:  " + loaded.description() + "; measuring " + train.size() + " train and " + test.size() + " test points");
        System.out.println("model: " + ck.meta().model().arch() + " " + ck.meta().model().options() + ", trained on " + ck.meta().objective());

        DataLipschitz.Result dl;
        String dlSource;
        if (dataLipschitzRun != null) {
            dl = recorded;
            dlSource = "from " + dataLipschitzRun + (dl.subsampled() ? " (computed on a subset: a lower bound of the full set's)" : "");
        } else {
            try {
                dl = DataLipschitz.compute(List.of(train), 0, seed, 512, true);
            } catch (DataLipschitz.TooFewLabels e) {
                throw new UserError(e.getMessage().replace("point(s) given", "measured training point(s)")
                        + (train.size() < loaded.train().size() ? "; give a larger --max-points (0: all " + loaded.train().size() + ")"
                        : "") + ", or take the constant from a data-lipschitz run with --data-lipschitz DIR", e);
            }
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
        writeCsv(run, r);
        run.writeIndex("Tikhon generalization report", ck.meta().objective() + " on " + loaded.description(), metrics);
        System.out.printf(Locale.ROOT, "accuracy  train %.4f  test %.4f  gap %+.4f%n", r.train().accuracy(), r.test().accuracy(), r.accuracyGap());
        System.out.printf(Locale.ROOT, "loss (CE) train %.4f  test %.4f  gap %+.4f%n", r.train().loss(), r.test().loss(), r.lossGap());
        System.out.printf(Locale.ROOT, "model Lipschitz (lower bound), max ‖∂ softmax f/∂x‖₂ (spectral): train %.4g  test %.4g (mean %.4g / %.4g)%n",
                r.modelTrain().max(), r.modelTest().max(), r.modelTrain().mean(), r.modelTest().mean());
        System.out.printf(Locale.ROOT, "loss gradient, max ‖∇ₓℓ‖₂ (%s): train %.4g  test %.4g%n", loss.describe(), r.lossTrain().l2Max(),
                r.lossTest().l2Max());
        System.out.printf(Locale.ROOT, "data Lipschitz: %.4g (0–1 labels), %.4g (one-hot) — %s%n", dl.lipschitz01(), dl.lipschitzOneHot(), dlSource);
        System.out.println("outputs: " + run.path());
        return 0;
    }

    /** generalization.csv: the report's figures in one row, each constant's kind in metrics.json's report.kinds. */
    private static void writeCsv(RunDirectory run, GeneralizationReport r) {
        dev.tikhon.report.Csv.write(run.resolve("generalization.csv"),
                List.of("train_acc", "test_acc", "accuracy_gap", "train_loss", "test_loss", "loss_gap", "model_lipschitz_softmax_train_max",
                        "model_lipschitz_softmax_test_max", "loss_gradient_l2_train_max", "loss_gradient_l2_test_max", "data_lipschitz_01_labels",
                        "data_lipschitz_one_hot_labels", "data_lipschitz_subsampled", "model_over_data_lipschitz_one_hot"),
                List.of(List.of(r.train().accuracy(), r.test().accuracy(), r.accuracyGap(), r.train().loss(), r.test().loss(), r.lossGap(),
                        r.modelTrain().max(), r.modelTest().max(), r.lossTrain().l2Max(), r.lossTest().l2Max(), r.data().lipschitz01(),
                        r.data().lipschitzOneHot(), r.data().subsampled(), r.modelOverData())));
    }

    private Dataset subset(Dataset d, long s) {
        if (maxPoints == 0 || maxPoints >= d.size()) return d;
        return d.subset(KernelMethods.sample(d.size(), maxPoints, s));
    }

    /** The constant a data-lipschitz run recorded, refused unless it was computed on {@code dataName}'s training split as loaded here. */
    private static DataLipschitz.Result readDataLipschitz(Path dir, String dataName, String description) {
        Path file = Files.isDirectory(dir) ? dir.resolve(RunDirectory.METRICS_FILE) : dir;
        JsonNode m = Json.readTree(file);
        JsonNode r = m.path("result");
        if (!r.has("min_distance")) throw new UserError(file + ": not the metrics.json of a data-lipschitz run (no result.min_distance)");
        String theirs = m.path("data").asText(""), split = m.path("split").asText("");
        String name = m.path("data_name").asText(dataName);   // runs before data_name: the description decides
        if (!theirs.equals(description) || !split.equals("train") || !name.equals(dataName)) {
            throw new UserError("--data-lipschitz " + dir + " was computed on " + (theirs.isEmpty() ? "unrecorded data" : theirs)
                    + " [" + (split.isEmpty() ? "split unrecorded" : split) + "], but this report measures " + description
                    + " [train]: run 'tikhon data-lipschitz --data " + dataName + " --split train' on the same data, or drop "
                    + "--data-lipschitz to compute the constant on the measured points");
        }
        if (r.path("nearest_pair").path(0).asInt(-1) < 0) {
            throw new UserError(file + ": the data-lipschitz run found no differently labelled pair (its constant is undefined); rerun "
                    + "it with a larger --max-points (0: all)");
        }
        return new DataLipschitz.Result(r.path("n").asInt(), r.path("subsampled").asBoolean(), r.path("min_distance").asDouble(),
                r.path("lipschitz_01_labels").asDouble(), r.path("lipschitz_one_hot_labels").asDouble(),
                r.path("conflicting_identical_pairs").asLong(), r.path("nearest_pair").path(0).asInt(), r.path("nearest_pair").path(1).asInt(),
                r.path("nearest_pair_labels").path(0).asLong(), r.path("nearest_pair_labels").path(1).asLong(), r.path("seconds").asDouble());
    }
}
