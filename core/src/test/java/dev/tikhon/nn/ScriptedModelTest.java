package dev.tikhon.nn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.EngineException;
import dev.tikhon.engine.Tensor;
import dev.tikhon.optim.Sgd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Oracle: PyTorch for Python's own outputs and input gradients for a model it scripted (tiny_cnn_expected.json). */
class ScriptedModelTest {
    private static final Path FIXTURE = Path.of("src/test/resources/torchscript/tiny_cnn.pt");

    private static Tensor fixedInput() {
        float[] v = new float[2 * 28 * 28];
        for (int i = 0; i < v.length; i++) v[i] = (float) ((Math.sin((float) i * 0.05f) + 1) / 2);
        return Tensor.fromFloats(v, 2, 1, 28, 28);
    }

    @Test
    void outputsAndInputGradientsMatchPyTorch() throws Exception {
        JsonNode expected = new ObjectMapper().readTree(FIXTURE.resolveSibling("tiny_cnn_expected.json").toFile());
        ScriptedModel m = ScriptedModel.load(FIXTURE);
        m.train(false);
        Tensor x = fixedInput().requiresGrad(true);
        Tensor out = m.forward(x);
        float[] logits = out.toFloatArray();
        assertThat(logits).hasSize(expected.get("logits").size());
        for (int i = 0; i < logits.length; i++) {
            assertThat((double) logits[i]).isCloseTo(expected.get("logits").get(i).asDouble(), within(2e-5));
        }
        Tensor g = Autograd.grad(out.select(1, 3).sum(), x, false);
        float[] gv = g.toFloatArray();
        for (int i = 0; i < expected.get("grad_class3_sum").size(); i++) {
            assertThat((double) gv[i]).isCloseTo(expected.get("grad_class3_sum").get(i).asDouble(), within(1e-5));
        }
        assertThat(g.abs().sum().item()).isCloseTo(expected.get("grad_abs_sum").asDouble(), within(1e-3));
        assertThat(m.namedParameters()).hasSize(expected.get("parameters").size());
    }

    @Test
    void parametersTrainInPlaceAndSave(@TempDir Path dir) {
        ScriptedModel m = ScriptedModel.load(FIXTURE);
        Tensor x = fixedInput();
        Tensor y = Tensor.fromLongs(new long[]{3, 7}, 2);
        double before = dev.tikhon.engine.Ops.crossEntropy(m.forward(x), y).item();
        Sgd sgd = new Sgd(m.parameters(), 0.01);
        for (int i = 0; i < 5; i++) {
            sgd.zeroGrad();
            dev.tikhon.engine.Ops.crossEntropy(m.forward(x), y).backward();
            sgd.step();
        }
        double after = dev.tikhon.engine.Ops.crossEntropy(m.forward(x), y).item();
        assertThat(after).isLessThan(before);
        Path saved = dir.resolve("trained.pt");
        m.save(saved);
        assertThat(dev.tikhon.engine.Ops.crossEntropy(ScriptedModel.load(saved).forward(x), y).item()).isCloseTo(after, within(1e-6));
    }

    @Test
    void foreignFilesAreNamed(@TempDir Path dir) throws Exception {
        Path junk = dir.resolve("model.pt");
        Files.writeString(junk, "not a model");
        assertThatThrownBy(() -> ScriptedModel.load(junk)).isInstanceOf(EngineException.class)
                .hasMessageStartingWith(junk.toString()).hasMessageContaining("TorchScript");
        assertThatThrownBy(() -> ScriptedModel.load(dir.resolve("absent.pt"))).hasMessageContaining("no such TorchScript file");
    }
}
