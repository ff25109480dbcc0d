package dev.tikhon.farkas;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.GradCheck;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Parameter;
import dev.tikhon.models.Models;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Oracle: autograd's gradients of every Farkas layer equal central finite differences in float64,
 * on both branches of the bias rule max(−mean(b₁…b_{out−1}), b_out): "last" sets b_out far above
 * −mean (the gradient goes to b_out), "mean" far below (it goes to the other biases).
 */
class FarkasGradientCheckTest {

    static Stream<Arguments> layers() {
        long[] img = {2, 3, 5, 5};
        long[] flat = {4, 6};
        return Stream.of(
                Arguments.of("linear", (Supplier<Module>) () -> new FarkasLinear(6, 5), flat, "bias", 0),
                Arguments.of("linear-last", (Supplier<Module>) () -> new FarkasLinear(6, 5), flat, "bias", 1),
                Arguments.of("linear-mean", (Supplier<Module>) () -> new FarkasLinear(6, 5), flat, "bias", -1),
                Arguments.of("conv", (Supplier<Module>) () -> new FarkasConv2d(3, 4, 3, 1, 1), img, "bias", 0),
                Arguments.of("conv-last", (Supplier<Module>) () -> new FarkasConv2d(3, 4, 3, 1, 1), img, "bias", 1),
                Arguments.of("conv-mean", (Supplier<Module>) () -> new FarkasConv2d(3, 4, 3, 1, 1), img, "bias", -1),
                Arguments.of("conv-1x1-stride2", (Supplier<Module>) () -> new FarkasConv2d(3, 5, 1, 2, 0), img, "bias", 0),
                Arguments.of("block-last", (Supplier<Module>) () -> new FarkasBlock(3), img, "bias", 1),
                Arguments.of("block-mean", (Supplier<Module>) () -> new FarkasBlock(3), img, "bias", -1),
                Arguments.of("bottleneck-last", (Supplier<Module>) () -> new FarkasBottleneck(8), new long[]{1, 8, 4, 4}, "bias", 1),
                Arguments.of("bottleneck-mean", (Supplier<Module>) () -> new FarkasBottleneck(8), new long[]{1, 8, 4, 4}, "bias", -1),
                Arguments.of("farkas-resnet-8", (Supplier<Module>) () -> Models.build(Models.spec("farkas-resnet", List.of(1L, 8L, 8L), 3,
                        Map.of("depth", 8, "width", 3))), new long[]{1, 1, 8, 8}, "", 0),
                Arguments.of("farkas-resnet-11-bottleneck", (Supplier<Module>) () -> Models.build(Models.spec("farkas-resnet", List.of(1L, 8L, 8L), 3,
                        Map.of("depth", 11, "width", 8, "block", "bottleneck"))), new long[]{1, 1, 8, 8}, "", 0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layers")
    void autogradMatchesCentralDifferences(String name, Supplier<Module> factory, long[] inputShape, String biasName, int branch) {
        Rng.seed(17);
        Module m = factory.get().to(DType.FLOAT64);
        if (branch != 0) forceBranch(m.namedParameters().get(biasName), branch);
        Tensor x = Tensor.randn(DType.FLOAT64, Device.CPU, inputShape);
        // whole networks have dozens of parameter tensors: fewer coordinates each keeps the test fast
        GradCheck.Report r = GradCheck.check(m, x, name.startsWith("farkas-resnet") ? 3 : 12, 1e-6, 23);
        assertThat(r.entries()).isNotEmpty();
        assertThat(r.maxRelativeError()).as("%s worst: %s", name, r.worst()).isLessThan(1e-5);
        if (branch != 0) {
            // the branch taken is visible in the gradient: only b_out, or only b₁…b_{out−1}, gets the bias rule's share
            Tensor b = m.namedParameters().get(biasName).value();
            assertThat(Farkas.bias(b).narrow(0, b.size(0) - 1, 1).item())
                    .isEqualTo(branch > 0 ? b.narrow(0, b.size(0) - 1, 1).item() : -b.narrow(0, 0, b.size(0) - 1).mean().item());
        }
    }

    /** b_out = −mean(b₁…b_{out−1}) ± 1. */
    static void forceBranch(Parameter bias, int sign) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            Tensor b = bias.value();
            long n = b.size(0);
            double target = -b.narrow(0, 0, n - 1).mean().item() + sign;
            b.narrow(0, n - 1, 1).fill_(target);
        }
    }
}
