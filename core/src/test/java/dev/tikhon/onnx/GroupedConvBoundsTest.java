package dev.tikhon.onnx;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.ConvGeometry;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.lipschitz.NetworkBound;
import dev.tikhon.lipschitz.OperatorNorms;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Conv2d;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Pool;
import dev.tikhon.nn.Sequential;
import dev.tikhon.verify.BoundedNetwork;
import dev.tikhon.verify.InputRegion;
import dev.tikhon.verify.Interval;
import dev.tikhon.verify.LowerSlope;
import dev.tikhon.verify.BoundOracles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Grouped, depthwise, dilated and rectangular imported convolutions ({@link OnnxLayers.Conv}) under the verifier and the
 * Lipschitz bound. Oracles: at ε = 0 IBP and CROWN give the margins; at sampled points of ℓ∞ and ℓ2 balls (corners, inside,
 * sphere) the margins lie within IBP's, CROWN's, CROWN-IBP's and α-CROWN's bounds; the operator-norm bound is at least the
 * exact norm of the explicitly built matrix (its float64 SVD), equals the largest of the groups' own bounds, and with one
 * group is the plain convolution's; the network's Lipschitz bound is at least every sampled gradient's norm; an imported
 * convolution of Tikhon's square geometry gets exactly the bounds of the {@link Conv2d} with its weights.
 */
class GroupedConvBoundsTest {
    private static final long[] INPUT = {4, 7, 6};

    private static ConvGeometry geometry(long[] stride, long[] padding, long[] dilation, long groups) {
        return new ConvGeometry(stride, padding, dilation, groups);
    }

    /** A grouped (2 groups, stride 2×1, padding 1×0, dilation 1×2) then a depthwise (6 groups) convolution, ReLU and Clip. */
    private static Module network(String kind) {
        Rng.seed(kind.equals("grouped") ? 3 : 5);
        Module first = kind.equals("grouped")
                ? new OnnxLayers.Conv(Tensor.randn(6, 2, 3, 3).mul(0.5), Tensor.randn(6).mul(0.1), new long[]{2, 1}, new long[]{1, 0}, new long[]{1, 2}, 2)
                : new OnnxLayers.Conv(Tensor.randn(4, 1, 3, 2).mul(0.7), Tensor.randn(4).mul(0.1), new long[]{1, 2}, new long[]{1, 1}, new long[]{1, 1}, 4);
        long c = kind.equals("grouped") ? 6 : 4;
        long h = kind.equals("grouped") ? 4 : 7, w = kind.equals("grouped") ? 2 : 4;
        Module depthwise = new OnnxLayers.Conv(Tensor.randn(c, 1, 3, 3).mul(0.6), Tensor.randn(c).mul(0.1), new long[]{1, 1}, new long[]{1, 1},
                new long[]{1, 1}, c);
        Module m = new Sequential(first, Activation.relu(), depthwise, new OnnxLayers.Clip(0, 6), Pool.flatten(),
                new Linear((int) (c * h * w), 10), Activation.relu(), new Linear(10, 5));
        m.train(false);
        return m;
    }

    @ParameterizedTest
    @ValueSource(strings = {"grouped", "depthwise"})
    void boundsContainTheMarginsAndAreExactAtZero(String kind) {
        Module m = network(kind);
        BoundedNetwork net = BoundedNetwork.of(m);
        Rng.seed(11);
        Tensor x = Tensor.rand(6, INPUT[0], INPUT[1], INPUT[2]).mul(2).sub(1);
        Tensor spec = BoundOracles.spec(m, x);
        Tensor margins = BoundOracles.margins(m, spec, x);
        for (Norm norm : List.of(Norm.LINF, Norm.L2)) {
            InputRegion point = InputRegion.ball(x, 0, norm);
            for (Interval b : List.of(net.ibp(point, spec), net.crown(point, spec))) {
                assertThat(b.lo().sub(margins).abs().max().item()).as("lower at ε = 0, %s", norm).isLessThan(1e-4);
                assertThat(b.hi().sub(margins).abs().max().item()).as("upper at ε = 0, %s", norm).isLessThan(1e-4);
            }
            double eps = norm == Norm.LINF ? 0.05 : 0.3;
            InputRegion region = InputRegion.ball(x, eps, norm);
            Interval ibp = net.ibp(region, spec), crown = net.crown(region, spec);
            Tensor alpha = net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, 10, 0.1);
            Tensor crownIbp = net.crownLower(region, spec, 0, LowerSlope.ADAPTIVE);
            assertThat(crown.hi().sub(crown.lo()).mean().item()).as("not vacuous").isLessThan(1e3);
            try (Autograd.Guard g = Autograd.noGrad()) {
                for (int i = 0; i < 300; i++) {
                    Tensor mi = BoundOracles.margins(m, spec, x.add(BoundOracles.perturbation(x, norm, eps, i)));
                    for (Interval b : List.of(ibp, crown)) {
                        assertThat(mi.sub(b.lo()).min().item()).as("lower bound, %s sample %d", norm, i).isGreaterThanOrEqualTo(-1e-5);
                        assertThat(b.hi().sub(mi).min().item()).as("upper bound, %s sample %d", norm, i).isGreaterThanOrEqualTo(-1e-5);
                    }
                    assertThat(mi.sub(alpha).min().item()).as("α-CROWN, %s sample %d", norm, i).isGreaterThanOrEqualTo(-1e-5);
                    assertThat(mi.sub(crownIbp).min().item()).as("CROWN-IBP, %s sample %d", norm, i).isGreaterThanOrEqualTo(-1e-5);
                }
            }
            assertThat(crown.lo().mean().item()).as("CROWN at least as tight as IBP on average").isGreaterThanOrEqualTo(ibp.lo().mean().item());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"grouped", "depthwise"})
    void theLipschitzBoundIsAtLeastTheGradients(String kind) {
        Module m = network(kind);
        double bound = NetworkBound.of(m, INPUT, 0).total();
        Rng.seed(13);
        for (int round = 0; round < 10; round++) {
            Tensor x = Tensor.rand(16, INPUT[0], INPUT[1], INPUT[2]).mul(4).sub(2).requiresGrad(true);
            Tensor out = m.forward(x);
            for (int k = 0; k < 5; k++) {
                Tensor grad = Autograd.grad(out.select(1, k).sum(), x, k < 4);
                assertThat(grad.flatten(1, -1).norm(2, new long[]{1}, false).max().item()).isLessThanOrEqualTo(bound);
            }
        }
    }

    /** Kernels and geometries: grouped, depthwise, with strides, paddings and dilations per axis, rectangular kernels. */
    private static final List<Object[]> CASES = List.of(
            new Object[]{new long[]{6, 2, 3, 3}, geometry(new long[]{1, 1}, new long[]{1, 1}, new long[]{1, 1}, 2), 7L, 6L},
            new Object[]{new long[]{6, 2, 3, 3}, geometry(new long[]{2, 1}, new long[]{1, 0}, new long[]{1, 2}, 2), 7L, 6L},
            new Object[]{new long[]{4, 1, 3, 3}, geometry(new long[]{1, 1}, new long[]{1, 1}, new long[]{1, 1}, 4), 6L, 6L},
            new Object[]{new long[]{4, 1, 3, 2}, geometry(new long[]{2, 2}, new long[]{1, 1}, new long[]{1, 1}, 4), 7L, 5L},
            new Object[]{new long[]{8, 1, 3, 3}, geometry(new long[]{1, 2}, new long[]{2, 1}, new long[]{2, 1}, 4), 6L, 7L},   // multiplier 2
            new Object[]{new long[]{3, 2, 2, 3}, geometry(new long[]{2, 1}, new long[]{0, 1}, new long[]{1, 1}, 1), 6L, 5L});

    @Test
    void theOperatorNormBoundIsAtLeastTheExactNormAndTheLargestGroupsBound() {
        Rng.seed(17);
        for (Object[] c : CASES) {
            long[] shape = (long[]) c[0];
            ConvGeometry g = (ConvGeometry) c[1];
            long h = (long) c[2], w = (long) c[3];
            Tensor k = Tensor.randn(DType.FLOAT64, Device.CPU, shape);
            double exact = exactNorm(k, g, h, w);
            double up = OperatorNorms.conv(k, g, h, w), low = OperatorNorms.convLower(k, g, h, w, 200, 0);
            assertThat(up).as("bound ≥ exact, %s", g).isGreaterThanOrEqualTo(exact);
            assertThat(up).as("bound within 2× exact, %s", g).isLessThan(2 * exact);
            assertThat(low).as("power iteration ≤ exact, %s", g).isLessThanOrEqualTo(exact * (1 + 1e-9));
            assertThat(low).as("power iteration near exact, %s", g).isGreaterThan(0.95 * exact);
            // the largest of the groups' own bounds, each group's kernels an ungrouped convolution on its own channels
            long groups = g.groups(), cg = shape[0] / groups;
            double max = 0;
            for (long i = 0; i < groups; i++) {
                max = Math.max(max, OperatorNorms.conv(k.narrow(0, i * cg, cg), new ConvGeometry(g.stride(), g.padding(), g.dilation(), 1), h, w));
            }
            assertThat(up).as("max over groups, %s", g).isCloseTo(max, org.assertj.core.data.Offset.offset(1e-12 * max));
        }
    }

    @Test
    void oneSquareGroupIsThePlainConvolutionsRule() {
        Rng.seed(19);
        Tensor k = Tensor.randn(DType.FLOAT64, Device.CPU, 5, 3, 3, 3);
        for (int[] sp : new int[][]{{1, 1}, {2, 1}, {2, 0}, {3, 2}}) {
            ConvGeometry g = new ConvGeometry(new long[]{sp[0], sp[0]}, new long[]{sp[1], sp[1]}, new long[]{1, 1}, 1);
            assertThat(OperatorNorms.conv(k, g, 9, 8)).isEqualTo(OperatorNorms.conv(k, sp[0], sp[1], 9, 8));
            assertThat(OperatorNorms.convLower(k, g, 9, 8, 20, 0)).isEqualTo(OperatorNorms.convLower(k, sp[0], sp[1], 9, 8, 20, 0));
        }
        // a network: the imported convolution with Tikhon's geometry, and the Conv2d with its weights
        Rng.seed(23);
        Conv2d conv = new Conv2d(4, 6, 3, 2, 1, true);
        Tensor wt = conv.weight().value(), b = conv.bias().value();
        Linear head = new Linear(6 * 4 * 3, 5);
        Module plain = new Sequential(conv, Activation.relu(), Pool.flatten(), head);
        Module imported = new Sequential(new OnnxLayers.Conv(wt, b, new long[]{2, 2}, new long[]{1, 1}, new long[]{1, 1}, 1),
                Activation.relu(), Pool.flatten(), head);
        plain.train(false);
        imported.train(false);
        assertThat(NetworkBound.of(imported, INPUT, 0).total()).isEqualTo(NetworkBound.of(plain, INPUT, 0).total());
        Tensor x = Tensor.rand(3, INPUT[0], INPUT[1], INPUT[2]);
        Tensor spec = BoundOracles.spec(plain, x);
        for (Norm norm : List.of(Norm.LINF, Norm.L2)) {
            InputRegion region = InputRegion.ball(x, 0.1, norm);
            Interval a = BoundedNetwork.of(plain).crown(region, spec), c = BoundedNetwork.of(imported).crown(region, spec);
            assertThat(a.lo().sub(c.lo()).abs().max().item()).isLessThan(1e-5);
            assertThat(a.hi().sub(c.hi()).abs().max().item()).isLessThan(1e-5);
            Interval ai = BoundedNetwork.of(plain).ibp(region, spec), ci = BoundedNetwork.of(imported).ibp(region, spec);
            assertThat(ai.lo().sub(ci.lo()).abs().max().item()).isLessThan(1e-5);
        }
    }

    /**
     * The MobileNet-like fixture (depthwise-separable block, ReLU6, Hardswish): its sound Lipschitz bound is at least every
     * logit's input-gradient norm at 160 random images (its bounds at sampled points: ImportedActivationBoundsTest).
     */
    @Test
    void theMobileFixturesGradientsAreWithinItsLipschitzBound() throws Exception {
        Module m = OnnxImport.load(OnnxImportTest.DIR.resolve("mobile.onnx")).model();
        double bound = NetworkBound.of(m, new long[]{1, 8, 8}, 0).total();
        Rng.seed(29);
        for (int round = 0; round < 10; round++) {
            Tensor xs = Tensor.rand(16, 1, 8, 8).requiresGrad(true);
            Tensor out = m.forward(xs);
            for (int k = 0; k < 5; k++) {
                Tensor grad = Autograd.grad(out.select(1, k).sum(), xs, k < 4);
                assertThat(grad.flatten(1, -1).norm(2, new long[]{1}, false).max().item()).isLessThanOrEqualTo(bound);
            }
        }
    }

    /**
     * A depthwise convolution and the batch norm after it (as tf2onnx writes Keras' MobileNets): the Lipschitz bound folds the
     * batch norm's per-channel scale into the kernel, so it equals the bound of the one convolution with the scaled kernel
     * (the same linear map) and is at least that map's exact norm, below the product of the two layers' own constants.
     */
    @Test
    void aBatchNormAfterAnImportedConvolutionIsFoldedIntoIt() {
        Rng.seed(41);
        ConvGeometry g = geometry(new long[]{1, 2}, new long[]{1, 1}, new long[]{1, 1}, 4);
        Tensor kernel = Tensor.randn(4, 1, 3, 3);
        dev.tikhon.nn.BatchNorm2d bn = new dev.tikhon.nn.BatchNorm2d(4, 0.1, 1e-3);
        try (Autograd.Guard ng = Autograd.noGrad()) {
            bn.weight().value().copy_(Tensor.fromDoubles(new double[]{0.05, 3.0, 0.4, 1.2}, 4).to(kernel.dtype()));
            bn.runningVar().copy_(Tensor.fromDoubles(new double[]{0.5, 2.0, 1.0, 4.0}, 4).to(kernel.dtype()));
        }
        Module conv = new OnnxLayers.Conv(kernel, null, g.stride(), g.padding(), g.dilation(), g.groups());
        Module pair = new Sequential(conv, bn);
        pair.train(false);
        long[] in = {4, 7, 6};
        Tensor scale = bn.weight().value().div(bn.runningVar().add(bn.eps()).sqrt());
        Tensor scaled = kernel.mul(scale.reshape(4, 1, 1, 1));
        double folded = NetworkBound.of(pair, in, 0).total();
        double alone = NetworkBound.of(new OnnxLayers.Conv(scaled, null, g.stride(), g.padding(), g.dilation(), g.groups()), in, 0).total();
        assertThat(folded).isCloseTo(alone, org.assertj.core.api.Assertions.within(1e-6 * alone));
        assertThat(folded).isGreaterThanOrEqualTo(exactNorm(scaled.to(DType.FLOAT64), g, in[1], in[2]) * (1 - 1e-6));
        double product = NetworkBound.of(conv, in, 0).total() * scale.abs().max().item();
        assertThat(folded).isLessThan(0.9 * product);
    }

    /** σ_max of the convolution's matrix, built column by column from the basis vectors, by float64 SVD. */
    private static double exactNorm(Tensor k, ConvGeometry g, long h, long w) {
        long in = k.size(1) * g.groups() * h * w;
        Tensor basis = Tensor.eye(in, DType.FLOAT64, Device.CPU).reshape(in, k.size(1) * g.groups(), h, w);
        try (Autograd.Guard ng = Autograd.noGrad()) {
            Tensor cols = g.apply(basis, k, null).flatten(1, -1);   // [in, out]: row i is the image of e_i
            return cols.spectralNorm().item();
        }
    }

}
