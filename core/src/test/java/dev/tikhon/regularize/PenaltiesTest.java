package dev.tikhon.regularize;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.loss.Loss;
import dev.tikhon.nn.Module;
import dev.tikhon.train.Objective;
import dev.tikhon.nn.Parameter;
import dev.tikhon.models.Models;
import dev.tikhon.regularize.InputGradients.Dual;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Oracles: double backprop (the exact penalty), central finite differences in float64, closed-form norms. */
class PenaltiesTest {

    /** A smooth (softplus) MLP in float64 and a batch in [0, 1]. */
    private static Module smoothModel(long seed) {
        Rng.seed(seed);
        return Models.build(Models.spec("mlp", List.of(6L), 3, Map.of("hidden", List.of(16, 16), "activation", "softplus")))
                .to(DType.FLOAT64);
    }

    private static Tensor batch() { return Tensor.rand(DType.FLOAT64, Device.CPU, 8, 6); }

    private static Tensor labels() { return Tensor.fromLongs(new long[]{0, 1, 2, 0, 1, 2, 0, 1}, 8); }

    @ParameterizedTest
    @EnumSource(Dual.class)
    void finiteDifferencePenaltyAgreesWithDoubleBackprop(Dual dual) {
        Module m = smoothModel(1);
        Tensor x = batch(), y = labels();
        double exact = new TikhonovExact(1, dual).evaluate(m, x, y).parts().get("penalty").item();
        double forward = new Tikhonov(1, 1e-4, dual, false).evaluate(m, x, y).parts().get("penalty").item();
        double central = new Tikhonov(1, 1e-4, dual, true).evaluate(m, x, y).parts().get("penalty").item();
        assertThat(exact).isPositive();
        assertThat(Math.abs(forward - exact) / exact).as("forward difference, h = 1e-4").isLessThan(1e-2);
        assertThat(Math.abs(central - exact) / exact).as("central difference, h = 1e-4").isLessThan(1e-4);
        // and the gap shrinks with h (first order for forward differences)
        double coarse = new Tikhonov(1, 1e-2, dual, false).evaluate(m, x, y).parts().get("penalty").item();
        assertThat(Math.abs(coarse - exact)).isGreaterThan(Math.abs(forward - exact));
    }

    /**
     * Order of convergence, not just closeness: as h shrinks tenfold, the gap between the finite-difference
     * penalty and the exact one — in value and in its parameter gradient (direction detached, as in training) —
     * shrinks tenfold for forward differences (first order) and a hundredfold for central ones (second order).
     * The detached direction loses nothing in the limit: with d = g/‖g‖, q ∂θq → ‖g‖ d·∂θg = ∂θ ½‖g‖²
     * (ℓ1: sign(g)/√n gives ‖g‖₁/n sign(g)·∂θg = ∂θ ½‖g‖₁²/n).
     */
    @ParameterizedTest
    @EnumSource(Dual.class)
    void finiteDifferencePenaltyAndItsGradientConvergeAtTheOrderOfTheDifference(Dual dual) {
        Module m = smoothModel(6);
        Tensor x = batch(), y = labels();
        List<Tensor> params = new ArrayList<>();
        for (Parameter p : m.parameters()) params.add(p.value());
        Tensor exact = new TikhonovExact(1, dual).evaluate(m, x, y).parts().get("penalty");
        double exactValue = exact.item();
        double[] exactGrad = flatGrad(exact, params);
        for (boolean central : new boolean[]{false, true}) {
            // central differences reach float64 rounding (a gap near 1e-11) by h = 1e-4: stop them at 1e-3
            double[] h = central ? new double[]{1e-2, 3e-3, 1e-3} : new double[]{1e-2, 1e-3, 1e-4};
            double[] valueGap = new double[h.length], gradGap = new double[h.length];
            for (int i = 0; i < h.length; i++) {
                Tensor fd = new Tikhonov(1, h[i], dual, central).evaluate(m, x, y).parts().get("penalty");
                valueGap[i] = Math.abs(fd.item() - exactValue) / exactValue;
                gradGap[i] = relativeDistance(flatGrad(fd, params), exactGrad);
            }
            double order = central ? 2 : 1;
            for (int i = 0; i + 1 < h.length; i++) {
                String at = (central ? "central" : "forward") + ", h " + h[i] + " → " + h[i + 1];
                double shrink = Math.log(h[i] / h[i + 1]);
                assertThat(Math.log(valueGap[i] / valueGap[i + 1]) / shrink).as("value, " + at).isCloseTo(order, within(0.15));
                assertThat(Math.log(gradGap[i] / gradGap[i + 1]) / shrink).as("parameter gradient, " + at).isCloseTo(order, within(0.15));
            }
            assertThat(gradGap[h.length - 1]).as("parameter gradient gap at the smallest h").isLessThan(central ? 1e-7 : 1e-4);
        }
    }

    /**
     * The TV and Lipschitz terms too: their value and parameter gradient (direction detached) approach the exact
     * mean and max of ‖∇ₓℓ‖ (ℓ2; ℓ1: ‖∇ₓℓ‖₁), differentiated by double backprop, at first order in h.
     */
    @ParameterizedTest
    @EnumSource(Dual.class)
    void totalVariationAndLipschitzTermsConvergeAtFirstOrder(Dual dual) {
        Module m = smoothModel(8);
        Tensor x = batch(), y = labels();
        List<Tensor> params = new ArrayList<>();
        for (Parameter p : m.parameters()) params.add(p.value());
        for (String term : List.of("tv", "lip")) {
            Tensor norms = InputGradients.evaluate(m, Loss.CROSS_ENTROPY, x, y).differentiableGradient().normPerExample(dual == Dual.L2 ? 2 : 1);
            Tensor exact = term.equals("tv") ? norms.mean() : norms.max();
            double exactValue = exact.item();
            double[] exactGrad = flatGrad(exact, params);
            double[] h = {1e-3, 1e-4, 1e-5}, valueGap = new double[3], gradGap = new double[3];
            for (int i = 0; i < 3; i++) {
                Tensor fd = new GradientNormPenalty(1, 1, h[i], dual).evaluate(m, x, y).parts().get(term);
                valueGap[i] = Math.abs(fd.item() - exactValue) / exactValue;
                gradGap[i] = relativeDistance(flatGrad(fd, params), exactGrad);
            }
            for (int i = 0; i < 2; i++) {
                assertThat(Math.log10(valueGap[i] / valueGap[i + 1])).as("%s value, h %s", term, h[i]).isCloseTo(1, within(0.15));
                assertThat(Math.log10(gradGap[i] / gradGap[i + 1])).as("%s parameter gradient, h %s", term, h[i]).isCloseTo(1, within(0.15));
            }
        }
    }

    private static double[] flatGrad(Tensor scalar, List<Tensor> params) {
        List<Tensor> g = Autograd.grad(List.of(scalar), params, null, false, false);
        List<Tensor> flat = new ArrayList<>();
        for (Tensor t : g) flat.add(t.flatten(0, -1));
        return Tensor.cat(flat, 0).toDoubleArray();
    }

    private static double relativeDistance(double[] a, double[] b) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - b[i]) * (a[i] - b[i]);
            den += b[i] * b[i];
        }
        return Math.sqrt(num / den);
    }

    /**
     * methods.md §2: one-step adversarial training of radius ε is TV regularization to first order,
     * ℓ(x + ε sign ∇ₓℓ) = ℓ(x) + ε‖∇ₓℓ‖₁ + O(ε²). The FGSM objective (inputs inside the box, so nothing is
     * clipped) differs from mean ℓ + ε · mean ‖∇ₓℓ‖₁ by a gap that shrinks a hundredfold when ε shrinks tenfold.
     */
    @Test
    void fgsmIsTotalVariationToFirstOrder() {
        Module m = smoothModel(7);
        Tensor x = batch().mul(0.5).add(0.25), y = labels();
        InputGradients.Evaluated at = InputGradients.evaluate(m, Loss.CROSS_ENTROPY, x, y);
        double clean = at.losses().mean().item(), tv = InputGradients.norm(at.gradient(), Dual.L1).mean().item();
        double[] eps = {1e-2, 1e-3}, gap = new double[2];
        for (int i = 0; i < 2; i++) {
            Objective fgsm = Regularizers.build(dev.tikhon.train.ObjectiveSpec.of("fgsm", new AdversarialTraining.Settings("linf", eps[i], 1, 0, false)));
            double adversarial = fgsm.evaluate(m, x, y).loss().item();
            gap[i] = Math.abs(adversarial - (clean + eps[i] * tv));
            assertThat(gap[i]).as("second-order remainder at ε %s", eps[i]).isLessThan(eps[i] * tv * 0.2);
        }
        assertThat(Math.log10(gap[0] / gap[1])).as("order of the remainder").isCloseTo(2, within(0.15));
    }

    /** d/dθ of the finite-difference penalty (direction held fixed, as in training) against central differences. */
    @ParameterizedTest
    @EnumSource(Dual.class)
    void finiteDifferencePenaltyParameterGradientCheck(Dual dual) {
        Module m = smoothModel(2);
        Tensor x = batch(), y = labels();
        Tikhonov t = new Tikhonov(1, 1e-2, dual, false);
        Tensor d = t.direction(InputGradients.evaluate(m, Loss.CROSS_ENTROPY, x, y), x);
        checkParameterGradient(m, () -> t.penalty(m, x, y, InputGradients.losses(m, Loss.CROSS_ENTROPY, x, y), d));
    }

    @ParameterizedTest
    @EnumSource(Dual.class)
    void exactPenaltyParameterGradientCheck(Dual dual) {
        Module m = smoothModel(3);
        Tensor x = batch(), y = labels();
        TikhonovExact t = new TikhonovExact(1, dual);
        checkParameterGradient(m, () -> t.penalty(InputGradients.evaluate(m, Loss.CROSS_ENTROPY, x, y), x));
    }

    /** Autograd's gradient of {@code penalty} in a few coordinates of every parameter against central differences (float64). */
    static void checkParameterGradient(Module m, Supplier<Tensor> penalty) {
        List<Parameter> ps = m.parameters();
        List<Tensor> values = new ArrayList<>();
        for (Parameter p : ps) values.add(p.value());
        List<Tensor> grads = Autograd.grad(List.of(penalty.get()), values, null, false, false);
        SplittableRandom rng = new SplittableRandom(5);
        double eps = 1e-6;
        int checked = 0;
        for (int i = 0; i < ps.size(); i++) {
            Tensor p = values.get(i);
            double[] g = grads.get(i).toDoubleArray();
            for (int k = 0; k < 6; k++) {
                int idx = rng.nextInt((int) p.numel());
                double[] delta = new double[(int) p.numel()];
                delta[idx] = eps;
                Tensor dt = Tensor.fromDoubles(delta, p.shape());
                double plus, minus;
                try (Autograd.Guard gg = Autograd.noGrad()) {
                    p.add_(dt);
                }
                plus = penalty.get().item();
                try (Autograd.Guard gg = Autograd.noGrad()) {
                    p.sub_(dt).sub_(dt);
                }
                minus = penalty.get().item();
                try (Autograd.Guard gg = Autograd.noGrad()) {
                    p.add_(dt);
                }
                double fd = (plus - minus) / (2 * eps);
                assertThat(g[idx]).as("%s[%d]", ps.get(i).name(), idx).isCloseTo(fd, within(1e-6 + 1e-5 * Math.abs(fd)));
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(20);
    }

    /** The TV/Lipschitz per-example estimate tends to ‖∇ₓℓ‖₂ (ℓ2) and ‖∇ₓℓ‖₁ (ℓ1) as h → 0. */
    @ParameterizedTest
    @EnumSource(Dual.class)
    void gradientNormEstimatesTendToTheTrueNorms(Dual dual) {
        Module m = smoothModel(4);
        Tensor x = batch(), y = labels();
        InputGradients.Evaluated at = InputGradients.evaluate(m, Loss.CROSS_ENTROPY, x, y);
        Tensor truth = InputGradients.norm(at.gradient(), dual);
        Tensor est = new GradientNormPenalty(1, 1, 1e-7, dual).norms(m, x, y, at);
        assertThat(est.sub(truth).abs().max().item() / truth.abs().max().item()).isLessThan(1e-5);
        Map<String, Tensor> parts = new GradientNormPenalty(1, 1, 1e-7, dual).evaluate(m, x, y).parts();
        assertThat(parts.get("tv").item()).isCloseTo(truth.mean().item(), within(1e-5 * truth.max().item()));
        assertThat(parts.get("lip").item()).isCloseTo(truth.max().item(), within(1e-5 * truth.max().item()));
    }

    /**
     * Closed form (Bishop): for a linear model and squared error, the expected loss under Gaussian
     * input noise of std σ is exactly ℓ(x) + (σ²/2)‖∇ₓ f(x)‖² = ℓ(x) + (σ²/2)‖w‖² — Tikhonov
     * regularization of the model's input gradient with weight σ²/2. Checked by Monte Carlo with
     * NoiseAugmentation, within 4 standard errors; and the minimizer of the noisy objective is
     * ridge regression with that weight.
     */
    @Test
    void noiseAugmentationIsTikhonovWithWeightSigmaSquaredOverTwoForLeastSquares() {
        Rng.seed(6);
        double sigma = 0.3;
        dev.tikhon.nn.Linear f = new dev.tikhon.nn.Linear(4, 1);
        f.to(DType.FLOAT64);
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 32, 4), y = Tensor.randn(DType.FLOAT64, Device.CPU, 32, 1);
        double clean = Loss.SQUARED_ERROR.perExample(f.forward(x), y).mean().item();
        Tensor xg = x.copy().requiresGrad(true);
        Tensor gradF = Autograd.grad(f.forward(xg).sum(), xg, false);            // ∇ₓ f per example (= w)
        double tikhonov = clean + sigma * sigma / 2 * gradF.flatten(1, -1).square().sum(1, false).mean().item();

        NoiseAugmentation noise = new NoiseAugmentation(Loss.SQUARED_ERROR, sigma);
        int draws = 4000;
        double sum = 0, sumSq = 0;
        for (int i = 0; i < draws; i++) {
            double v = noise.evaluate(f, x, y).loss().item();
            sum += v;
            sumSq += v * v;
        }
        double mean = sum / draws, se = Math.sqrt((sumSq / draws - mean * mean) / draws);
        assertThat(Math.abs(mean - tikhonov)).as("MC mean %s vs closed form %s (se %s)", mean, tikhonov, se).isLessThan(4 * se);
        assertThat(tikhonov - clean).isGreaterThan(8 * se);   // the test can tell the two apart

        // The minimizer: ridge regression (XᵀX/N + σ²I) w = Xᵀy/N on centred data (bias absorbed by centring).
        double[][] xs = toMatrix(x), ys = toMatrix(y);
        double[] w = ridge(xs, ys, sigma * sigma);
        dev.tikhon.nn.Linear g = new dev.tikhon.nn.Linear(4, 1);
        g.to(DType.FLOAT64);
        dev.tikhon.optim.Sgd sgd = new dev.tikhon.optim.Sgd(g.parameters(), 0.05, 0.9, false, 0, false);
        for (int i = 0; i < 20000; i++) {
            try (dev.tikhon.engine.Scope s = dev.tikhon.engine.Scope.open()) {
                sgd.setLr(i < 10000 ? 0.05 : 0.005);
                sgd.zeroGrad();
                noise.evaluate(g, x, y).loss().backward();
                sgd.step();
            }
        }
        double[] learned = g.weight().value().toDoubleArray();
        for (int j = 0; j < 4; j++) assertThat(learned[j]).as("w[%d]", j).isCloseTo(w[j], within(0.05 * Math.max(1, Math.abs(w[j]))));
    }

    private static double[][] toMatrix(Tensor t) {
        int n = (int) t.size(0), d = (int) t.size(1);
        double[] v = t.toDoubleArray();
        double[][] m = new double[n][d];
        for (int i = 0; i < n; i++) System.arraycopy(v, i * d, m[i], 0, d);
        return m;
    }

    /** Ridge on centred data: (XcᵀXc/N + λI) w = Xcᵀyc/N, solved by Gaussian elimination. */
    private static double[] ridge(double[][] x, double[][] y, double lambda) {
        int n = x.length, d = x[0].length;
        double[] mx = new double[d];
        double my = 0;
        for (double[] row : x) for (int j = 0; j < d; j++) mx[j] += row[j] / n;
        for (double[] row : y) my += row[0] / n;
        double[][] a = new double[d][d + 1];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                for (int k = 0; k < d; k++) a[j][k] += (x[i][j] - mx[j]) * (x[i][k] - mx[k]) / n;
                a[j][d] += (x[i][j] - mx[j]) * (y[i][0] - my) / n;
            }
        }
        for (int j = 0; j < d; j++) a[j][j] += lambda;
        for (int c = 0; c < d; c++) {
            for (int r = c + 1; r < d; r++) {
                double f = a[r][c] / a[c][c];
                for (int k = c; k <= d; k++) a[r][k] -= f * a[c][k];
            }
        }
        double[] w = new double[d];
        for (int r = d - 1; r >= 0; r--) {
            double s = a[r][d];
            for (int k = r + 1; k < d; k++) s -= a[r][k] * w[k];
            w[r] = s / a[r][r];
        }
        return w;
    }
}
