package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** train --model farkas-resnet records the architecture in the checkpoint, so eval rebuilds it from the path alone. */
class CliFarkasTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void trainFarkasResnetThenEvalRebuildsIt(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run");
        Cli.Run t = Cli.run("train", "--data", "fashion-mnist-sample", "--model", "farkas-resnet", "--depth", "8", "--width", "3",
                "--epochs", "1", "--lr", "0.1", "--schedule", "constant", "--threads", "1", "--out", run.toString());
        assertThat(t.exitCode()).as(t.err()).isEqualTo(0);
        JsonNode m = JSON.readTree(run.resolve("metrics.json").toFile());
        double acc = m.at("/final/test_acc").asDouble();
        Path eval = dir.resolve("eval");
        Cli.Run e = Cli.run("eval", "--checkpoint", run.toString(), "--threads", "1", "--out", eval.toString());
        assertThat(e.exitCode()).as(e.err()).isEqualTo(0);
        assertThat(JSON.readTree(eval.resolve("metrics.json").toFile()).at("/evaluation/accuracy").asDouble()).isCloseTo(acc, within(1e-12));
    }

    @Test
    void farkasResnetWithBatchNormIsAUsageError(@TempDir Path dir) {
        Cli.Run t = Cli.run("train", "--data", "fashion-mnist-sample", "--model", "farkas-resnet", "--batch-norm", "--out", dir.toString());
        assertThat(t.exitCode()).isEqualTo(2);
        assertThat(t.err()).contains("farkas-resnet has no batch norm");
    }

    /** bench train-step refuses what train refuses: no timing of a model the objective cannot train. */
    @Test
    void benchRefusesAModelItsObjectiveRefuses() {
        Cli.Run b = Cli.run("bench", "train-step", "--model", "resnet", "--depth", "8", "--width", "3", "--reg", "gloro",
                "--batch", "8", "--steps", "2", "--warmup", "1", "--threads", "1");
        assertThat(b.exitCode()).isEqualTo(2);
        assertThat(b.err().strip().lines()).singleElement().asString().startsWith("tikhon: error: --reg gloro cannot train a model with batch norm");
        assertThat(b.out()).isEmpty();
    }

    @Test
    void benchVersusPrintsARatio(@TempDir Path dir) throws IOException {
        Cli.Run b = Cli.run("bench", "train-step", "--model", "farkas-resnet", "--versus", "resnet", "--no-batch-norm", "--depth", "8",
                "--width", "3", "--batch", "8", "--steps", "2", "--warmup", "1", "--threads", "1");
        assertThat(b.exitCode()).as(b.err()).isEqualTo(0);
        JsonNode j = JSON.readTree(b.out().strip().lines().reduce((a, c) -> c).orElseThrow());
        assertThat(j.get("versus").asText()).isEqualTo("resnet");
        assertThat(j.at("/versus_options/batch_norm").asBoolean()).isFalse();
        assertThat(j.get("ratio").asDouble()).isPositive();
    }

    /**
     * Certified training cannot bound Farkas layers: it used to train the whole ε = 0 warm-up epoch and fail at the first
     * step with ε > 0 (audit 20a); now the verifier's view of the initial model is built before training starts.
     */
    @Test
    void certifiedTrainingOfFarkasResnetIsRefusedBeforeTraining(@TempDir Path dir) {
        for (String reg : new String[]{"ibp", "crown-ibp"}) {
            Path run = dir.resolve(reg);
            Cli.Run t = Cli.run("train", "--data", "fashion-mnist-sample", "--model", "farkas-resnet", "--depth", "8", "--width", "3",
                    "--reg", reg, "--epochs", "2", "--eps-warmup", "1", "--threads", "1", "--out", run.toString());
            assertThat(t.exitCode()).as(t.err()).isEqualTo(2);
            assertThat(t.err().strip().lines().filter(l -> l.startsWith("tikhon: error:")).toList()).singleElement().asString()
                    .contains("cannot bound the layer FarkasConv2d").contains("--model mlp, cnn or resnet");
            assertThat(t.out()).as(reg + ": nothing trained").doesNotContain("data:");
            assertThat(run.resolve("history.csv")).doesNotExist();
        }
    }

    /** docs/farkas.md found farkas-resnet stalled at chance in every recipe it tried: train says so on stderr, and --help too. */
    @Test
    void trainingFarkasResnetNotesWhatDocsFarkasFound(@TempDir Path dir) {
        Cli.Run t = Cli.run("train", "--data", "fashion-mnist-sample", "--model", "farkas-resnet", "--depth", "8", "--width", "3",
                "--reg", "ibp", "--threads", "1", "--out", dir.resolve("r").toString());
        assertThat(t.err()).contains("note:   --model farkas-resnet stalled at chance").contains("docs/farkas.md");
        Cli.Run cnn = Cli.run("train", "--data", "fashion-mnist-sample", "--model", "cnn", "--loss", "mse", "--reg", "ibp",
                "--threads", "1", "--out", dir.resolve("c").toString());
        assertThat(cnn.err()).doesNotContain("farkas");
        assertThat(Cli.run("train", "--help").out().replaceAll("\\s+", " ")).contains("farkas-resnet (no normalization) stalled at chance in every recipe docs/farkas.md tried");
    }
}
