package dev.tikhon.cli;

import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.train.DataInfo;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Where the data comes from. */
final class DataOptions {
    static final String DEFAULT = "fashion-mnist";

    @Option(names = "--data", paramLabel = "NAME",
            description = "fashion-mnist, fashion-mnist-sample (bundled 6000/1000 subset), mnist, cifar10 (binary version), a 2-D toy set (8gaussians, checkerboard, 2spirals, pinwheel, moons, "
                    + "circles, rings, swissroll) or folder (class subfolders of PNG/JPEG under --data-dir). Default: fashion-mnist "
                    + "(eval: the checkpoint's data).")
    String name;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Folder with the IDX files, CIFAR-10's .bin files (also in its cifar-10-batches-bin/) or class subfolders. "
                    + "Default: $TIKHON_DATA, then /usr/share/datasets/<name>, then (Fashion-MNIST only) the sample bundled with Tikhon.")
    Path dir;

    String nameOr(String fallback) {
        return name != null ? name : fallback;
    }

    /** The data set the options name (fashion-mnist when none), as loaded, with the name and folder it was asked by. */
    record Loaded(String name, Path dir, DataSets.Loaded sets) {
        String description() { return sets.description(); }

        /** How a run records this data, with {@code description} (e.g. the subset used). */
        DataInfo info(String description) {
            return new DataInfo(name, dir == null ? null : dir.toString(), description);
        }

        DataInfo info() { return info(description()); }
    }

    /** Loads the named data set (fashion-mnist when none); {@code seed} seeds generated sets. */
    Loaded load(long seed) {
        String n = nameOr(DEFAULT);
        return new Loaded(n, dir, DataSets.load(n, dir, System.getenv(), seed));
    }

    /** The first {@code images} test examples (all when fewer), as the benchmarks time them. */
    Dataset testHead(int images) {
        Dataset test = load(0).sets().test();
        return test.head(Math.min(images, test.size()));
    }
}
