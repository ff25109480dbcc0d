package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.onnx.OnnxRuntimeOracle;
import dev.tikhon.scaleout.ModelRef;
import dev.tikhon.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** ONNX in and out through the command line: certify and attack an imported model; export trained and heat-smoothed ones. */
class OnnxCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A small CNN PyTorch trained on Fashion-MNIST and exported with a final Softmax (src/test/resources/onnx/make_fixtures.py). */
    static final String FMNIST = "src/test/resources/onnx/fmnist_cnn.onnx";

    @Test
    void certifyAndAttackAnImportedModel(@TempDir Path dir) throws Exception {
        Cli.Run c = Cli.run("certify", "--method", "cohen", "--onnx", FMNIST, "--data", "fashion-mnist-sample", "--sigma", "0.25",
                "--images", "3", "--n0", "10", "--n", "100", "--noise-batch", "50", "--threads", "1", "--out", dir.resolve("cohen").toString());
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.out()).contains("dropped the final Softmax").contains("ONNX " + FMNIST);
        JsonNode cm = JSON.readTree(dir.resolve("cohen/metrics.json").toFile());
        assertThat(cm.at("/result/certificates/cohen/kind").asText()).isEqualTo("probabilistic");
        assertThat(cm.at("/result/certificates/cohen/alpha").asDouble()).isEqualTo(0.001);

        Cli.Run a = Cli.run("attack", "--onnx", FMNIST, "--data", "fashion-mnist-sample", "--limit", "8", "--eps", "0.05", "--steps", "5",
                "--targets", "2", "--queries", "20", "--ddn-steps", "10", "--threads", "1", "--out", dir.resolve("attack").toString());
        assertThat(a.exitCode()).as(a.err()).isZero();
        JsonNode am = JSON.readTree(dir.resolve("attack/metrics.json").toFile());
        double clean = am.at("/clean_accuracy").asDouble();
        assertThat(clean).as("PyTorch measured 0.83 on the whole test set").isGreaterThanOrEqualTo(0.5);
        assertThat(am.at("/robust_accuracy/0.05").asDouble()).isLessThanOrEqualTo(clean);

        // its layers are Tikhon's own, so the sound Lipschitz certificate applies
        Cli.Run l = Cli.run("certify", "--method", "lipschitz", "--onnx", FMNIST, "--data", "fashion-mnist-sample", "--images", "8",
                "--threads", "1", "--out", dir.resolve("lipschitz").toString());
        assertThat(l.exitCode()).as(l.err()).isZero();
        assertThat(JSON.readTree(dir.resolve("lipschitz/metrics.json").toFile()).toString()).contains("sound");
    }

    /**
     * train --onnx starts from the file's weights (a step of lr 1e-9 leaves PyTorch's accuracy), fine-tunes them, resumes,
     * and its checkpoint is read back by eval; conflicting or unfitting models are refused before any output.
     */
    @Test
    void trainStartsFromAnImportedModel(@TempDir Path dir) throws Exception {
        Cli.Run e = Cli.run("eval", "--onnx", FMNIST, "--data", "fashion-mnist-sample", "--threads", "1", "--out", dir.resolve("e").toString());
        assertThat(e.exitCode()).as(e.err()).isZero();
        double imported = JSON.readTree(dir.resolve("e/metrics.json").toFile()).at("/evaluation/accuracy").asDouble();
        assertThat(imported).isGreaterThan(0.6);

        Path still = dir.resolve("still");
        Cli.Run t = Cli.run("train", "--onnx", FMNIST, "--data", "fashion-mnist-sample", "--epochs", "1", "--lr", "1e-9",
                "--threads", "1", "--out", still.toString());
        assertThat(t.exitCode()).as(t.err()).isZero();
        assertThat(t.out()).contains("model:  onnx");
        assertThat(t.err().split("dropped the final Softmax", -1)).as("the import's note, printed once: " + t.err()).hasSize(2);
        assertThat(JSON.readTree(still.resolve("metrics.json").toFile()).at("/final/test_acc").asDouble())
                .as("the run starts from the file's weights, not a fresh model").isCloseTo(imported, within(0.002));

        Path tuned = dir.resolve("tuned");
        Cli.Run f = Cli.run("train", "--onnx", FMNIST, "--data", "fashion-mnist-sample", "--epochs", "1", "--optimizer", "adam",
                "--lr", "1e-3", "--threads", "1", "--out", tuned.toString());
        assertThat(f.exitCode()).as(f.err()).isZero();
        Cli.Run r = Cli.run("train", "--resume", "--epochs", "2", "--threads", "1", "--out", tuned.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode m = JSON.readTree(tuned.resolve("metrics.json").toFile());
        assertThat(m.at("/epochs").asInt()).isEqualTo(2);
        assertThat(m.at("/resumed").asBoolean()).isTrue();
        assertThat(m.at("/model/arch").asText()).isEqualTo("onnx");
        double acc = m.at("/final/test_acc").asDouble();
        assertThat(acc).isGreaterThan(imported - 0.03);
        Cli.Run back = Cli.run("eval", "--checkpoint", tuned.toString(), "--threads", "1", "--out", dir.resolve("e2").toString());
        assertThat(back.exitCode()).as(back.err()).isZero();
        assertThat(JSON.readTree(dir.resolve("e2/metrics.json").toFile()).at("/evaluation/accuracy").asDouble()).isCloseTo(acc, within(1e-12));

        Cli.Run both = Cli.run("train", "--onnx", FMNIST, "--model", "mlp", "--out", dir.resolve("x").toString());
        assertThat(both.exitCode()).isEqualTo(2);
        assertThat(both.err()).contains("drop --model");
        Cli.Run unfit = Cli.run("train", "--onnx", FMNIST, "--data", "moons", "--out", dir.resolve("y").toString());
        assertThat(unfit.exitCode()).isEqualTo(2);
        assertThat(unfit.err()).contains("does not take the data set's images");
        assertThat(dir.resolve("y/history.csv")).doesNotExist();
    }

    /**
     * A Keras CNN as tf2onnx writes it (NHWC input, src/test/resources/onnx/keras_cnn.onnx): train --onnx takes the NCHW data
     * sets, says so, trains it; its export reads back to the run's logits, which ONNX Runtime computes too; verify bounds it.
     */
    @Test
    void trainExportAndVerifyAKerasModel(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("keras");
        Cli.Run t = Cli.run("train", "--onnx", "src/test/resources/onnx/keras_cnn.onnx", "--data", "fashion-mnist-sample", "--epochs", "1",
                "--optimizer", "adam", "--lr", "0.003", "--threads", "1", "--out", run.toString());
        assertThat(t.exitCode()).as(t.err()).isZero();
        assertThat(t.err().split("the input is NHWC", -1)).as("the import's note, printed once: " + t.err()).hasSize(2);
        assertThat(t.out()).contains("model:  onnx");
        JsonNode m = JSON.readTree(run.resolve("metrics.json").toFile());
        assertThat(Double.isFinite(m.at("/final/train_loss").asDouble())).isTrue();
        assertThat(m.at("/final/test_acc").asDouble()).as("one epoch from random weights").isGreaterThan(0.5);
        Path onnx = dir.resolve("keras_trained.onnx");
        checkExport(run, onnx);
        Tensor x = images();
        Module back = dev.tikhon.onnx.OnnxImport.load(onnx).model();
        try (Autograd.Guard g = Autograd.noGrad()) {
            assertThat(back.forward(x).toFloatArray()).containsExactly(logits(run, x));
        }
        Cli.Run v = Cli.run("verify", "--onnx", onnx.toString(), "--data", "fashion-mnist-sample", "--method", "ibp,crown", "--eps", "0.01",
                "--images", "10", "--attack-all", "--threads", "1", "--out", dir.resolve("v").toString());
        assertThat(v.exitCode()).as(v.err()).isZero();
        JsonNode vm = JSON.readTree(dir.resolve("v/metrics.json").toFile());
        for (int i = 0; i < 2; i++) assertThat(vm.at("/results/" + i + "/violations_verified_but_broken").asInt()).isZero();
        assertThat(vm.at("/results/1/method").asText()).isEqualTo("crown");
    }

    /**
     * A Keras model with Rescaling(1/255) in front (trained on [0, 255] pixels): eval says the Mul is dropped, once, and
     * evaluates Tikhon's [0, 1] images exactly as keras_cnn.onnx (the same weights without the Rescaling) does.
     */
    @Test
    void evalOfARescaledKerasModelGivesTheUnscaledModelsResults(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("rescaled.onnx");
        Files.write(file, dev.tikhon.onnx.KerasCnnGraph.bytes(28, 1, false, 28, dev.tikhon.onnx.KerasCnnGraph.Rescaling.mul(1.0 / 255)));
        Cli.Run r = Cli.run("eval", "--onnx", file.toString(), "--data", "fashion-mnist-sample", "--threads", "1", "--out", dir.resolve("r").toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out().split("that Mul is dropped", -1)).as(r.out()).hasSize(2);
        Cli.Run p = Cli.run("eval", "--onnx", "src/test/resources/onnx/keras_cnn.onnx", "--data", "fashion-mnist-sample", "--threads", "1",
                "--out", dir.resolve("p").toString());
        assertThat(p.exitCode()).as(p.err()).isZero();
        JsonNode a = JSON.readTree(dir.resolve("r/metrics.json").toFile()).at("/evaluation"), b = JSON.readTree(dir.resolve("p/metrics.json").toFile()).at("/evaluation");
        assertThat(a.at("/accuracy").asDouble()).isEqualTo(b.at("/accuracy").asDouble());
        assertThat(a.at("/loss").asDouble()).isEqualTo(b.at("/loss").asDouble());
        assertThat(a.at("/loss").isMissingNode()).isFalse();
    }

    /** Certified training of an imported network with a skip connection: the bounds pass through its graph. */
    @Test
    void certifiedTrainingOfAnImportedResidualNetwork(@TempDir Path dir) throws Exception {
        dev.tikhon.engine.Rng.seed(3);
        java.util.List<dev.tikhon.nn.Graph.Node> nodes = java.util.List.of(
                dev.tikhon.nn.Graph.Node.apply(new dev.tikhon.nn.Linear(2, 16), 0),
                dev.tikhon.nn.Graph.Node.apply(dev.tikhon.nn.Activation.relu(), 1),
                dev.tikhon.nn.Graph.Node.apply(new dev.tikhon.nn.Linear(16, 16), 2),
                new dev.tikhon.nn.Graph.Node(dev.tikhon.nn.Graph.Op.ADD, null, new int[]{3, 2}, 0),
                dev.tikhon.nn.Graph.Node.apply(dev.tikhon.nn.Activation.relu(), 4),
                dev.tikhon.nn.Graph.Node.apply(new dev.tikhon.nn.Linear(16, 2), 5));
        Path file = dir.resolve("skip.onnx");
        dev.tikhon.onnx.OnnxExport.write(new dev.tikhon.nn.Graph(nodes, 6), java.util.List.of(2L), file);
        Path run = dir.resolve("ibp");
        Cli.Run t = Cli.run("train", "--onnx", file.toString(), "--data", "moons", "--epochs", "3", "--reg", "crown-ibp", "--eps", "0.05",
                "--optimizer", "adam", "--lr", "0.01", "--threads", "1", "--out", run.toString());
        assertThat(t.exitCode()).as(t.err()).isZero();
        JsonNode m = JSON.readTree(run.resolve("metrics.json").toFile());
        assertThat(m.at("/final/test_acc").asDouble()).isGreaterThan(0.8);
        Cli.Run v = Cli.run("verify", "--checkpoint", run.toString(), "--method", "crown", "--eps", "0.05", "--images", "100",
                "--attack-all", "--threads", "1", "--out", dir.resolve("v").toString());
        assertThat(v.exitCode()).as(v.err()).isZero();
        JsonNode vm = JSON.readTree(dir.resolve("v/metrics.json").toFile());
        assertThat(vm.at("/results/0/verified").asInt()).isPositive();
        assertThat(vm.at("/results/0/violations_verified_but_broken").asInt()).isZero();
    }

    /** A model with a layer the Lipschitz composition does not know: `bounds` gives its estimates and says why the sound bound is missing. */
    @Test
    void boundsWithoutACompositionRuleSayWhy(@TempDir Path dir) throws Exception {
        java.util.List<Module> layers = ((dev.tikhon.nn.Sequential) dev.tikhon.onnx.OnnxImport.load(Path.of(FMNIST)).model()).layers();
        // erf alone (not inside GELU's x·(1 + erf(x/√2))) has no composition rule
        dev.tikhon.nn.Sequential leaky = new dev.tikhon.nn.Sequential(layers.get(0), new dev.tikhon.onnx.OnnxLayers.Erf());
        for (Module m : layers.subList(2, layers.size())) leaky.add(m);
        Path file = dir.resolve("leaky.onnx");
        dev.tikhon.onnx.OnnxExport.write(leaky, java.util.List.of(1L, 28L, 28L), file);
        Cli.Run b = Cli.run("bounds", "--onnx", file.toString(), "--data", "fashion-mnist-sample", "--limit", "2", "--lanczos", "0",
                "--no-check", "--threads", "1", "--out", dir.resolve("bounds").toString());
        assertThat(b.exitCode()).as(b.err()).isZero();
        JsonNode m = JSON.readTree(dir.resolve("bounds/metrics.json").toFile());
        assertThat(m.at("/sound_lipschitz/available").asBoolean(true)).isFalse();
        assertThat(m.at("/sound_lipschitz/reason").asText()).contains("(erf)");

        // certify --method lipschitz refuses it before the run writes anything (it had failed after "started", files written)
        Path cert = dir.resolve("cert");
        Cli.Run c = Cli.run("certify", "--method", "lipschitz", "--onnx", file.toString(), "--data", "fashion-mnist-sample", "--images", "2",
                "--threads", "1", "--out", cert.toString());
        assertThat(c.exitCode()).isEqualTo(2);
        assertThat(c.err()).contains("layer 1 (erf)").contains("no composition rule");
        assertThat(c.out()).doesNotContain("started");
        assertThat(cert).doesNotExist();
    }

    /**
     * --normalize in front of an imported model: smooth records it in the checkpoint, the normalization stays a layer of
     * the chain (the sound Lipschitz certificate composes it), and both exports carry it (ONNX Runtime on raw pixels).
     */
    @Test
    void aNormalizedImportIsSmoothedCertifiedAndExportedWithItsNormalization(@TempDir Path dir) throws Exception {
        Path smooth = dir.resolve("s");
        Cli.Run s = Cli.run("smooth", "--onnx", FMNIST, "--normalize", "fashion-mnist", "--data", "fashion-mnist-sample", "--subset", "32",
                "--batch-size", "32", "--lr", "1e-3", "--threads", "1", "--out", smooth.toString());
        assertThat(s.exitCode()).as(s.err()).isZero();
        assertThat(s.out()).contains("behind Normalize(mean [0.286], std [0.353])");
        assertThat(dev.tikhon.models.Models.normalization(Checkpoint.load(smooth).meta().model()))
                .isEqualTo(dev.tikhon.nn.Normalize.parse("fashion-mnist"));
        Module m = ModelRef.checkpoint(smooth).load();
        assertThat(((dev.tikhon.nn.Sequential) m).layers().get(0)).isInstanceOf(dev.tikhon.nn.Normalize.class);
        Tensor x = images();
        assertClose(OnnxRuntimeOracle.logits(Files.readAllBytes(smooth.resolve("smoothed.onnx")), x), logits(smooth, x), 1e-5);
        checkExport(smooth, dir.resolve("normalized.onnx"));

        Cli.Run l = Cli.run("certify", "--method", "lipschitz", "--onnx", FMNIST, "--normalize", "fashion-mnist", "--data",
                "fashion-mnist-sample", "--images", "4", "--threads", "1", "--out", dir.resolve("lipschitz").toString());
        assertThat(l.exitCode()).as(l.err()).isZero();
    }

    @Test
    void exportOfAMissingCheckpointOrIntoADirectoryIsOneLine(@TempDir Path dir) {
        for (Cli.Run r : new Cli.Run[]{Cli.run("export", "--checkpoint", dir.resolve("none").toString(), "--onnx", dir.resolve("m.onnx").toString()),
                Cli.run("export", "--checkpoint", "src/test/resources/checkpoints/none", "--onnx", dir.toString())}) {
            assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
            assertThat(r.err().strip().split("\n")).hasSize(1);
            assertThat(r.err()).startsWith("tikhon: error: ");
        }
        assertThat(dir.resolve("m.onnx")).doesNotExist();
    }

    @Test
    void anUnsupportedOperatorIsOneLineNamingItAndItsNode(@TempDir Path dir) {
        Cli.Run r = Cli.run("eval", "--onnx", "src/test/resources/onnx/selu.onnx", "--data", "fashion-mnist-sample", "--out", dir.toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        String[] lines = r.err().strip().split("\n");
        assertThat(lines).hasSize(1);
        assertThat(lines[0]).startsWith("tikhon: error: ").contains("selu.onnx").contains("operator Selu").contains("node '/2/Selu'");
    }

    @Test
    void exportedModelsComputeTheSameLogitsInOnnxRuntime(@TempDir Path dir) throws Exception {
        Path base = dir.resolve("base"), smooth = dir.resolve("smooth"), smoothOnnx = dir.resolve("smooth-onnx");
        Cli.Run t = Cli.run("train", "--data", "fashion-mnist-sample", "--model", "mlp", "--hidden", "32", "--epochs", "1", "--threads", "1",
                "--out", base.toString());
        assertThat(t.exitCode()).as(t.err()).isZero();
        checkExport(base, dir.resolve("mlp.onnx"));

        Cli.Run s = Cli.run("smooth", "--checkpoint", base.toString(), "--subset", "128", "--kappa", "2", "--batch-size", "64",
                "--threads", "1", "--out", smooth.toString());
        assertThat(s.exitCode()).as(s.err()).isZero();
        checkExport(smooth, dir.resolve("mlp-smoothed.onnx"));

        // an imported model, heat-smoothed: its checkpoint names the ONNX file, and the smoothed model is exported beside it
        Cli.Run so = Cli.run("smooth", "--onnx", FMNIST, "--data", "fashion-mnist-sample", "--subset", "128", "--kappa", "2",
                "--batch-size", "64", "--threads", "1", "--out", smoothOnnx.toString());
        assertThat(so.exitCode()).as(so.err()).isZero();
        assertThat(Checkpoint.load(smoothOnnx).meta().model().arch()).isEqualTo("onnx");
        assertThat(smoothOnnx.resolve("smoothed.onnx")).exists();
        // what a cluster ships for it: the checkpoint and the ONNX file it names
        assertThat(ModelRef.checkpoint(smoothOnnx).files()).extracting(p -> p.getFileName().toString())
                .containsExactly("checkpoint.tkn", "fmnist_cnn.onnx");
        assertThat(ModelRef.onnx(Path.of(FMNIST)).files()).containsExactly(Path.of(FMNIST).toAbsolutePath());
        checkExport(smoothOnnx, dir.resolve("fmnist-smoothed.onnx"));
        Cli.Run g = Cli.run("generalization", "--checkpoint", smoothOnnx.toString(), "--data", "fashion-mnist-sample", "--max-points", "64",
                "--threads", "1", "--out", dir.resolve("gen").toString());
        assertThat(g.exitCode()).as(g.err()).isZero();
        assertThat(g.out()).contains("model Lipschitz");
        Tensor x = images();
        assertClose(OnnxRuntimeOracle.logits(Files.readAllBytes(smoothOnnx.resolve("smoothed.onnx")), x), logits(smoothOnnx, x), 1e-5);
    }

    private static Tensor images() {
        Dataset test = DataSets.load("fashion-mnist-sample", null, System.getenv(), 0).test();
        return test.batchInputs(Tensor.fromLongs(new long[]{0, 1, 2, 3, 4, 5}, 6));
    }

    private static float[] logits(Path run, Tensor x) {
        Module m = ModelRef.checkpoint(run).load();
        try (Autograd.Guard g = Autograd.noGrad()) {
            return m.forward(x).toFloatArray();
        }
    }

    private static void checkExport(Path run, Path onnx) throws Exception {
        Cli.Run e = Cli.run("export", "--checkpoint", run.toString(), "--onnx", onnx.toString());
        assertThat(e.exitCode()).as(e.err()).isZero();
        assertThat(e.out()).contains("wrote: " + onnx);
        Tensor x = images();
        assertClose(OnnxRuntimeOracle.logits(Files.readAllBytes(onnx), x), logits(run, x), 1e-5);
    }

    private static void assertClose(float[] actual, float[] expected, double tol) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < actual.length; i++) assertThat((double) actual[i]).as("logit %d", i).isCloseTo(expected[i], within(tol));
    }
}
