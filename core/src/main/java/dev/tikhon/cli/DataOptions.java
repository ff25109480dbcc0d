package dev.tikhon.cli;

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
}
