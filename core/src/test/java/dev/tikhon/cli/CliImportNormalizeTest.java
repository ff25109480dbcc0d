package dev.tikhon.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.data.DataSets;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Engine;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Normalize;
import dev.tikhon.nn.ScriptedModel;
import dev.tikhon.nn.Sequential;
import dev.tikhon.train.Checkpoint;
import dev.tikhon.train.Evaluator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import static dev.tikhon.cli.CliBadInputTest.oneErrorLine;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code --normalize} for an imported (TorchScript) model: in front of it for eval, and recorded by smooth's checkpoint. */
class CliImportNormalizeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TINY_CNN = "src/test/resources/torchscript/tiny_cnn.pt";

    @Test
    void evalPutsTheNormalizationInFrontOfTheScript(@TempDir Path dir) throws IOException {
        Cli.Run e = Cli.run("eval", "--torchscript", TINY_CNN, "--normalize", "0.5/0.25", "--data", "fashion-mnist-sample",
                "--threads", "1", "--out", dir.resolve("e").toString());
        assertThat(e.exitCode()).as(e.err()).isZero();
        assertThat(e.out()).contains("behind Normalize(mean [0.5], std [0.25])");
        // oracle: the script behind a Normalize built here, evaluated here
        int threads = Engine.threads();
        Engine.setThreads(1);
        try {
            double expected = Evaluator.evaluate(new Sequential(new Normalize(Normalize.parse("0.5/0.25")),
                    ScriptedModel.load(Path.of(TINY_CNN))).train(false), DataSets.load("fashion-mnist-sample", null, Map.of(), 0).test(),
                    256, Device.CPU).accuracy();
            assertThat(JSON.readTree(dir.resolve("e/metrics.json").toFile()).at("/evaluation/accuracy").asDouble()).isEqualTo(expected);
        } finally {
            Engine.setThreads(threads);
        }
        oneErrorLine(Cli.run("eval", "--torchscript", TINY_CNN, "--normalize", "cifar10", "--data", "fashion-mnist-sample",
                "--out", dir.resolve("e2").toString()), "normalization of 3 channel(s)", "[1, 1, 28, 28]");
        oneErrorLine(Cli.run("eval", "--torchscript", TINY_CNN, "--normalize", "0.5", "--data", "fashion-mnist-sample",
                "--out", dir.resolve("e3").toString()), "--normalize '0.5'");
        oneErrorLine(Cli.run("eval", "--normalize", "0.5/0.25", "--data", "fashion-mnist-sample", "--out", dir.resolve("e4").toString()),
                "--checkpoint", "--torchscript");
    }

    /**
     * An ONNX model that normalizes its input itself (exported with its normalization, as Tikhon's export writes a normalized
     * model) given --normalize too: normalized twice, which a note on stderr says; without the option, or for a model
     * without its own normalization, no note.
     */
    @Test
    void aSecondNormalizationOfAnOnnxModelThatHasOneIsNoted(@TempDir Path dir) {
        dev.tikhon.models.ModelSpec plain = Models.spec("mlp", java.util.List.of(1L, 28L, 28L), 10, Map.of());
        Path normalized = dir.resolve("normalized.onnx"), bare = dir.resolve("bare.onnx");
        dev.tikhon.onnx.OnnxExport.write(Models.build(Models.withNormalization(plain, Normalize.parse("fashion-mnist"))).train(false),
                java.util.List.of(1L, 28L, 28L), normalized);
        dev.tikhon.onnx.OnnxExport.write(Models.build(plain).train(false), java.util.List.of(1L, 28L, 28L), bare);
        String note = "normalizes its input itself";
        Cli.Run twice = Cli.run("eval", "--onnx", normalized.toString(), "--normalize", "fashion-mnist", "--data", "fashion-mnist-sample",
                "--threads", "1", "--out", dir.resolve("a").toString());
        assertThat(twice.exitCode()).as(twice.err()).isZero();
        assertThat(twice.err()).contains(note).contains("--normalize fashion-mnist").contains("drop --normalize");
        Cli.Run once = Cli.run("eval", "--onnx", normalized.toString(), "--data", "fashion-mnist-sample", "--threads", "1",
                "--out", dir.resolve("b").toString());
        assertThat(once.exitCode()).as(once.err()).isZero();
        assertThat(once.err()).doesNotContain(note);
        Cli.Run plainOnce = Cli.run("eval", "--onnx", bare.toString(), "--normalize", "fashion-mnist", "--data", "fashion-mnist-sample",
                "--threads", "1", "--out", dir.resolve("c").toString());
        assertThat(plainOnce.exitCode()).as(plainOnce.err()).isZero();
        assertThat(plainOnce.err()).doesNotContain(note);
    }

    /** smooth records the normalization in its checkpoint, so eval of the checkpoint rebuilds the same model. */
    @Test
    void smoothOfANormalizedScriptRecordsIt(@TempDir Path dir) throws IOException {
        Path smooth = dir.resolve("s");
        Cli.Run s = Cli.run("smooth", "--torchscript", TINY_CNN, "--normalize", "fashion-mnist", "--data", "fashion-mnist-sample",
                "--subset", "32", "--batch-size", "32", "--lr", "1e-3", "--threads", "1", "--out", smooth.toString());
        assertThat(s.exitCode()).as(s.err()).isZero();
        assertThat(s.out()).contains("with the same --normalize fashion-mnist");
        assertThat(Models.normalization(Checkpoint.load(smooth).meta().model())).isEqualTo(Normalize.parse("fashion-mnist"));
        double after = JSON.readTree(smooth.resolve("metrics.json").toFile()).at("/test_accuracy_after").asDouble();
        Cli.Run e = Cli.run("eval", "--checkpoint", smooth.toString(), "--data", "fashion-mnist-sample", "--threads", "1",
                "--out", dir.resolve("e").toString());
        assertThat(e.exitCode()).as(e.err()).isZero();
        assertThat(JSON.readTree(dir.resolve("e/metrics.json").toFile()).at("/evaluation/accuracy").asDouble()).isEqualTo(after);
        Cli.Run t = Cli.run("eval", "--torchscript", smooth.resolve("smoothed.pt").toString(), "--normalize", "fashion-mnist",
                "--data", "fashion-mnist-sample", "--threads", "1", "--out", dir.resolve("t").toString());
        assertThat(t.exitCode()).as(t.err()).isZero();
        assertThat(JSON.readTree(dir.resolve("t/metrics.json").toFile()).at("/evaluation/accuracy").asDouble()).isEqualTo(after);
    }

    /**
     * A preset (an image set's pixel statistics) on the 2-D toy points was accepted silently, in train and in front of an
     * imported model: refused, naming the option, the data set and the fix; numbers (a per-feature standardization) stay allowed.
     */
    @Test
    void aPresetOnToyPointsIsRefused(@TempDir Path dir) {
        String line = oneErrorLine(Cli.run("train", "--data", "moons", "--model", "mlp", "--hidden", "8", "--epochs", "1",
                "--normalize", "fashion-mnist", "--threads", "1", "--out", dir.resolve("t").toString()),
                "--normalize fashion-mnist", "moons", "[2]", "not images in [0, 1]", "drop --normalize");
        assertThat(line).doesNotContain("channel");
        assertThat(dir.resolve("t")).doesNotExist();
        oneErrorLine(Cli.run("eval", "--torchscript", TINY_CNN, "--normalize", "mnist", "--data", "moons", "--threads", "1",
                "--out", dir.resolve("e").toString()), "--normalize mnist", "moons", "drop --normalize");
        assertThat(dir.resolve("e")).doesNotExist();
        Cli.Run own = Cli.run("train", "--data", "moons", "--model", "mlp", "--hidden", "8", "--epochs", "1", "--normalize", "0.5/1.5",
                "--threads", "1", "--out", dir.resolve("own").toString());
        assertThat(own.exitCode()).as(own.err()).isZero();
    }
}
