package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.generalization.DataLipschitz;
import dev.tikhon.report.RunDirectory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon data-lipschitz}: max over pairs of |Δlabel| / ‖Δx‖ of a data set. */
@Command(name = "data-lipschitz", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The Lipschitz constant of a labelled data set, max over pairs |Δlabel| / ‖Δx‖₂ with inputs as models see "
                + "them (images in [0,1]): 1 / (smallest distance between differently labelled points) with 0–1 labels, √2 / that "
                + "distance with one-hot labels. Exact (blocked nearest-neighbour search, float32 products rechecked in float64); "
                + "with --max-points below the set's size, a seeded random subset gives a lower bound."})
final class DataLipschitzCommand implements Callable<Integer> {
    @Mixin DataOptions data = new DataOptions();

    @Option(names = "--split", defaultValue = "train", description = "train, test or all (train and test together). Default: ${DEFAULT-VALUE}.")
    String split;

    @Option(names = "--max-points", defaultValue = "0", description = "Use a random subset of this many points (0: all). Default: ${DEFAULT-VALUE}.")
    int maxPoints;

    @Option(names = "--block-size", defaultValue = "512", description = "Rows per distance block (memory ≈ 3 × block × n × 4 bytes; cut, with a note, to fit a quarter of the machine's memory). Default: ${DEFAULT-VALUE}.")
    int blockSize;

    @Option(names = "--seed", defaultValue = "0", description = "Seed for the subset and generated data sets. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Mixin OutputOptions output = new OutputOptions("runs", "data-lipschitz");

    @Override public Integer call() {
        if (maxPoints == 1) {   // before the data is read: one point makes no pair
            throw new UserError("--max-points 1: the Lipschitz constant needs at least two points with different labels; give "
                    + "--max-points 2 or more (0: all)");
        }
        Device device = output.apply();
        RunDirectory run = output.create();
        DataOptions.Loaded asked = data.load(seed);
        DataSets.Loaded loaded = asked.sets();
        List<Dataset> sets;
        switch (split) {
            case "train": sets = List.of(loaded.train()); break;
            case "test": sets = List.of(loaded.test()); break;
            case "all": sets = List.of(loaded.train(), loaded.test()); break;
            default: throw new UserError("unknown --split '" + split + "': use train, test or all");
        }
        System.out.println("data:  " + loaded.description() + " [" + split + "]");
        DataLipschitz.Result r;
        try {
            r = DataLipschitz.compute(sets, maxPoints, seed, blockSize, true);
        } catch (DataLipschitz.TooFewLabels e) {
            boolean subset = maxPoints > 0 && maxPoints < total(sets);
            throw new UserError(e.getMessage().replace("point(s) given", subset ? "points of the random subset (--max-points " + maxPoints
                    + ", --seed " + seed + ")" : "point(s) of the " + split + " split") + (subset ? "; give a larger --max-points (0: all "
                    + total(sets) + " points)" : "; use a split or data set with two classes or more"), e);
        }
        boolean images = sets.get(0).isImages();
        Map<String, Object> metrics = RunReport.header("data-lipschitz", device);
        metrics.put("data", loaded.description());
        metrics.put("data_name", asked.name());   // generalization --data-lipschitz checks both against its own data
        metrics.put("split", split);
        metrics.put("input_scale", images ? "pixels in [0,1] (value/255)" : "as stored");
        metrics.put("result", dev.tikhon.report.Json.toMap(r));
        metrics.put("kind", r.subsampled() ? "lower bound: exact over a random subset of the points" : "exact over the points of the split");
        if (images) {
            metrics.put("lipschitz_01_labels_pixels_0_255", r.lipschitz01() / 255);
            metrics.put("lipschitz_one_hot_labels_pixels_0_255", r.lipschitzOneHot() / 255);
        }
        run.writeMetrics(metrics);
        dev.tikhon.report.Csv.write(run.resolve("data_lipschitz.csv"), List.of("split", "n", "subsampled", "min_distance",
                "lipschitz_01_labels", "lipschitz_one_hot_labels", "conflicting_identical_pairs", "nearest_i", "nearest_j"),
                List.of(List.of(split, r.n(), r.subsampled(), r.minDistance(), r.lipschitz01(), r.lipschitzOneHot(), r.conflicts(), r.i(), r.j())));
        run.writeIndex("Tikhon: data set Lipschitz constant", loaded.description() + " [" + split + "]", metrics);
        System.out.printf(Locale.ROOT, "%d points%s; nearest differently labelled pair %d (%s) – %d (%s) at distance %.6g%n", r.n(),
                r.subsampled() ? " (random subset: the constants are lower bounds)" : "", r.i(), className(sets, r.labelI()), r.j(),
                className(sets, r.labelJ()), r.minDistance());
        System.out.printf(Locale.ROOT, "Lipschitz constant %.6g with 0–1 labels, %.6g with one-hot labels%s%n", r.lipschitz01(),
                r.lipschitzOneHot(), images ? String.format(Locale.ROOT, " (inputs in [0,1]; in [0,255] units: %.6g, %.6g)",
                        r.lipschitz01() / 255, r.lipschitzOneHot() / 255) : "");
        if (r.conflicts() > 0) {
            System.out.println(r.conflicts() + " pair(s) of identical inputs carry different labels: over all pairs the constant is "
                    + "infinite; the figures above leave those pairs out");
        }
        System.out.printf(Locale.ROOT, "(%.1f s) outputs: %s%n", r.seconds(), run.path());
        return 0;
    }

    private static long total(List<Dataset> sets) {
        return sets.stream().mapToLong(Dataset::size).sum();
    }

    private static String className(List<Dataset> sets, long label) {
        List<String> names = sets.get(0).classNames();
        return label >= 0 && label < names.size() ? names.get((int) label) : String.valueOf(label);
    }
}
