package dev.tikhon.cli;

import dev.tikhon.engine.Device;
import dev.tikhon.report.RunDirectory;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;

/** What every {@code reproduce} subcommand takes besides its experiment's settings: where to write, and the runtime. */
final class ReproduceOptions {
    @Option(names = "--out", paramLabel = "DIR", description = "Default: runs/reproduce-${COMMAND-NAME}.")
    Path out;

    @Mixin RuntimeOptions runtime = new RuntimeOptions();

    /** --out, or runs/reproduce-{@code name}. */
    Path dir(String name) {
        return out != null ? out : Path.of("runs", "reproduce-" + name);
    }

    /** Applies threads and device and creates the run directory: how every reproduce subcommand starts. */
    Reproduction start(String name) {
        Device device = runtime.apply();
        Path dir = dir(name);
        return new Reproduction(name, device, dir, RunDirectory.create(dir));
    }

    /**
     * A divergence inside a reproduction, with the reproduction's own way out ({@code settings}: its options, not those of
     * {@code train} or {@code flow train} that the training loop's hint names). Its runs continue only with the settings they
     * were started with (docs/runs.md), so another setting needs the diverged run's folder deleted, or another --out.
     */
    static dev.tikhon.train.TrainingDivergedException diverged(dev.tikhon.train.TrainingDivergedException e, String settings) {
        if (e.dir == null) return e.withHint("rerun with " + settings);
        return e.withHint(e.keptText() + "; rerun with " + settings + ", after deleting " + e.dir + " (or into another --out)");
    }

    /**
     * The variants {@code --variants} names, in the experiment's order (all of them where it is not given). Checked before
     * anything is loaded or written: a name that is none of them is refused, naming them.
     */
    static <V> java.util.List<V> chosen(java.util.List<String> asked, java.util.List<V> all, java.util.function.Function<V, String> name) {
        if (asked == null) return all;
        java.util.List<String> names = all.stream().map(name).toList();
        java.util.List<String> unknown = asked.stream().filter(a -> !names.contains(a)).distinct().toList();
        if (!unknown.isEmpty()) {
            throw new dev.tikhon.UserError("--variants: no variant named " + String.join(", ", unknown.stream().map(u -> "'" + u + "'").toList())
                    + "; the variants are " + String.join(", ", names));
        }
        return all.stream().filter(v -> asked.contains(name.apply(v))).toList();
    }

    /**
     * The image experiments' data must be images [C, H, W]: a 2-D toy set failed with an internal error (an array index out
     * of bounds) once its first model was built.
     */
    static void requireImages(String name, DataOptions.Loaded loaded) {
        long[] shape = loaded.sets().train().inputShape();
        if (shape.length == 3) return;
        throw new dev.tikhon.UserError("reproduce " + name + " trains its models on images [C, H, W], but --data " + loaded.name()
                + " holds points of shape " + java.util.Arrays.toString(shape) + ": give an image set (fashion-mnist, "
                + "fashion-mnist-sample, mnist, cifar10, or folder with --data-dir)");
    }

    /** A reproduce subcommand under way: the frame its console and metrics.json report share. */
    record Reproduction(String name, Device device, Path dir, RunDirectory run) {
        /** The data set of the options, named on stdout. */
        DataOptions.Loaded data(DataOptions data, long seed) {
            return data(data, seed, 0);
        }

        /** The same, training on the first {@code trainImages} training images (0: all). */
        DataOptions.Loaded data(DataOptions data, long seed, int trainImages) {
            DataOptions.Loaded l = data.load(seed);
            requireImages(name, l);
            DataOptions.Loaded loaded = new DataOptions.Loaded(l.choice(), l.sets().trainHead(trainImages), l.seed());
            System.out.println("data:   " + loaded.description());
            return loaded;
        }

        /** The metrics.json header of {@code reproduce NAME}. */
        Map<String, Object> metrics() { return RunReport.header("reproduce " + name, device); }

        /** Writes metrics.json and index.html (titled "Tikhon: reproduce NAME"). */
        void write(Map<String, Object> metrics, String subtitle) {
            run.writeMetrics(metrics);
            run.writeIndex("Tikhon: reproduce " + name, subtitle, metrics);
        }

        /** The last console line: where the outputs are. */
        void outputs(String files) {
            System.out.println("outputs: " + run.path() + " (" + files + ")");
        }
    }
}
