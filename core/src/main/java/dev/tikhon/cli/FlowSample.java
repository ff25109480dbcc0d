package dev.tikhon.cli;

import dev.tikhon.engine.Tensor;
import dev.tikhon.flow.FlowModel;
import dev.tikhon.flow.FlowPlots;
import dev.tikhon.pipeline.FlowRuns;
import dev.tikhon.flow.Flows;
import dev.tikhon.report.CsvWriter;
import dev.tikhon.report.HtmlReport;
import dev.tikhon.report.RunDirectory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon flow sample}. */
@Command(name = "sample", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Samples of a trained flow (ODE from the Gaussian back to the data, Dopri5). For 2-D data: samples.csv, "
                + "density.png (model density on a grid), samples.png and data.png (histograms); for images: samples.png "
                + "and data.png (grids of sampled and of real test images).")
final class FlowSample implements Callable<Integer> {
    @Mixin FlowCheckpoint flow = new FlowCheckpoint();

    @Option(names = "--samples", description = "Default: 5000 (2-D data), 50 (images).")
    Integer samples;

    @Option(names = "--grid", defaultValue = "100", description = "Grid cells per side of the density picture. Default: ${DEFAULT-VALUE}.")
    int grid;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override public Integer call() {
        FlowCheckpoint.Opened o = flow.open("samples", "flow sample", spec);
        RunDirectory run = o.run();
        String data = o.config().data();
        dev.tikhon.engine.Rng.seed(o.config().training().seed());
        FlowModel model = o.flow().model();
        if (!Flows.isToy(data)) {
            if (OptionChecks.given(spec, "--grid")) OptionChecks.noteIgnored("--grid", "an image flow (it draws no density grid)");
            int n = samples != null ? samples : FlowRuns.IMAGE_SAMPLES;
            Tensor real = Flows.imageHeldOut(Flows.loadImages(data, flow.dataDir).test(), n);
            return report(o, n, FlowPlots.images(run.path(), model, real, o.solver(), n), "");
        }
        int n = samples != null ? samples : 5000;
        Tensor real = Flows.toyHeldOut(data, n, o.config().training().seed()).to(o.device());
        List<String> images = FlowPlots.toy(run.path(), data, model, real, o.solver(), grid);
        double[] xy = model.sample(n, o.solver()).cpu().toDoubleArray();
        // replaced, never appended to: a rerun into the same folder leaves exactly these n samples
        dev.tikhon.io.AtomicFiles.writeVia(run.resolve("samples.csv"), tmp -> {
            try (CsvWriter csv = CsvWriter.open(tmp, List.of("x", "y"))) {
                for (int i = 0; i + 1 < xy.length; i += 2) csv.writeRow(List.of(xy[i], xy[i + 1]));
            }
        });
        return report(o, n, images, ", samples.csv");
    }

    private static int report(FlowCheckpoint.Opened o, int samples, List<String> images, String moreFiles) {
        Map<String, Object> metrics = o.metrics("flow sample");
        metrics.put("samples", samples);
        metrics.put("solver", o.solver().describe());
        o.run().writeMetrics(metrics);
        HtmlReport.write(o.run().path(), "Tikhon flow samples", o.config().describe(), metrics, images);
        System.out.println("outputs: " + o.run().path() + " (" + String.join(", ", images) + moreFiles + ", index.html)");
        return 0;
    }
}
