package dev.tikhon.verify;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Graph;
import dev.tikhon.nn.Module;
import dev.tikhon.onnx.OnnxLayers;
import dev.tikhon.onnx.TanhGeluGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The imported activations' (and Tikhon's tanh and sigmoid's) interval images, linear relaxations and Lipschitz constants against the modules themselves
 * (the function the imported model computes), in float64: over many random intervals (degenerate ones, ones straddling
 * every breakpoint, very wide ones) f on a dense grid of each interval, its ends and its breakpoints lies inside the
 * interval image and between the two lines; the image is exact up to the grid's step; sup |f′| on a fine grid is at most
 * the Lipschitz constant and close to it.
 */
class PointwiseTest {
    /** A module, the points where its curvature changes or it has a kink, its sup |f′| computed by hand. */
    record Case(String name, Module module, double[] breakpoints, double sup) {
        @Override public String toString() { return name; }
    }

    static Stream<Case> cases() {
        double s = (float) Math.sqrt(0.5);   // GELU as PyTorch writes it: x / 1.4142135 (a float)
        Module gelu = new Graph.Gate(List.of(new OnnxLayers.ConstantOp(OnnxLayers.ConstantOp.Kind.DIV,
                Tensor.fromDoubles(new double[]{(float) Math.sqrt(2)}), false), new OnnxLayers.Erf(),
                new OnnxLayers.ConstantOp(OnnxLayers.ConstantOp.Kind.ADD, Tensor.fromDoubles(new double[]{1}), false)));
        double c = Pointwise.SILU_INFLECTION, r2 = Math.sqrt(2) / (Math.sqrt(2) * s);
        return Stream.of(
                new Case("relu6", new OnnxLayers.Clip(0, 6), new double[]{0, 6}, 1),
                new Case("hardtanh", new OnnxLayers.Clip(-1, 1), new double[]{-1, 1}, 1),
                new Case("clip below only", new OnnxLayers.Clip(Double.NEGATIVE_INFINITY, 2), new double[]{2}, 1),
                new Case("hard-sigmoid", new OnnxLayers.HardSigmoid(0.2, 0.5, false), new double[]{-2.5, 2.5}, 0.2),
                new Case("hard-sigmoid decreasing", new OnnxLayers.HardSigmoid(-0.3, 0.4, false), new double[]{-2, 4.0 / 3}, 0.3),
                new Case("hard-swish", new OnnxLayers.HardSigmoid(1.0 / 6, 0.5, true), new double[]{-3, -1.5, 3}, 1.5),
                new Case("hard-swish at operator set 13", new Graph.Gate(List.of(new OnnxLayers.HardSigmoid((float) (1.0 / 6), 0.5, false))),
                        new double[]{-3, -1.5, 3}, 1.5),
                new Case("leaky-relu", new OnnxLayers.LeakyRelu(0.1), new double[]{0}, 1),
                new Case("leaky-relu negative", new OnnxLayers.LeakyRelu(-0.5), new double[]{0}, 1),
                new Case("prelu", new OnnxLayers.PRelu(Tensor.fromDoubles(new double[]{0.25, -0.5, 1.5}, 3)), new double[]{0}, 1.5),
                new Case("elu", new OnnxLayers.Elu(1), new double[]{0}, 1),
                new Case("elu 0.3", new OnnxLayers.Elu(0.3), new double[]{0}, 1),
                new Case("elu 2", new OnnxLayers.Elu(2), new double[]{0}, 2),
                new Case("elu -0.5", new OnnxLayers.Elu(-0.5), new double[]{0}, 1),
                new Case("silu", new Graph.Gate(List.of(new Activation(Activation.Kind.SIGMOID))),
                        new double[]{-c, Pointwise.SILU_ARGMIN, c}, 1.0998393201),
                new Case("tanh", new Activation(Activation.Kind.TANH), new double[]{0}, 1),
                new Case("sigmoid", new Activation(Activation.Kind.SIGMOID), new double[]{0}, 0.25),
                new Case("gelu", gelu, new double[]{-r2 * Math.sqrt(2), Pointwise.GELU_ARGMIN, r2 * Math.sqrt(2)}, 2 * 1.1289041452),
                new Case("tanh-gelu", TanhGeluGraph.gated(), tanhGeluBreakpoints(), 2 * 1.1289930665),
                new Case("tanh-gelu, x·x·x the other way", new Graph.Gate(List.of(TanhGeluGraph.gate(TanhGeluGraph.C, TanhGeluGraph.A, true))),
                        tanhGeluBreakpoints(), 2 * 1.1289930665),
                new Case("tanh-gelu with Pow(x, 3)", new Graph.Gate(List.of(TanhGeluGraph.gateWithPow())), tanhGeluBreakpoints(), 2 * 1.1289930665));
    }

    private static double[] tanhGeluBreakpoints() {
        return new double[]{-Pointwise.TANH_GELU_INFLECTION, Pointwise.TANH_GELU_ARGMIN, Pointwise.TANH_GELU_INFLECTION};
    }

    /** Random intervals [N, 3]: degenerate, tiny, moderate, wide, and straddling each breakpoint. */
    private static Tensor[] intervals(double[] breakpoints) {
        List<double[]> out = new ArrayList<>();
        java.util.Random r = new java.util.Random(11);
        double[] widths = {0, 1e-9, 1e-6, 1e-3, 0.1, 1, 3, 10, 60};
        for (int i = 0; i < 300; i++) {
            double w = widths[i % widths.length] * (i % widths.length < 2 ? 1 : r.nextDouble());
            double centre = -10 + 20 * r.nextDouble();
            out.add(new double[]{centre - w / 2, centre + w / 2});
        }
        for (double b : breakpoints) {
            for (int i = 0; i < 60; i++) {
                double scale = widths[2 + i % (widths.length - 2)];
                out.add(new double[]{b - scale * r.nextDouble(), b + scale * r.nextDouble()});
            }
            out.add(new double[]{b, b});
            out.add(new double[]{b - 1, b});
            out.add(new double[]{b, b + 1});
        }
        int n = out.size() / 3 * 3;
        double[] lo = new double[n], hi = new double[n];
        for (int i = 0; i < n; i++) {
            lo[i] = out.get(i)[0];
            hi[i] = out.get(i)[1];
        }
        return new Tensor[]{Tensor.fromDoubles(lo, n / 3, 3), Tensor.fromDoubles(hi, n / 3, 3)};
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theIntervalImageAndTheLinesContainTheFunction(Case k) {
        Pointwise f = Pointwise.of(k.module());
        assertThat(f).as("a rule for " + k.name()).isNotNull();
        Tensor[] lu = intervals(k.breakpoints());
        Tensor l = lu[0], u = lu[1];
        try (Autograd.Guard g = Autograd.noGrad()) {
            Interval image = f.ibp(new Interval(l, u));
            Relaxation lines = f.relaxation(new Interval(l, u));
            int grid = 2001;
            Tensor t = Tensor.arange(grid, DType.FLOAT64, Device.CPU).div(grid - 1).reshape(grid, 1, 1);
            List<Tensor> points = new ArrayList<>(List.of(l.unsqueeze(0).add(u.sub(l).unsqueeze(0).mul(t))));
            for (double b : k.breakpoints()) points.add(l.clampMin(b).minimum(u).unsqueeze(0));   // b where [l, u] holds it
            Tensor z = Tensor.cat(points, 0);
            Tensor fz = k.module().forward(z);
            double tol = 1e-9;
            assertThat(fz.sub(image.lo().unsqueeze(0)).min().item()).as("f ≥ the image's lower end").isGreaterThanOrEqualTo(-tol);
            assertThat(image.hi().unsqueeze(0).sub(fz).min().item()).as("f ≤ the image's upper end").isGreaterThanOrEqualTo(-tol);
            // exact: the image's ends are reached on the grid, up to the grid's step times the Lipschitz constant
            Tensor slack = u.sub(l).mul(k.sup() / (grid - 1)).add(2e-12);
            assertThat(image.lo().add(slack).sub(fz.neg().amax(0, false).neg()).min().item()).as("the lower end is attained").isGreaterThanOrEqualTo(0);
            assertThat(fz.amax(0, false).add(slack).sub(image.hi()).min().item()).as("the upper end is attained").isGreaterThanOrEqualTo(0);
            Tensor below = lines.lowerSlope().unsqueeze(0).mul(z).add(lines.lowerIntercept().unsqueeze(0));
            Tensor above = lines.upperSlope().unsqueeze(0).mul(z).add(lines.upperIntercept().unsqueeze(0));
            double scale = 1e-12 * Math.max(1, z.abs().max().item());
            assertThat(fz.sub(below).min().item()).as("f ≥ the lower line").isGreaterThanOrEqualTo(-tol - scale);
            assertThat(above.sub(fz).min().item()).as("f ≤ the upper line").isGreaterThanOrEqualTo(-tol - scale);
            // on a degenerate interval both lines are f's value there
            Tensor point = u.sub(l).le(0);
            assertThat(below.select(0, 0).sub(fz.select(0, 0)).abs().maskedFill(point.logicalNot(), 0).max().item()).isLessThan(1e-12);
            assertThat(above.select(0, 0).sub(fz.select(0, 0)).abs().maskedFill(point.logicalNot(), 0).max().item()).isLessThan(1e-12);
        }
    }

    /** In float32 the minimum's constant is rounded down to a float, not to the nearest one (which may lie above it). */
    @org.junit.jupiter.api.Test
    void theMinimumIsRoundedDownInFloat32() {
        for (double v : new double[]{Pointwise.SILU_MIN, Pointwise.GELU_MIN, Pointwise.TANH_GELU_MIN, -0.375}) {
            double d = Pointwise.down(v, DType.FLOAT32);
            assertThat(d).isLessThanOrEqualTo(v).isEqualTo((double) (float) d).isGreaterThan(v - 1e-7);
        }
        Tensor at = Tensor.fromFloats(new float[]{(float) Pointwise.SILU_ARGMIN}, 1);
        Interval image = Pointwise.silu().ibp(new Interval(at, at));
        assertThat(image.lo().item()).isLessThanOrEqualTo(Pointwise.SILU_MIN + 1e-12);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theLipschitzConstantBoundsTheSlopeOnAFineGrid(Case k) {
        Pointwise f = Pointwise.of(k.module());
        long n = 2_000_001;
        int channels = k.module() instanceof OnnxLayers.PRelu ? 3 : 1;   // the others act on each number alone: one copy of the grid
        Tensor z = Tensor.arange(n, DType.FLOAT64, Device.CPU).sub((n - 1) / 2.0).mul(2e-5).unsqueeze(1).expand(n, channels).contiguous()
                .requiresGrad(true);   // [−20, 20] in steps of 2e-5, three channels for PRelu
        Tensor slope = Autograd.grad(k.module().forward(z).sum(), z, false);
        double sup = slope.abs().max().item();
        assertThat(sup).as("sup |f′| on the grid").isLessThanOrEqualTo(f.lipschitz()).isCloseTo(k.sup(), org.assertj.core.api.Assertions.within(1e-5));
        assertThat(f.lipschitz()).as("close to sup |f′|").isLessThanOrEqualTo(k.sup() * 1.001);
    }

    // ------------------------------------------------------------------ tanh-GELU's constants, in float64 from the formula

    private static final double A = TanhGeluGraph.A, C = TanhGeluGraph.C;

    private static double tanhGelu(double x) { return 0.5 * x * (1 + Math.tanh(C * (x + A * x * x * x))); }

    private static double tanhGeluSlope(double x) {
        double t = Math.tanh(C * (x + A * x * x * x));
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * C * (1 + 3 * A * x * x);
    }

    /** f″ / sech²(u), the sign of f″. */
    private static double tanhGeluCurvature(double x) {
        double t = Math.tanh(C * (x + A * x * x * x)), q = 1 + 3 * A * x * x;
        return C * (1 + 6 * A * x * x) - x * t * C * C * q * q;
    }

    /**
     * The constants the bounds use are tanh-GELU's, for the floats PyTorch writes: f″ changes sign once on (0, 40], within
     * 10⁻¹² of the inflection point (f″ is even, so also at its negative); f′ changes sign within 10⁻⁹ of the minimizer and
     * the minimum's constant lies below f there by less than 10⁻¹¹; and sup f′ on a grid of step h over [−20, 20] plus
     * h/2 · sup |f″| (f′ moves at most that between grid points) is at most the Lipschitz constant (inf f′ = 1 − sup f′).
     */
    @org.junit.jupiter.api.Test
    void tanhGelusConstantsAreItsInflectionMinimumAndSlopeBound() {
        assertThat(Pointwise.TANH_GELU_C).isEqualTo(C);
        assertThat(Pointwise.TANH_GELU_A).isEqualTo(A);
        double r = Pointwise.TANH_GELU_INFLECTION;
        assertThat(tanhGeluCurvature(r - 1e-12)).isPositive();
        assertThat(tanhGeluCurvature(r + 1e-12)).isNegative();
        int changes = 0;
        double h = 1e-4;
        for (int i = 1; i <= 400_000; i++) {
            if (Math.signum(tanhGeluCurvature((i - 1) * h)) != Math.signum(tanhGeluCurvature(i * h))) {
                changes++;
                assertThat(Math.abs(i * h - r)).as("the sign change at %s", i * h).isLessThan(h);
            }
        }
        assertThat(changes).as("sign changes of f″ on (0, 40]").isEqualTo(1);
        double m = Pointwise.TANH_GELU_ARGMIN;
        assertThat(tanhGeluSlope(m - 1e-9)).isNegative();
        assertThat(tanhGeluSlope(m + 1e-9)).isPositive();
        assertThat(tanhGelu(m) - Pointwise.TANH_GELU_MIN).isPositive().isLessThan(1e-11);
        double step = 1e-5, sup = 0, curvature = 0;
        for (long i = -2_000_000; i <= 2_000_000; i++) {
            double x = i * step;
            sup = Math.max(sup, Math.abs(tanhGeluSlope(x)));
            double t = Math.tanh(C * (x + A * x * x * x));
            curvature = Math.max(curvature, Math.abs((1 - t * t) * tanhGeluCurvature(x)));
        }
        assertThat(sup + curvature * step / 2).isLessThanOrEqualTo(Pointwise.TANH_GELU_LIPSCHITZ);
        assertThat(sup).isCloseTo(1.1289930665, org.assertj.core.api.Assertions.within(1e-9));
    }

    /** The bounds hold for PyTorch's constants only: a gate one float away from either, or without its + 1, has no rule. */
    @org.junit.jupiter.api.Test
    void aTanhGeluGateWithOtherConstantsIsRefused() {
        assertThat(Pointwise.of(TanhGeluGraph.gated())).isNotNull();
        float c = TanhGeluGraph.C, a = TanhGeluGraph.A;
        assertThat(Pointwise.of(new Graph.Gate(List.of(TanhGeluGraph.gate(Math.nextUp(c), a, false))))).isNull();
        assertThat(Pointwise.of(new Graph.Gate(List.of(TanhGeluGraph.gate(c, Math.nextDown(a), false))))).isNull();
        List<Graph.Node> noOne = TanhGeluGraph.gate(c, a, false).nodes().subList(0, 6);
        assertThat(Pointwise.of(new Graph.Gate(List.of(new Graph(noOne, 6))))).isNull();
        // x·x (Pow 2 in place of 3) is not tanh-GELU
        List<Graph.Node> square = new java.util.ArrayList<>(TanhGeluGraph.gateWithPow().nodes());
        square.set(0, Graph.Node.apply(new OnnxLayers.ConstantOp(OnnxLayers.ConstantOp.Kind.POW, Tensor.fromFloats(new float[]{2}), false), 0));
        assertThat(Pointwise.of(new Graph.Gate(List.of(new Graph(square, 6))))).isNull();
    }
}
