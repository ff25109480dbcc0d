package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class CliGeneralizationTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void reportOfATrainedModel(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run");
        assertThat(Cli.run("train", "--data", "moons", "--model", "mlp", "--hidden", "16", "--epochs", "1", "--threads", "1",
                "--out", run.toString()).exitCode()).isEqualTo(0);
        Cli.Run dl = Cli.run("data-lipschitz", "--data", "moons", "--max-points", "1000", "--threads", "1", "--out", dir.resolve("dl").toString());
        assertThat(dl.exitCode()).as(dl.err()).isEqualTo(0);
        Cli.Run r = Cli.run("generalization", "--checkpoint", run.toString(), "--max-points", "1000", "--threads", "1",
                "--data-lipschitz", dir.resolve("dl").toString(), "--out", dir.resolve("gen").toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        JsonNode m = JSON.readTree(dir.resolve("gen/metrics.json").toFile()).get("report");
        assertThat(m.get("accuracy_gap").asDouble()).isCloseTo(m.get("train_acc").asDouble() - m.get("test_acc").asDouble(), within(1e-12));
        assertThat(m.at("/model_lipschitz_softmax_train/max").asDouble()).isPositive();
        assertThat(m.at("/data_lipschitz/lipschitz_01_labels").asDouble())
                .isEqualTo(JSON.readTree(dir.resolve("dl/metrics.json").toFile()).at("/result/lipschitz_01_labels").asDouble());
        assertThat(r.out()).contains("model Lipschitz").contains("data Lipschitz");
        ReportContentTest.checkPage(dir.resolve("gen"), "Training accuracy");
        ReportContentTest.checkPage(dir.resolve("dl"), "Lipschitz constant");
    }
}
