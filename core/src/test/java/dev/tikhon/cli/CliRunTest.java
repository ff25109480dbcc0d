package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The commands end to end on the bundled Fashion-MNIST sample. */
class CliRunTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void trainThenEvalAgree(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run");
        Cli.Run t = Cli.run("train", "--data", "fashion-mnist-sample", "--model", "mlp", "--hidden", "64",
                "--epochs", "2", "--threads", "1", "--out", run.toString());
        assertThat(t.exitCode()).as(t.err()).isEqualTo(0);
        assertThat(t.out()).contains("SAMPLE bundled with Tikhon").contains("test accuracy");
        for (String f : new String[]{"metrics.json", "history.csv", "checkpoint.tkn", "index.html", "loss.png", "accuracy.png"}) {
            assertThat(run.resolve(f)).exists();
        }
        JsonNode m = JSON.readTree(run.resolve("metrics.json").toFile());
        double trainAcc = m.at("/final/test_acc").asDouble();
        assertThat(trainAcc).isGreaterThan(0.7);
        assertThat(m.at("/epochs").asInt()).isEqualTo(2);
        assertThat(m.at("/data/description").asText()).contains("SAMPLE");

        Path eval = dir.resolve("eval");
        Cli.Run e = Cli.run("eval", "--checkpoint", run.toString(), "--threads", "1", "--out", eval.toString());
        assertThat(e.exitCode()).as(e.err()).isEqualTo(0);
        JsonNode em = JSON.readTree(eval.resolve("metrics.json").toFile());
        assertThat(em.at("/evaluation/accuracy").asDouble()).isCloseTo(trainAcc, within(1e-12));
        assertThat(em.at("/evaluation/n").asInt()).isEqualTo(1000);
        assertThat(em.at("/input_gradient_norms/l2_mean").asDouble()).isPositive();
        assertThat(em.at("/input_gradient_norms/l1_max").asDouble()).isGreaterThanOrEqualTo(em.at("/input_gradient_norms/l1_mean").asDouble());
        assertThat(eval.resolve("confusion.csv")).exists();
        assertThat(eval.resolve("per_class_accuracy.png")).exists();
        assertThat(eval.resolve("index.html")).content().contains("accuracy");
    }

    @Test
    void evalRunsATorchScriptModelFromPyTorch(@TempDir Path dir) throws IOException {
        Cli.Run e = Cli.run("eval", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data",
                "fashion-mnist-sample", "--out", dir.toString());
        assertThat(e.exitCode()).as(e.err()).isEqualTo(0);
        assertThat(e.out()).contains("TorchScript");
        JsonNode em = JSON.readTree(dir.resolve("metrics.json").toFile());
        assertThat(em.at("/evaluation/n").asInt()).isEqualTo(1000);
        assertThat(em.at("/evaluation/accuracy").asDouble()).isBetween(0.0, 1.0);
    }

    @Test
    void benchPrintsJson(@TempDir Path dir) throws IOException {
        Cli.Run b = Cli.run("bench", "train-step", "--model", "mlp", "--steps", "3", "--warmup", "1", "--out", dir.toString());
        assertThat(b.exitCode()).as(b.err()).isEqualTo(0);
        JsonNode j = JSON.readTree(b.out().strip().lines().reduce((a, c) -> c).orElseThrow());
        assertThat(j.get("steps_per_second").asDouble()).isPositive();
        assertThat(j.get("batch").asInt()).isEqualTo(128);
        assertThat(dir.resolve("metrics.json")).exists();
    }

    @Test
    void infoReportsEngineAndData(@TempDir Path dir) {
        Cli.Run i = Cli.run("info", "--out", dir.toString());
        assertThat(i.exitCode()).as(i.err()).isEqualTo(0);
        assertThat(i.out()).contains("libtorch").contains("fashion-mnist").contains("kernels");
        assertThat(i.out()).contains("fused_updates:").contains("  cpu: agree (largest relative difference sgd ");
        assertThat(dir.resolve("metrics.json")).exists();
    }

    /**
     * A command's {@code --threads} holds while it runs and is set back when it ends, failed or not: commands run in one
     * process one after another (as the tests run them) each start at the process's count, not at the last command's.
     */
    @Test
    void aCommandsThreadCountIsSetBackWhenItEnds() throws IOException {
        int before = dev.tikhon.engine.Engine.threads();
        String other = String.valueOf(before == 1 ? 2 : 1);
        Cli.Run m = Cli.run("bench", "matmul", "--size", "8", "--reps", "1", "--threads", other);
        assertThat(m.exitCode()).as(m.err()).isEqualTo(0);
        assertThat(JSON.readTree(m.out().strip()).get("threads").asText()).isEqualTo(other);
        assertThat(dev.tikhon.engine.Engine.threads()).as("after bench matmul --threads " + other).isEqualTo(before);
        Cli.Run bad = Cli.run("bench", "train-step", "--model", "mlp", "--reg", "tikhonov", "--versus", "cnn", "--threads", other);
        assertThat(bad.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(bad.err()).contains("use --reg or --versus, not both");
        assertThat(dev.tikhon.engine.Engine.threads()).as("after a failed command").isEqualTo(before);
    }
}
