package dev.tikhon.verify;

import dev.tikhon.attack.Norm;
import dev.tikhon.data.Dataset;
import dev.tikhon.data.ToyData;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Graph;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Sequential;
import dev.tikhon.onnx.OnnxLayers;
import dev.tikhon.onnx.TanhGeluGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * α-CROWN's variables on the imported activations ({@link Pointwise#alphaLines}): tangent points for SiLU, GELU, tanh-GELU
 * and Elu(1), slopes for Clip, HardSigmoid, LeakyRelu, PRelu, HardSwish and Elu(α ≠ 1). Oracles: the lines hold on a 2,001-point float64 grid of
 * [l, u] for any values of the variables, in or out of [0, 1] (a plain tangent's intercept, or a line of the same slope through
 * an end, does not); the start values give CROWN's slopes and intercepts at least as tight; on a small MLP of each
 * activation the bounds contain 300 sampled margins per ℓ∞ and ℓ2 ball and are never below CROWN's, and tighter on average.
 */
class ImportedAlphaCrownTest {

    /** The activations as {@link Pointwise#of} reads them from the imported layers (GELU's and tanh-GELU's ×2 included). */
    private static Map<String, Pointwise> functions() {
        Map<String, Pointwise> out = new LinkedHashMap<>();
        out.put("silu", Pointwise.silu());
        out.put("gelu", Pointwise.gelu().scaled(1, 2));
        out.put("tanh-gelu", Pointwise.tanhGelu().scaled(1, 2));
        out.put("gelu·3", Pointwise.gelu().scaled(3, 0.5));
        out.put("elu", Pointwise.elu(1));
        out.put("leaky-relu", Pointwise.of(new OnnxLayers.LeakyRelu(0.1)));
        out.put("prelu", Pointwise.of(new OnnxLayers.PRelu(Tensor.fromDoubles(new double[]{-0.3}, 1))));
        out.put("relu6", Pointwise.clip(0, 6));
        out.put("hardtanh", Pointwise.clip(-1, 1));
        out.put("hard-sigmoid", Pointwise.hardSigmoid(0.2, 0.5));
        out.put("hard-swish", Pointwise.of(new OnnxLayers.HardSigmoid(1.0 / 6, 0.5, true)));
        out.put("hard-swish/2", Pointwise.of(new OnnxLayers.HardSigmoid(1.0 / 3, 0.5, true)));   // hardSwish(2x)/2
        out.put("elu(0.5)", Pointwise.elu(0.5));
        out.put("elu(-0.7)", Pointwise.elu(-0.7));
        return out;
    }

    /** n random intervals [1, n] around [−8, 8], a fifth of them narrow, and variables in [−1, 2], [1, 1, n] each. */
    private static Tensor[] intervalsAndVariables(Random rng, int n) {
        double[] l = new double[n], u = new double[n], tl = new double[n], tu = new double[n];
        for (int i = 0; i < n; i++) {
            double a = rng.nextGaussian() * 3, b = i % 5 == 0 ? a + rng.nextDouble() * 1e-3 : a + rng.nextDouble() * 8;
            l[i] = Math.min(a, b);
            u[i] = Math.max(a, b);
            tl[i] = rng.nextDouble() * 3 - 1;   // outside [0, 1] a third of the time: clamped
            tu[i] = rng.nextDouble() * 3 - 1;
        }
        return new Tensor[]{Tensor.fromDoubles(l, 1, n), Tensor.fromDoubles(u, 1, n), Tensor.fromDoubles(tl, 1, 1, n),
                Tensor.fromDoubles(tu, 1, 1, n)};
    }

    /** {how far the lower line rises above f, how far f rises above the upper line}: the worst over a 2,001-point grid of each [l, u]. */
    private static double[] worst(Pointwise f, Tensor lo, Tensor hi, Relaxation r) {
        // the whole grid at once, [2001, 1, 1, n]: point j is l + (u − l)·(j / 2000), as one point at a time would give it
        Tensor t = Tensor.arange(2001, dev.tikhon.engine.DType.FLOAT64, dev.tikhon.engine.Device.CPU).div(2000).reshape(2001, 1, 1, 1);
        Tensor z = lo.unsqueeze(1).unsqueeze(0).add(hi.sub(lo).unsqueeze(1).unsqueeze(0).mul(t));
        Tensor fz = f.apply(z);
        double below = r.lowerSlope().unsqueeze(0).mul(z).add(r.lowerIntercept().unsqueeze(0)).sub(fz).max().item();
        double above = fz.sub(r.upperSlope().unsqueeze(0).mul(z).add(r.upperIntercept().unsqueeze(0))).max().item();
        return new double[]{below, above};
    }

    @Test
    void everyActivationHasVariables() {
        for (var e : functions().entrySet()) {
            assertThat(e.getValue().alpha()).as(e.getKey()).isNotEqualTo(Pointwise.Alpha.NONE);
        }
        assertThat(Pointwise.hardSwish().alpha()).as("kinked: a chord may be no tangent").isEqualTo(Pointwise.Alpha.SLOPES);
        assertThat(Pointwise.elu(0.5).alpha()).as("kinked at 0").isEqualTo(Pointwise.Alpha.SLOPES);
        assertThat(Pointwise.silu().alpha()).isEqualTo(Pointwise.Alpha.TANGENT_POINTS);
        assertThat(Pointwise.clip(-1, 1).alpha()).isEqualTo(Pointwise.Alpha.SLOPES);
        assertThat(Pointwise.hardSigmoid(0, 0.5).alpha()).as("constant").isEqualTo(Pointwise.Alpha.NONE);
    }

    @Test
    void linesHoldOnTheWholeIntervalForAnyVariables() {
        Random rng = new Random(11);
        for (var e : functions().entrySet()) {
            Pointwise f = e.getValue();
            Tensor[] v = intervalsAndVariables(rng, 400);
            Tensor lo = v[0], hi = v[1];
            Interval pre = new Interval(lo, hi);
            Relaxation r = f.alphaLines(pre, v[2], v[3]);
            double[] w = worst(f, lo, hi, r);
            assertThat(w[0]).as("%s: lower line above f", e.getKey()).isLessThanOrEqualTo(1e-12);
            assertThat(w[1]).as("%s: upper line below f", e.getKey()).isLessThanOrEqualTo(1e-12);
            // the same slopes with mutated intercepts fail the same check: a plain tangent's (the curved ones: Elu is convex,
            // so there only the upper one fails), the line through the left end (the piecewise-linear ones)
            Tensor l = Layers.rows(lo), u = Layers.rows(hi);
            boolean tangents = f.alpha() == Pointwise.Alpha.TANGENT_POINTS;
            Tensor dl = tangents ? l.add(v[2].clamp(0, 1).mul(u.sub(l))) : l, du = tangents ? l.add(v[3].clamp(0, 1).mul(u.sub(l))) : l;
            Relaxation bad = new Relaxation(r.lowerSlope(), f.apply(dl).sub(r.lowerSlope().mul(dl)), r.upperSlope(),
                    f.apply(du).sub(r.upperSlope().mul(du)), false, true, true);
            double[] wb = worst(f, lo, hi, bad);
            assertThat(Math.max(wb[0], wb[1])).as("%s: a mutated line crosses f", e.getKey()).isGreaterThan(1e-3);
        }
    }

    @Test
    void startValuesGiveCrownsLines() {
        Random rng = new Random(12);
        for (var e : functions().entrySet()) {
            Pointwise f = e.getValue();
            Tensor[] v = intervalsAndVariables(rng, 400);
            Interval pre = new Interval(v[0], v[1]);
            Relaxation crown = f.relaxation(pre);
            Tensor[] t = f.startFractions(pre);
            Relaxation start = f.alphaLines(pre, Layers.rows(t[0]), Layers.rows(t[1]));
            Tensor scale = v[1].sub(v[0]).add(1);   // a slope's error counts times the width in the bound
            assertThat(start.lowerSlope().squeeze(1).sub(crown.lowerSlope()).abs().mul(scale).max().item())
                    .as("%s: lower slope", e.getKey()).isLessThan(1e-9);
            assertThat(start.upperSlope().squeeze(1).sub(crown.upperSlope()).abs().mul(scale).max().item())
                    .as("%s: upper slope", e.getKey()).isLessThan(1e-9);
            assertThat(crown.lowerIntercept().sub(start.lowerIntercept().squeeze(1)).max().item())
                    .as("%s: lower intercept at least CROWN's", e.getKey()).isLessThan(1e-9);
            assertThat(start.upperIntercept().squeeze(1).sub(crown.upperIntercept()).max().item())
                    .as("%s: upper intercept at most CROWN's", e.getKey()).isLessThan(1e-9);
        }
    }

    private static Module activation(String name) {
        switch (name) {
            case "silu": return new Graph.Gate(List.of(new Activation(Activation.Kind.SIGMOID)));
            case "gelu": return new Graph.Gate(List.of(new OnnxLayers.ConstantOp(OnnxLayers.ConstantOp.Kind.DIV,
                    Tensor.fromFloats(new float[]{(float) Math.sqrt(2)}), false), new OnnxLayers.Erf(),
                    new OnnxLayers.ConstantOp(OnnxLayers.ConstantOp.Kind.ADD, Tensor.fromFloats(new float[]{1}), false)));
            case "tanh-gelu": return TanhGeluGraph.module();
            case "elu": return new OnnxLayers.Elu(1);
            case "leaky-relu": return new OnnxLayers.LeakyRelu(0.1);
            case "prelu": return new OnnxLayers.PRelu(Tensor.rand(16).sub(0.3));   // some slopes negative
            case "hardtanh": return new OnnxLayers.Clip(-1, 1);
            case "hard-swish": return new OnnxLayers.HardSigmoid(1.0 / 6, 0.5, true);
            case "elu(0.5)": return new OnnxLayers.Elu(0.5);
            default: throw new AssertionError(name);
        }
    }

    /** 2 → 16 → 16 → 2 with the activation after each hidden layer, weights ×2 so that CROWN is loose at moderate ε. */
    private static Module mlp(String name) {
        Rng.seed(41);
        Supplier<Module> act = () -> activation(name);
        Module m = new Sequential(new Linear(2, 16), act.get(), new Linear(16, 16), act.get(), new Linear(16, 2));
        try (Autograd.Guard g = Autograd.noGrad()) {
            for (var p : m.parameters()) p.value().mul_(2);
        }
        m.train(false);
        return m;
    }

    /**
     * Mean gain of α-CROWN (20 steps) over CROWN's lower bounds, 64 moons points, ℓ∞ ε 0.3 / ℓ2 ε 0.3 (CROWN's mean at ℓ∞
     * 0.3), measured 2026-12-07: SiLU 0.022 / 0.011 (0.207), GELU 0.145 / 0.076 (1.364), tanh-GELU 0.029 / 0.014 (0.222),
     * Elu 0.018 / 0.009 (0.499), LeakyRelu 0.016 / 0.008 (0.318), PRelu 0.014 / 0.009 (0.672), Hardtanh 0.115 / 0.056
     * (0.334), HardSwish 0.035 / 0.021 (0.163), Elu(0.5) 0.019 / 0.008 (0.307). Never below CROWN by more than 2.4·10⁻⁷ (float32 rounding of the slopes' start; 0 for the tangent points).
     */
    @ParameterizedTest
    @ValueSource(strings = {"silu", "gelu", "tanh-gelu", "elu", "leaky-relu", "prelu", "hardtanh", "hard-swish", "elu(0.5)"})
    void alphaCrownIsSoundAndAtLeastCrown(String name) {
        Module m = mlp(name);
        BoundedNetwork net = BoundedNetwork.of(m);
        Dataset moons = ToyData.generate("moons", 64, 3);
        Tensor x = moons.inputs();
        Tensor spec = BoundOracles.spec(m, x);
        BoundOracles.assertExactAtZero(net, m, spec, x, 1e-4);
        double gain = 0;
        for (Norm norm : List.of(Norm.LINF, Norm.L2)) {
            for (double eps : new double[]{0.05, 0.3}) {
                InputRegion region = InputRegion.ball(x, eps, norm);
                Tensor crown = net.crown(region, spec).lo();
                AlphaSlopes slopes = new AlphaSlopes();
                Tensor alpha = net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, 20, 0.1, slopes);
                assertThat(slopes.all()).as("%s has variables", name).isNotEmpty();
                BoundOracles.assertContainsSamples(m, spec, x, norm, eps, 300, 1e-5, new Interval(alpha, alpha.add(Double.POSITIVE_INFINITY)));
                double below = crown.sub(alpha).max().item(), mean = alpha.sub(crown).mean().item();
                System.out.printf("%s α-CROWN − CROWN, %s ε %s: mean %.5f, CROWN mean %.4f, worst %.2e%n", name, norm, eps, mean,
                        crown.mean().item(), -below);
                assertThat(below).as("α-CROWN below CROWN, %s ε %s", norm, eps).isLessThanOrEqualTo(1e-5);
                if (eps == 0.3) gain += mean;
            }
        }
        assertThat(gain).as("%s: mean gain over CROWN at ε 0.3", name).isGreaterThan(1e-3);
    }

    /**
     * PyTorch's exports (PReLU per channel after convolutions, a MobileNet-like CNN with ReLU6, Hardswish, PReLU and SiLU, an
     * MLP with SiLU, GELU and Hardswish, tanh-GELU after a convolution, ELU, GELU): α-CROWN's bounds hold at 200 sampled
     * points of the ℓ∞ box and are never below CROWN's.
     */
    @ParameterizedTest
    @ValueSource(strings = {"prelu:1,8,8", "mobile:1,8,8", "silu:1,4,4", "tanh_gelu:1,4,4", "elu:1,2,2", "gelu:1,2,2"})
    void pyTorchExportsAreBoundedByAlphaCrown(String fixture) {
        String[] parts = fixture.split(":");
        Module m = dev.tikhon.onnx.OnnxImport.load(java.nio.file.Path.of("src/test/resources/onnx", parts[0] + ".onnx")).model();
        long[] shape = java.util.Arrays.stream(("3," + parts[1]).split(",")).mapToLong(Long::parseLong).toArray();
        Rng.seed(43);
        Tensor x = Tensor.rand(shape);
        Tensor spec = BoundOracles.spec(m, x);
        BoundedNetwork net = BoundedNetwork.of(m);
        double eps = 0.05;
        InputRegion region = InputRegion.ball(x, eps, Norm.LINF);
        Tensor crown = net.crown(region, spec).lo();
        Tensor alpha = net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, 10, 0.1);
        BoundOracles.assertContainsSamples(m, spec, x, Norm.LINF, eps, 200, 1e-5, new Interval(alpha, alpha.add(Double.POSITIVE_INFINITY)));
        assertThat(crown.sub(alpha).max().item()).as("α-CROWN below CROWN").isLessThanOrEqualTo(1e-5);
        System.out.printf("%s: α-CROWN − CROWN mean %.5f (CROWN mean %.4f)%n", parts[0], alpha.sub(crown).mean().item(), crown.mean().item());
    }
}
