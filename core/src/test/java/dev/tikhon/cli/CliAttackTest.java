package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.report.Csv;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code tikhon attack} and {@code tikhon bounds} end to end, on the TorchScript fixture and the bundled sample. */
class CliAttackTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void attackWritesPerImageCsvMetricsPlotsAndReport(@TempDir Path dir) throws IOException {
        Cli.Run a = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample",
                "--limit", "24", "--eps", "1/255,0.1", "--steps", "10", "--targets", "2", "--queries", "50", "--ddn-steps", "30",
                "--threads", "1", "--out", dir.toString());
        assertThat(a.exitCode()).as(a.err()).isZero();
        assertThat(a.out()).contains("robust accuracy").contains("ms per image");
        JsonNode m = JSON.readTree(dir.resolve("metrics.json").toFile());
        assertThat(m.at("/n").asInt()).isEqualTo(24);
        double clean = m.at("/clean_accuracy").asDouble();
        double small = m.at("/robust_accuracy/0.00392157").asDouble(), large = m.at("/robust_accuracy/0.1").asDouble();
        assertThat(small).isLessThanOrEqualTo(clean);
        assertThat(large).isLessThanOrEqualTo(small);
        assertThat(m.at("/attacks/members").size()).isEqualTo(3);
        assertThat(m.at("/bounds/l_bound_violations").asInt()).isZero();
        Csv.Table t = Csv.read(dir.resolve("per_image.csv"));
        assertThat(t.rows()).hasSize(24);
        assertThat(t.header()).contains("label", "prediction", "margin", "grad_norm_dual", "l_bound", "min_distance", "found_by", "robust_at_0.1");
        for (String f : new String[]{"robust_accuracy.png", "index.html"}) assertThat(dir.resolve(f)).exists();
    }

    @Test
    void boundsReportsEstimatesAndChecksThem(@TempDir Path dir) throws IOException {
        Cli.Run b = Cli.run("bounds", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample",
                "--limit", "16", "--norm", "l2", "--lanczos", "4", "--ddn-steps", "30", "--threads", "1", "--out", dir.toString());
        assertThat(b.exitCode()).as(b.err()).isZero();
        assertThat(b.out()).contains("L-bound (estimate").contains("C-bound (estimate");
        JsonNode m = JSON.readTree(dir.resolve("metrics.json").toFile());
        assertThat(m.at("/bounds/kind").asText()).contains("estimate");
        assertThat(m.at("/bounds/lipschitz_estimate").asDouble()).isPositive();
        assertThat(m.at("/bounds/curvature_estimate").isMissingNode()).isFalse();
    }

    @Test
    void badAttackOptionsAreClearErrors(@TempDir Path dir) {
        Cli.Run r = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample",
                "--attack", "fab", "--out", dir.toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("unknown attack 'fab'").contains("ensemble");
        r = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--eps", "8/0x", "--out", dir.toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("--eps takes positive radii");
        r = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--norm", "l3", "--out", dir.toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("unknown attack norm 'l3'");
        r = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--norm", "l2", "--attack", "square", "--out", dir.toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("square is an ℓ∞ attack");
    }
}
