package dev.tikhon.data;

import dev.tikhon.engine.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.tikhon.data.IdxReaderTest.assertFault;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Oracles: small IDX sets written by {@link IdxWriter} into temporary directories (the search
 * order), the full Fashion-MNIST where installed (the bundled sample must be its head), and PNGs
 * written with ImageIO (folders).
 */
class DataSetsTest {
    private static final Path FULL = DataSets.SYSTEM_DATASETS.resolve("fashion-mnist");
    private static final List<String> FILES = List.of(
            "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");

    @TempDir
    Path tmp;

    /** An empty stand-in for /usr/share/datasets, so that the fallbacks are exercised. */
    private Path noSystem() throws IOException {
        return Files.createDirectories(tmp.resolve("system"));
    }

    /** Writes a tiny IDX set of 4x4 images (train: 6 with labels 0..5, test: 3) into dir. */
    private static Path tinySet(Path dir, int trainLabels) throws IOException {
        Files.createDirectories(dir);
        byte[] y = new byte[trainLabels];
        for (int i = 0; i < trainLabels; i++) y[i] = (byte) i;
        IdxWriter.write(dir.resolve(FILES.get(0) + ".gz"), IdxWriter.gzip(IdxWriter.images(6, 4, 4, new byte[96])));
        IdxWriter.write(dir.resolve(FILES.get(1)), IdxWriter.labels(y));
        IdxWriter.write(dir.resolve(FILES.get(2) + ".gz"), IdxWriter.gzip(IdxWriter.images(3, 4, 4, new byte[48])));
        IdxWriter.write(dir.resolve(FILES.get(3) + ".gz"), IdxWriter.gzip(IdxWriter.labels(new byte[]{9, 8, 7})));
        return dir;
    }

    @Test
    void bundledSampleStandsInLoudlyForFashionMnist() throws IOException {
        DataSets.Loaded l = DataSets.load("fashion-mnist", null, Map.of(), DataSets.Options.seeded(0), noSystem());
        assertThat(l.description()).isEqualTo("Fashion-MNIST SAMPLE bundled with Tikhon (6000 train / 1000 test) — the "
                + "full set was not found; install it with `apt-get install dataset-fashion-mnist` or pass --data-dir");
        assertThat(l.train().size()).isEqualTo(6000);
        assertThat(l.test().size()).isEqualTo(1000);
        assertThat(l.train().inputShape()).containsExactly(1, 28, 28);
        assertThat(l.train().numClasses()).isEqualTo(10);
        assertThat(l.train().classNames()).startsWith("T-shirt/top", "Trouser").endsWith("Ankle boot");
        assertThat(l.train().source()).isEqualTo("bundled sample");
        Tensor x = l.train().batchInputs(Tensor.arange(6000, dev.tikhon.engine.DType.INT64, dev.tikhon.engine.Device.CPU));
        assertThat(x.min().item()).isEqualTo(0.0);
        assertThat(x.max().item()).isEqualTo(1.0);
        // the class counts MakeSample printed for the first 6000 examples of the full set
        assertThat(l.train().classCounts()).containsExactly(560, 643, 608, 612, 584, 594, 590, 617, 590, 602);
    }

    @Test
    void fullFashionMnistWhereInstalledAndTheSampleIsItsHead() throws IOException {
        assumeTrue(Files.isDirectory(FULL), "full Fashion-MNIST not installed at " + FULL);
        DataSets.Loaded full = DataSets.load("fashion-mnist", null, Map.of(), 0);
        assertThat(full.description()).isEqualTo("Fashion-MNIST from " + FULL + " (60000 train / 10000 test)");
        assertThat(full.train().size()).isEqualTo(60000);
        assertThat(full.test().size()).isEqualTo(10000);
        assertThat(full.train().inputShape()).containsExactly(1, 28, 28);
        assertThat(full.train().classCounts()).containsOnly(6000L);
        DataSets.Loaded sample = DataSets.load("fashion-mnist", null, Map.of(), DataSets.Options.seeded(0), noSystem());
        assertThat(sample.train().inputs().toUnsignedBytes()).isEqualTo(full.train().head(6000).inputs().toUnsignedBytes());
        assertThat(sample.test().labels().toLongArray()).isEqualTo(full.test().head(1000).labels().toLongArray());
    }

    @Test
    void searchOrderDataDirThenEnvThenSystem() throws IOException {
        Path sys = noSystem();
        tinySet(sys.resolve("mnist"), 6);
        assertThat(DataSets.load("mnist", null, Map.of(), DataSets.Options.seeded(0), sys).description())
                .isEqualTo("MNIST from " + sys.resolve("mnist") + " (6 train / 3 test)");

        Path env = tinySet(tmp.resolve("env"), 6);
        assertThat(DataSets.load("mnist", null, Map.of("TIKHON_DATA", env.toString()), DataSets.Options.seeded(0), sys)
                .description()).contains("from " + env + " (");
        Path envParent = tmp.resolve("envparent");
        tinySet(envParent.resolve("mnist"), 6);
        assertThat(DataSets.load("mnist", null, Map.of("TIKHON_DATA", envParent.toString()), DataSets.Options.seeded(0), sys)
                .description()).contains("from " + envParent.resolve("mnist") + " (");

        Path given = tinySet(tmp.resolve("given/mnist"), 6).getParent();
        DataSets.Loaded l = DataSets.load("mnist", given, Map.of("TIKHON_DATA", env.toString()), DataSets.Options.seeded(0), sys);
        assertThat(l.description()).contains("from " + given.resolve("mnist") + " (");
        assertThat(l.train().labels().toLongArray()).containsExactly(0, 1, 2, 3, 4, 5);
        assertThat(l.test().labels().toLongArray()).containsExactly(9, 8, 7);
        assertThat(l.train().classNames()).containsExactly("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
    }

    @Test
    void mnistNotFoundSaysWhereItLooked() throws IOException {
        Path sys = noSystem();
        assertThatThrownBy(() -> DataSets.load("mnist", null, Map.of(), DataSets.Options.seeded(0), sys))
                .isInstanceOf(DataException.class)
                .hasMessageStartingWith("mnist: not found; looked in $TIKHON_DATA (unset), " + sys.resolve("mnist") + "; ")
                .hasMessageContaining("--data-dir");
    }

    @Test
    void givenDataDirFaults() throws IOException {
        Path missing = tmp.resolve("missing");
        assertFault(() -> DataSets.load("fashion-mnist", missing, Map.of(), 0), missing.toString(), "no such directory");

        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertFault(() -> DataSets.load("fashion-mnist", empty, Map.of(), 0),
                empty.resolve("t10k-images-idx3-ubyte") + "[.gz]", "no such file");

        Path partial = tinySet(tmp.resolve("partial"), 6);
        Files.delete(partial.resolve("t10k-labels-idx1-ubyte.gz"));
        assertFault(() -> DataSets.load("mnist", partial, Map.of(), 0),
                partial.resolve("t10k-labels-idx1-ubyte") + "[.gz]", "no such file");
    }

    @Test
    void aDirectoryWithOnlyTheTestSplitServesEvaluation() throws IOException {
        Path dir = tinySet(tmp.resolve("testonly"), 6);
        Files.delete(dir.resolve("train-images-idx3-ubyte.gz"));
        Files.delete(dir.resolve("train-labels-idx1-ubyte"));
        DataSets.Loaded l = DataSets.load("mnist", dir, Map.of(), 0);
        assertThat(l.description()).isEqualTo("MNIST from " + dir + " (test split only: 3 test)");
        assertThat(l.test().labels().toLongArray()).containsExactly(9, 8, 7);
        assertFault(l::train, dir.resolve("train-images-idx3-ubyte") + "[.gz]",
                "no such file (" + dir + " holds only the test split of MNIST; this command reads the training split)");
        // and a split is read only when asked for: a corrupt training file does not stop evaluation
        Path both = tinySet(tmp.resolve("corrupttrain"), 6);
        Files.delete(both.resolve("train-labels-idx1-ubyte"));
        Files.write(both.resolve("train-labels-idx1-ubyte.gz"), new byte[]{0x1f, (byte) 0x8b, 1, 2});
        DataSets.Loaded b = DataSets.load("mnist", both, Map.of(), 0);
        assertThat(b.test().size()).isEqualTo(3);
        assertFault(b::train, both.resolve("train-labels-idx1-ubyte.gz").toString(), "corrupt gzip");
    }

    @Test
    void countMismatchNamesBothFilesAndBothCounts() throws IOException {
        Path dir = tinySet(tmp.resolve("mismatch"), 5);
        assertFault(() -> DataSets.load("mnist", dir, Map.of(), 0).train(), dir.resolve("train-labels-idx1-ubyte").toString(),
                "holds 5 labels but " + dir.resolve("train-images-idx3-ubyte.gz") + " holds 6 images");
    }

    @Test
    void aFolderPassedAsTheNameIsPointedToDataDir(@TempDir Path dir) {
        assertThatThrownBy(() -> DataSets.load(dir.toString(), null, Map.of(), 0)).isInstanceOf(DataException.class)
                .hasMessage("'" + dir + "' is a folder, not a data set name: pass --data-dir " + dir
                        + " with --data fashion-mnist or mnist (IDX files), cifar10 (CIFAR-10's .bin files) or folder"
                        + " (one subfolder of images per class)");
    }

    @Test
    void unknownNameListsTheValidOnes() {
        assertThatThrownBy(() -> DataSets.load("cifar", null, Map.of(), 0)).isInstanceOf(DataException.class)
                .hasMessageStartingWith("unknown data set 'cifar': use one of fashion-mnist, fashion-mnist-sample, mnist, cifar10, folder, swissroll");
        assertThat(DataSets.NAMES).contains("fashion-mnist", "fashion-mnist-sample", "mnist", "cifar10", "folder", "moons", "checkerboard")
                .hasSize(13);
    }

    @Test
    void theSampleCanBeAskedForByName() {
        DataSets.Loaded s = DataSets.load(DataSets.SAMPLE_NAME, null, Map.of(), 0);
        assertThat(s.train().size()).isEqualTo(6000);
        assertThat(s.test().size()).isEqualTo(1000);
        assertThat(s.description()).contains("SAMPLE").doesNotContain("not found");
    }

    @Test
    void toySetsWithDerivedSeeds() {
        DataSets.Loaded a = DataSets.load("moons", null, Map.of(), 3);
        assertThat(a.train().size()).isEqualTo(20000);
        assertThat(a.test().size()).isEqualTo(5000);
        assertThat(a.description()).isEqualTo("toy set moons: 20000 train / 5000 test points generated from seed 3");
        DataSets.Options small = DataSets.Options.seeded(3).withToySizes(100, 100);
        DataSets.Loaded b = DataSets.load("moons", null, Map.of(), small);
        assertThat(b.train().size()).isEqualTo(100);
        assertThat(b.train().inputs().toFloatArray())
                .containsExactly(DataSets.load("moons", null, Map.of(), small).train().inputs().toFloatArray())
                .isNotEqualTo(b.test().inputs().toFloatArray())
                .isNotEqualTo(DataSets.load("moons", null, Map.of(), 4).train().head(100).inputs().toFloatArray());
    }

    @Test
    void folderHoldsOutTwentyPercentOrUsesTrainAndTestSubfolders() throws IOException {
        assertThatThrownBy(() -> DataSets.load("folder", null, Map.of(), 0)).isInstanceOf(DataException.class)
                .hasMessageStartingWith("folder: needs --data-dir");
        Path flat = tmp.resolve("flat");
        for (int i = 0; i < 10; i++) {
            ImageFolderTest.save(ImageFolderTest.gray(4, 4, i), flat.resolve("a/" + i + ".png"));
            ImageFolderTest.save(ImageFolderTest.gray(4, 4, i), flat.resolve("b/" + i + ".png"));
        }
        DataSets.Loaded l = DataSets.load("folder", flat, Map.of(), 5);
        assertThat(l.train().size()).isEqualTo(16);
        assertThat(l.test().size()).isEqualTo(4);
        assertThat(l.description()).isEqualTo("image folder " + flat
                + ": 16 train / 4 test images (20% held out, seed 5), 2 classes, 1x4x4");
        assertThat(DataSets.load("folder", flat, Map.of(), 5).test().inputs().toUnsignedBytes())
                .isEqualTo(l.test().inputs().toUnsignedBytes());

        Path split = tmp.resolve("split");
        ImageFolderTest.save(ImageFolderTest.gray(4, 4, 0), split.resolve("train/a/1.png"));
        ImageFolderTest.save(ImageFolderTest.gray(4, 4, 0), split.resolve("train/b/1.png"));
        ImageFolderTest.save(ImageFolderTest.gray(9, 9, 0), split.resolve("test/a/1.png"));
        ImageFolderTest.save(ImageFolderTest.gray(9, 9, 0), split.resolve("test/b/1.png"));
        DataSets.Loaded s = DataSets.load("folder", split, Map.of(), DataSets.Options.seeded(0).withImageSize(6, 6));
        assertThat(s.description()).isEqualTo("image folder " + split + " (train/ and test/): 2 train / 2 test images, "
                + "2 classes, 1x6x6 (resized to 6x6)");
        assertFault(() -> DataSets.load("folder", split, Map.of(), 0), split.resolve("test").toString(),
                "examples are [1, 9, 9] but " + split.resolve("train") + " has [1, 4, 4]; resize both to one size with --image-size HxW "
                        + "(e.g. --image-size 4x4, the training images')");
        ImageFolderTest.save(ImageFolderTest.gray(9, 9, 0), split.resolve("test/c/1.png"));
        assertFault(() -> DataSets.load("folder", split, Map.of(), DataSets.Options.seeded(0).withImageSize(6, 6)),
                split.resolve("test").toString(), "class subfolders [a, b, c] differ");
    }

    @Test
    void describeAvailableSaysWhatWasFoundWhere() throws IOException {
        Path sys = noSystem();
        tinySet(sys.resolve("mnist"), 6);
        List<String> lines = DataSets.describeAvailable(null, Map.of(), sys);
        assertThat(lines).hasSize(6);
        assertThat(lines.get(0)).startsWith("fashion-mnist: not found (looked in $TIKHON_DATA (unset), "
                + sys.resolve("fashion-mnist") + "); the bundled sample");
        assertThat(lines.get(1)).isEqualTo("mnist: found in " + sys.resolve("mnist"));
        assertThat(lines.get(2)).isEqualTo("fashion-mnist-sample: bundled in the jar (6000 train / 1000 test Fashion-MNIST images): "
                + "--data fashion-mnist-sample");
        assertThat(lines.get(3)).startsWith("cifar10: not found (looked in $TIKHON_DATA (unset), " + sys.resolve("cifar10"));
        assertThat(lines.get(4)).startsWith("toy sets").contains("pinwheel");
        assertThat(lines.get(5)).startsWith("folder: needs --data-dir");

        Path partial = tinySet(tmp.resolve("partial"), 6);
        Files.delete(partial.resolve("t10k-images-idx3-ubyte.gz"));
        Files.createDirectories(partial.resolve("cats"));
        lines = DataSets.describeAvailable(partial, Map.of(), sys);
        assertThat(lines.get(0)).startsWith("fashion-mnist: unusable: " + partial.resolve("t10k-images-idx3-ubyte"));
        assertThat(lines.get(3)).startsWith("cifar10: unusable: " + partial.resolve("test_batch.bin") + ": no such file");
        assertThat(lines.get(5)).isEqualTo("folder: " + partial + " has 1 class subfolders: cats");
    }
}
