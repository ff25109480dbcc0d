package dev.tikhon.regularize;

import dev.tikhon.data.Dataset;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.lipschitz.LipschitzMargin;
import dev.tikhon.loss.Loss;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.regularize.InputGradients.Dual;
import dev.tikhon.train.Objective;
import dev.tikhon.train.ObjectiveSpec;
import dev.tikhon.verify.CertifiedTraining;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * The registry and the guard clauses of every regularizer, and the gradient-norm statistics against a closed form:
 * for a linear classifier z = Wx + b, ∇ₓ CE = Wᵀ(softmax(z) − e_y).
 */
class RegularizersTest {
    static final Tensor LABELS = Tensor.fromLongs(new long[]{0, 1, 2, 0, 1, 2, 0, 1}, 8);

    /** A seeded float64 linear classifier of 6 inputs and 3 classes. */
    static Linear linear(long seed) {
        Rng.seed(seed);
        Linear model = new Linear(6, 3, true);
        model.to(DType.FLOAT64);
        return model;
    }

    @Test
    void weightsAndStepsAreCheckedAtTheirBoundaries() {
        assertThat(new Tikhonov(0, 1e-9, Dual.L2, false)).isNotNull();   // λ = 0 and the smallest positive h are allowed
        assertThatThrownBy(() -> new Tikhonov(-1e-12, 0.01, Dual.L2, false)).hasMessageContaining("--lambda must be ≥ 0");
        assertThatThrownBy(() -> new Tikhonov(0.1, 0, Dual.L2, false)).hasMessageContaining("--h must be positive");
        assertThatThrownBy(() -> new Tikhonov(Double.NaN, 0.01, Dual.L2, false)).hasMessageContaining("--lambda");
        assertThat(new TikhonovExact(0, Dual.L1)).isNotNull();
        assertThatThrownBy(() -> new TikhonovExact(-1e-12, Dual.L2)).hasMessageContaining("--lambda must be ≥ 0");
        assertThat(new GradientNormPenalty(0, 0, 1e-9, Dual.L2)).isNotNull();
        assertThatThrownBy(() -> new GradientNormPenalty(-1e-12, 0, 0.01, Dual.L2)).hasMessageContaining("--tv-weight");
        assertThatThrownBy(() -> new GradientNormPenalty(0, -1e-12, 0.01, Dual.L2)).hasMessageContaining("--lip-weight");
        assertThatThrownBy(() -> new GradientNormPenalty(0, 0, 0, Dual.L2)).hasMessageContaining("--h must be positive");
        // an infinite step or weight makes every loss NaN (∞/∞ or ∞·0): refused in the library as the CLI refuses it
        assertThatThrownBy(() -> new Tikhonov(0.1, Double.POSITIVE_INFINITY, Dual.L2, false)).hasMessageContaining("--h must be positive and finite");
        assertThatThrownBy(() -> new Tikhonov(Double.POSITIVE_INFINITY, 0.01, Dual.L2, false)).hasMessageContaining("--lambda must be ≥ 0 and finite");
        assertThatThrownBy(() -> new TikhonovExact(Double.POSITIVE_INFINITY, Dual.L2)).hasMessageContaining("--lambda must be ≥ 0 and finite");
        assertThatThrownBy(() -> new GradientNormPenalty(0, 0.1, Double.POSITIVE_INFINITY, Dual.L2)).hasMessageContaining("--h must be positive and finite");
        assertThatThrownBy(() -> new GradientNormPenalty(Double.POSITIVE_INFINITY, 0, 0.01, Dual.L2)).hasMessageContaining("finite");
        assertThat(new NoiseAugmentation(0)).isNotNull();
        assertThatThrownBy(() -> new NoiseAugmentation(-1e-12)).hasMessageContaining("--sigma must be ≥ 0");
    }

    @Test
    void everyRegisteredNameBuildsItsObjectiveWithItsSettings() {
        assertThat(Regularizers.names()).containsExactly("none", "tikhonov", "tikhonov-exact", "tv", "lipschitz", "tv+lipschitz", "noise",
                "fgsm", "pgd", "trades", "gloro", "lipschitz-margin", "ibp", "crown-ibp");
        Map<String, Class<?>> expected = Map.of("tikhonov", Tikhonov.class, "tikhonov-exact", TikhonovExact.class, "tv",
                GradientNormPenalty.class, "lipschitz", GradientNormPenalty.class, "tv+lipschitz", GradientNormPenalty.class, "noise",
                NoiseAugmentation.class, "fgsm", AdversarialTraining.class, "pgd", AdversarialTraining.class, "trades", Trades.class);
        expected.forEach((name, type) -> assertThat(Regularizers.build(Regularizers.spec(name, Map.of()))).as(name).isInstanceOf(type));
        assertThat(Regularizers.build(Regularizers.spec("tikhonov", Map.of("lambda", 0.5, "h", 0.02, "norm", "linf", "central", true)))
                .describe()).contains("0.5 · tikhonov", "h 0.02", "squared l1", "central");
        assertThat(Regularizers.build(Regularizers.spec("tikhonov", Map.of())).describe()).contains("0.1 · tikhonov", "h 0.01", "squared l2", "forward");
        assertThat(Regularizers.build(Regularizers.spec("tikhonov-exact", Map.of("norm", "l1"))).describe()).contains("double backprop", "squared l1");
        assertThat(Regularizers.build(Regularizers.spec("tv", Map.of("tv-weight", 0.3))).describe()).contains("0.3 · TV", "0.0 · Lip", "l2 gradient norm");
        assertThat(Regularizers.build(Regularizers.spec("lipschitz", Map.of("lambda", 0.2, "norm", "l1"))).describe())
                .contains("0.0 · TV", "0.2 · Lip", "l1 gradient norm");
        assertThat(Regularizers.build(Regularizers.spec("lipschitz+tv", Map.of())).describe()).contains("0.1 · TV", "0.1 · Lip");
        assertThat(Regularizers.entry("TV,Lipschitz").name()).isEqualTo("tv+lipschitz");
        assertThat(Regularizers.build(Regularizers.spec("noise", Map.of("sigma", 0.5))).describe()).contains("σ 0.5");
        assertThat(Regularizers.build(Regularizers.spec("pgd", Map.of("eps", 0.2))).describe()).startsWith("adversarial training").contains("0.2");
        ObjectiveSpec trades = Regularizers.spec("trades", Map.of("eps", 0.2, "beta", 1, "pgd-steps", 4));
        assertThat(trades.settings(Trades.Settings.class)).isEqualTo(new Trades.Settings("linf", 0.2, 4, 0, 1));
        assertThat(Regularizers.build(trades).describe()).isEqualTo("TRADES (β 1.0 · KL at KL ascent 4 steps (linf, ε 0.2, step 0.125))");
        assertThat(Regularizers.spec("trades", Map.of()).settings(Trades.Settings.class)).isEqualTo(new Trades.Settings("linf", 0.1, 10, 0, 6));
        assertThat(Regularizers.build(Regularizers.build(trades).spec())).isInstanceOf(Trades.class);
        assertThat(new AdversarialTraining(fixed(null), Loss.CROSS_ENTROPY).describe()).isEqualTo("adversarial training, fixed");
        assertThat(new AdversarialTraining(fixed(null), dev.tikhon.loss.Losses.parse("mse")).describe()).contains("fixed, loss ");
        assertThatThrownBy(() -> Regularizers.entry("dropout")).hasMessageContaining("unknown --reg 'dropout'").hasMessageContaining("tikhonov");
        assertThat(Regularizers.dual("L2")).isEqualTo(Dual.L2);
        assertThat(Regularizers.dual("linf")).isEqualTo(Dual.L1);
        assertThat(Regularizers.dual("l1")).isEqualTo(Dual.L1);
        assertThatThrownBy(() -> Regularizers.dual("l3")).hasMessageContaining("--norm 'l3'");
    }

    @Test
    void noneIsThePlainLossAndNoiseIsTheLossAtNoisyInputs() {
        Linear model = linear(4);
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 8, 6), y = LABELS;
        double plain = Loss.CROSS_ENTROPY.perExample(model.forward(x), y).mean().item();
        assertThat(Regularizers.build(Regularizers.spec("none", Map.of())).evaluate(model, x, y).loss().item()).isCloseTo(plain, within(1e-12));
        assertThat(new NoiseAugmentation(0).evaluate(model, x, y).loss().item()).isCloseTo(plain, within(1e-12));
        assertThat(new NoiseAugmentation(1).evaluate(model, x, y).loss().item()).isNotCloseTo(plain, within(1e-6));
    }

    @Test
    void adversarialTrainingTrainsAtTheAttacksPoints() {
        Linear model = linear(5);
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 8, 6).mul(0.5).add(0.25), y = LABELS;
        Tensor shifted = x.add(0.1);
        Objective.Result r = new AdversarialTraining(fixed(shifted), Loss.CROSS_ENTROPY).evaluate(model, x, y);
        assertThat(r.loss().item()).isCloseTo(Loss.CROSS_ENTROPY.perExample(model.forward(shifted), y).mean().item(), within(1e-12));
        Objective.Result pgd = Regularizers.build(Regularizers.spec("pgd", Map.of("eps", 0.1))).evaluate(model, x, y);
        assertThat(pgd.loss().item()).as("the loss at PGD's points exceeds the clean loss")
                .isGreaterThan(Loss.CROSS_ENTROPY.perExample(model.forward(x), y).mean().item());
    }

    /** A perturbation that always returns {@code to}. */
    static dev.tikhon.attack.Perturbation fixed(Tensor to) {
        return new dev.tikhon.attack.Perturbation() {
            @Override public Tensor perturb(Module model, Tensor x, Tensor y) { return to; }

            @Override public String describe() { return "fixed"; }
        };
    }

    @Test
    void centralDifferencesAreSecondOrder() {
        Linear model = linear(6);
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 8, 6), y = LABELS;
        double exact = new TikhonovExact(1, Dual.L2).evaluate(model, x, y).parts().get("penalty").item();
        double forward = new Tikhonov(1, 0.3, Dual.L2, false).evaluate(model, x, y).parts().get("penalty").item();
        double central = new Tikhonov(1, 0.3, Dual.L2, true).evaluate(model, x, y).parts().get("penalty").item();
        assertThat(Math.abs(central - exact)).as("central %s, forward %s, exact %s", central, forward, exact)
                .isLessThan(Math.abs(forward - exact) / 3);
    }

    @Test
    void gradientNormStatisticsMatchTheClosedFormOfALinearClassifier() {
        Rng.seed(7);
        Linear model = new Linear(6, 3, true);   // float32, as data sets are
        int n = 8, d = 6, k = 3;
        Tensor x = Tensor.rand(DType.FLOAT32, Device.CPU, n, d);
        long[] labels = {0, 1, 2, 0, 1, 2, 0, 1};
        Dataset set = new Dataset("lin", "test", x, Tensor.fromLongs(labels, n), k, List.of("a", "b", "c"));
        GradientNorms g = GradientNorms.measure(model, set, 3, Device.CPU);   // batches of 3, 3 and 2

        double[] w = model.weight().value().toDoubleArray(), z = model.forward(x).toDoubleArray();
        double l2Sum = 0, l2Max = 0, l1Sum = 0, l1Max = 0;
        for (int i = 0; i < n; i++) {
            double max = Math.max(z[i * k], Math.max(z[i * k + 1], z[i * k + 2])), sum = 0;
            double[] p = new double[k];
            for (int c = 0; c < k; c++) sum += p[c] = Math.exp(z[i * k + c] - max);
            for (int c = 0; c < k; c++) p[c] = p[c] / sum - (c == labels[i] ? 1 : 0);
            double l2 = 0, l1 = 0;
            for (int j = 0; j < d; j++) {
                double gj = 0;
                for (int c = 0; c < k; c++) gj += w[c * d + j] * p[c];
                l2 += gj * gj;
                l1 += Math.abs(gj);
            }
            l2 = Math.sqrt(l2);
            l2Sum += l2;
            l1Sum += l1;
            l2Max = Math.max(l2Max, l2);
            l1Max = Math.max(l1Max, l1);
        }
        assertThat(g.n()).isEqualTo(n);
        assertThat(g.l2Mean()).isCloseTo(l2Sum / n, within(1e-5));
        assertThat(g.l1Mean()).isCloseTo(l1Sum / n, within(1e-5));
        assertThat(g.l2Max()).isCloseTo(l2Max, within(1e-5));
        assertThat(g.l1Max()).isCloseTo(l1Max, within(1e-5));
        assertThat(InputGradients.dimension(Tensor.zeros(DType.FLOAT32, Device.CPU, 2, 3, 4))).isEqualTo(12);
    }

    /**
     * The certified (ibp, crown-ibp) and Lipschitz-margin (gloro, lipschitz-margin) objectives, built by name: each
     * with its defaults and with given settings, its spec read back from the JSON a checkpoint stores rebuilds the same
     * objective, and a bad setting or a loss other than cross-entropy is refused by name.
     */
    @Test
    void certifiedAndLipschitzMarginObjectivesAreBuiltByNameWithTheirSettings() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        // ε 0.5, one power iteration per step, no ramp
        ObjectiveSpec gloro = Regularizers.spec("gloro", Map.of());
        assertThat(gloro.settings(LipschitzMargin.Settings.class)).isEqualTo(new LipschitzMargin.Settings(0.5, 1, 0));
        assertThat(Regularizers.build(gloro).describe()).startsWith("GloRo").contains("ε 0.5, power iteration 1/step");
        ObjectiveSpec margin = Regularizers.spec("lipschitz-margin", Map.of("eps", 0.25, "power-iterations", 3, "ramp-steps", 100));
        assertThat(margin.settings(LipschitzMargin.Settings.class)).isEqualTo(new LipschitzMargin.Settings(0.25, 3, 100));
        assertThat(Regularizers.build(margin).describe()).startsWith("Lipschitz-margin cross-entropy (Tsuzuku")
                .contains("ε 0.25 ramped over 100 steps, power iteration 3/step");

        // linf, ε 0.1, a one-epoch warm-up, then (without the run's length) a ramp of 1.5 epochs, κ ending at 0.5
        ObjectiveSpec ibp = Regularizers.spec("ibp", Map.of());
        assertThat(ibp.settings(CertifiedTraining.Settings.class)).isEqualTo(new CertifiedTraining.Settings("linf", 0.1, 1, 1.5, 0.5));
        CertifiedTraining ibpBuilt = (CertifiedTraining) Regularizers.build(ibp);
        assertThat(ibpBuilt.describe()).startsWith("ibp(linf ε=0.1");
        assertThat(ibpBuilt.epsAt(0.5)).isZero();
        assertThat(ibpBuilt.epsAt(1.75)).isCloseTo(0.05, within(1e-15));
        assertThat(ibpBuilt.epsAt(2.5)).isEqualTo(0.1);
        assertThat(ibpBuilt.kappaAt(2.5)).isEqualTo(0.5);
        // the ramp takes half the epochs after the warm-up; none when the run is shorter than its warm-up
        ObjectiveSpec crown = Regularizers.spec("crown-ibp", Map.of("norm", "l2", "eps", 0.3, "eps-warmup", 2, "epochs", 10, "kappa-end", 0));
        assertThat(crown.settings(CertifiedTraining.Settings.class)).isEqualTo(new CertifiedTraining.Settings("l2", 0.3, 2, 4, 0));
        CertifiedTraining crownBuilt = (CertifiedTraining) Regularizers.build(crown);
        assertThat(crownBuilt.describe()).startsWith("crown-ibp(l2 ε=0.3").contains("β 1→0");
        assertThat(crownBuilt.epsAt(4)).isCloseTo(0.15, within(1e-15));
        assertThat(Regularizers.spec("ibp", Map.of("eps-warmup", 3, "epochs", 2)).settings(CertifiedTraining.Settings.class).rampEpochs()).isZero();
        assertThat(Regularizers.spec("ibp", Map.of("eps-ramp", 7, "epochs", 2)).settings(CertifiedTraining.Settings.class).rampEpochs()).isEqualTo(7);

        for (ObjectiveSpec spec : List.of(gloro, margin, ibp, crown)) {
            ObjectiveSpec back = json.readValue(json.writeValueAsString(spec), ObjectiveSpec.class);
            assertThat(back.sameAs(spec)).as(spec.reg()).isTrue();
            assertThat(Regularizers.build(back).describe()).as(spec.reg()).isEqualTo(Regularizers.build(spec).describe());
        }

        assertThatThrownBy(() -> Regularizers.build(Regularizers.spec("ibp", Map.of("kappa-end", 2)))).hasMessageContaining("--kappa-end must be in [0, 1], got 2.0");
        assertThatThrownBy(() -> Regularizers.build(Regularizers.spec("crown-ibp", Map.of("eps", 0)))).hasMessageContaining("--eps must be positive");
        assertThatThrownBy(() -> Regularizers.spec("gloro", Map.of("power-iterations", "two"))).hasMessage("--power-iterations takes a whole number, got 'two'");
        assertThatThrownBy(() -> Regularizers.build(Regularizers.spec("lipschitz-margin", Map.of("eps", -1)))).hasMessageContaining("--eps for a Lipschitz-margin objective must be ≥ 0");
        RegularizerOptions none = RegularizerOptions.of(Map.of());
        assertThatThrownBy(() -> Regularizers.build(Regularizers.parse("ibp", none, "mse"))).hasMessageStartingWith("--reg ibp trains on the cross-entropy");
        assertThatThrownBy(() -> Regularizers.build(Regularizers.parse("crown-ibp", none, "mse"))).hasMessageStartingWith("--reg crown-ibp trains on the cross-entropy");
        assertThatThrownBy(() -> Regularizers.build(Regularizers.parse("gloro", none, "mse"))).hasMessageStartingWith("--reg gloro is a cross-entropy objective");
        assertThatThrownBy(() -> Regularizers.build(Regularizers.parse("lipschitz-margin", none, "mse"))).hasMessageStartingWith("--reg lipschitz-margin is a cross-entropy objective");
    }

    /** A gradient-norm penalty built in Java records the registry entry that rebuilds it, so a checkpoint cannot disagree. */
    @Test
    void gradientNormPenaltiesRecordTheSpecThatRebuildsThem() {
        for (String name : List.of("tv", "lipschitz", "tv+lipschitz")) {
            dev.tikhon.train.ObjectiveSpec spec = Regularizers.spec(name, Map.of("tv-weight", 0.3, "lip-weight", 0.7, "h", 0.002, "norm", "linf"));
            Objective built = Regularizers.build(spec);
            assertThat(built.spec()).as(name).isEqualTo(spec);
            assertThat(Regularizers.build(built.spec()).describe()).as(name).isEqualTo(built.describe());
        }
        assertThat(new GradientNormPenalty(Loss.CROSS_ENTROPY, 0.1, 0, 0.01, Dual.L2).spec().reg()).isEqualTo("tv");
        assertThat(new GradientNormPenalty(Loss.CROSS_ENTROPY, 0, 0.1, 0.01, Dual.L1).spec().settings()).containsEntry("norm", "linf");
    }

    /**
     * --reg lipschitz logged a "tv" part and --reg tv a "lip" part, though their weight is 0 (audit 20a): history.csv showed
     * train_tv / train_lip columns as if both were trained. Only the terms in the objective are logged now; the one left
     * out is retired, so that a resumed pre-change checkpoint drops its partial mean.
     */
    @Test
    void gradientNormPenaltiesLogOnlyTheirActiveTerms() {
        Rng.seed(4);
        Module m = new Linear(6, 3);
        Tensor x = Tensor.randn(DType.FLOAT32, Device.CPU, 5, 6), y = Tensor.fromLongs(new long[]{0, 1, 2, 0, 1}, 5);
        Map<String, List<String>> expected = Map.of("tv", List.of("data", "tv"), "lipschitz", List.of("data", "lip"),
                "tv+lipschitz", List.of("data", "lip", "tv"));
        expected.forEach((name, parts) -> {
            Objective o = Regularizers.build(Regularizers.spec(name, Map.of()));
            assertThat(o.evaluate(m, x, y).parts().keySet()).as(name).containsExactlyElementsOf(parts);
            assertThat(o.retiredParts()).as(name).containsExactlyInAnyOrderElementsOf(
                    List.of("tv", "lip").stream().filter(p -> !parts.contains(p)).toList());
        });
    }
}
