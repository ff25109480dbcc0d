package dev.tikhon.farkas;

import dev.tikhon.UserError;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.ResidualBlock;
import dev.tikhon.nn.Sequential;
import dev.tikhon.models.Models;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** FarkasNet's layout, options and initializations, and the guarantee across a whole network. */
class FarkasNetTest {
    private static final List<Long> MNIST = List.of(1L, 28L, 28L);

    @Test
    void depth20IsThreeStagesOfThreeBlocksThatWidenByOne() {
        Rng.seed(1);
        FarkasNet net = (FarkasNet) Models.build(Models.spec("farkas-resnet", MNIST, 10, Map.of()));
        assertThat(net.blocksPerStage).isEqualTo(3);
        long blocks = net.layers().stream().filter(m -> m instanceof FarkasBlock).count();
        assertThat(blocks).isEqualTo(9);
        // widths: stem 16, stage 1 16→19, 1×1 to 32, stage 2 32→35, 1×1 to 64, stage 3 64→67
        assertThat(net.layers().stream().filter(m -> m instanceof FarkasBlock).map(m -> ((FarkasBlock) m).channels).toList())
                .containsExactly(16, 17, 18, 32, 33, 34, 64, 65, 66);
        assertThat(net.namedParameters().get(net.layers().size() - 1 + ".weight").value().shape()).containsExactly(10, 67);
        // 18 convolutions on the residual path + stem + classifier = 20 (the two 1×1 transitions are not counted, as in ResNet)
        Tensor y = net.forward(Tensor.rand(2, 1, 28, 28));
        assertThat(y.shape()).containsExactly(2, 10);
        assertThat(y.allFinite()).isTrue();
    }

    @Test
    void bottleneckDepthIs9nPlus2() {
        Rng.seed(2);
        FarkasNet net = (FarkasNet) Models.build(Models.spec("farkas-resnet", MNIST, 10, Map.of("depth", 29, "block", "bottleneck")));
        assertThat(net.blocksPerStage).isEqualTo(3);
        assertThat(net.layers().stream().filter(m -> m instanceof FarkasBottleneck).count()).isEqualTo(9);
        assertThat(net.forward(Tensor.rand(2, 1, 28, 28)).shape()).containsExactly(2, 10);
    }

    @Test
    void badOptionsAreUserErrorsThatNameTheFix() {
        assertThatThrownBy(() -> Models.build(Models.spec("farkas-resnet", MNIST, 10, Map.of("depth", 21))))
                .isInstanceOf(UserError.class).hasMessageContaining("6n+2");
        assertThatThrownBy(() -> Models.build(Models.spec("farkas-resnet", MNIST, 10, Map.of("depth", 21, "block", "bottleneck"))))
                .isInstanceOf(UserError.class).hasMessageContaining("9n+2");
        assertThatThrownBy(() -> Models.build(Models.spec("farkas-resnet", MNIST, 10, Map.of("batch_norm", true))))
                .isInstanceOf(UserError.class).hasMessageContaining("--model resnet");
        assertThatThrownBy(() -> Models.build(Models.spec("farkas-resnet", MNIST, 10, Map.of("block", "wide"))))
                .isInstanceOf(UserError.class).hasMessageContaining("basic or bottleneck");
        assertThatThrownBy(() -> Models.build(Models.spec("farkas-resnet", List.of(784L), 10, Map.of())))
                .isInstanceOf(UserError.class).hasMessageContaining("[C,H,W]");
    }

    @Test
    void initOptionsReachTheFarkasLayers() {
        Rng.seed(3);
        FarkasNet standard = (FarkasNet) Models.build(Models.spec("farkas-resnet", MNIST, 10, Map.of("depth", 8, "width", 4)));
        FarkasConv2d stem = (FarkasConv2d) standard.layers().get(0);
        // standard: weights and biases U(±1/√fan_in), fan_in = 1·3·3
        assertThat(stem.weight().value().abs().max().item()).isLessThanOrEqualTo(1 / 3.0).isGreaterThan(0.2);
        assertThat(stem.bias().value().abs().max().item()).isLessThanOrEqualTo(1 / 3.0).isPositive();
        Rng.seed(3);
        FarkasNet kaiming = (FarkasNet) Models.build(Models.spec("farkas-resnet", MNIST, 10, Map.of("depth", 8, "width", 4, "init", "kaiming")));
        FarkasConv2d kStem = (FarkasConv2d) kaiming.layers().get(0);
        assertThat(kStem.bias().value().abs().max().item()).isZero();
        assertThat(kStem.weight().value().abs().max().item()).isGreaterThan(1 / 3.0);   // N(0, 2/9) exceeds 1/3 somewhere among 27 draws
        Rng.seed(3);
        FarkasNet zeroLast = (FarkasNet) Models.build(Models.spec("farkas-resnet", MNIST, 10, Map.of("depth", 8, "width", 4, "zero_last", true)));
        for (var e : zeroLast.namedParameters().entrySet()) {
            boolean blockTail = e.getKey().matches("\\d+\\.(weight|bias)") && !(zeroLast.layers().get(Integer.parseInt(e.getKey().split("\\.")[0])) instanceof FarkasConv2d);
            if (blockTail) assertThat(e.getValue().value().abs().max().item()).as(e.getKey()).isZero();
        }
        assertThat(((FarkasConv2d) zeroLast.layers().get(0)).weight().value().abs().max().item()).isPositive();
    }

    /** The layers compute [y, mean(−y)] + b̃ by one pass with an appended kernel; the literal formula of docs/methods.md §8 must agree. */
    @Test
    void foldedKernelsEqualTheLiteralFormula() {
        Rng.seed(7);
        FarkasConv2d c = new FarkasConv2d(3, 5, 3, 1, 1);
        c.to(DType.FLOAT64);
        Tensor x = Tensor.randn(DType.FLOAT64, Device.CPU, 2, 3, 6, 6);
        Tensor literal = Farkas.output(dev.tikhon.engine.Ops.conv2d(x, c.weight().value(), null, 1, 1), c.bias().value());
        assertThat(c.forward(x).sub(literal).abs().max().item()).isLessThan(1e-12);
        FarkasLinear l = new FarkasLinear(4, 3);
        l.to(DType.FLOAT64);
        Tensor v = Tensor.randn(DType.FLOAT64, Device.CPU, 5, 4);
        Tensor lit = Farkas.output(dev.tikhon.engine.Ops.linear(v, l.weight().value(), null), l.bias().value());
        assertThat(l.forward(v).sub(lit).abs().max().item()).isLessThan(1e-12);
    }

    @Test
    void zeroLastBlockStartsAsTheIdentityPlusAZeroChannel() {
        Rng.seed(4);
        FarkasBlock b = new FarkasBlock(3);
        b.zeroLast();
        Tensor x = Tensor.rand(2, 3, 5, 5);
        Tensor y = b.forward(x);
        assertThat(y.shape()).containsExactly(2, 4, 5, 5);
        assertThat(y.narrow(1, 0, 3).sub(x).abs().max().item()).isZero();
        assertThat(y.narrow(1, 3, 1).abs().max().item()).isZero();
    }

    /** A FarkasNet-14 and a plain ResNet-14 without batch norm, width 4, every bias shifted down by 3. */
    private static Sequential[] shiftedDepth14() {
        Sequential farkas = (Sequential) Models.build(Models.spec("farkas-resnet", MNIST, 10, Map.of("depth", 14, "width", 4)));
        Sequential plain = (Sequential) Models.build(Models.spec("resnet", MNIST, 10, Map.of("depth", 14, "width", 4, "batch_norm", false)));
        FarkasActivityPropertiesTest.shiftBiases(farkas, 3);
        FarkasActivityPropertiesTest.shiftBiases(plain, 3);
        return new Sequential[]{farkas, plain};
    }

    /**
     * Known answer of docs/methods.md §8 across whole networks: with every bias shifted down by 3 (far beyond the
     * standard initialization's ±1/√fan_in), no Farkas layer of a FarkasNet-14 has a position with no
     * active unit, while the plain ResNet-14 without batch norm, shifted alike, has layers that are
     * inactive everywhere. Counts layers (outputs of each ReLU and residual block) and positions.
     */
    @Test
    void negativeBiasShiftKillsPlainLayersButNoFarkasLayer() {
        Rng.seed(5);
        Sequential[] nets = shiftedDepth14();
        Sequential farkas = nets[0], plain = nets[1];
        Tensor x = Tensor.rand(8, 1, 28, 28);
        long[] f = count(farkas, x, m -> m instanceof FarkasConv2d || m instanceof FarkasBlock);
        long[] p = count(plain, x, m -> m instanceof ResidualBlock || m.describe().equals("relu"));
        System.out.printf("bias shift −3: Farkas-14 %d layers, %d inactive positions, %d inactive layers; plain ResNet-14 %d layers, "
                + "%d inactive positions, %d inactive layers%n", f[0], f[1], f[2], p[0], p[1], p[2]);
        assertThat(f[0]).isEqualTo(1 + 6 + 2);
        assertThat(f[1]).isZero();
        assertThat(f[2]).isZero();
        assertThat(p[0]).isEqualTo(1 + 6);
        assertThat(p[2]).isPositive();
    }

    /**
     * What the active unit is for: the gradient gets through. With every bias shifted by −3, each example's
     * input gradient of the cross-entropy and the gradient of the first layer's weights are nonzero through a
     * FarkasNet-14, and exactly zero through the plain ResNet-14 without batch norm (its output is a constant).
     */
    @Test
    void negativeBiasShiftLeavesFarkasGradientsNonzeroAndPlainOnesZero() {
        Rng.seed(6);
        Sequential[] nets = shiftedDepth14();
        Sequential farkas = nets[0], plain = nets[1];
        Tensor x = Tensor.rand(8, 1, 28, 28), y = Tensor.fromLongs(new long[]{0, 1, 2, 3, 4, 5, 6, 7}, 8);
        for (Sequential net : List.of(farkas, plain)) {
            Tensor input = x.copy().requiresGrad(true);
            Tensor first = net.parameters().get(0).value();
            List<Tensor> g = Autograd.grad(List.of(dev.tikhon.loss.Loss.CROSS_ENTROPY.perExample(net.forward(input), y).sum()),
                    List.of(input, first), null, false, false);
            double[] perExample = g.get(0).normPerExample(2).toDoubleArray();
            double firstLayer = g.get(1).norm(2).item();
            if (net == farkas) {
                for (double n : perExample) assertThat(n).as("Farkas: an example's input-gradient norm").isPositive();
                assertThat(firstLayer).as("Farkas: first-layer weight gradient").isPositive();
            } else {
                assertThat(perExample).as("plain: every example's input-gradient norm").containsOnly(0.0);
                assertThat(firstLayer).as("plain: first-layer weight gradient").isZero();
            }
        }
    }

    /** {layers checked, positions with no active unit summed over them, layers with no active unit anywhere}. */
    private static long[] count(Sequential net, Tensor x, java.util.function.Predicate<Module> checked) {
        long layers = 0, dead = 0, deadLayers = 0;
        try (Autograd.Guard g = Autograd.noGrad()) {
            for (Module m : net.layers()) {
                x = m.forward(x);
                if (!checked.test(m)) continue;
                layers++;
                long d = Farkas.inactivePositions(x);
                dead += d;
                if (d == Farkas.positions(x)) deadLayers++;
            }
        }
        return new long[]{layers, dead, deadLayers};
    }

    /** Its widths (13 channels here) are the ones oneDNN's float32 convolutions got wrong unpadded (see Ops.conv2d). */
    @Test
    void float64CopyComputesTheSameFunction() {
        Rng.seed(6);
        Module net = Models.build(Models.spec("farkas-resnet", List.of(1L, 8L, 8L), 3, Map.of("depth", 8, "width", 3)));
        Tensor x = Tensor.rand(2, 1, 8, 8);
        Tensor y32 = net.forward(x);
        Tensor y64 = net.to(DType.FLOAT64).forward(x.to(DType.FLOAT64));
        assertThat(y64.sub(y32.to(DType.FLOAT64)).abs().max().item()).isLessThan(1e-5);
        assertThat(y64.device()).isEqualTo(Device.CPU);
    }
}
