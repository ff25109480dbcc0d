package dev.tikhon.onnx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Oracle: PyTorch's logits and input gradients for the models it exported (src/test/resources/onnx/make_fixtures.py). */
class OnnxImportTest {
    static final Path DIR = Path.of("src/test/resources/onnx");

    record Fixture(Tensor input, Tensor v, float[] logits, long[] logitsShape, float[] inputGrad) {
        static Fixture of(String name) throws IOException {
            JsonNode j = new ObjectMapper().readTree(DIR.resolve(name + ".json").toFile());
            long[] shape = longs(j.get("input_shape"));
            long[] ls = longs(j.get("logits_shape"));
            return new Fixture(Tensor.fromFloats(floats(j.get("input")), shape), Tensor.fromFloats(floats(j.get("v")), ls),
                    floats(j.get("logits")), ls, floats(j.get("input_grad")));
        }
    }

    static float[] floats(JsonNode a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) f[i] = (float) a.get(i).asDouble();
        return f;
    }

    static long[] longs(JsonNode a) {
        long[] f = new long[a.size()];
        for (int i = 0; i < f.length; i++) f[i] = a.get(i).asLong();
        return f;
    }

    static void assertClose(float[] actual, float[] expected, double tol) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < actual.length; i++) assertThat((double) actual[i]).as("element %d", i).isCloseTo(expected[i], within(tol));
    }

    @ParameterizedTest
    @ValueSource(strings = {"mlp", "cnn", "cnn_plain", "residual"})
    void logitsAndInputGradientsMatchPyTorch(String name) throws IOException {
        Fixture f = Fixture.of(name);
        OnnxImport.Result r = OnnxImport.load(DIR.resolve(name + ".onnx"));
        Module m = r.model();
        System.out.println(name + ": " + m.describe());
        Tensor x = f.input().requiresGrad(true);
        Tensor out = m.forward(x);
        assertThat(out.shape()).containsExactly(f.logitsShape());
        assertClose(out.toFloatArray(), f.logits(), 1e-5);
        Tensor g = Autograd.grad(out.mul(f.v()).sum(), x, false);
        assertClose(g.toFloatArray(), f.inputGrad(), 1e-4);
    }
}
