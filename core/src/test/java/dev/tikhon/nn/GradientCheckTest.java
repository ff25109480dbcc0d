package dev.tikhon.nn;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.Models;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Oracle: every module's autograd gradients equal central finite differences in float64. */
class GradientCheckTest {

    static Stream<Arguments> modules() {
        long[] img = {3, 2, 8, 8};
        long[] flat = {4, 6};
        return Stream.of(
                Arguments.of("linear", (Supplier<Module>) () -> new Linear(6, 5), flat),
                Arguments.of("linear-no-bias", (Supplier<Module>) () -> new Linear(6, 3, false), flat),
                Arguments.of("conv2d", (Supplier<Module>) () -> new Conv2d(2, 3, 3, 1, 1, true), img),
                Arguments.of("conv2d-stride2", (Supplier<Module>) () -> new Conv2d(2, 3, 3, 2, 0, true), img),
                Arguments.of("batchnorm2d-train", (Supplier<Module>) () -> new BatchNorm2d(2), img),
                Arguments.of("batchnorm2d-eval", (Supplier<Module>) () -> new BatchNorm2d(2).train(false), img),
                Arguments.of("relu", (Supplier<Module>) Activation::relu, flat),
                Arguments.of("softplus", (Supplier<Module>) () -> Activation.parse("softplus"), flat),
                Arguments.of("smooth-relu", (Supplier<Module>) () -> Activation.parse("smooth-relu"), flat),
                Arguments.of("tanh", (Supplier<Module>) () -> Activation.parse("tanh"), flat),
                Arguments.of("sigmoid", (Supplier<Module>) () -> Activation.parse("sigmoid"), flat),
                Arguments.of("max-pool", (Supplier<Module>) () -> Pool.max(2), img),
                Arguments.of("avg-pool", (Supplier<Module>) () -> Pool.avg(2), img),
                Arguments.of("global-avg-pool", (Supplier<Module>) Pool::globalAvg, img),
                Arguments.of("flatten", (Supplier<Module>) Pool::flatten, img),
                Arguments.of("sequential", (Supplier<Module>) () -> new Sequential(new Linear(6, 8), Activation.parse("softplus"), new Linear(8, 3)), flat),
                Arguments.of("residual-block", (Supplier<Module>) () -> new ResidualBlock(2, 2, 1, false), img),
                Arguments.of("residual-block-projection-bn", (Supplier<Module>) () -> new ResidualBlock(2, 4, 2, true), img),
                Arguments.of("mlp", (Supplier<Module>) () -> Models.build(Models.spec("mlp", List.of(6L), 4, Map.of("hidden", List.of(7, 5)))), flat),
                Arguments.of("cnn", (Supplier<Module>) () -> Models.build(Models.spec("cnn", List.of(1L, 8L, 8L), 3, Map.of())), new long[]{2, 1, 8, 8}),
                Arguments.of("resnet-8", (Supplier<Module>) () -> Models.build(Models.spec("resnet", List.of(1L, 8L, 8L), 3, Map.of("depth", 8, "width", 4))), new long[]{3, 1, 8, 8}),
                Arguments.of("resnet-8-no-bn", (Supplier<Module>) () -> Models.build(Models.spec("resnet", List.of(1L, 8L, 8L), 3, Map.of("depth", 8, "width", 4, "batch_norm", false))), new long[]{3, 1, 8, 8}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modules")
    void autogradMatchesCentralDifferences(String name, Supplier<Module> factory, long[] inputShape) {
        Rng.seed(7);
        Module m = factory.get().to(DType.FLOAT64);
        Tensor x = Tensor.randn(DType.FLOAT64, Device.CPU, inputShape);
        GradCheck.Report r = GradCheck.check(m, x, 12, 1e-6, 11);
        assertThat(r.entries()).isNotEmpty();
        assertThat(r.maxRelativeError()).as("%s worst: %s", name, r.worst()).isLessThan(1e-5);
    }

    /**
     * Oracle: float32 gradients equal float64 ones to float32 precision. Catches backend kernels
     * that are wrong only in float32 (oneDNN's convolution input gradients were, see KernelCheck).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("modules")
    void float32GradientsAgreeWithFloat64(String name, Supplier<Module> factory, long[] inputShape) {
        Rng.seed(8);
        Module m64 = factory.get().to(DType.FLOAT64);
        Module m32 = factory.get();
        m32.loadStateDict(m64.stateDict());
        Tensor x = Tensor.randn(DType.FLOAT64, Device.CPU, inputShape);
        List<Tensor> g64 = gradients(m64, x), g32 = gradients(m32, x.to(DType.FLOAT32));
        for (int i = 0; i < g64.size(); i++) {
            double scale = Math.max(1e-6, g64.get(i).abs().max().item());
            double err = g32.get(i).to(DType.FLOAT64).sub(g64.get(i)).abs().max().item() / scale;
            assertThat(err).as("%s gradient %d (0 = input)", name, i).isLessThan(1e-4);
        }
    }

    private static List<Tensor> gradients(Module m, Tensor x) {
        Tensor xg = x.copy().requiresGrad(true);
        Tensor out = m.forward(xg);
        Tensor w = out.detach().to(DType.FLOAT64).cos().to(out.dtype());
        List<Tensor> inputs = new java.util.ArrayList<>(List.of(xg));
        for (Parameter p : m.parameters()) inputs.add(p.value());
        return dev.tikhon.engine.Autograd.grad(List.of(out.mul(w).sum()), inputs, null, false, false)
                .stream().map(t -> t.to(DType.FLOAT64)).toList();
    }
}
