package dev.tikhon.nn;

import dev.tikhon.UserError;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ModulesTest {

    /** Known values of the smooth ReLU (docs/methods.md §3): relu outside (−½, ½), the quartic inside, C² at the joins. */
    @Test
    void smoothReluKnownValues() {
        Tensor x = Tensor.fromDoubles(new double[]{-1, -0.5, 0, 0.25, 0.5, 2}, 6).requiresGrad(true);
        Tensor y = Activation.smoothRelu(x);
        double[] v = y.toDoubleArray();
        assertThat(v[0]).isEqualTo(0);
        assertThat(v[1]).isCloseTo(0, within(1e-15));
        assertThat(v[2]).isCloseTo(-0.5 * Math.pow(0.5, 4) + Math.pow(0.5, 3), within(1e-15));
        assertThat(v[4]).isCloseTo(0.5, within(1e-15));
        assertThat(v[5]).isEqualTo(2);
        double[] slope = Autograd.grad(y.sum(), x, false).toDoubleArray();
        assertThat(slope[1]).isCloseTo(0, within(1e-12));
        assertThat(slope[4]).isCloseTo(1, within(1e-12));
        double u = 0.75; // x = 0.25
        assertThat(slope[3]).isCloseTo(3 * u * u - 2 * u * u * u, within(1e-12));
    }

    @Test
    void modelShapesAndParameterCounts() {
        Rng.seed(0);
        Module cnn = Models.build(Models.spec("cnn", List.of(1L, 28L, 28L), 10, Map.of()));
        assertThat(cnn.forward(Tensor.zeros(5, 1, 28, 28)).shape()).containsExactly(5, 10);
        // conv 1·32·9+32, conv 32·64·9+64, fc 9216·128+128, fc 128·10+10
        assertThat(cnn.parameterCount()).isEqualTo(320 + 18496 + 1179776 + 1290);
        Module mlp = Models.build(Models.spec("mlp", List.of(1L, 28L, 28L), 10, Map.of()));
        assertThat(mlp.forward(Tensor.zeros(3, 1, 28, 28)).shape()).containsExactly(3, 10);
        Module resnet = Models.build(Models.spec("resnet", List.of(1L, 28L, 28L), 10, Map.of("depth", 20)));
        assertThat(resnet.forward(Tensor.zeros(2, 1, 28, 28)).shape()).containsExactly(2, 10);
        long convs = resnet.modules().stream().filter(m -> m instanceof Conv2d).count();
        assertThat(convs).as("ResNet-20: stem + 18 block convs + 2 projections").isEqualTo(21);
    }

    @Test
    void badArchitecturesAreUserErrors() {
        assertThatThrownBy(() -> Models.build(Models.spec("resnet", List.of(1L, 28L, 28L), 10, Map.of("depth", 21))))
                .isInstanceOf(UserError.class).hasMessageContaining("6n+2");
        assertThatThrownBy(() -> Models.spec("vgg", List.of(2L), 2, Map.of())).isInstanceOf(UserError.class);
        assertThatThrownBy(() -> Models.build(Models.spec("cnn", List.of(2L), 2, Map.of()))).hasMessageContaining("[C,H,W]");
    }

    @Test
    void zeroLastSilencesResidualBranchesAndClassifier() {
        Rng.seed(1);
        ModelSpec spec = Models.spec("resnet", List.of(1L, 8L, 8L), 3, Map.of("depth", 8, "width", 4, "batch_norm", false, "zero_last", true));
        Module m = Models.build(spec);
        assertThat(m.forward(Tensor.randn(2, 1, 8, 8)).abs().max().item()).isEqualTo(0.0);
        ResidualBlock block = (ResidualBlock) m.modules().stream().filter(x -> x instanceof ResidualBlock).findFirst().orElseThrow();
        Tensor x = Tensor.randn(2, 4, 8, 8);
        assertThat(block.forward(x).sub(x.relu()).abs().max().item()).as("block starts as relu(identity)").isEqualTo(0.0);
    }

    @Test
    void initSchemesHaveTheirVariance() {
        Rng.seed(3);
        Linear l = new Linear(400, 300);
        Init.KAIMING.initialize(l.weight().value(), l.bias().value(), 400, 300);
        double var = l.weight().value().square().mean().item();
        assertThat(var).isCloseTo(2.0 / 400, within(0.1 * 2.0 / 400));
        Init.XAVIER.initialize(l.weight().value(), l.bias().value(), 400, 300);
        assertThat(l.weight().value().square().mean().item()).isCloseTo(2.0 / 700, within(0.1 * 2.0 / 700));
        assertThat(l.bias().value().abs().max().item()).isEqualTo(0.0);
        Init.STANDARD.initialize(l.weight().value(), l.bias().value(), 400, 300);
        assertThat(l.weight().value().abs().max().item()).isLessThanOrEqualTo(1 / Math.sqrt(400));
        assertThat(l.weight().value().square().mean().item()).isCloseTo(1.0 / 1200, within(0.1 / 1200));
    }

    @Test
    void stateDictRoundTripsAndChecksShapes() {
        Rng.seed(4);
        ModelSpec spec = Models.spec("resnet", List.of(1L, 8L, 8L), 3, Map.of("depth", 8, "width", 4));
        Module a = Models.build(spec), b = Models.build(spec);
        a.train(false);
        b.train(false);
        Tensor x = Tensor.randn(2, 1, 8, 8);
        assertThat(a.forward(x).sub(b.forward(x)).abs().max().item()).isGreaterThan(0);
        b.loadStateDict(a.stateDict());
        assertThat(a.forward(x).sub(b.forward(x)).abs().max().item()).isEqualTo(0.0);
        assertThat(a.stateDict()).containsKey("3.bn1.running_mean");
        Module other = Models.build(Models.spec("resnet", List.of(1L, 8L, 8L), 3, Map.of("depth", 8, "width", 8)));
        assertThatThrownBy(() -> other.loadStateDict(a.stateDict())).isInstanceOf(UserError.class).hasMessageContaining("shape");
    }

    @Test
    void dtypeConversionKeepsValuesAndTrainability() {
        Module m = new Linear(3, 2);
        Tensor x = Tensor.randn(4, 3);
        double before = m.forward(x).sum().item();
        m.to(DType.FLOAT64);
        assertThat(m.dtype()).isEqualTo(DType.FLOAT64);
        assertThat(m.forward(x.to(DType.FLOAT64)).sum().item()).isCloseTo(before, within(1e-5));
        assertThat(m.parameters()).allMatch(p -> p.value().requiresGrad());
        assertThat(m.device()).isEqualTo(Device.CPU);
    }

    @Test
    void batchNormUsesRunningStatisticsInEvaluation() {
        BatchNorm2d bn = new BatchNorm2d(1);
        Tensor x = Tensor.randn(64, 1, 4, 4).mul(3).add(5);
        for (int i = 0; i < 200; i++) bn.forward(x);
        bn.train(false);
        Tensor y = bn.forward(x);
        assertThat(y.mean().item()).isCloseTo(0, within(0.05));
        assertThat(y.square().mean().item()).isCloseTo(1, within(0.05));
    }
}
