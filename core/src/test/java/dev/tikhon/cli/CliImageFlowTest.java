package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** flow train/eval/sample on images: the multiscale model end to end on the bundled Fashion-MNIST sample. */
class CliImageFlowTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void trainEvalAndSampleAMultiscaleFlow(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run");
        Cli.Run t = Cli.run("flow", "train", "--data", "fashion-mnist-sample", "--model", "multiscale", "--channels", "8",
                "--iterations", "2", "--batch-size", "8", "--held-out", "210", "--divergence", "rademacher",
                "--reg-kinetic", "0.01", "--reg-jacobian", "0.01", "--grid", "20", "--threads", "1", "--out", run.toString());
        assertThat(t.exitCode()).as(t.err()).isEqualTo(0);
        assertThat(t.err()).contains("note:   --grid does nothing with --data fashion-mnist-sample");
        JsonNode m = JSON.readTree(run.resolve("metrics.json").toFile());
        assertThat(m.at("/held_out/unit").asText()).isEqualTo("bits/dim");
        double bpd = m.at("/held_out/nll").asDouble();
        assertThat(bpd).isFinite().isPositive();
        assertThat(m.at("/held_out/bits_per_dim").asDouble()).isEqualTo(bpd);   // the unit's own name
        assertThat(m.at("/held_out/estimate").asText()).contains("Hutchinson").contains("upper bound");
        assertThat(m.at("/held_out/examples").asInt()).isEqualTo(210);
        assertThat(m.at("/held_out/batches").asInt()).isEqualTo(2);   // 200 + 10: the case where the batch size matters
        assertThat(m.has("final_train_nll")).isFalse();
        assertThat(m.at("/final_train_bits_per_dim").asDouble()).isFinite();
        assertThat(m.at("/config").has("hidden")).isFalse();
        assertThat(dev.tikhon.report.Csv.read(run.resolve("history.csv")).header()).contains("bits_per_dim").doesNotContain("nll");
        assertThat(t.out()).contains("summed over the blocks").contains("upper bound");
        assertThat(m.at("/nfe_forward_total").asDouble()).isEqualTo(2 * 2 * 16);   // 2 iterations × 2 blocks × RK4 4 steps of 4
        assertThat(m.at("/data").asText()).containsIgnoringCase("sample");
        for (String png : new String[]{"samples.png", "data.png", "nfe.png", "loss.png"}) assertThat(run.resolve(png)).exists();

        Path eval = dir.resolve("eval");
        Cli.Run e = Cli.run("flow", "eval", "--checkpoint", run.toString(), "--held-out", "210", "--threads", "1", "--out", eval.toString());
        assertThat(e.exitCode()).as(e.err()).isEqualTo(0);
        // Same seeded evaluation noise, same images, same solver, same batches (eval's default is training's): the same number.
        assertThat(JSON.readTree(eval.resolve("metrics.json").toFile()).at("/held_out/nll").asDouble()).isEqualTo(bpd);
        // One batch of 210 draws other noise (and other adaptive steps): another number, and a note that says so.
        Path eval1 = dir.resolve("eval1");
        Cli.Run e1 = Cli.run("flow", "eval", "--checkpoint", run.toString(), "--held-out", "210", "--batch-size", "210", "--threads", "1",
                "--out", eval1.toString());
        assertThat(e1.exitCode()).as(e1.err()).isEqualTo(0);
        assertThat(e1.err()).contains("note:   --batch-size 210 is not the 200 flow train evaluated with");
        assertThat(e1.out()).contains("NFE for its one batch of 210");
        assertThat(JSON.readTree(eval1.resolve("metrics.json").toFile()).at("/held_out/nll").asDouble()).isNotEqualTo(bpd);

        Path samples = dir.resolve("samples");
        Cli.Run s = Cli.run("flow", "sample", "--checkpoint", run.toString(), "--samples", "20", "--grid", "10", "--threads", "1",
                "--out", samples.toString());
        assertThat(s.exitCode()).as(s.err()).isEqualTo(0);
        assertThat(s.err()).contains("note:   --grid does nothing with an image flow");
        BufferedImage grid = ImageIO.read(samples.resolve("samples.png").toFile());
        assertThat(grid.getWidth()).isEqualTo(10 * (28 * 3 + 2) + 2);
        assertThat(grid.getHeight()).isEqualTo(2 * (28 * 3 + 2) + 2);
        assertThat(Files.exists(samples.resolve("data.png"))).isTrue();
    }

    @Test
    void tooManyScalesIsAUsageError(@TempDir Path dir) {
        Cli.Run t = Cli.run("flow", "train", "--data", "fashion-mnist-sample", "--model", "multiscale", "--scales", "3",
                "--iterations", "1", "--threads", "1", "--out", dir.resolve("run").toString());
        assertThat(t.exitCode()).isNotZero();
        assertThat(t.err()).contains("--scales 2");
    }
}
