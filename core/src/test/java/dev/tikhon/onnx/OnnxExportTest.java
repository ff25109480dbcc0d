package dev.tikhon.onnx;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import dev.tikhon.nn.BatchNorm2d;
import dev.tikhon.nn.Module;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Oracle: ONNX Runtime, an independent implementation of every operator, on the files {@link OnnxExport} writes for each
 * of Tikhon's model kinds; and the round trip Tikhon → ONNX → Tikhon, which must give the very same numbers.
 */
class OnnxExportTest {
    static Module model(String kind) {
        Rng.seed(23);
        List<Long> img = List.of(1L, 8L, 8L);
        ModelSpec spec;
        switch (kind) {
            case "mlp": spec = Models.spec("mlp", img, 5, Map.of("hidden", List.of(16, 12))); break;
            case "mlp-softplus": spec = Models.spec("mlp", img, 5, Map.of("hidden", List.of(16), "activation", "softplus")); break;
            case "mlp-tanh": spec = Models.spec("mlp", img, 5, Map.of("hidden", List.of(16), "activation", "tanh")); break;
            case "cnn-smooth-relu": spec = Models.spec("cnn", img, 5, Map.of("activation", "smooth-relu")); break;
            case "cnn": spec = Models.spec("cnn", img, 5, Map.of()); break;
            case "cnn-normalized": spec = Models.spec("cnn", List.of(3L, 8L, 8L), 5, Map.of(Models.NORMALIZE, dev.tikhon.nn.Normalize.PRESETS.get("cifar10"))); break;
            case "mlp-normalized": spec = Models.spec("mlp", img, 5, Map.of("hidden", List.of(16), Models.NORMALIZE, dev.tikhon.nn.Normalize.PRESETS.get("fashion-mnist"))); break;
            case "resnet": spec = Models.spec("resnet", List.of(3L, 8L, 8L), 5, Map.of("depth", 8, "width", 4)); break;
            case "resnet-nobn": spec = Models.spec("resnet", img, 5, Map.of("depth", 8, "width", 4, "batch_norm", false)); break;
            case "farkas-resnet": spec = Models.spec("farkas-resnet", img, 5, Map.of("depth", 8, "width", 4)); break;
            case "farkas-bottleneck": spec = Models.spec("farkas-resnet", img, 5, Map.of("depth", 11, "width", 8, "block", "bottleneck")); break;
            default: throw new IllegalArgumentException(kind);
        }
        Module m = Models.build(spec);
        // batch-norm statistics and scales away from their initial 0 / 1, so that exporting them wrong shows
        try (Autograd.Guard g = Autograd.noGrad()) {
            for (Module c : m.modules()) {
                if (!(c instanceof BatchNorm2d b)) continue;
                for (Map.Entry<String, Tensor> e : b.stateDict().entrySet()) {
                    Tensor t = e.getValue();
                    t.copy_(e.getKey().equals("running_var") || e.getKey().equals("weight") ? Tensor.rand(t.shape()).add(0.5) : Tensor.randn(t.shape()).mul(0.3));
                }
            }
        }
        m.train(false);
        return m;
    }

    static long[] inputShape(Module m, String kind) {
        return kind.equals("resnet") || kind.equals("cnn-normalized") ? new long[]{3, 3, 8, 8} : new long[]{3, 1, 8, 8};
    }

    static float[] onnxRuntime(byte[] onnx, Tensor x) throws Exception {
        return OnnxRuntimeOracle.logits(onnx, x);
    }

    @ParameterizedTest
    @ValueSource(strings = {"mlp", "mlp-softplus", "mlp-tanh", "cnn-smooth-relu", "cnn", "cnn-normalized", "mlp-normalized", "resnet", "resnet-nobn", "farkas-resnet", "farkas-bottleneck"})
    void onnxRuntimeComputesTikhonsLogitsAndTheRoundTripIsExact(String kind) throws Exception {
        Module m = model(kind);
        Tensor x = Tensor.rand(inputShape(m, kind));
        float[] tikhon;
        try (Autograd.Guard g = Autograd.noGrad()) {
            tikhon = m.forward(x).toFloatArray();
        }
        long[] s = x.shape();
        byte[] onnx = OnnxExport.toBytes(m, List.of(s[1], s[2], s[3]));
        OnnxImportTest.assertClose(onnxRuntime(onnx, x), tikhon, 1e-5);

        Module back = OnnxImport.read(onnx, kind + ".onnx").model();
        if (kind.endsWith("-normalized")) {   // the normalization comes back as a Normalize layer, not two arithmetic ones
            assertThat(((dev.tikhon.nn.Sequential) back).layers().get(0)).isInstanceOf(dev.tikhon.nn.Normalize.class);
        }
        float[] again;
        try (Autograd.Guard g = Autograd.noGrad()) {
            again = back.forward(x).toFloatArray();
        }
        // the Farkas layers' appended negative mean becomes a 1×1 convolution (a sum in another order): not bit for bit
        if (kind.startsWith("farkas")) OnnxImportTest.assertClose(again, tikhon, 1e-6);
        else assertThat(again).as("round trip of %s", kind).containsExactly(tikhon);
    }

    @Test
    void importedModelsExportAgainAndOnnxRuntimeAgrees() throws Exception {
        for (String name : List.of("mlp", "cnn", "residual", "padded", "mobile", "prelu")) {
            OnnxImportTest.Fixture f = OnnxImportTest.Fixture.of(name);
            Module m = OnnxImport.load(OnnxImportTest.DIR.resolve(name + ".onnx")).model();
            long[] s = f.input().shape();
            byte[] onnx = OnnxExport.toBytes(m, List.of(s[1], s[2], s[3]));
            OnnxImportTest.assertClose(onnxRuntime(onnx, f.input()), f.logits(), 1e-5);
            float[] again;
            try (Autograd.Guard g = Autograd.noGrad()) {
                again = OnnxImport.read(onnx, name).model().forward(f.input()).toFloatArray();
            }
            OnnxImportTest.assertClose(again, f.logits(), 1e-5);
        }
    }

    /** GELU (Erf) and ELU as PyTorch exports them, imported, export again: ONNX Runtime computes the import's outputs. */
    @Test
    void importedActivationsWithoutFixtureAnswersExportAgain() throws Exception {
        for (String name : List.of("gelu", "elu")) {
            Module m = OnnxImport.load(OnnxImportTest.DIR.resolve(name + ".onnx")).model();
            Tensor x = Tensor.rand(5, 1, 2, 2).sub(0.5).mul(6);
            float[] tikhon;
            try (Autograd.Guard g = Autograd.noGrad()) {
                tikhon = m.forward(x).toFloatArray();
            }
            OnnxImportTest.assertClose(onnxRuntime(OnnxExport.toBytes(m, List.of(1L, 2L, 2L)), x), tikhon, 1e-5);
        }
    }

    @Test
    void theFileIsWrittenAtomically(@TempDir Path dir) throws Exception {
        Module m = model("mlp");
        Path file = dir.resolve("sub/model.onnx");
        OnnxExport.write(m, List.of(1L, 8L, 8L), file);
        assertThat(file).exists();
        assertThat(dev.tikhon.io.AtomicFiles.tmpOf(file)).doesNotExist();
        assertThat(Files.readAllBytes(file)).isEqualTo(OnnxExport.toBytes(m, List.of(1L, 8L, 8L)));
    }

    /** A file declaring inputs the model cannot take would be evaluated by other runtimes, and fail there. */
    @Test
    void anInputShapeTheModelCannotTakeIsRefused(@TempDir Path dir) {
        Module m = model("cnn");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> OnnxExport.write(m, List.of(3L, 32L, 32L), dir.resolve("m.onnx")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not take inputs of shape [N, 3, 32, 32]");
        assertThat(dir.resolve("m.onnx")).doesNotExist();
    }
}
