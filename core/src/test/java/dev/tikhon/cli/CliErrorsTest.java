package dev.tikhon.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** Bad input gives one line that names the file and the fault, exit code 2, and no stack trace. */
class CliErrorsTest {

    private static void assertOneLineError(Cli.Run r, String... mentions) {
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        String[] lines = r.err().strip().split("\n");
        assertThat(lines).as("stderr: %s", r.err()).hasSize(1);
        assertThat(lines[0]).startsWith("tikhon: error: ").doesNotContain("Exception");
        for (String m : mentions) assertThat(lines[0]).contains(m);
        assertThat(r.err()).doesNotContain("\tat ");
    }

    static byte[] idx(int magic, int[] dims, int dataBytes) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(magic);
        for (int d : dims) out.writeInt(d);
        out.write(new byte[dataBytes]);
        return bytes.toByteArray();
    }

    static void gz(Path file, byte[] content) throws IOException {
        try (GZIPOutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(content);
        }
    }

    /** A small but well-formed Fashion-MNIST-shaped directory: n train and n test examples. */
    static Path idxDir(Path dir, int nTrain, int nTrainLabels) throws IOException {
        gz(dir.resolve("train-images-idx3-ubyte.gz"), idx(0x803, new int[]{nTrain, 28, 28}, nTrain * 784));
        gz(dir.resolve("train-labels-idx1-ubyte.gz"), idx(0x801, new int[]{nTrainLabels}, nTrainLabels));
        gz(dir.resolve("t10k-images-idx3-ubyte.gz"), idx(0x803, new int[]{10, 28, 28}, 10 * 784));
        gz(dir.resolve("t10k-labels-idx1-ubyte.gz"), idx(0x801, new int[]{10}, 10));
        return dir;
    }

    @Test
    void sparkWithoutTheSparkModuleSaysHowToAddIt(@TempDir Path dir) {
        // the core's test class path has no tikhon-spark, as a user's core-only class path
        assertOneLineError(Cli.run("certify", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample",
                "--method", "cohen", "--sigma", "0.25", "--images", "1", "--n", "10", "--spark", "local[1]", "--out", dir.toString()),
                "--spark local[1]", "not on the class path", "docs/spark.md");
        assertOneLineError(Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample",
                "--limit", "2", "--partitions", "3", "--out", dir.toString()), "--partitions", "--spark");
        // said before the model and data are read (a missing model file is not reached), and no run folder is made
        for (String command : new String[]{"attack", "bounds"}) {
            assertOneLineError(Cli.run(command, "--checkpoint", dir.resolve("absent.tkn").toString(), "--spark", "local[1]",
                    "--out", dir.resolve("run").toString()), "--spark local[1]", "not on the class path");
        }
        assertOneLineError(Cli.run("certify", "--checkpoint", dir.resolve("absent.tkn").toString(), "--method", "crown", "--spark", "local[1]",
                "--out", dir.resolve("run").toString()), "--spark local[1]", "not on the class path");
        assertThat(dir.resolve("run")).doesNotExist();
    }

    @Test
    void aReproductionsUnknownVariantIsRefusedNamingTheVariantsBeforeAnythingRuns(@TempDir Path dir) {
        // one known and one unknown name: the known one does not carry the typo through
        assertOneLineError(Cli.run("reproduce", "tikhonov", "--data", "fashion-mnist-sample", "--variants", "undefended,tikhonov-fd1",
                "--out", dir.resolve("t").toString()), "'tikhonov-fd1'", "tikhonov-fd-1", "undefended");
        assertOneLineError(Cli.run("reproduce", "verify", "--data", "fashion-mnist-sample", "--variants", "ibp,crown",
                "--out", dir.resolve("v").toString()), "'crown'", "crown-ibp", "pgd-7");
        assertOneLineError(Cli.run("reproduce", "farkas", "--data", "fashion-mnist-sample", "--variants", "plain",
                "--out", dir.resolve("f").toString()), "--variants", "'plain'");
        assertThat(dir.resolve("t")).doesNotExist();
        assertThat(dir.resolve("v")).doesNotExist();
        assertThat(dir.resolve("f")).doesNotExist();
    }

    @Test
    void corruptIdxFile(@TempDir Path dir) throws IOException {
        idxDir(dir, 20, 20);
        gz(dir.resolve("train-images-idx3-ubyte.gz"), idx(0x801, new int[]{20, 28, 28}, 20 * 784));
        assertOneLineError(Cli.run("train", "--data-dir", dir.toString(), "--out", dir.resolve("run").toString()),
                "train-images-idx3-ubyte.gz", "magic");
    }

    @Test
    void truncatedIdxFile(@TempDir Path dir) throws IOException {
        idxDir(dir, 20, 20);
        gz(dir.resolve("train-images-idx3-ubyte.gz"), idx(0x803, new int[]{20, 28, 28}, 1000));
        assertOneLineError(Cli.run("train", "--data-dir", dir.toString(), "--out", dir.resolve("run").toString()),
                "train-images-idx3-ubyte.gz", "truncated");
    }

    @Test
    void garbledGzip(@TempDir Path dir) throws IOException {
        idxDir(dir, 20, 20);
        byte[] good = Files.readAllBytes(dir.resolve("t10k-labels-idx1-ubyte.gz"));
        good[good.length / 2] ^= 0x5A;
        good[good.length / 2 + 1] ^= 0x5A;
        Files.write(dir.resolve("t10k-labels-idx1-ubyte.gz"), java.util.Arrays.copyOf(good, good.length - 6));
        assertOneLineError(Cli.run("eval", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt",
                "--data-dir", dir.toString(), "--out", dir.resolve("run").toString()), "t10k-labels-idx1-ubyte.gz");
    }

    @Test
    void missingDirectory(@TempDir Path dir) {
        Path nowhere = dir.resolve("no-such-dir");
        assertOneLineError(Cli.run("train", "--data-dir", nowhere.toString(), "--out", dir.resolve("run").toString()),
                nowhere.toString(), "no such directory");
    }

    @Test
    void mismatchedImageAndLabelCounts(@TempDir Path dir) throws IOException {
        idxDir(dir, 20, 19);
        assertOneLineError(Cli.run("train", "--data-dir", dir.toString(), "--out", dir.resolve("run").toString()),
                "train-labels-idx1-ubyte.gz", "19", "20");
    }

    @Test
    void missingFileInAGivenDirectory(@TempDir Path dir) throws IOException {
        idxDir(dir, 20, 20);
        Files.delete(dir.resolve("t10k-images-idx3-ubyte.gz"));
        assertOneLineError(Cli.run("train", "--data-dir", dir.toString(), "--out", dir.resolve("run").toString()),
                "t10k-images-idx3-ubyte");
    }

    @Test
    void unknownDataSetModelAndOptionValues(@TempDir Path dir) {
        assertOneLineError(Cli.run("train", "--data", "cifar100", "--out", dir.toString()), "cifar100", "fashion-mnist");
        assertOneLineError(Cli.run("train", "--data", "moons", "--model", "vgg", "--out", dir.toString()), "vgg");
        assertOneLineError(Cli.run("train", "--data", "moons", "--model", "mlp", "--optimizer", "lbfgs",
                "--epochs", "1", "--out", dir.resolve("o").toString()), "lbfgs");
        assertOneLineError(Cli.run("train", "--data", "moons", "--model", "mlp", "--epochs", "0", "--out", dir.toString()),
                "--epochs");
        assertOneLineError(Cli.run("train", "--data", "moons", "--model", "cnn", "--out", dir.toString()), "[C,H,W]");
    }

    @Test
    void unknownOptionIsAUsageError() {
        Cli.Run r = Cli.run("train", "--learning-rate", "0.1");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("Unknown option").contains("--learning-rate").contains("tikhon train --help");
        assertThat(r.err().lines().count()).isLessThanOrEqualTo(4);
    }

    @Test
    void cudaWithoutAGpuSaysWhatToDo(@TempDir Path dir) {
        if (dev.tikhon.engine.Engine.cudaAvailable()) return;
        assertOneLineError(Cli.run("train", "--device", "cuda", "--data", "moons", "--out", dir.toString()),
                "--device cuda", "--device cpu");
        String ts = "src/test/resources/torchscript/tiny_cnn.pt";
        assertOneLineError(Cli.run("certify", "--torchscript", ts, "--data", "fashion-mnist-sample", "--method", "cohen",
                "--sigma", "0.25", "--images", "1", "--device", "cuda", "--out", dir.resolve("c").toString()), "--device cuda", "--device cpu");
        assertOneLineError(Cli.run("attack", "--torchscript", ts, "--data", "fashion-mnist-sample", "--limit", "2",
                "--device", "cuda", "--out", dir.resolve("a").toString()), "--device cuda", "--device cpu");
        assertOneLineError(Cli.run("smooth", "--torchscript", ts, "--data", "fashion-mnist-sample", "--subset", "64",
                "--device", "cuda:0", "--out", dir.resolve("s").toString()), "--device cuda", "--device cpu");
    }

    @Test
    void libtorchDeviceMismatchesAreRecognisedAsPlacementErrors() {
        // the messages libtorch 2.x gives for a convolution and for any other op with operands on two devices
        assertThat(dev.tikhon.engine.Engine.isDeviceMismatch(new RuntimeException(
                "Input type (CUDAFloatType) and weight type (CPUFloatType) should be the same\nException raised from ..."))).isTrue();
        assertThat(dev.tikhon.engine.Engine.isDeviceMismatch(new IllegalStateException("forward", new RuntimeException(
                "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!")))).isTrue();
        assertThat(dev.tikhon.engine.Engine.isDeviceMismatch(new RuntimeException("mat1 and mat2 shapes cannot be multiplied"))).isFalse();
    }

    @Test
    void corruptCheckpoint(@TempDir Path dir) throws IOException {
        Path ck = dir.resolve("checkpoint.tkn");
        Files.writeString(ck, "definitely not a zip");
        assertOneLineError(Cli.run("eval", "--checkpoint", ck.toString(), "--out", dir.resolve("e").toString()),
                ck.toString());
        assertOneLineError(Cli.run("eval", "--checkpoint", dir.resolve("absent").toString(), "--out", dir.resolve("e").toString()),
                "no such checkpoint");
    }

    @ParameterizedTest
    @ValueSource(strings = {"train", "eval", "info", "bench", "bench train-step"})
    void everyCommandHasHelp(String command) {
        String[] args = (command + " --help").split(" ");
        Cli.Run r = Cli.run(args);
        assertThat(r.exitCode()).isEqualTo(0);
        assertThat(r.out()).contains("Usage: tikhon " + command);
    }
}
