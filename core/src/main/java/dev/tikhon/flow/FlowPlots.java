package dev.tikhon.flow;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.ode.SolverOptions;
import dev.tikhon.report.Charts;
import dev.tikhon.report.FieldChart;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Pictures of a flow: the model density on a grid, histograms of its samples and of the data, NFE over training. */
public final class FlowPlots {
    private FlowPlots() {}

    /** The square [−r, r]² that holds the data: r = max |coordinate| rounded up, at least 4. */
    public static double extent(Tensor data) {
        return Math.max(4, Math.ceil(data.abs().max().item() * 1.05));
    }

    /**
     * density.png (the model's p(x) on a grid), samples.png and data.png (2-D histograms of as many
     * samples as data points). Returns the file names.
     */
    public static List<String> toy(Path dir, String title, FlowModel model, Tensor data, SolverOptions evalSolver, int grid) {
        double r = extent(data);
        double[] density = gridDensity(model, r, grid, evalSolver);
        FieldChart.write(dir.resolve("density.png"), title + ": model density", -r, r, -r, r, grid, grid,
                normalise(density), List.of(), FieldChart.Style.DENSITY);
        Tensor samples;
        try (Autograd.Guard g = Autograd.noGrad()) {
            samples = model.sample((int) data.size(0), evalSolver);
        }
        FieldChart.write(dir.resolve("samples.png"), title + ": " + data.size(0) + " samples", -r, r, -r, r, grid, grid,
                normalise(histogram(samples, r, grid)), List.of(), FieldChart.Style.DENSITY);
        FieldChart.write(dir.resolve("data.png"), title + ": " + data.size(0) + " data points", -r, r, -r, r, grid, grid,
                normalise(histogram(data, r, grid)), List.of(), FieldChart.Style.DENSITY);
        return List.of("density.png", "samples.png", "data.png");
    }

    /**
     * samples.png (a grid of n images sampled with the given solver) and data.png (a grid of the first n
     * images of {@code data}), 10 to a row, each pixel 3×3. Multi-channel images are drawn as their channel mean.
     */
    public static List<String> images(Path dir, FlowModel model, Tensor data, SolverOptions solver, int n) {
        Tensor samples;
        try (Autograd.Guard g = Autograd.noGrad()) {
            samples = model.sample(n, solver);
        }
        imageGrid(dir.resolve("samples.png"), samples);
        imageGrid(dir.resolve("data.png"), data.narrow(0, 0, Math.min(n, data.size(0))));
        return List.of("samples.png", "data.png");
    }

    static void imageGrid(Path png, Tensor images) {
        Tensor grey = images.mean(1, false).cpu();
        int n = (int) grey.size(0), h = (int) grey.size(1), w = (int) grey.size(2);
        dev.tikhon.report.ImageGrid.write(png, grey.toDoubleArray(), n, h, w, Math.min(10, Math.max(1, n)), 3);
    }

    /** p(x) at the cell centres of a grid × grid raster of [−r, r]², row-major from the bottom row. */
    static double[] gridDensity(FlowModel model, double r, int grid, SolverOptions solver) {
        double h = 2 * r / grid;
        double[] points = new double[grid * grid * 2];
        for (int row = 0; row < grid; row++) {
            for (int col = 0; col < grid; col++) {
                points[2 * (row * grid + col)] = -r + (col + 0.5) * h;
                points[2 * (row * grid + col) + 1] = -r + (row + 0.5) * h;
            }
        }
        double[] out = new double[grid * grid];
        int chunk = 2500;
        for (int start = 0; start < grid * grid; start += chunk) {
            int n = Math.min(chunk, grid * grid - start);
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.fromDoubles(java.util.Arrays.copyOfRange(points, 2 * start, 2 * (start + n)), n, 2)
                        .to(model.module().device(), model.module().dtype());
                double[] nll = model.evaluate(x, solver).nll().toDoubleArray();
                for (int i = 0; i < n; i++) out[start + i] = Math.exp(-nll[i]);
            }
        }
        return out;
    }

    static double[] histogram(Tensor points, double r, int grid) {
        double[] xy = points.cpu().toDoubleArray();
        double[] counts = new double[grid * grid];
        for (int i = 0; i + 1 < xy.length; i += 2) {
            int col = (int) Math.floor((xy[i] + r) / (2 * r) * grid), row = (int) Math.floor((xy[i + 1] + r) / (2 * r) * grid);
            if (col >= 0 && col < grid && row >= 0 && row < grid) counts[row * grid + col]++;
        }
        return counts;
    }

    static double[] normalise(double[] v) {
        double max = 0;
        for (double x : v) if (Double.isFinite(x)) max = Math.max(max, x);
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = max > 0 ? v[i] / max : 0;
        return out;
    }

    /** nfe.png (forward and backward NFE per iteration) and loss.png from a training history. */
    public static List<String> history(Path dir, List<Map<String, Object>> history, String unit) {
        int n = history.size();
        double[] it = new double[n], fwd = new double[n], bwd = new double[n], loss = new double[n], nll = new double[n];
        for (int i = 0; i < n; i++) {
            Map<String, Object> row = history.get(i);
            it[i] = num(row.get("iteration"));
            fwd[i] = num(row.get("nfe_forward"));
            bwd[i] = num(row.get("nfe_backward"));
            loss[i] = num(row.get("loss"));
            nll[i] = num(row.containsKey(FlowTraining.BITS_PER_DIM) ? row.get(FlowTraining.BITS_PER_DIM) : row.get("nll"));
        }
        List<Charts.Series> nfe = new ArrayList<>();
        nfe.add(new Charts.Series("forward", it, fwd));
        boolean adjoint = java.util.Arrays.stream(bwd).anyMatch(v -> v > 0);
        if (adjoint) nfe.add(new Charts.Series("backward (adjoint)", it, bwd));
        // backprop through the solver counts no backward evaluations: the chart is then of forward NFE only, and says so
        Charts.line(dir.resolve("nfe.png"), adjoint ? "Function evaluations per iteration (forward, adjoint backward)"
                : "Forward function evaluations per iteration", "iteration", "NFE", nfe);
        Charts.line(dir.resolve("loss.png"), "Training objective", "iteration", unit,
                List.of(new Charts.Series("loss", it, loss), new Charts.Series(unit.contains("bits") ? "bits/dim" : "NLL", it, nll)));
        return List.of("nfe.png", "loss.png");
    }

    static double num(Object o) { return o == null ? Double.NaN : ((Number) o).doubleValue(); }
}
