package dev.tikhon.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The engine's handle on a TorchScript archive saved by PyTorch for Python (the fixtures of
 * src/test/resources/torchscript, written by make_fixture.py). Oracle: the same network recomputed with
 * Tikhon's own operations from the parameters the archive hands out: conv 1→4 3×3, ReLU, 2×2 max-pool, linear 676→10.
 */
class ScriptModuleTest {
    private static final Path TINY = Path.of("src/test/resources/torchscript/tiny_cnn.pt");
    private static final Path TINY_BN = Path.of("src/test/resources/torchscript/tiny_bn_cnn.pt");

    private static Tensor recomputed(Map<String, Tensor> p, Tensor x) {
        Tensor h = Ops.maxPool2d(Ops.conv2d(x, p.get("conv.weight"), p.get("conv.bias"), 1, 0).relu(), 2, 2);
        return Ops.linear(h.flatten(1, -1), p.get("fc.weight"), p.get("fc.bias"));
    }

    @Test
    void forwardIsTheArchivesNetworkOnItsOwnParametersWhichAreLive() {
        ScriptModule m = ScriptModule.load(TINY);
        assertThat(m.path()).isEqualTo(TINY);
        Map<String, Tensor> p = m.namedParameters();
        assertThat(p.keySet()).containsExactly("conv.weight", "conv.bias", "fc.weight", "fc.bias");
        assertThat(p.get("conv.weight").shape()).containsExactly(4, 1, 3, 3);
        assertThat(p.get("fc.weight").shape()).containsExactly(10, 4 * 13 * 13);
        Rng.seed(18);
        Tensor x = Tensor.rand(DType.FLOAT32, Device.CPU, 3, 1, 28, 28);
        Tensor out = m.forward(x);
        assertThat(out.shape()).containsExactly(3, 10);
        assertThat(out.sub(recomputed(p, x)).abs().max().item()).isLessThan(1e-5);
        // the parameters are the module's own tensors: shifting the output bias in place shifts every logit
        try (Autograd.Guard g = Autograd.noGrad()) {
            p.get("fc.bias").add_(1.0);
        }
        assertThat(m.forward(x).sub(out).sub(1.0).abs().max().item()).isLessThan(1e-5);
        assertThat(m.namedBuffers()).isEmpty();
    }

    /** Training mode switches batch norm to batch statistics, which it folds into the module's own running buffers. */
    @Test
    void trainingModeUpdatesTheBatchNormBuffersItHandsOut() {
        ScriptModule m = ScriptModule.load(TINY_BN);
        Map<String, Tensor> b = m.namedBuffers();
        assertThat(b.keySet()).containsExactly("bn.running_mean", "bn.running_var", "bn.num_batches_tracked");
        assertThat(m.namedParameters().keySet()).containsExactly("conv.weight", "conv.bias", "bn.weight", "bn.bias", "fc.weight", "fc.bias");
        Rng.seed(19);
        Tensor x = Tensor.rand(DType.FLOAT32, Device.CPU, 4, 1, 28, 28);
        long counted = b.get("bn.num_batches_tracked").toLongArray()[0];
        float[] mean = b.get("bn.running_mean").toFloatArray();
        m.train(false);
        Tensor evalOut = m.forward(x);
        assertThat(b.get("bn.num_batches_tracked").toLongArray()[0]).isEqualTo(counted);
        assertThat(b.get("bn.running_mean").toFloatArray()).containsExactly(mean);

        m.train(true);
        Tensor trainOut = m.forward(x);
        assertThat(b.get("bn.num_batches_tracked").toLongArray()[0]).isEqualTo(counted + 1);
        assertThat(b.get("bn.running_mean").toFloatArray()).isNotEqualTo(mean);
        assertThat(trainOut.sub(evalOut).abs().max().item()).isGreaterThan(1e-4);

        m.train(false);
        float[] updated = b.get("bn.running_mean").toFloatArray();
        m.forward(x);
        assertThat(b.get("bn.running_mean").toFloatArray()).containsExactly(updated);
    }

    @Test
    void savedArchivesLoadBackWithTheSameOutputsAndNoTemporaryFile(@TempDir Path dir) throws Exception {
        ScriptModule m = ScriptModule.load(TINY);
        try (Autograd.Guard g = Autograd.noGrad()) {
            m.namedParameters().get("conv.weight").mul_(2.0);   // a change the saved archive must carry
        }
        Rng.seed(20);
        Tensor x = Tensor.rand(DType.FLOAT32, Device.CPU, 2, 1, 28, 28);
        Path saved = dir.resolve("doubled.pt");
        m.save(saved);
        try (var files = Files.list(dir)) {
            assertThat(files.toList()).containsExactly(saved);
        }
        ScriptModule back = ScriptModule.load(saved);
        assertThat(back.forward(x).sub(m.forward(x)).abs().max().item()).isZero();
        assertThat(back.forward(x).sub(ScriptModule.load(TINY).forward(x)).abs().max().item()).isGreaterThan(1e-3);

        Path nowhere = dir.resolve("missing").resolve("model.pt");
        assertThatThrownBy(() -> m.save(nowhere)).isInstanceOf(EngineException.class)
                .hasMessageStartingWith(nowhere + ": cannot save the TorchScript model");
        assertThat(Files.exists(dir.resolve("missing"))).isFalse();
    }

    @Test
    void badFilesAndBadInputsAreNamedInOneLine(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> ScriptModule.load(dir.resolve("absent.pt"))).isInstanceOf(EngineException.class)
                .hasMessage(dir.resolve("absent.pt") + ": no such TorchScript file");
        assertThatThrownBy(() -> ScriptModule.load(dir)).hasMessage(dir + ": no such TorchScript file");
        Path junk = dir.resolve("junk.pt");
        Files.writeString(junk, "not a model");
        assertThatThrownBy(() -> ScriptModule.load(junk)).isInstanceOf(EngineException.class)
                .hasMessageStartingWith(junk + ": not a TorchScript model loadable by libtorch 2.10.0 (")
                .hasMessageEndingWith("save it with torch.jit.script(model).save(path)")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));

        ScriptModule m = ScriptModule.load(TINY);
        assertThatThrownBy(() -> m.forward(Tensor.zeros(2, 3, 28, 28))).isInstanceOf(EngineException.class)
                .hasMessageStartingWith(TINY + ": forward failed on input Tensor[2, 3, 28, 28](FLOAT32, cpu): ")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").doesNotEndWith(": "));
    }
}
