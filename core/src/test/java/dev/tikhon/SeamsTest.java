package dev.tikhon;

import dev.tikhon.attack.AttackRegistry;
import dev.tikhon.attack.Ensemble;
import dev.tikhon.attack.Norm;
import dev.tikhon.attack.Pgd;
import dev.tikhon.certify.Certificate;
import dev.tikhon.certify.CertificationMethods;
import dev.tikhon.certify.CertificationRun;
import dev.tikhon.certify.CertificationStep;
import dev.tikhon.certify.Certifier;
import dev.tikhon.data.Dataset;
import dev.tikhon.data.ToyData;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.regularize.RegularizerOptions;
import dev.tikhon.regularize.Regularizers;
import dev.tikhon.report.Json;
import dev.tikhon.robustness.RobustnessEvaluation;
import dev.tikhon.train.Objective;
import dev.tikhon.train.ObjectiveSpec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Each extension point takes a new item by one registration line and its own code, as docs/architecture.md says:
 * a batched sound certificate, a regularizer with its own settings record, an attack.
 */
class SeamsTest {

    /**
     * The exact ℓ2 radius of a linear two-class model z = Wx + b: |z₀ − z₁| / ‖w₀ − w₁‖, certified for a whole batch
     * in one forward pass (a sound certificate, as a Lipschitz-margin one would be).
     */
    record LinearMargin(AtomicInteger calls) implements Certifier, java.io.Serializable {
        @Override public Certificate certify(Module model, Tensor x, long index) {
            return certifyBatch(model, x.unsqueeze(0), new long[]{index}).get(0);
        }

        @Override public List<Certificate> certifyBatch(Module model, Tensor xs, long[] indices) {
            calls.incrementAndGet();
            double[] w = ((Linear) model).weight().value().toDoubleArray();
            double norm = Math.hypot(w[0] - w[2], w[1] - w[3]);
            double[] z;
            try (Autograd.Guard g = Autograd.noGrad()) {
                z = model.forward(xs).toDoubleArray();
            }
            List<Certificate> out = new ArrayList<>();
            for (int i = 0; i < indices.length; i++) {
                double margin = z[2 * i] - z[2 * i + 1];
                out.add(new Certificate(margin >= 0 ? 0 : 1, Math.abs(margin) / norm, Certificate.Kind.SOUND, 0, "linear-margin"));
            }
            return out;
        }

        @Override public String describe() { return "exact margin of a linear model"; }
    }

    @Test
    void aBatchedSoundCertificateIsOneRegistration() {
        Rng.seed(3);
        Linear model = new Linear(2, 2);
        Dataset data = ToyData.generate("moons", 10, 3);
        AtomicInteger calls = new AtomicInteger();
        CertificationMethods.register("test-linear-margin", false, (m, s) -> new CertificationRun.Plan("test-linear-margin",
                "exact linear margin", List.of(CertificationStep.of(new CertificationStep.Column("margin", Certificate.Kind.SOUND, 0),
                new LinearMargin(calls))), null, 4, null));
        CertificationRun.Plan plan = CertificationMethods.get("test-linear-margin").factory().plan(model,
                new CertificationMethods.Settings(Double.NaN, null, false, 0));
        CertificationRun.Result r = CertificationRun.run(model, data, 10, plan, Device.CPU, null);
        assertThat(calls.get()).as("one call per batch of 4: 4 + 4 + 2").isEqualTo(3);
        assertThat(r.certificateNames()).containsExactly("margin");
        assertThat(r.images()).hasSize(10);
        assertThat(((Map<?, ?>) ((Map<?, ?>) r.summary().get("certificates")).get("margin")).get("kind")).isEqualTo("sound");
        double[] w = model.weight().value().toDoubleArray();
        for (CertificationRun.Image im : r.images()) {
            Tensor x = data.batchInputs(Tensor.fromLongs(new long[]{im.index()}, 1));
            double[] z;
            try (Autograd.Guard g = Autograd.noGrad()) {
                z = model.forward(x).toDoubleArray();
            }
            Certificate c = im.certificates().get("margin");
            assertThat(c.radius()).isCloseTo(Math.abs(z[0] - z[1]) / Math.hypot(w[0] - w[2], w[1] - w[3]), within(1e-6));
            assertThat(im.prediction()).isEqualTo(c.prediction());
            assertThat(Double.isNaN(im.classifySeconds())).isTrue();
        }
    }

    /** Settings of a test regularizer: its own record, with a setting that has no CLI option of its own. */
    record Scaled(double factor) {
        static Scaled parse(RegularizerOptions o) { return new Scaled(o.number("factor", 2)); }
    }

    @Test
    void aRegularizerIsItsSettingsRecordAndOneRegistration() throws Exception {
        Regularizers.register("test-scaled", Scaled.class, Scaled::parse, (s, loss) -> new Objective() {
            final Objective base = Objective.of(loss);

            @Override public Result evaluate(Module model, Tensor x, Tensor y) {
                Result r = base.evaluate(model, x, y);
                return new Result(r.loss().mul(s.factor()), r.logits(), r.parts());
            }

            @Override public String describe() { return "scaled cross-entropy ×" + s.factor(); }
        });
        ObjectiveSpec spec = Regularizers.parse("test-scaled", RegularizerOptions.of(Map.of("factor", "3")), ObjectiveSpec.DEFAULT_LOSS);
        assertThat(spec.settings()).containsEntry("factor", 3.0);
        ObjectiveSpec back = Json.mapper().readValue(Json.mapper().writeValueAsString(spec), ObjectiveSpec.class);
        assertThat(Regularizers.build(back).describe()).isEqualTo("scaled cross-entropy ×3.0");
        assertThat(Regularizers.build(Regularizers.parse("test-scaled", RegularizerOptions.of(Map.of()), null)).describe())
                .isEqualTo("scaled cross-entropy ×2.0");
    }

    @Test
    void anAttackIsOneRegistrationThatEvaluationReads() {
        AttackRegistry.register("test-pgd-2", List.of(Norm.LINF), s -> new Ensemble(s.norm(), s.eps(), List.of(Pgd.madry(s.norm(), s.eps(), 2))), null);
        RobustnessEvaluation.Config c = new RobustnessEvaluation.Config(Norm.LINF, new double[]{0.1}, "test-pgd-2", 5, 1, 1, 10, 5,
                false, false, 0, 8, 0);
        Ensemble e = RobustnessEvaluation.attackAt(c, 0.1, 2);
        assertThat(e.members()).hasSize(1);
        assertThat(((Pgd) e.members().get(0)).steps()).isEqualTo(2);
        assertThat(RobustnessEvaluation.attacks()).contains("test-pgd-2").endsWith(RobustnessEvaluation.NONE);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new RobustnessEvaluation.Config(Norm.L2, new double[]{0.1}, "test-pgd-2",
                5, 1, 1, 10, 5, false, false, 0, 8, 0)).hasMessageContaining("test-pgd-2 is an ℓ∞ attack");
    }
}
