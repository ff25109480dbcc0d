package dev.tikhon.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Evaluation reads only the test split: a directory holding only the t10k-* files serves every evaluating command. */
class CliTestSplitOnlyTest {
    private static final String MODEL = "src/test/resources/torchscript/tiny_cnn.pt";

    @Test
    void evaluationCommandsNeedOnlyTheTestFiles(@TempDir Path tmp) throws IOException {
        Path data = CliErrorsTest.idxDir(Files.createDirectories(tmp.resolve("data")), 20, 20);
        Files.delete(data.resolve("train-images-idx3-ubyte.gz"));
        Files.delete(data.resolve("train-labels-idx1-ubyte.gz"));
        String dir = data.toString();

        Cli.Run e = Cli.run("eval", "--torchscript", MODEL, "--data-dir", dir, "--threads", "1", "--out", tmp.resolve("e").toString());
        assertThat(e.exitCode()).as(e.err()).isZero();
        assertThat(e.out()).contains("test split only: 10 test").contains("on 10 examples");
        Cli.Run a = Cli.run("attack", "--torchscript", MODEL, "--data-dir", dir, "--limit", "2", "--steps", "2", "--queries", "10",
                "--ddn-steps", "5", "--threads", "1", "--out", tmp.resolve("a").toString());
        assertThat(a.exitCode()).as(a.err()).isZero();
        Cli.Run b = Cli.run("bounds", "--torchscript", MODEL, "--data-dir", dir, "--limit", "2", "--lanczos", "2", "--ddn-steps", "5",
                "--threads", "1", "--out", tmp.resolve("b").toString());
        assertThat(b.exitCode()).as(b.err()).isZero();
        Cli.Run c = Cli.run("certify", "--torchscript", MODEL, "--data-dir", dir, "--method", "cohen", "--sigma", "0.25",
                "--images", "2", "--n0", "10", "--n", "20", "--noise-batch", "10", "--threads", "1", "--out", tmp.resolve("c").toString());
        assertThat(c.exitCode()).as(c.err()).isZero();

        // a command that trains still says which file it lacks, in one line
        Cli.Run t = Cli.run("train", "--data-dir", dir, "--model", "mlp", "--epochs", "1", "--out", tmp.resolve("t").toString());
        assertThat(t.exitCode()).isEqualTo(2);
        assertThat(t.err().strip()).startsWith("tikhon: error: " + data.resolve("train-images-idx3-ubyte") + "[.gz]: no such file")
                .doesNotContain("\n");
    }
}
