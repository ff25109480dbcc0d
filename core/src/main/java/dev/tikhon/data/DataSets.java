package dev.tikhon.data;

import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Finds and loads a train/test pair by name — {@code fashion-mnist}, {@code mnist}, a toy set or
 * an image {@code folder} — and says in one line which data was used and from where, so a report
 * never silently rests on a sample or on the wrong directory.
 *
 * <p>The IDX sets are looked for in {@code --data-dir} if given (and nowhere else), else in
 * {@code $TIKHON_DATA} and {@code $TIKHON_DATA/<name>}, else in {@code /usr/share/datasets/<name>}
 * (where Debian's {@code dataset-fashion-mnist} installs). Fashion-MNIST falls back to a small
 * sample bundled in the jar, and the description says so loudly. CIFAR-10 ({@code cifar10}, the binary version's
 * {@code data_batch_1..5.bin} and {@code test_batch.bin}, {@link CifarReader}) is looked for in the same places, each
 * also with {@code cifar-10-batches-bin/} below it (where the tarball unpacks).
 */
public final class DataSets {
    public static final String ENV_VAR = "TIKHON_DATA";
    public static final Path SYSTEM_DATASETS = Path.of("/usr/share/datasets");
    public static final String FOLDER = "folder";
    public static final int TOY_TRAIN = 20000;
    public static final int TOY_TEST = 5000;
    public static final double FOLDER_TEST_FRACTION = 0.2;

    private static final IdxSet FASHION_MNIST = new IdxSet("fashion-mnist", "Fashion-MNIST", List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"));
    private static final IdxSet MNIST = new IdxSet("mnist", "MNIST",
            List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"));
    /** CIFAR-10, binary version. */
    public static final String CIFAR10 = "cifar10";
    /** The folder {@code cifar-10-binary.tar.gz} unpacks to; looked for inside each candidate directory. */
    public static final String CIFAR10_TAR_DIR = "cifar-10-batches-bin";
    public static final List<String> CIFAR10_CLASSES = List.of(
            "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");
    /** The five training files, then the test file. */
    public static final List<String> CIFAR10_FILES = List.of(
            "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin");
    private static final List<String> FILES = List.of(
            "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
    private static final String SAMPLE_RESOURCE = "fashion-mnist-sample/";
    /** Asks for the bundled sample explicitly (quick runs and tests on machines that have the full set). */
    public static final String SAMPLE_NAME = "fashion-mnist-sample";
    private static final long TOY_STREAM = 0x746f79L;   // "toy"
    private static final long SPLIT_STREAM = 0x73706cL; // "spl"

    /** Every name {@link #load} accepts. */
    public static final List<String> NAMES = names();

    /**
     * A train/test pair and one line saying which data it is and where it came from. A split is read when first
     * asked for, so a command that evaluates reads only the test split (and a directory holding only the
     * {@code t10k-*} files serves it); asking for a split the directory lacks is an error naming the missing file.
     */
    public static final class Loaded {
        private final Supplier<Dataset> trainSource, testSource;
        private final String description;
        private Dataset train, test;

        public Loaded(Dataset train, Dataset test, String description) {
            this(() -> train, () -> test, description);
        }

        Loaded(Supplier<Dataset> train, Supplier<Dataset> test, String description) {
            this.trainSource = train;
            this.testSource = test;
            this.description = description;
        }

        public synchronized Dataset train() {
            if (train == null) train = trainSource.get();
            return train;
        }

        public synchronized Dataset test() {
            if (test == null) test = testSource.get();
            return test;
        }

        public String description() { return description; }

        /**
         * The same data with the training split cut to its first {@code n} images (read when first asked for, as here);
         * {@code n} ≤ 0 or at least the split's size: this data itself.
         */
        public Loaded trainHead(int n) {
            if (n <= 0) return this;
            Supplier<Dataset> cut = () -> {
                Dataset t = train();
                return n >= t.size() ? t : t.head(n);
            };
            return new Loaded(cut, this::test, description + ", training on its first " + n + " images");
        }
    }

    /**
     * How to load: the seed (toy generation and the folder's held-out split derive theirs from it),
     * the toy set sizes, and a target image size for folders (0 × 0: keep the images' own size).
     */
    public record Options(long seed, int toyTrain, int toyTest, int imageHeight, int imageWidth) {
        public static Options seeded(long seed) {
            return new Options(seed, TOY_TRAIN, TOY_TEST, 0, 0);
        }

        public Options withToySizes(int train, int test) {
            return new Options(seed, train, test, imageHeight, imageWidth);
        }

        public Options withImageSize(int height, int width) {
            return new Options(seed, toyTrain, toyTest, height, width);
        }
    }

    private record IdxSet(String name, String title, List<String> classNames) {}

    private DataSets() {}

    private static List<String> names() {
        List<String> n = new ArrayList<>(List.of(FASHION_MNIST.name, SAMPLE_NAME, MNIST.name, CIFAR10, FOLDER));
        n.addAll(ToyData.NAMES);
        return List.copyOf(n);
    }

    /** Loads {@code name} with default options; {@code dataDir} may be null; pass {@code System.getenv()}. */
    public static Loaded load(String name, Path dataDir, Map<String, String> env, long seed) {
        return load(name, dataDir, env, Options.seeded(seed));
    }

    /** Loads {@code name}; {@code dataDir} may be null; pass {@code System.getenv()} as {@code env}. */
    public static Loaded load(String name, Path dataDir, Map<String, String> env, Options options) {
        return load(name, dataDir, env, options, SYSTEM_DATASETS);
    }

    static Loaded load(String name, Path dataDir, Map<String, String> env, Options options, Path systemRoot) {
        if (name.equals(FASHION_MNIST.name)) return loadIdx(FASHION_MNIST, dataDir, env, systemRoot);
        if (name.equals(SAMPLE_NAME)) return loadSample(FASHION_MNIST, false);
        if (name.equals(MNIST.name)) return loadIdx(MNIST, dataDir, env, systemRoot);
        if (name.equals(CIFAR10)) return loadCifar(dataDir, env, systemRoot);
        if (name.equals(FOLDER)) return loadFolder(dataDir, options);
        if (ToyData.NAMES.contains(name)) return loadToy(name, options);
        if (Files.isDirectory(Path.of(name)))
            throw new DataException("'" + name + "' is a folder, not a data set name: pass --data-dir " + name
                    + " with --data fashion-mnist or mnist (IDX files), cifar10 (CIFAR-10's .bin files) or folder"
                    + " (one subfolder of images per class)");
        throw new DataException("unknown data set '" + name + "': use one of " + String.join(", ", NAMES));
    }

    /** One line per kind of data set saying whether and where it was found, for {@code tikhon info}. */
    public static List<String> describeAvailable(Path dataDir, Map<String, String> env) {
        return describeAvailable(dataDir, env, SYSTEM_DATASETS);
    }

    static List<String> describeAvailable(Path dataDir, Map<String, String> env, Path systemRoot) {
        List<String> lines = new ArrayList<>();
        for (IdxSet set : List.of(FASHION_MNIST, MNIST)) {
            List<String> looked = new ArrayList<>();
            try {
                Path dir = find(set, dataDir, env, systemRoot, looked);
                if (dir != null) {
                    lines.add(set.name + ": found in " + dir);
                } else {
                    lines.add(set.name + ": not found (looked in " + String.join(", ", looked) + ")"
                            + (set == FASHION_MNIST ? "; the bundled sample (6000 train / 1000 test) stands in" : ""));
                }
            } catch (DataException e) {
                lines.add(set.name + ": unusable: " + e.getMessage());
            }
        }
        lines.add(SAMPLE_NAME + ": " + (DataSets.class.getResource(SAMPLE_RESOURCE + FILES.get(0) + ".gz") != null
                ? "bundled in the jar (6000 train / 1000 test Fashion-MNIST images): --data " + SAMPLE_NAME
                : "missing from this build (its resources are not on the class path)"));
        List<String> looked = new ArrayList<>();
        try {
            Path dir = findCifar(dataDir, env, systemRoot, looked);
            lines.add(CIFAR10 + ": " + (dir != null ? "found in " + dir : "not found (looked in " + String.join(", ", looked) + ")"));
        } catch (DataException e) {
            lines.add(CIFAR10 + ": unusable: " + e.getMessage());
        }
        lines.add("toy sets (generated, " + TOY_TRAIN + " train / " + TOY_TEST + " test points by default): "
                + String.join(", ", ToyData.NAMES));
        lines.add(describeFolder(dataDir));
        return lines;
    }

    // ------------------------------------------------------------------ IDX sets

    private static Loaded loadIdx(IdxSet set, Path dataDir, Map<String, String> env, Path systemRoot) {
        List<String> looked = new ArrayList<>();
        Path dir = find(set, dataDir, env, systemRoot, looked);
        if (dir != null) {
            Path[] f = FILES.stream().map(base -> resolve(dir, base)).toArray(Path[]::new);
            int[] trainDims = f[0] == null ? null : IdxReader.dims(f[0], IdxReader.IMAGES_MAGIC);
            int[] testDims = f[2] == null ? null : IdxReader.dims(f[2], IdxReader.IMAGES_MAGIC);
            if (trainDims != null && testDims != null && (trainDims[1] != testDims[1] || trainDims[2] != testDims[2])) {
                throw new DataException(f[2] + ": examples are [1, " + testDims[1] + ", " + testDims[2] + "] but " + f[0]
                        + " has [1, " + trainDims[1] + ", " + trainDims[2] + "]");
            }
            Supplier<Dataset> train = split(set, dir, "training", f[0], f[1]), test = split(set, dir, "test", f[2], f[3]);
            String sizes = trainDims == null ? "test split only: " + testDims[0] + " test"
                    : testDims == null ? "training split only: " + trainDims[0] + " train"
                    : trainDims[0] + " train / " + testDims[0] + " test";
            return new Loaded(train, test, set.title + " from " + dir + " (" + sizes + ")");
        }
        if (set != FASHION_MNIST) {
            throw new DataException(set.name + ": not found; looked in " + String.join(", ", looked) + "; put "
                    + String.join(".gz, ", FILES) + ".gz in a directory and pass --data-dir DIR or set " + ENV_VAR);
        }
        return loadSample(set, true);
    }

    /** Reads one split when asked; a split the directory lacks is an error naming its missing file. */
    private static Supplier<Dataset> split(IdxSet set, Path dir, String which, Path images, Path labels) {
        if (images == null) {
            String base = which.equals("test") ? FILES.get(2) : FILES.get(0);
            return () -> {
                throw new DataException(dir.resolve(base) + "[.gz]: no such file (" + dir + " holds only the "
                        + (which.equals("test") ? "training" : "test") + " split of " + set.title + "; this command reads the "
                        + which + " split)");
            };
        }
        return () -> pair(set, dir.toString(), images.toString(), IdxReader.readImages(images),
                labels.toString(), IdxReader.readLabels(labels, set.classNames.size()));
    }

    /** The bundled sample; {@code fallback} says it stands in for a full set that was not found. */
    private static Loaded loadSample(IdxSet set, boolean fallback) {
        Tensor[] t = new Tensor[4];
        String[] names = new String[4];
        for (int i = 0; i < 4; i++) {
            String file = SAMPLE_RESOURCE + FILES.get(i) + ".gz";
            names[i] = "bundled " + file;
            try (InputStream in = DataSets.class.getResourceAsStream(file)) {
                if (in == null) throw new DataException(names[i] + ": missing from the jar; rebuild Tikhon");
                t[i] = i % 2 == 0 ? IdxReader.readImages(in, names[i]) : IdxReader.readLabels(in, names[i], 10);
            } catch (IOException e) {
                throw new DataException(names[i] + ": cannot read: " + e.getMessage(), e);
            }
        }
        String source = "bundled sample";
        Dataset train = pair(set, source, names[0], t[0], names[1], t[1]);
        Dataset test = pair(set, source, names[2], t[2], names[3], t[3]);
        String what = set.title + " SAMPLE bundled with Tikhon (" + train.size() + " train / " + test.size() + " test)";
        return new Loaded(train, test, fallback ? what + " — the full set was not found; install it with "
                + "`apt-get install dataset-fashion-mnist` or pass --data-dir" : what);
    }

    private static Dataset pair(IdxSet set, String source, String imagesName, Tensor images, String labelsName,
                                Tensor labels) {
        if (images.size(0) != labels.size(0)) {
            throw new DataException(labelsName + ": holds " + labels.size(0) + " labels but " + imagesName + " holds "
                    + images.size(0) + " images");
        }
        return new Dataset(set.name, source, images, labels, set.classNames.size(), set.classNames);
    }

    /**
     * The directory holding {@code set} (both files of at least one split), or null (with the places tried added to
     * {@code looked}). A split with only one of its two files is an error naming the missing one.
     */
    private static Path find(IdxSet set, Path dataDir, Map<String, String> env, Path systemRoot, List<String> looked) {
        if (dataDir != null) {
            if (!Files.isDirectory(dataDir)) throw new DataException(dataDir + ": no such directory");
            for (Path dir : List.of(dataDir, dataDir.resolve(set.name))) {
                if (holdsSet(set, dir)) return dir;
            }
            throw new DataException(dataDir.resolve(FILES.get(2)) + "[.gz]: no such file (" + set.title + " needs "
                    + FILES.get(2) + " and " + FILES.get(3) + " for evaluation, also " + FILES.get(0) + " and " + FILES.get(1)
                    + " for training, each optionally .gz, in " + dataDir + " or " + dataDir.resolve(set.name) + ")");
        }
        List<Path> candidates = new ArrayList<>();
        String envDir = env.get(ENV_VAR);
        if (envDir == null || envDir.isBlank()) {
            looked.add("$" + ENV_VAR + " (unset)");
        } else {
            candidates.add(Path.of(envDir));
            candidates.add(Path.of(envDir).resolve(set.name));
        }
        candidates.add(systemRoot.resolve(set.name));
        for (Path dir : candidates) {
            if (holdsSet(set, dir)) return dir;
            looked.add(dir.toString());
        }
        return null;
    }

    /**
     * Whether {@code dir} holds at least one whole split (images and labels); throws naming the missing file of a
     * split that has only one of its two.
     */
    private static boolean holdsSet(IdxSet set, Path dir) {
        if (!Files.isDirectory(dir)) return false;
        boolean any = false;
        for (int split = 0; split < FILES.size(); split += 2) {
            boolean images = resolve(dir, FILES.get(split)) != null, labels = resolve(dir, FILES.get(split + 1)) != null;
            if (images != labels) {
                String missing = images ? FILES.get(split + 1) : FILES.get(split);
                throw new DataException(dir.resolve(missing) + "[.gz]: no such file, though " + dir + " holds "
                        + (images ? FILES.get(split) : FILES.get(split + 1)));
            }
            any |= images;
        }
        return any;
    }

    /** {@code dir/base}, else {@code dir/base.gz}, else null. */
    private static Path resolve(Path dir, String base) {
        for (Path p : List.of(dir.resolve(base), dir.resolve(base + ".gz"))) {
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }

    /** The train/ and test/ folders' images must match; only their sizes (not gray against colour) can be resized alike. */
    private static void checkSameImageSize(String trainName, Dataset train, String testName, Dataset test) {
        long[] a = train.inputShape(), b = test.inputShape();
        if (!Arrays.equals(a, b)) {
            throw new DataException(testName + ": examples are " + Arrays.toString(b) + " but " + trainName + " has "
                    + Arrays.toString(a) + (a[0] == b[0] ? "; resize both to one size with --image-size HxW (e.g. --image-size "
                    + a[1] + "x" + a[2] + ", the training images')" : ""));
        }
    }

    // ------------------------------------------------------------------ CIFAR-10

    private static Loaded loadCifar(Path dataDir, Map<String, String> env, Path systemRoot) {
        List<String> looked = new ArrayList<>();
        Path dir = findCifar(dataDir, env, systemRoot, looked);
        if (dir == null) {
            throw new DataException(CIFAR10 + ": not found; looked in " + String.join(", ", looked) + "; unpack "
                    + "cifar-10-binary.tar.gz (" + String.join(", ", CIFAR10_FILES) + ") and pass --data-dir DIR or set " + ENV_VAR);
        }
        List<Path> trainFiles = new ArrayList<>();
        for (String f : CIFAR10_FILES.subList(0, 5)) trainFiles.add(resolve(dir, f));
        Path testFile = resolve(dir, CIFAR10_FILES.get(5));
        boolean hasTrain = trainFiles.get(0) != null;
        int trainSize = 0;
        if (hasTrain) for (Path f : trainFiles) trainSize += CifarReader.count(f);
        int testSize = testFile == null ? 0 : CifarReader.count(testFile);
        Supplier<Dataset> train = hasTrain ? () -> cifar(dir, trainFiles) : () -> {
            throw new DataException(dir.resolve(CIFAR10_FILES.get(0)) + "[.gz]: no such file (" + dir + " holds only the test split "
                    + "of CIFAR-10; this command reads the training split)");
        };
        Supplier<Dataset> test = testFile != null ? () -> cifar(dir, List.of(testFile)) : () -> {
            throw new DataException(dir.resolve(CIFAR10_FILES.get(5)) + "[.gz]: no such file (" + dir + " holds only the training "
                    + "split of CIFAR-10; this command reads the test split)");
        };
        String sizes = !hasTrain ? "test split only: " + testSize + " test"
                : testFile == null ? "training split only: " + trainSize + " train" : trainSize + " train / " + testSize + " test";
        return new Loaded(train, test, "CIFAR-10 from " + dir + " (" + sizes + ")");
    }

    private static Dataset cifar(Path dir, List<Path> files) {
        CifarReader.Records r = CifarReader.read(files);
        return new Dataset(CIFAR10, dir.toString(), r.images(), r.labelTensor(), CifarReader.CLASSES, CIFAR10_CLASSES);
    }

    /**
     * The directory holding CIFAR-10 (all five training files, or the test file, or both), or null with the places
     * tried added to {@code looked}. Each candidate is tried as it is and with {@code cifar10/} and
     * {@code cifar-10-batches-bin/} (the tarball's folder) below it. Some but not all of the training files is an error
     * naming the first missing one.
     */
    private static Path findCifar(Path dataDir, Map<String, String> env, Path systemRoot, List<String> looked) {
        List<Path> roots = new ArrayList<>();
        if (dataDir != null) {
            if (!Files.isDirectory(dataDir)) throw new DataException(dataDir + ": no such directory");
            roots.add(dataDir);
        } else {
            String envDir = env.get(ENV_VAR);
            if (envDir == null || envDir.isBlank()) {
                looked.add("$" + ENV_VAR + " (unset)");
            } else {
                roots.add(Path.of(envDir));
            }
            roots.add(systemRoot.resolve(CIFAR10));
        }
        for (Path root : roots) {
            for (Path dir : List.of(root, root.resolve(CIFAR10), root.resolve(CIFAR10_TAR_DIR))) {
                if (holdsCifar(dir)) return dir;
                looked.add(dir.toString());
            }
        }
        if (dataDir != null) {
            throw new DataException(dataDir.resolve(CIFAR10_FILES.get(5)) + ": no such file (CIFAR-10 needs test_batch.bin for "
                    + "evaluation, also data_batch_1.bin .. data_batch_5.bin for training, in " + dataDir + ", "
                    + dataDir.resolve(CIFAR10) + " or " + dataDir.resolve(CIFAR10_TAR_DIR) + ")");
        }
        return null;
    }

    private static boolean holdsCifar(Path dir) {
        if (!Files.isDirectory(dir)) return false;
        List<String> present = new ArrayList<>(), missing = new ArrayList<>();
        for (String f : CIFAR10_FILES.subList(0, 5)) (resolve(dir, f) != null ? present : missing).add(f);
        if (!present.isEmpty() && !missing.isEmpty()) {
            throw new DataException(dir.resolve(missing.get(0)) + ": no such file, though " + dir + " holds " + String.join(", ", present)
                    + " (CIFAR-10's training split is data_batch_1.bin .. data_batch_5.bin)");
        }
        return !present.isEmpty() || resolve(dir, CIFAR10_FILES.get(5)) != null;
    }

    // ------------------------------------------------------------------ toy sets and folders

    private static Loaded loadToy(String name, Options o) {
        Dataset train = ToyData.generate(name, o.toyTrain(), Rng.derive(o.seed(), TOY_STREAM, 0));
        Dataset test = ToyData.generate(name, o.toyTest(), Rng.derive(o.seed(), TOY_STREAM, 1));
        return new Loaded(train, test, "toy set " + name + ": " + train.size() + " train / " + test.size()
                + " test points generated from seed " + o.seed());
    }

    private static Loaded loadFolder(Path dataDir, Options o) {
        if (dataDir == null) {
            throw new DataException("folder: needs --data-dir DIR, a directory with one subfolder of images per class");
        }
        if (!Files.isDirectory(dataDir)) throw new DataException(dataDir + ": no such directory");
        Path trainDir = dataDir.resolve("train");
        Path testDir = dataDir.resolve("test");
        if (Files.isDirectory(trainDir) && Files.isDirectory(testDir)) {
            Dataset train = readFolder(trainDir, o);
            Dataset test = readFolder(testDir, o);
            if (!train.classNames().equals(test.classNames())) {
                throw new DataException(testDir + ": class subfolders " + test.classNames() + " differ from "
                        + trainDir + "'s " + train.classNames());
            }
            checkSameImageSize(trainDir.toString(), train, testDir.toString(), test);
            requireTwoClasses(trainDir, train);
            return new Loaded(train, test, "image folder " + dataDir + " (train/ and test/): " + train.size()
                    + " train / " + test.size() + " test images, " + train.numClasses() + " classes, "
                    + shape(train, o));
        }
        Dataset all = readFolder(dataDir, o);
        requireTwoClasses(dataDir, all);
        Dataset.Split split = all.split(FOLDER_TEST_FRACTION, Rng.derive(o.seed(), SPLIT_STREAM));
        return new Loaded(split.rest(), split.heldOut(), "image folder " + dataDir + ": " + split.rest().size()
                + " train / " + split.heldOut().size() + " test images (" + Math.round(100 * FOLDER_TEST_FRACTION)
                + "% held out, seed " + o.seed() + "), " + all.numClasses() + " classes, " + shape(all, o));
    }

    /** A classifier of one class is always right: its accuracy would mean nothing. */
    private static void requireTwoClasses(Path dir, Dataset set) {
        if (set.numClasses() < 2) {
            throw new DataException(dir + ": only one class subfolder (" + set.classNames() + "); a classifier needs at least two "
                    + "(one subfolder of images per class)");
        }
    }

    private static Dataset readFolder(Path dir, Options o) {
        return o.imageHeight() > 0 ? ImageFolder.load(dir, o.imageHeight(), o.imageWidth()) : ImageFolder.load(dir);
    }

    /** C×H×W, and whether the images were resized to it (a model trained on them needs its data resized alike). */
    private static String shape(Dataset d, Options o) {
        long[] s = d.inputShape();
        return s[0] + "x" + s[1] + "x" + s[2] + (o.imageHeight() > 0 ? " (resized to " + s[1] + "x" + s[2] + ")" : "");
    }

    private static String describeFolder(Path dataDir) {
        if (dataDir == null) return "folder: needs --data-dir DIR with one subfolder of PNG or JPEG images per class";
        if (!Files.isDirectory(dataDir)) return "folder: " + dataDir + ": no such directory";
        Path trainDir = dataDir.resolve("train");
        boolean trainTest = Files.isDirectory(trainDir) && Files.isDirectory(dataDir.resolve("test"));
        Path classRoot = trainTest ? trainDir : dataDir;
        List<String> classes = ImageFolder.classFolders(classRoot).stream().map(p -> p.getFileName().toString()).toList();
        if (classes.isEmpty()) return "folder: " + dataDir + " has no class subfolders";
        return "folder: " + dataDir + (trainTest ? " (train/ and test/)" : "") + " has " + classes.size()
                + " class subfolders: " + String.join(", ", classes);
    }
}
