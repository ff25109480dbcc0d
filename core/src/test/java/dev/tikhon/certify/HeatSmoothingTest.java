package dev.tikhon.certify;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.OneThread;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.optim.Adam;
import dev.tikhon.train.Objective;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Oracles: closed forms of the heat equation (docs/methods.md §5). The Gaussian average of sin(kx) is
 * e^{−k²σ²/2} sin(kx); n_T implicit Euler steps of size h = 1/n_T multiply that Fourier mode by
 * (1 + hk²σ²/2)^{−n_T}. Both cases train with the library's objective ({@link HeatSmoothing}) and one with its run
 * loop ({@link HeatSmoother}); each tolerance is smaller than the gap between the implicit step and the exact
 * average, so the test tells them apart.
 */
@ExtendWith(OneThread.class)
class HeatSmoothingTest {


    /** f(x) = sin(kx) on [N, 1] inputs. */
    static final class Sine extends Module {
        final double k;

        Sine(double k) { this.k = k; }

        @Override public Tensor forward(Tensor x) { return x.mul(k).sin(); }
    }

    /** v(x) = Σⱼ aⱼ sin(jx) + bⱼ cos(jx) + c, j = 1 … 4: a trainable model in which the closed forms are representable. */
    static final class Fourier extends Module {
        final Linear head = child("head", new Linear(8, 1));

        Fourier() {
            head.zero();
        }

        @Override public Tensor forward(Tensor x) {
            List<Tensor> f = new ArrayList<>();
            for (int j = 1; j <= 4; j++) {
                f.add(x.mul(j).sin());
                f.add(x.mul(j).cos());
            }
            return head.forward(Tensor.cat(f, 1));
        }
    }

    /**
     * Training v by the heat objective on uniform samples of sin(kx), on an interval where sin(kx)
     * meets the loss's natural (Neumann) boundary condition, drives v towards the Gaussian
     * average: after each of 5 implicit steps v matches the step's closed form, and the error
     * against e^{−k²σ²/2} sin(kx) falls step by step. λ = ½ makes the objective's Euler–Lagrange
     * equation exactly the implicit heat step (see {@link HeatSmoothing}).
     */
    @Test
    void trainingOnSinRecoversTheGaussianAverageStepByStep() {
        double k = 2, sigma = 0.5, half = 3 * Math.PI / (2 * k);
        int steps = 2;
        HeatConfig heat = new HeatConfig(HeatConfig.V1, sigma, 0.5, 2, 0.01, steps, 1);
        double tolerance = 0.01;
        Rng.seed(1);
        Module v = new Fourier();
        Module frozen = new Sine(k);
        Tensor grid = Tensor.arange(201, DType.FLOAT32, Device.CPU).div(200).mul(2 * half).sub(half).reshape(201, 1);
        double[] xs = grid.toDoubleArray();
        double exactGain = Math.exp(-k * k * sigma * sigma / 2);
        List<Double> errors = new ArrayList<>();
        errors.add(maxError(new Sine(k), xs, exactGain, k));
        for (int step = 0; step < steps; step++) {
            HeatSmoothing objective = new HeatSmoothing(heat, frozen);
            Adam opt = new Adam(v.parameters(), 3e-2, 0.9, 0.999, 1e-8, 0, false, false);
            int iterations = 150;
            for (int it = 0; it < iterations; it++) {
                opt.setLr(3e-2 * (1 - (double) it / iterations) + 1e-4);
                try (Scope s = Scope.open()) {
                    Rng.seed(Rng.derive(9, step, it));
                    Tensor x = Tensor.rand(128, 1).mul(2 * half).sub(half);
                    opt.zeroGrad();
                    Objective.Result r = objective.evaluate(v, x, Tensor.zeros(DType.INT64, Device.CPU, 128));
                    r.loss().backward();
                    opt.step();
                }
            }
            double stepGain = Math.pow(1 + heat.timeStep() * k * k * sigma * sigma / 2, -(step + 1));
            // the sin(2x) coefficient is the Fourier mode the closed form predicts
            float sinCoefficient = ((Fourier) v).head.parameters().get(0).value().toFloatArray()[2];
            double exactAtStep = Math.exp(-k * k * sigma * sigma / 2 * heat.timeStep() * (step + 1));
            assertThat(Math.abs(stepGain - exactAtStep)).as("step %d: implicit Euler and exact differ by more than the tolerance", step + 1)
                    .isGreaterThan(1.5 * tolerance);
            assertThat((double) sinCoefficient).as("sin(2x) coefficient after step %d", step + 1).isCloseTo(stepGain, within(tolerance));
            assertThat(maxError(v, xs, stepGain, k)).as("v after step %d vs the implicit-Euler closed form", step + 1)
                    .isLessThan(0.04);
            errors.add(maxError(v, xs, exactGain, k));
            Module next = new Fourier();
            next.loadStateDict(v.stateDict());
            frozen = next;
        }
        for (int i = 1; i < errors.size(); i++) {
            assertThat(errors.get(i)).as("error against the Gaussian average after step %d (all: %s)", i, errors)
                    .isLessThan(errors.get(i - 1));
        }
        assertThat(errors.get(0)).isCloseTo(1 - exactGain, within(1e-3));
        assertThat(errors.get(steps)).isLessThan(0.06);
    }

    private static double maxError(Module m, double[] xs, double gain, double k) {
        try (Autograd.Guard g = Autograd.noGrad(); Scope s = Scope.open()) {
            float[] out = m.forward(Tensor.fromDoubles(xs, xs.length, 1).to(DType.FLOAT32)).toFloatArray();
            double worst = 0;
            for (int i = 0; i < xs.length; i++) worst = Math.max(worst, Math.abs(out[i] - gain * Math.sin(k * xs[i])));
            return worst;
        }
    }

    /**
     * The real run loop ({@link HeatSmoother}: frozen copy, {@link dev.tikhon.train.Trainer} with its shuffling,
     * batches and checkpoint-free run) for one implicit step of size h = 1 on sin(kx) samples, λ = ½. The sin(2x)
     * coefficient must land on the implicit-Euler gain 1/(1 + k²σ²/2) = 2/3, which the tolerance separates from the
     * exact Gaussian average e^{−k²σ²/2} ≈ 0.607 and from the λ = 1 step 1/(1 + k²σ²) = ½: a smoother that did the
     * wrong step, the wrong λ or no training at all fails.
     */
    @Test
    void theSmootherRunsOneImplicitStepOfTheHeatEquation() {
        double k = 2, sigma = 0.5, half = 3 * Math.PI / (2 * k), tolerance = 0.015;
        double implicit = 1 / (1 + k * k * sigma * sigma / 2), exact = Math.exp(-k * k * sigma * sigma / 2), lambdaOne = 1 / (1 + k * k * sigma * sigma);
        assertThat(Math.min(Math.abs(implicit - exact), Math.abs(implicit - lambdaOne))).as("the test can tell the steps apart")
                .isGreaterThan(3 * tolerance);
        Rng.seed(3);
        int n = 2048;
        Tensor x = Tensor.rand(n, 1).mul(2 * half).sub(half);
        dev.tikhon.data.Dataset data = new dev.tikhon.data.Dataset("sine", "test", x, Tensor.zeros(DType.INT64, Device.CPU, n), 1, List.of("v"));
        Module start = new Fourier();
        try (Autograd.Guard g = Autograd.noGrad()) {   // f⁰ = sin(2x) exactly: coefficient 1 on feature sin(2x)
            ((Fourier) start).head.parameters().get(0).value().copy_(Tensor.fromDoubles(new double[]{0, 0, 1, 0, 0, 0, 0, 0}, 1, 8));
        }
        HeatConfig heat = new HeatConfig(HeatConfig.V1, sigma, 0.5, 2, 0.01, 1, 12);
        dev.tikhon.train.TrainConfig train = dev.tikhon.train.TrainConfig.builder().batchSize(128).optimizer("adam").lr(3e-2)
                .schedule("cosine").seed(5).objective(heat.toSpec()).build();
        dev.tikhon.models.ModelSpec spec = new dev.tikhon.models.ModelSpec("fourier", List.of(1L), 1, java.util.Map.of());
        HeatSmoother.Outcome o = HeatSmoother.run(start, Fourier::new, spec, heat, train, data, data,
                new dev.tikhon.train.DataInfo("sine", null, "sine"), Device.CPU, null, null, false);
        float[] w = ((Fourier) o.model()).head.parameters().get(0).value().toFloatArray();
        assertThat((double) w[2]).as("sin(2x) coefficient, weights %s", java.util.Arrays.toString(w)).isCloseTo(implicit, within(tolerance));
        assertThat(maxError(o.model(), grid(half), implicit, k)).isLessThan(0.04);
        assertThat(o.steps()).hasSize(1);
    }

    private static double[] grid(double half) {
        double[] xs = new double[201];
        for (int i = 0; i < xs.length; i++) xs[i] = -half + 2 * half * i / 200.0;
        return xs;
    }
}
