package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.train.ObjectiveSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** --loss through train, resume and eval; checkpoints without a loss read back as cross-entropy. */
class CliLossTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void trainResumeAndEvalKeepTheChosenLoss(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("hinge");
        Cli.Run r = Cli.run("train", "--data", "moons", "--model", "mlp", "--hidden", "16", "--epochs", "1", "--threads", "1",
                "--loss", "hinge", "--reg", "tikhonov", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        assertThat(r.out()).contains("loss:   hinge + 0.1 · tikhonov");
        JsonNode m = JSON.readTree(out.resolve("metrics.json").toFile());
        assertThat(m.at("/config/objective/loss").asText()).isEqualTo("hinge");
        assertThat(m.at("/final/test_acc").asDouble()).isGreaterThan(0.7);
        Cli.Run resumed = Cli.run("train", "--resume", "--epochs", "2", "--out", out.toString());
        assertThat(resumed.exitCode()).as(resumed.err()).isEqualTo(0);
        assertThat(resumed.out()).contains("hinge + 0.1 · tikhonov");
        Cli.Run eval = Cli.run("eval", "--checkpoint", out.toString(), "--out", dir.resolve("eval").toString());
        assertThat(eval.exitCode()).as(eval.err()).isEqualTo(0);
        assertThat(eval.out()).contains("ℓ = hinge");
        assertThat(JSON.readTree(dir.resolve("eval/metrics.json").toFile()).at("/training_loss").asText()).isEqualTo("hinge");
    }

    @Test
    void defaultIsCrossEntropyAndUnknownLossIsAOneLineError(@TempDir Path dir) {
        Cli.Run r = Cli.run("train", "--data", "moons", "--model", "mlp", "--loss", "hingee", "--out", dir.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().strip()).startsWith("tikhon: error: unknown --loss 'hingee'").doesNotContain("\n");
        assertThat(ObjectiveSpec.plain().loss()).isEqualTo("cross-entropy");
    }

    @Test
    void objectiveSpecWithoutALossReadsAsCrossEntropy() throws IOException {
        String old = "{\"reg\":\"tikhonov\",\"lambda\":0.5,\"h\":0.01,\"norm\":\"l2\",\"central\":false,\"tvWeight\":0,"
                + "\"lipWeight\":0,\"sigma\":0,\"eps\":0,\"steps\":0,\"stepSize\":0,\"randomStart\":false}";
        ObjectiveSpec s = dev.tikhon.report.Json.mapper().readValue(old, ObjectiveSpec.class);
        assertThat(s.loss()).isEqualTo("cross-entropy");
        assertThat(s.settings(dev.tikhon.regularize.Tikhonov.Settings.class))
                .isEqualTo(new dev.tikhon.regularize.Tikhonov.Settings(0.5, 0.01, "l2", false));
        assertThat(dev.tikhon.regularize.Regularizers.build(s).describe())
                .isEqualTo(dev.tikhon.regularize.Regularizers.build(dev.tikhon.train.ObjectiveSpec.of("tikhonov",
                        new dev.tikhon.regularize.Tikhonov.Settings(0.5, 0.01, "l2", false))).describe());
        // the new layout round-trips through JSON
        ObjectiveSpec back = dev.tikhon.report.Json.mapper().readValue(dev.tikhon.report.Json.mapper().writeValueAsString(s), ObjectiveSpec.class);
        assertThat(back).isEqualTo(s);
    }
}
