package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code tikhon attack --smoothed M}: the attack runs on Cohen's Monte Carlo smoothed classifier of a noise-trained checkpoint. */
class CliSmoothedAttackTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void attacksTheSmoothedClassifierAtTheCheckpointsSigma(@TempDir Path dir) throws IOException {
        Path base = dir.resolve("base"), out = dir.resolve("attack");
        Cli.Run t = Cli.run("train", "--data", "fashion-mnist-sample", "--model", "mlp", "--hidden", "32", "--epochs", "1",
                "--reg", "noise", "--sigma", "0.25", "--threads", "1", "--out", base.toString());
        assertThat(t.exitCode()).as(t.err()).isZero();
        Cli.Run a = Cli.run("attack", "--checkpoint", base.toString(), "--smoothed", "8", "--eot", "2", "--attack", "apgd-ce",
                "--steps", "5", "--norm", "l2", "--eps", "0.25,2", "--limit", "12", "--threads", "1", "--out", out.toString());
        assertThat(a.exitCode()).as(a.err()).isZero();
        assertThat(a.out()).contains("smoothed (σ 0.25, 8 Monte Carlo samples per forward pass)");
        JsonNode m = JSON.readTree(out.resolve("metrics.json").toFile());
        assertThat(m.at("/model").asText()).contains("smoothed (σ 0.25");
        double clean = m.at("/clean_accuracy").asDouble(), small = m.at("/robust_accuracy/0.25").asDouble(),
                large = m.at("/robust_accuracy/2.0").asDouble();
        assertThat(clean).isGreaterThan(0.3);   // the smoothed classifier of a noise-trained MLP still classifies
        assertThat(small).isLessThanOrEqualTo(clean);
        assertThat(large).as("ℓ2 radius 2 is eight times σ").isLessThan(clean);
        // no minimum-distance search and no bounds ran: nothing made up in their place (min_distance was inf, margin 0.0)
        assertThat(m.at("/min_adversarial_distance").isMissingNode()).isTrue();
        assertThat(a.out()).doesNotContain("smallest adversarial distance").contains("[Monte Carlo estimate: the smoothed classifier]");
        dev.tikhon.report.Csv.Table perImage = dev.tikhon.report.Csv.read(out.resolve("per_image.csv"));
        for (java.util.Map<String, String> row : perImage.records()) {
            assertThat(row.get("margin")).isEmpty();
            assertThat(row.get("grad_norm_dual")).isEmpty();
            assertThat(row.get("min_distance")).isNotEqualTo("inf");
            if (row.get("verdict").equals("robust")) assertThat(row.get("min_distance")).isEmpty();
        }
        // its robust accuracy is a Monte Carlo estimate, and says so
        assertThat(m.at("/robust_accuracy_kind").asText()).isEqualTo("monte-carlo estimate");
        assertThat(JSON.readTree(out.resolve("robustbench.json").toFile()).at("/kind").asText()).isEqualTo("monte-carlo estimate");
        assertThat(java.nio.file.Files.readString(out.resolve("index.html"))).contains("Monte Carlo estimate");
    }

    @Test
    void sigmaComesFromTheCheckpointOrTheCommandLine(@TempDir Path dir) {
        String fixture = "src/test/resources/torchscript/tiny_cnn.pt";
        Cli.Run noSigma = Cli.run("attack", "--torchscript", fixture, "--data", "fashion-mnist-sample", "--smoothed", "4", "--limit", "2",
                "--threads", "1", "--out", dir.resolve("a").toString());
        assertThat(noSigma.exitCode()).isEqualTo(2);
        assertThat(noSigma.err()).contains("--sigma is needed");
        Cli.Run stray = Cli.run("attack", "--torchscript", fixture, "--data", "fashion-mnist-sample", "--sigma", "0.5", "--limit", "2",
                "--threads", "1", "--out", dir.resolve("b").toString());
        assertThat(stray.exitCode()).isEqualTo(2);
        assertThat(stray.err()).contains("--sigma is the noise of --smoothed");
        Cli.Run negative = Cli.run("attack", "--torchscript", fixture, "--data", "fashion-mnist-sample", "--smoothed", "-1", "--limit", "2",
                "--threads", "1", "--out", dir.resolve("c").toString());
        assertThat(negative.exitCode()).isEqualTo(2);
        assertThat(negative.err()).contains("--smoothed");
        Cli.Run ok = Cli.run("attack", "--torchscript", fixture, "--data", "fashion-mnist-sample", "--smoothed", "4", "--sigma", "0.5",
                "--attack", "apgd-ce", "--steps", "3", "--eps", "0.1", "--limit", "4", "--threads", "1", "--out", dir.resolve("d").toString());
        assertThat(ok.exitCode()).as(ok.err()).isZero();
        assertThat(ok.out()).contains("smoothed (σ 0.5, 4 Monte Carlo samples");
    }
}
