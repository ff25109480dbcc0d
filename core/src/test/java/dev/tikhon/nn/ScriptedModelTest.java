package dev.tikhon.nn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Engine;
import dev.tikhon.engine.EngineException;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.optim.Sgd;
import dev.tikhon.regularize.InputGradients;
import dev.tikhon.regularize.Tikhonov;
import dev.tikhon.scaleout.ModelRef;
import dev.tikhon.train.DataInfo;
import dev.tikhon.train.Evaluator;
import dev.tikhon.train.Objective;
import dev.tikhon.train.TrainConfig;
import dev.tikhon.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Oracle: PyTorch for Python's own outputs and input gradients for a model it scripted (tiny_cnn_expected.json). */
class ScriptedModelTest {
    private static final Path FIXTURE = Path.of("src/test/resources/torchscript/tiny_cnn.pt");
    /** The same with batch norm: running statistics and an integer counter besides the parameters. */
    private static final Path BN_FIXTURE = Path.of("src/test/resources/torchscript/tiny_bn_cnn.pt");

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
    void movingConvertsEveryParameterAndBufferInPlace(@TempDir Path dir) {
        ScriptedModel m = ScriptedModel.load(BN_FIXTURE);
        Map<String, Tensor> before = m.stateDict();
        assertThat(before.keySet()).contains("conv/weight", "bn/weight", "bn/running_mean", "bn/running_var",
                "bn/num_batches_tracked", "fc/bias");
        Sgd sgd = new Sgd(m.parameters(), 0.05);   // built before the conversion: it must see the converted tensors
        m.to(DType.FLOAT64);
        Map<String, Tensor> after = m.stateDict();
        assertThat(after.keySet()).isEqualTo(before.keySet());
        for (Map.Entry<String, Tensor> e : after.entrySet()) {
            assertThat(e.getValue().isSame(before.get(e.getKey()))).as(e.getKey() + " converted in place").isTrue();
            assertThat(e.getValue().dtype()).as(e.getKey())
                    .isEqualTo(e.getKey().endsWith("num_batches_tracked") ? DType.INT64 : DType.FLOAT64);
        }
        // the script's forward pass uses the converted weights: a float64 input runs (float32 weights would refuse it)
        Tensor x = fixedInput().to(DType.FLOAT64);
        Tensor y = Tensor.fromLongs(new long[]{3, 7}, 2);
        m.train(false);
        double lossBefore = Ops.crossEntropy(m.forward(x), y).item();
        for (int i = 0; i < 3; i++) {
            sgd.zeroGrad();
            Ops.crossEntropy(m.forward(x), y).backward();
            sgd.step();
        }
        double lossAfter = Ops.crossEntropy(m.forward(x), y).item();
        assertThat(lossAfter).isLessThan(lossBefore);
        Path saved = dir.resolve("f64.pt");
        m.save(saved);
        ScriptedModel back = ScriptedModel.load(saved);
        back.train(false);
        assertThat(back.stateDict().get("fc/weight").dtype()).isEqualTo(DType.FLOAT64);
        assertThat(Ops.crossEntropy(back.forward(x), y).item()).isCloseTo(lossAfter, within(1e-12));

        // to a device: the GPU where there is one, else the CPU; every tensor ends where it was sent, in place
        Device target = Engine.cudaAvailable() ? Device.cuda(0) : Device.CPU;
        m.to(DType.FLOAT32).to(target);
        for (Map.Entry<String, Tensor> e : m.stateDict().entrySet()) {
            assertThat(e.getValue().isSame(before.get(e.getKey()))).as(e.getKey()).isTrue();
            assertThat(e.getValue().device()).as(e.getKey()).isEqualTo(target);
        }
        assertThat(m.forward(fixedInput().to(target)).device()).isEqualTo(target);
    }

    @Test
    void trainingAScriptedModelChangesTheWeightsItSaves(@TempDir Path dir) {
        ScriptedModel m = ScriptedModel.load(BN_FIXTURE);
        Map<String, float[]> initial = snapshot(m);
        DataSets.Loaded data = DataSets.load(DataSets.SAMPLE_NAME, null, Map.of(), 0);
        Dataset train = data.train().head(192), test = data.test().head(300);
        ModelSpec spec = new ModelSpec(ModelRef.TORCHSCRIPT_ARCH, List.of(1L, 28L, 28L), 10,
                Map.of("file", BN_FIXTURE.toAbsolutePath().toString()));
        TrainConfig config = TrainConfig.builder().epochs(1).batchSize(64).optimizer("sgd").lr(0.05).seed(3).build();
        Path run = dir.resolve("run");
        // a regularized objective (input gradients through the script, finite differences), as fine-tuning would use
        Objective tikhonov = new Tikhonov(0.1, 0.01, InputGradients.Dual.L2, false);
        Trainer.Outcome o = new Trainer(spec, tikhonov, config, train, null, test,
                new DataInfo(DataSets.SAMPLE_NAME, null, data.description()), Device.CPU, run, null)
                .startFrom(() -> m).run(false);
        assertThat(o.model()).isSameAs(m);
        assertThat(dev.tikhon.train.Checkpoint.load(run).meta().config().objective().reg()).isEqualTo("tikhonov");
        Path saved = dir.resolve("trained.pt");
        m.save(saved);
        ScriptedModel back = ScriptedModel.load(saved);
        Map<String, float[]> trained = snapshot(back);
        for (String name : List.of("conv/weight", "bn/weight", "bn/bias", "fc/weight", "fc/bias", "bn/running_mean")) {
            assertThat(trained.get(name)).as(name + " changed by training").isNotEqualTo(initial.get(name));
        }
        // the saved model is the trained model: it evaluates to the accuracy the run reported
        assertThat(Evaluator.evaluate(back, test, 256, Device.CPU).accuracy()).isEqualTo(o.test().accuracy());
        // and so is the run's checkpoint, loaded onto the original file
        assertThat(Evaluator.evaluate(ModelRef.checkpoint(run).load(), test, 256, Device.CPU).accuracy())
                .isEqualTo(o.test().accuracy());
    }

    private static Map<String, float[]> snapshot(Module m) {
        Map<String, float[]> out = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : m.stateDict().entrySet()) {
            if (e.getValue().dtype().isFloatingPoint()) out.put(e.getKey(), e.getValue().to(DType.FLOAT32).toFloatArray());
        }
        return out;
    }

    @Test
    void aForwardFailureNamesTheModelInOneLine() {
        ScriptedModel m = ScriptedModel.load(FIXTURE);
        assertThatThrownBy(() -> m.forward(fixedInput().to(DType.FLOAT64))).isInstanceOf(EngineException.class)
                .hasMessageStartingWith(FIXTURE + ": forward failed on input Tensor[2, 1, 28, 28](FLOAT64, cpu)")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
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
