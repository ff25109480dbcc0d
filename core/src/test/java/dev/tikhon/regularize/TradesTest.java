package dev.tikhon.regularize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.attack.Norm;
import dev.tikhon.attack.TradesPerturbation;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.loss.Loss;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Parameter;
import dev.tikhon.nn.ScriptedModel;
import dev.tikhon.train.Objective;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Oracles for TRADES: the divergence's closed form, the clean loss at ε = 0 and β = 0, autograd against central
 * differences in float64 (both arguments of the divergence carry gradients), the ascent's end point on a linear
 * two-class model in closed form, and an independent PyTorch implementation from the authors' code on a CNN.
 */
class TradesTest {
    private static final Tensor LABELS = Tensor.fromLongs(new long[]{0, 1, 2, 0, 1, 2, 0, 1}, 8);

    private static Module smoothModel(long seed) {
        Rng.seed(seed);
        return Models.build(Models.spec("mlp", List.of(6L), 3, Map.of("hidden", List.of(16), "activation", "softplus")))
                .to(DType.FLOAT64);
    }

    /** Inputs in [0.25, 0.75], away from the box, in float64. */
    private static Tensor interior(long seed) {
        Rng.seed(seed);
        return Tensor.rand(DType.FLOAT64, Device.CPU, 8, 6).mul(0.5).add(0.25);
    }

    private static Trades trades(String norm, double eps, int steps, double beta) {
        return new Trades(new Trades.Settings(norm, eps, steps, 0, beta), Loss.CROSS_ENTROPY);
    }

    @Test
    void klDivergenceIsItsClosedForm() {
        // p = softmax(0, log 3) = (1/4, 3/4), q = (1/2, 1/2): KL = ¼ log ½ + ¾ log 3/2
        Tensor logP = Tensor.fromDoubles(new double[]{0, Math.log(3)}, 1, 2).logSoftmax(1);
        Tensor logQ = Tensor.fromDoubles(new double[]{5, 5}, 1, 2).logSoftmax(1);
        double expected = 0.25 * Math.log(0.5) + 0.75 * Math.log(1.5);
        assertThat(TradesPerturbation.klDivergence(logP, logQ).item()).isCloseTo(expected, within(1e-15));
        assertThat(TradesPerturbation.klDivergence(logP, logP).item()).isZero();
        // not symmetric: KL(q ‖ p) = ½ log 2 + ½ log ⅔
        assertThat(TradesPerturbation.klDivergence(logQ, logP).item()).isCloseTo(0.5 * Math.log(2) + 0.5 * Math.log(2.0 / 3), within(1e-15));
    }

    @Test
    void atRadiusZeroOrWeightZeroItIsTheCleanLoss() {
        Module m = smoothModel(1);
        Tensor x = interior(2);
        double clean = Loss.CROSS_ENTROPY.perExample(m.forward(x), LABELS).mean().item();
        Objective.Result r = trades("linf", 0, 3, 6).evaluate(m, x, LABELS);
        assertThat(r.loss().item()).isCloseTo(clean, within(1e-14));
        assertThat(r.parts().get("kl").item()).isCloseTo(0, within(1e-15));
        Objective.Result b = trades("linf", 0.1, 3, 0).evaluate(m, x, LABELS);
        assertThat(b.loss().item()).isCloseTo(clean, within(1e-14));
        assertThat(b.parts().get("kl").item()).isPositive();
        assertThat(trades("l2", 0.5, 3, 1).evaluate(m, x, LABELS).loss().item()).isGreaterThan(clean);
    }

    /** d/dθ of the loss at a fixed adversarial point: a gradient that skipped the divergence's first argument fails. */
    @Test
    void parameterGradientMatchesCentralDifferences() {
        Module m = smoothModel(3);
        Tensor x = interior(4);
        Trades t = trades("linf", 0.2, 5, 6);
        Tensor adv = t.perturb(m, x);
        PenaltiesTest.checkParameterGradient(m, () -> t.evaluateAt(m, x, LABELS, adv).loss());
        // the divergence's gradient through its first argument is not negligible here
        Tensor detachedTarget = Loss.CROSS_ENTROPY.perExample(m.forward(x), LABELS).mean().add(TradesPerturbation.klDivergence(
                m.forward(x).detach().logSoftmax(1), m.forward(adv).logSoftmax(1)).mean(), 6);
        List<Tensor> values = new ArrayList<>();
        for (Parameter p : m.parameters()) values.add(p.value());
        double full = norm(Autograd.grad(List.of(t.evaluateAt(m, x, LABELS, adv).loss()), values, null, false, false));
        double partial = norm(Autograd.grad(List.of(detachedTarget), values, null, false, false));
        assertThat(Math.abs(full - partial) / full).isGreaterThan(1e-3);
    }

    private static double norm(List<Tensor> grads) {
        double s = 0;
        for (Tensor g : grads) for (double v : g.toDoubleArray()) s += v * v;
        return Math.sqrt(s);
    }

    /**
     * Two classes, z = Wx + b: the divergence depends on x' only through t = z₁ − z₀, is convex in t with its minimum
     * at t(x), and ∇ₓ′ KL = KL'(t)·(w₁ − w₀). Every signed step therefore moves t further from t(x) on the side the start
     * fell, and 10 steps of 2.5ε/10 end at the vertex x + s·ε·sign(w₁ − w₀), with KL in closed form there.
     */
    @Test
    void linfAscentOnALinearTwoClassModelEndsAtTheVertexOnItsSide() {
        Rng.seed(5);
        Linear model = new Linear(6, 2, true);
        model.to(DType.FLOAT64);
        double[] w = model.weight().value().toDoubleArray(), b = model.bias().value().toDoubleArray();
        Tensor x = interior(6);
        double eps = 0.05;
        Tensor adv = new TradesPerturbation(Norm.LINF, eps, 10, 2.5 * eps / 10).perturb(model, x, LABELS);
        double[] xs = x.toDoubleArray(), as = adv.toDoubleArray();
        int d = 6;
        for (int i = 0; i < 8; i++) {
            double t0 = b[1] - b[0], side = 0, wl1 = 0;
            for (int j = 0; j < d; j++) {
                double dw = w[d + j] - w[j];
                t0 += dw * xs[i * d + j];
                wl1 += Math.abs(dw);
                side += Math.signum(dw) * (as[i * d + j] - xs[i * d + j]);
            }
            double s = Math.signum(side);
            for (int j = 0; j < d; j++) {
                double dw = w[d + j] - w[j];
                assertThat(as[i * d + j] - xs[i * d + j]).as("image %d, pixel %d", i, j).isCloseTo(s * eps * Math.signum(dw), within(1e-12));
            }
            double t = t0 + s * eps * wl1;
            double expected = twoClassKl(t0, t);
            double got = TradesPerturbation.klDivergence(model.forward(x.narrow(0, i, 1)).logSoftmax(1),
                    model.forward(adv.narrow(0, i, 1)).logSoftmax(1)).item();
            assertThat(got).as("image %d", i).isCloseTo(expected, within(1e-12 + 1e-9 * expected));
        }
    }

    /** KL(softmax(0, t0) ‖ softmax(0, t)). */
    private static double twoClassKl(double t0, double t) {
        double p1 = 1 / (1 + Math.exp(-t0)), q1 = 1 / (1 + Math.exp(-t));
        return (1 - p1) * Math.log((1 - p1) / (1 - q1)) + p1 * Math.log(p1 / q1);
    }

    @Test
    void ascentStaysInTheRegionAndRaisesTheDivergence() {
        Module m = smoothModel(7);
        Tensor x = interior(8);
        for (Norm norm : Norm.values()) {
            double eps = norm == Norm.LINF ? 0.1 : 0.5;
            TradesPerturbation ascent = new TradesPerturbation(norm, eps, 10, 2.5 * eps / 10);
            Rng.seed(9);
            Tensor start = x.add(x.randnLike(), TradesPerturbation.START_SCALE);
            Tensor adv = ascent.ascend(m, x, start);
            Tensor logP = m.forward(x).logSoftmax(1);
            double before = TradesPerturbation.klDivergence(logP, m.forward(start).logSoftmax(1)).sum().item();
            double after = TradesPerturbation.klDivergence(logP, m.forward(adv).logSoftmax(1)).sum().item();
            assertThat(after).as(norm.toString()).isGreaterThan(100 * before);
            assertThat(adv.sub(x).normPerExample(norm.p()).max().item()).as(norm.toString()).isLessThanOrEqualTo(eps + 1e-12);
            assertThat(adv.min().item()).isGreaterThanOrEqualTo(0);
            assertThat(adv.max().item()).isLessThanOrEqualTo(1);
        }
    }

    /** The ascent sees the model in evaluation mode (batch norm on running statistics), the loss in the caller's mode. */
    @Test
    void ascentRunsInEvaluationModeAndTheModeIsRestored() {
        List<Boolean> modes = new ArrayList<>();
        Rng.seed(10);
        Linear inner = new Linear(6, 3, true);
        inner.to(DType.FLOAT64);
        Module recording = new Module() {
            @Override public Tensor forward(Tensor x) {
                modes.add(isTraining());
                return inner.forward(x);
            }
        };
        recording.train(true);
        trades("linf", 0.1, 2, 6).evaluate(recording, interior(11), LABELS);
        // the clean target and two ascent steps in evaluation mode, then the clean and adversarial passes of the loss
        assertThat(modes).containsExactly(false, false, false, true, true);
        assertThat(recording.isTraining()).isTrue();
        modes.clear();
        recording.train(false);
        trades("linf", 0.1, 2, 6).evaluate(recording, interior(11), LABELS);
        assertThat(modes).containsOnly(false);
    }

    @Test
    void badSettingsAreRefusedByName() {
        assertThatThrownBy(() -> trades("linf", 0.1, 10, -1)).hasMessageContaining("--beta must be ≥ 0");
        assertThatThrownBy(() -> trades("linf", 0.1, 0, 6)).hasMessageContaining("at least one ascent step");
        assertThatThrownBy(() -> trades("l3", 0.1, 10, 6)).hasMessageContaining("l3");
        assertThatThrownBy(() -> new TradesPerturbation(Norm.LINF, -0.1, 10, 0.01)).hasMessageContaining("--eps must be ≥ 0");
    }

    /**
     * Oracle: TRADES written from the authors' code in PyTorch (bench/reference_pgd.py trades, ℓ∞ ε 0.1, 10 steps of
     * 0.025, β 6) on the tiny Fashion-MNIST CNN of the attack tests, first 20 test images, both from the same start
     * x + 0.001·sin(12.9898·k), both in float64 (in float32 softmax rounds to one-hot where the model is sure, and the
     * signed steps then follow rounding noise: image 2's divergence came out 2·10⁻⁵ there, 0.0138 in float64). The
     * divergence at the end point per image, its distances from x, the loss and its gradient's norm must be the
     * reference's. The fixture comes from
     *
     * <pre>
     * THREADS=1 /usr/bin/python3 bench/reference_pgd.py trades --model core/src/test/resources/torchscript/tiny_fmnist_cnn.pt \
     *     --images 20 &gt; core/src/test/resources/torchscript/tiny_fmnist_cnn_trades.json
     * </pre>
     */
    @Test
    void sameAscentAndLossAsTheAuthorsCode() throws Exception {
        Path dir = Path.of("src/test/resources/torchscript");
        JsonNode expected = new ObjectMapper().readTree(dir.resolve("tiny_fmnist_cnn_trades.json").toFile());
        ScriptedModel model = ScriptedModel.load(dir.resolve("tiny_fmnist_cnn.pt"));
        model.train(false);
        model.to(DType.FLOAT64);
        int n = expected.get("kl").size();
        Dataset test = DataSets.load(DataSets.SAMPLE_NAME, null, Map.of(), 0).test().head(n);
        Tensor idx = Tensor.arange(n, DType.INT64, Device.CPU);
        Tensor x = test.batchInputs(idx).to(Device.CPU, DType.FLOAT64), y = test.batchLabels(idx);
        double[] u = new double[(int) x.numel()];
        for (int k = 0; k < u.length; k++) u[k] = Math.sin(k * 12.9898);
        Tensor start = x.add(Tensor.fromDoubles(u, x.shape()), TradesPerturbation.START_SCALE);
        Trades t = trades("linf", expected.get("eps").asDouble(), expected.get("steps").asInt(), expected.get("beta").asDouble());
        Tensor adv = t.ascent().ascend(model, x, start);

        Tensor kl = TradesPerturbation.klDivergence(model.forward(x).logSoftmax(1), model.forward(adv).logSoftmax(1));
        double[] got = kl.toDoubleArray(), linf = adv.sub(x).normPerExample(Double.POSITIVE_INFINITY).toDoubleArray();
        double[] l1 = adv.sub(x).normPerExample(1).toDoubleArray();
        double worst = 0;
        for (int i = 0; i < n; i++) {
            String key = Integer.toString(i);
            double reference = expected.get("kl").get(key).asDouble();
            worst = Math.max(worst, Math.abs(got[i] / reference - 1));
            assertThat(got[i]).as("KL, image %d", i).isCloseTo(reference, within(1e-7 * reference));
            assertThat(linf[i]).as("ℓ∞, image %d", i).isCloseTo(expected.get("linf").get(key).asDouble(), within(1e-12));
            assertThat(l1[i]).as("ℓ1, image %d", i).isCloseTo(expected.get("l1").get(key).asDouble(), within(1e-9 * l1[i]));
        }
        System.out.println("TRADES divergence, largest relative difference to the reference: " + worst);

        for (Parameter p : model.parameters()) p.value().requiresGrad(true);
        Tensor loss = t.evaluateAt(model, x, y, adv).loss();
        List<Tensor> values = new ArrayList<>();
        for (Parameter p : model.parameters()) values.add(p.value());
        double gradientNorm = norm(Autograd.grad(List.of(loss), values, null, false, false));
        System.out.printf("TRADES loss %.15f (reference %.15f), gradient norm %.15f (reference %.15f)%n", loss.item(),
                expected.get("loss").asDouble(), gradientNorm, expected.get("gradient_norm").asDouble());
        assertThat(loss.item()).isCloseTo(expected.get("loss").asDouble(), within(1e-9 * expected.get("loss").asDouble()));
        assertThat(gradientNorm).isCloseTo(expected.get("gradient_norm").asDouble(), within(1e-9 * expected.get("gradient_norm").asDouble()));
    }
}
