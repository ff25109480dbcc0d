package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.train.DataInfo;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Where the data comes from. */
final class DataOptions {
    /** The command these options are mixed into (a benchmark's --images: whether it was given). */
    @picocli.CommandLine.Spec(picocli.CommandLine.Spec.Target.MIXEE) picocli.CommandLine.Model.CommandSpec mixee;

    static final String DEFAULT = "fashion-mnist";

    @Option(names = "--data", paramLabel = "NAME",
            description = "fashion-mnist, fashion-mnist-sample (bundled 6000/1000 subset), mnist, cifar10 (binary version), a 2-D toy set (8gaussians, checkerboard, 2spirals, pinwheel, moons, "
                    + "circles, rings, swissroll) or folder (class subfolders of PNG/JPEG under --data-dir; --image-size resizes them). Default: the data "
                    + "the model was trained on (a --checkpoint's; kernel eval: its --model's), else fashion-mnist.")
    String name;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Folder with the IDX files, CIFAR-10's .bin files (also in its cifar-10-batches-bin/) or class subfolders. "
                    + "Default: $TIKHON_DATA, then /usr/share/datasets/<name>, then (Fashion-MNIST only) the sample bundled with Tikhon.")
    Path dir;

    @Option(names = "--image-size", paramLabel = "HxW", converter = ImageSize.Converter.class,
            description = "--data folder only: resize every image to H x W pixels (height x width; N: N x N) as it is read, so "
                    + "images of mixed sizes load. Recorded in the checkpoint: commands on the model resize its folder alike. "
                    + "Default: the images' own size (one for all; a model's: the size it was trained on).")
    ImageSize imageSize;

    String nameOr(String fallback) {
        return name != null ? name : fallback;
    }

    /**
     * What a command loads: a data set's name, its folder (null: looked for) and the size a folder's images are resized
     * to (null: their own), with the size recorded with the model whose data it is (null: none).
     */
    record Choice(String name, Path dir, ImageSize imageSize, ImageSize recordedSize, Long modelSeed) {
        Choice(String name, Path dir, ImageSize imageSize, ImageSize recordedSize) {
            this(name, dir, imageSize, recordedSize, null);
        }

        /**
         * The seed the data is generated (toy sets) and split (a folder's held-out fifth) with: a model's own data with
         * the seed it was trained on, whatever the command's --seed, so that its test split is the one it never saw.
         */
        long seedFor(long commandSeed) {
            return modelSeed != null ? modelSeed : commandSeed;
        }

        DataSets.Loaded load(long seed) {
            DataSets.Options o = DataSets.Options.seeded(seedFor(seed));
            if (imageSize != null) o = o.withImageSize(imageSize.height(), imageSize.width());
            return DataSets.load(name, dir, System.getenv(), o);
        }

        /** How a run records this data, loaded with {@code seed} (the command's: see {@link #seedFor}), with {@code description}. */
        DataInfo info(String description, long seed) {
            return new DataInfo(name, dir == null ? null : dir.toString(), description,
                    imageSize == null ? 0 : imageSize.height(), imageSize == null ? 0 : imageSize.width(), seedFor(seed));
        }

        /**
         * What to do when a model that takes {@code modelShape} ([C, H, W]) meets this data's {@code dataShape}: for a
         * folder whose images differ from the model's in size only, the --image-size that fits; null otherwise (the
         * model's own data is the way out then).
         */
        String refit(java.util.List<Long> modelShape, long[] dataShape) {
            if (!DataSets.FOLDER.equals(name) || modelShape == null || modelShape.size() != 3 || dataShape.length != 3
                    || modelShape.get(0) != dataShape[0]) {
                return null;
            }
            String fits = modelShape.get(1) + "x" + modelShape.get(2);
            if (imageSize == null) return "resize the folder's images to the model's size with --image-size " + fits;
            if (imageSize.equals(recordedSize)) {
                return "the folder's images were resized to the " + imageSize + " its checkpoint records: give --image-size " + fits;
            }
            return "--image-size " + imageSize + " resizes the folder's images to another size than the model's: give --image-size "
                    + fits + (recordedSize != null && recordedSize.toString().equals(fits)
                    ? ", or drop --image-size to use the size its checkpoint records" : "");
        }
    }

    /** The data the options name (fashion-mnist when none), as loaded, with how it was chosen. */
    record Loaded(Choice choice, DataSets.Loaded sets, long seed) {
        String name() { return choice.name(); }

        String description() { return sets.description(); }

        /** How a run records this data, with {@code description} (e.g. the subset used). */
        DataInfo info(String description) { return choice.info(description, seed); }

        DataInfo info() { return info(description()); }
    }

    /** The data the options name: fashion-mnist when none. */
    Choice choose() {
        return choose(null);
    }

    /**
     * The data the options name, with what they leave out taken from {@code recorded}, the data a model was trained on
     * (null: none): its name, its folder unless --data names another set, and the size its folder's images were resized
     * to, unless --image-size gives one (the model takes images of that size). --image-size with a data set other than
     * a folder is an error.
     */
    Choice choose(DataInfo recorded) {
        return choose(recorded, null);
    }

    /**
     * The same, for a model trained with {@code trainedSeed} (null: unknown): when the data is the model's own (its data
     * set, and for a folder its folder), it is generated and split with the seed recorded with it, else with
     * {@code trainedSeed}, not the command's --seed; a toy set or folder split drawn anew would hold the model's
     * training points in its test split.
     */
    Choice choose(DataInfo recorded, Long trainedSeed) {
        String n = name != null ? name : recorded != null && recorded.name() != null ? recorded.name() : DEFAULT;
        Path d = dir != null ? dir : name == null && recorded != null && recorded.dir() != null ? Path.of(recorded.dir()) : null;
        if (imageSize != null && !DataSets.FOLDER.equals(n)) {
            throw new UserError("--image-size " + imageSize + " applies only to --data " + DataSets.FOLDER + " (it resizes an image "
                    + "folder's pictures), not to " + (name != null ? "--data " + n : recorded != null ? "the model's data, " + n
                    : "--data " + n + " (the default)") + ": drop --image-size");
        }
        if (dir != null && (DataSets.SAMPLE_NAME.equals(n) || dev.tikhon.data.ToyData.NAMES.contains(n))) {
            // nothing is read from a folder for these: a --data-dir that names none (or the wrong one) would pass unseen
            OptionChecks.noteIgnored("--data-dir", "--data " + n + (DataSets.SAMPLE_NAME.equals(n)
                    ? " (bundled with Tikhon; for the full set from a folder, give --data fashion-mnist)" : " (generated in code)"));
        }
        ImageSize recordedSize = recorded != null && recorded.resized() && DataSets.FOLDER.equals(recorded.name()) && DataSets.FOLDER.equals(n)
                ? new ImageSize(recorded.imageHeight(), recorded.imageWidth()) : null;
        boolean own = recorded != null && n.equals(recorded.name()) && (!DataSets.FOLDER.equals(n) || sameFolder(d, recorded.dir()));
        Long modelSeed = !own ? null : recorded.seed() != null ? recorded.seed() : trainedSeed;
        return new Choice(n, d, imageSize != null ? imageSize : recordedSize, recordedSize, modelSeed);
    }

    private static boolean sameFolder(Path given, String recorded) {
        if (given == null || recorded == null) return given == null && recorded == null;
        return given.toAbsolutePath().normalize().equals(Path.of(recorded).toAbsolutePath().normalize());
    }

    /** Loads the named data set (fashion-mnist when none); {@code seed} seeds generated sets. */
    Loaded load(long seed) {
        Choice c = choose();
        return new Loaded(c, c.load(seed), c.seedFor(seed));
    }

    /** The first {@code images} test examples (all when fewer), as the benchmarks time them. */
    Dataset testHead(int images) {
        Dataset test = load(0).sets().test();
        // the benches' models take Fashion-MNIST's shape: other data failed inside libtorch (a stack trace, or a note
        // about the attack's input domain that named library calls)
        String command = mixee == null ? "bench" : mixee.qualifiedName(" ").replaceFirst("^tikhon ", "");
        if (!java.util.Arrays.equals(test.inputShape(), new long[]{1, 28, 28}) || test.numClasses() > 10) {
            throw new dev.tikhon.UserError(command + " times a model of 1x28x28 images and at most 10 classes, but --data "
                    + nameOr(DEFAULT) + " holds " + (test.isImages() ? "images" : "points") + " of shape "
                    + java.util.Arrays.toString(test.inputShape()) + " in " + test.numClasses() + " classes: give --data fashion-mnist, "
                    + "fashion-mnist-sample or mnist");
        }
        OptionChecks.noteCapped(mixee, "--images", images, "test", test, "timing");
        return test.head(Math.min(images, test.size()));
    }
}
