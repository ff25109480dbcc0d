package dev.tikhon.cli;

import dev.tikhon.engine.Device;
import dev.tikhon.engine.Tensor;
import dev.tikhon.flow.FlowModel;
import dev.tikhon.flow.FlowPlots;
import dev.tikhon.pipeline.FlowRuns;
import dev.tikhon.flow.Flows;
import dev.tikhon.ode.SolverOptions;
import dev.tikhon.report.CsvWriter;
import dev.tikhon.report.HtmlReport;
import dev.tikhon.report.RunDirectory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon flow sample}. */
@Command(name = "sample", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Samples of a trained flow (ODE from the Gaussian back to the data, Dopri5). For 2-D data: samples.csv, "
                + "density.png (model density on a grid), samples.png and data.png (histograms); for images: samples.png "
                + "and data.png (grids of sampled and of real test images).")
final class FlowSample implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, paramLabel = "PATH", description = "A flow run directory or its flow-checkpoint.tkn.")
    Path checkpoint;

    @Option(names = "--samples", description = "Default: 5000 (2-D data), 50 (images).")
    Integer samples;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Folder with the IDX files of an image set (as in flow train).")
    Path dataDir;

    @Option(names = "--grid", defaultValue = "100", description = "Grid cells per side of the density picture. Default: ${DEFAULT-VALUE}.")
    int grid;

    @Mixin FlowCommand.EvalSolver solverOptions = new FlowCommand.EvalSolver();

    @Option(names = "--out", paramLabel = "DIR", description = "Default: CHECKPOINT-DIR/samples.")
    Path out;

    @Mixin RuntimeOptions runtime = new RuntimeOptions();

    @Override public Integer call() {
        Device device = runtime.apply();
        FlowRuns.Restored r = FlowRuns.load(checkpoint, device);
        SolverOptions solver = solverOptions.solver();
        RunDirectory run = RunDirectory.create(out != null ? out : FlowCommand.runDir(checkpoint).resolve("samples"));
        dev.tikhon.engine.Rng.seed(r.config().seed());
        FlowModel model = r.model();
        if (!Flows.isToy(r.config().data())) {
            int n = samples != null ? samples : FlowRuns.IMAGE_SAMPLES;
            Tensor real = Flows.imageHeldOut(Flows.loadImages(r.config().data(), dataDir).test(), n);
            List<String> images = FlowPlots.images(run.path(), model, real, solver, n);
            Map<String, Object> metrics = new LinkedHashMap<>(RunReport.header("flow sample", device));
            metrics.put("checkpoint", checkpoint.toString());
            metrics.put("samples", n);
            metrics.put("solver", solver.describe());
            run.writeMetrics(metrics);
            HtmlReport.write(run.path(), "Tikhon flow samples", r.config().describe(), metrics, images);
            System.out.println("outputs: " + run.path() + " (" + String.join(", ", images) + ", index.html)");
            return 0;
        }
        int samples = this.samples != null ? this.samples : 5000;
        Tensor data = Flows.toyHeldOut(r.config().data(), samples, r.config().seed()).to(device);
        List<String> images = FlowPlots.toy(run.path(), r.config().data(), model, data, solver, grid);
        Tensor x = model.sample(samples, solver).cpu();
        double[] xy = x.toDoubleArray();
        try (CsvWriter csv = CsvWriter.open(run.resolve("samples.csv"), List.of("x", "y"))) {
            for (int i = 0; i + 1 < xy.length; i += 2) csv.writeRow(List.of(xy[i], xy[i + 1]));
        }
        Map<String, Object> metrics = new LinkedHashMap<>(RunReport.header("flow sample", device));
        metrics.put("checkpoint", checkpoint.toString());
        metrics.put("samples", samples);
        metrics.put("solver", solver.describe());
        run.writeMetrics(metrics);
        HtmlReport.write(run.path(), "Tikhon flow samples", r.config().describe(), metrics, images);
        System.out.println("outputs: " + run.path() + " (" + String.join(", ", images) + ", samples.csv, index.html)");
        return 0;
    }
}
