package dev.tikhon.certify;

import dev.tikhon.data.Dataset;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.report.Progress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Oracles: hand-computed values. What every certification method shares: a certificate's verdict at a radius, the
 * columns' kinds, heat smoothing's settings, the single-pass radii (b) and (c) from known probabilities, a run's summary
 * (certified accuracy, abstentions, timings, agreement), its CSV, and a run of certifiers with fixed answers (which
 * step's class is the prediction, how the steps' certificates are gathered).
 */
class CertificationBookkeepingTest {
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    @Test
    void aCertificateProvesItsClassUpToItsRadius() {
        Certificate c = new Certificate(2, 0.5, Certificate.Kind.SOUND, 0, "x");
        assertThat(c.certifies(2, 0.5)).isTrue();
        assertThat(c.certifies(2, 0)).isTrue();
        assertThat(c.certifies(2, 0.50001)).isFalse();
        assertThat(c.certifies(1, 0.1)).isFalse();
        assertThat(c.abstained()).isFalse();
        Certificate a = Certificate.abstain(Certificate.Kind.PROBABILISTIC, 0.001, "cohen");
        assertThat(a.abstained()).isTrue();
        assertThat(a.prediction()).isEqualTo(Certificate.ABSTAIN);
        assertThat(a.radius()).isZero();
        assertThat(a.alpha()).isEqualTo(0.001);
        assertThat(a.certifies(Certificate.ABSTAIN, 0)).isFalse();
        assertThat(new Certificate(0, 0, Certificate.Kind.HEURISTIC, 0, "b").certifies(0, 0)).isTrue();

        new CertificationStep.Column("cohen", Certificate.Kind.PROBABILISTIC, 0.001);
        new CertificationStep.Column("b", Certificate.Kind.HEURISTIC, 0);
        assertThatThrownBy(() -> new CertificationStep.Column("cohen", Certificate.Kind.PROBABILISTIC, 0)).hasMessageContaining("0 < alpha < 1");
        assertThatThrownBy(() -> new CertificationStep.Column("cohen", Certificate.Kind.PROBABILISTIC, 1)).hasMessageContaining("0 < alpha < 1");
        assertThatThrownBy(() -> new CertificationStep.Column("ibp", Certificate.Kind.SOUND, 0.01)).hasMessageContaining("alpha 0");
    }

    @Test
    void heatSettingsAreCheckedAndRecorded() {
        HeatConfig v1 = HeatConfig.v1Defaults();
        assertThat(v1).isEqualTo(new HeatConfig("v1", 0.1, 5, 10, 0.1, 5, 1));
        assertThat(v1.timeStep()).isEqualTo(0.2);
        assertThat(v1.softmax()).isFalse();
        HeatConfig rev = HeatConfig.revisionDefaults();
        assertThat(rev).isEqualTo(new HeatConfig("REVISION", 0.25, 1, 6, 0.01, 1, 1));
        assertThat(rev.softmax()).isTrue();
        assertThat(HeatConfig.defaults("V1")).isEqualTo(v1);
        assertThat(HeatConfig.defaults("revision")).isEqualTo(rev);
        var spec = new HeatConfig("v1", 0.3, 2, 4, 0.05, 4, 2).toSpec();
        assertThat(spec.reg()).isEqualTo("heat-v1");
        assertThat(spec.settings()).containsEntry("lambda", 2.0).containsEntry("delta", 0.05).containsEntry("norm", "logits")
                .containsEntry("sigma", 0.3).containsEntry("kappa", 4).containsEntry("steps", 4).containsEntry("time_step", 0.25)
                .doesNotContainKeys("h", "eps");
        spec = new HeatConfig("v1", 0.3, 2, 6, 0.05, 4, 2).toSpec();   // κ and n_T apart, so that a swap of the two shows
        assertThat(spec.settings()).containsEntry("kappa", 6).containsEntry("steps", 4);
        assertThat(rev.toSpec().settings()).containsEntry("norm", "softmax");
        assertThat(rev.toSpec().reg()).isEqualTo("heat-revision");
        assertThatThrownBy(() -> new HeatConfig("v2", 0.1, 5, 10, 0.1, 5, 1)).hasMessageContaining("unknown --schedule 'v2'");
        assertThatThrownBy(() -> new HeatConfig("v1", 0, 5, 10, 0.1, 5, 1)).hasMessageContaining("--sigma");
        assertThatThrownBy(() -> new HeatConfig("v1", Double.NaN, 5, 10, 0.1, 5, 1)).hasMessageContaining("--sigma");
        assertThatThrownBy(() -> new HeatConfig("v1", 0.1, -1, 10, 0.1, 5, 1)).hasMessageContaining("--lambda");
        assertThat(new HeatConfig("v1", 0.1, 0, 1, 0.1, 1, 1).lambda()).isZero();
        assertThatThrownBy(() -> new HeatConfig("v1", 0.1, 5, 0, 0.1, 5, 1)).hasMessageContaining("--kappa");
        assertThatThrownBy(() -> new HeatConfig("v1", 0.1, 5, 10, 0, 5, 1)).hasMessageContaining("--delta");
        assertThatThrownBy(() -> new HeatConfig("v1", 0.1, 5, 10, 0.1, 0, 1)).hasMessageContaining("--steps");
        assertThatThrownBy(() -> new HeatConfig("revision", 0.1, 5, 10, 0.1, 2, 1)).hasMessageContaining("one step");
        assertThatThrownBy(() -> new HeatConfig("v1", 0.1, 5, 10, 0.1, 5, 0)).hasMessageContaining("--epochs");
    }

    @Test
    void singlePassRadiiFromKnownProbabilities() {
        double sigma = 0.5;
        GaussianAverageCertificate.Radii r = GaussianAverageCertificate.radii(sigma, new double[]{0.2, 0.7, 0.1});
        assertThat(r.prediction()).isEqualTo(1);
        assertThat(r.top()).isEqualTo(0.7);
        assertThat(r.second()).isEqualTo(0.2);
        assertThat(r.lipschitz()).isCloseTo(sigma * Math.sqrt(Math.PI / 2) * 0.5, within(1e-12));
        // Φ⁻¹(0.7) = 0.5244005127080407, Φ⁻¹(0.2) = −0.8416212335729143
        assertThat(r.phiInverse()).isCloseTo(sigma / 2 * (0.5244005127080407 + 0.8416212335729143), within(1e-8));
        GaussianAverageCertificate.Radii tie = GaussianAverageCertificate.radii(sigma, new double[]{0.5, 0.5});
        assertThat(tie.prediction()).isZero();
        assertThat(tie.lipschitz()).isZero();
        assertThat(tie.phiInverse()).isZero();
        // a saturated softmax: Φ⁻¹ at 1 − 1e-7 and 1e-7, finite
        GaussianAverageCertificate.Radii sat = GaussianAverageCertificate.radii(sigma, new double[]{0, 1});
        assertThat(sat.prediction()).isEqualTo(1);
        assertThat(sat.lipschitz()).isCloseTo(sigma * Math.sqrt(Math.PI / 2), within(1e-12));
        assertThat(sat.phiInverse()).isCloseTo(sigma * ClopperPearson.normalQuantile(1 - 1e-7), within(1e-9)).isFinite();

        // through a model: logits (0, log 3) → softmax (1/4, 3/4)
        Module m = new Module() {
            @Override public Tensor forward(Tensor x) { return x.mul(0).add(Tensor.fromDoubles(new double[]{0, Math.log(3)}, 1, 2)); }
        };
        Tensor x = Tensor.zeros(DType.FLOAT64, Device.CPU, 2);
        Certificate b = new GaussianAverageCertificate(sigma, GaussianAverageCertificate.Bound.LIPSCHITZ).certify(m, x, 0);
        assertThat(b.prediction()).isEqualTo(1);
        assertThat(b.radius()).isCloseTo(sigma * Math.sqrt(Math.PI / 2) * 0.5, within(1e-9));
        assertThat(b.kind()).isEqualTo(Certificate.Kind.HEURISTIC);
        assertThat(b.method()).startsWith("heat-");
        Certificate c = new GaussianAverageCertificate(sigma, GaussianAverageCertificate.Bound.PHI_INVERSE).certify(m, x, 0);
        assertThat(c.method()).startsWith("heat-").isNotEqualTo(b.method());
        assertThat(c.radius()).isCloseTo(sigma / 2 * 2 * ClopperPearson.normalQuantile(0.75), within(1e-8));
        assertThat(new GaussianAverageCertificate(sigma, GaussianAverageCertificate.Bound.LIPSCHITZ).describe()).startsWith("single pass, (b)");
        assertThat(new GaussianAverageCertificate(sigma, GaussianAverageCertificate.Bound.PHI_INVERSE).describe()).startsWith("single pass, (c)");
        assertThatThrownBy(() -> new GaussianAverageCertificate(0, GaussianAverageCertificate.Bound.LIPSCHITZ)).hasMessageContaining("--sigma");
        assertThat(m.isTraining()).isTrue();   // probabilities() restores the mode it found
    }

    private static CertificationRun.Image image(long index, long label, int prediction, int mc, Certificate... certs) {
        Map<String, Certificate> m = new LinkedHashMap<>();
        for (Certificate c : certs) m.put(c.method(), c);
        return new CertificationRun.Image(index, label, prediction, m, 0.002, 0.010, mc);
    }

    @Test
    void aRunsSummaryCountsCertifiedAccuracyAndAbstentions(@TempDir Path dir) throws Exception {
        Certificate.Kind p = Certificate.Kind.PROBABILISTIC;
        List<CertificationRun.Image> images = List.of(
                image(0, 1, 1, 1, new Certificate(1, 0.6, p, 0.001, "cohen"), new Certificate(1, 0.3, Certificate.Kind.HEURISTIC, 0, "b")),
                image(1, 0, 0, 0, new Certificate(0, 0.2, p, 0.001, "cohen"), new Certificate(0, 1.0, Certificate.Kind.HEURISTIC, 0, "b")),
                image(2, 2, 1, -1, Certificate.abstain(p, 0.001, "cohen"), new Certificate(1, 0.9, Certificate.Kind.HEURISTIC, 0, "b")),
                image(3, 2, 2, 0, new Certificate(2, 1.2, p, 0.001, "cohen"), new Certificate(2, 0, Certificate.Kind.HEURISTIC, 0, "b")));
        CertificationRun.Result r = new CertificationRun.Result("test", images, List.of("cohen", "b"), 0.004, 2, 0.75);
        assertThat(r.cleanAccuracy()).isEqualTo(0.75);
        assertThat(r.certifiedAccuracy("cohen", 0)).isEqualTo(0.75);
        assertThat(r.certifiedAccuracy("cohen", 0.5)).isEqualTo(0.5);
        assertThat(r.certifiedAccuracy("cohen", 1.0)).isEqualTo(0.25);
        assertThat(r.certifiedAccuracy("b", 0.25)).isEqualTo(0.5);
        assertThat(r.abstentionRate("cohen")).isEqualTo(0.25);
        assertThat(r.abstentionRate("b")).isZero();
        assertThat(r.meanClassifySeconds()).isCloseTo(0.002, within(1e-15));
        assertThat(r.meanCertifySeconds()).isCloseTo(0.010, within(1e-15));
        Map<String, Object> s = r.summary();
        assertThat(s).containsEntry("method", "test").containsEntry("images", 4).containsEntry("clean_accuracy", 0.75)
                .containsEntry("predict_images_timed", 2).containsEntry("single_pass_vs_smoothed_agreement", 0.75);
        assertThat((double) s.get("predict_ms_per_image")).isCloseTo(4, within(1e-12));
        assertThat((double) s.get("classify_ms_per_image")).isCloseTo(2, within(1e-12));
        assertThat((double) s.get("certify_ms_per_image")).isCloseTo(10, within(1e-12));
        @SuppressWarnings("unchecked") Map<String, Map<String, Object>> certs = (Map<String, Map<String, Object>>) s.get("certificates");
        assertThat(certs.get("cohen")).containsEntry("kind", "probabilistic").containsEntry("alpha", 0.001).containsEntry("abstention_rate", 0.25);
        assertThat(certs.get("b")).containsEntry("kind", "heuristic").doesNotContainKey("alpha");
        @SuppressWarnings("unchecked") Map<String, Double> acc = (Map<String, Double>) certs.get("cohen").get("certified_accuracy");
        assertThat(acc).containsExactly(Map.entry("0.0", 0.75), Map.entry("0.25", 0.5), Map.entry("0.5", 0.5), Map.entry("0.75", 0.25),
                Map.entry("1.0", 0.25));
        assertThat(s).containsEntry("norm", "l2");
        assertThat(certs.get("cohen")).containsEntry("norm", "l2").containsEntry("measures", "certified accuracy at radius ≥ r");
        assertThat(certs.get("b")).containsEntry("measures", "accuracy at heuristic radius ≥ r (not certified)");
        assertThat(r.smoothedPrediction()).as("a single pass classified (agreement measured)").isFalse();
        assertThat(r.kindOf("cohen")).isEqualTo("probabilistic (α = 0.001)");
        assertThat(r.kindOf("b")).isEqualTo("heuristic");
        CertificationRun.Result cohenOnly = new CertificationRun.Result("test", images, List.of("cohen"), Double.NaN, 0, Double.NaN);
        Map<String, Object> untimed = cohenOnly.summary();
        assertThat(untimed).doesNotContainKeys("predict_ms_per_image", "predict_images_timed", "single_pass_vs_smoothed_agreement");
        // Cohen alone: the prediction is the smoothed classifier's (abstaining = wrong), not a clean accuracy
        assertThat(cohenOnly.smoothedPrediction()).isTrue();
        assertThat(untimed).containsEntry("smoothed_accuracy", 0.75).doesNotContainKey("clean_accuracy");
        // no classification timed anywhere: the key is left out rather than written as NaN
        List<CertificationRun.Image> notTimed = images.stream().map(im -> new CertificationRun.Image(im.index(), im.label(), im.prediction(),
                im.certificates(), Double.NaN, im.certifySeconds(), im.monteCarloPrediction())).toList();
        Map<String, Object> noClassify = new CertificationRun.Result("test", notTimed, List.of("cohen"), Double.NaN, 0, Double.NaN).summary();
        assertThat(noClassify).doesNotContainKey("classify_ms_per_image").containsKey("certify_ms_per_image");
        assertThat(noClassify.values()).noneMatch(v -> v instanceof Double d && d.isNaN());
        // an ℓ∞ run (a step's summary says so): the ℓ∞ grid 0, 1/255, 2/255, 4/255, 8/255 and the norm on every certificate
        CertificationRun.Result linf = new CertificationRun.Result("test", images, List.of("cohen"), Double.NaN, 0, Double.NaN, List.of(),
                Map.of("norm", "linf"));
        assertThat(linf.radii()).containsExactly(0.0, 1 / 255.0, 2 / 255.0, 4 / 255.0, 8 / 255.0);
        @SuppressWarnings("unchecked") Map<String, Map<String, Object>> linfCerts = (Map<String, Map<String, Object>>) linf.summary().get("certificates");
        assertThat(linfCerts.get("cohen")).containsEntry("norm", "linf");
        assertThat(new ArrayList<Object>(((Map<?, ?>) linfCerts.get("cohen").get("certified_accuracy")).keySet())).containsExactly("0.0", String.valueOf(1 / 255.0),
                String.valueOf(2 / 255.0), String.valueOf(4 / 255.0), String.valueOf(8 / 255.0));
        assertThat(dev.tikhon.report.Format.radius(4 / 255.0)).isEqualTo("4/255");
        assertThat(dev.tikhon.report.Format.radius(0.25)).isEqualTo("0.25");
        assertThat(dev.tikhon.report.Format.radius(1.0)).isEqualTo("1");

        List<dev.tikhon.report.Charts.Series> curves = r.curves("m-", 2);
        assertThat(curves).hasSize(2);
        assertThat(curves.get(0).name()).startsWith("m-").contains("cohen");
        assertThat(curves.get(0).x()).hasSize(101);
        assertThat(curves.get(0).x()[100]).isEqualTo(2.0);
        assertThat(curves.get(0).y()[0]).isEqualTo(0.75);
        assertThat(curves.get(0).y()[30]).isEqualTo(0.5);    // r 0.6
        assertThat(curves.get(0).y()[31]).isEqualTo(0.25);   // r 0.62

        Path csv = dir.resolve("certify.csv");
        r.writeCsv(csv);
        List<String> lines = Files.readAllLines(csv);
        // each radius with its kind (and α for a probabilistic one), the norm; an abstention is −1 in every prediction column
        assertThat(lines.get(0)).isEqualTo("index,label,prediction,correct,prediction_cohen,radius_cohen,kind_cohen,alpha_cohen,"
                + "prediction_b,radius_b,kind_b,norm,monte_carlo_prediction,classify_ms,certify_ms");
        assertThat(lines.get(1)).startsWith("0,1,1,1,1,0.6,probabilistic,0.001,1,0.3,heuristic,l2,1,2.0");
        assertThat(lines.get(3)).startsWith("2,2,1,0,-1,0.0,probabilistic,0.001,1,0.9,heuristic,l2,,2.0");
        assertThat(lines).hasSize(5);
        // a classification that was not timed is an empty cell, not NaN
        new CertificationRun.Result("test", notTimed, List.of("cohen"), Double.NaN, 0, Double.NaN).writeCsv(csv);
        assertThat(Files.readAllLines(csv).get(1)).endsWith(",1,,10.0").doesNotContain("NaN");

        Certificate.Kind h = Certificate.Kind.HEURISTIC;
        assertThat(CertificationRun.attackable(image(0, 0, 0, -1, new Certificate(0, 0.1, h, 0, "b"), new Certificate(0, 0, h, 0, "c")))).isTrue();
        assertThat(CertificationRun.attackable(image(0, 0, 0, -1, new Certificate(0, 0, h, 0, "b"), new Certificate(0, 0.1, h, 0, "c")))).isTrue();
        assertThat(CertificationRun.attackable(image(0, 0, 0, -1, new Certificate(0, 1e-7, h, 0, "b"), new Certificate(0, 0, h, 0, "c")))).isFalse();
        assertThat(CertificationRun.attackableSmoothed(r, "cohen")).isEqualTo(3);
        assertThat(CertificationRun.attackableSmoothed(r, "none")).isZero();
    }

    /** A step with fixed answers: class = index mod 3 (+ shift), radius = index / 10; records the batches it saw. */
    record Fixed(String name, int shift, boolean classifies, List<Integer> batches) implements CertificationStep {
        @Override public List<Column> columns() { return List.of(new Column(name, Certificate.Kind.SOUND, 0)); }

        @Override public boolean classifies() { return classifies; }

        @Override public List<Outcome> certify(Module model, Tensor xs, long[] indices, List<Map<String, Certificate>> earlier) {
            batches.add(indices.length);
            List<Outcome> out = new ArrayList<>();
            for (int i = 0; i < indices.length; i++) {
                int cls = (int) ((indices[i] + shift) % 3);
                out.add(new Outcome(Map.of(name, new Certificate(cls, indices[i] / 10.0, Certificate.Kind.SOUND, 0, name)),
                        shift == 0 ? cls : -1));
                assertThat(earlier.get(i).keySet()).as("what earlier steps gave image %d", indices[i]).doesNotContain(name);
            }
            return out;
        }
    }

    @Test
    void aRunGathersEachStepsCertificatesAndTakesThePredictionFromTheClassifyingStep() {
        int n = 7;
        double[] xs = new double[n * 2];
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) labels[i] = i % 3;
        Dataset data = new Dataset("fixed", "test", Tensor.fromDoubles(xs, n, 2).to(DType.FLOAT32), Tensor.fromLongs(labels, n), 3,
                List.of("a", "b", "c"));
        Module model = new Module() {
            @Override public Tensor forward(Tensor x) { return x.sum(1, true); }
        };
        List<Integer> first = new ArrayList<>(), second = new ArrayList<>();
        // the first step samples (shift 0: its class is the label), the second classifies (shift 1: always wrong)
        CertificationRun.Plan plan = new CertificationRun.Plan("fixed", "two fixed steps",
                List.of(new Fixed("mc", 0, false, first), new Fixed("pass", 1, true, second)), List.of("pass", "mc"), 3,
                (m, d, k, dev) -> new CertificationRun.Timing(0.5, k));
        CertificationRun.Result r = CertificationRun.run(model, data, 6, plan, Device.CPU, Progress.plain("certify", 6, QUIET));
        assertThat(r.images()).hasSize(6);
        assertThat(first).containsExactly(3, 3);
        assertThat(r.certificateNames()).containsExactly("pass", "mc");
        assertThat(r.cleanAccuracy()).as("the classifying step's class").isZero();
        assertThat(r.certifiedAccuracy("mc", 0)).isEqualTo(1);
        assertThat(r.certifiedAccuracy("mc", 0.25)).isCloseTo(3 / 6.0, within(1e-12));   // radii 0.3, 0.4, 0.5
        assertThat(r.agreement()).as("Monte Carlo class vs single pass").isZero();
        assertThat(r.predictSeconds()).isEqualTo(0.5);
        assertThat(r.predictImages()).isEqualTo(6);
        assertThat(r.images()).allSatisfy(im -> assertThat(im.classifySeconds()).isEqualTo(0.5));
        for (CertificationRun.Image im : r.images()) {
            assertThat(im.prediction()).isEqualTo((int) ((im.index() + 1) % 3));
            assertThat(im.monteCarloPrediction()).isEqualTo((int) (im.index() % 3));
            assertThat(im.certificates().keySet()).containsExactly("mc", "pass");
        }
        // without a classifying step the first step's class is the prediction; no agreement without a single pass
        List<Integer> only = new ArrayList<>();
        CertificationRun.Result one = CertificationRun.run(model, data, 100, new CertificationRun.Plan("one", "one", List.of(new Fixed("mc", 0, false, only))),
                Device.CPU, Progress.plain("certify", 7, QUIET));
        assertThat(one.images()).hasSize(7);
        assertThat(only).containsOnly(1);
        assertThat(one.cleanAccuracy()).isEqualTo(1);
        assertThat(one.agreement()).isNaN();
        assertThat(one.predictSeconds()).isNaN();

        assertThatThrownBy(() -> new CertificationRun.Plan("none", "", List.of())).hasMessageContaining("at least one certifier");
        assertThatThrownBy(() -> new CertificationRun.Plan("bad", "", List.of(new Fixed("mc", 0, false, only)), List.of("other"), 1, null))
                .hasMessageContaining("columns [other] are not the steps' [mc]");
        assertThatThrownBy(() -> new CertificationRun.Plan("bad", "", List.of(new Fixed("mc", 0, false, only)), null, 0, null))
                .hasMessageContaining("batch size must be ≥ 1");
    }

    /** A classifying step that also certifies, saying its forward pass took {@code pass} seconds per image of its time. */
    record PassThenBound(double pass, long sleepMillis) implements CertificationStep {
        @Override public List<Column> columns() { return List.of(new Column("bound", Certificate.Kind.SOUND, 0)); }

        @Override public boolean classifies() { return true; }

        @Override public List<Outcome> certify(Module model, Tensor xs, long[] indices, List<Map<String, Certificate>> earlier) {
            try {
                Thread.sleep(sleepMillis);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            List<Outcome> out = new ArrayList<>();
            for (long i : indices) out.add(new Outcome(Map.of("bound", new Certificate(0, 0.1, Certificate.Kind.SOUND, 0, "bound")), -1, Map.of(), pass));
            return out;
        }
    }

    @Test
    void aStepThatClassifiesAndCertifiesSplitsItsTime() {
        int n = 2;
        Dataset data = new Dataset("fixed", "test", Tensor.fromDoubles(new double[n * 2], n, 2).to(DType.FLOAT32), Tensor.fromLongs(new long[n], n), 3,
                List.of("a", "b", "c"));
        Module model = new Module() {
            @Override public Tensor forward(Tensor x) { return x.sum(1, true); }
        };
        // 2 images per unit, 60 ms per unit: 30 ms per image, of which the step says 1 ms was its forward pass
        CertificationRun.Result r = CertificationRun.run(model, data, n, new CertificationRun.Plan("split", "split",
                List.of(new PassThenBound(0.001, 60)), null, 2, null), Device.CPU, Progress.plain("certify", n, QUIET));
        for (CertificationRun.Image im : r.images()) {
            assertThat(im.classifySeconds()).as("the forward pass").isEqualTo(0.001);
            assertThat(im.certifySeconds()).as("the rest of the step").isGreaterThanOrEqualTo(0.029 - 1e-9);
        }
        // without a split the whole step is classification, as before
        CertificationRun.Result whole = CertificationRun.run(model, data, n, new CertificationRun.Plan("whole", "whole",
                List.of(new PassThenBound(Double.NaN, 20)), null, 2, null), Device.CPU, Progress.plain("certify", n, QUIET));
        for (CertificationRun.Image im : whole.images()) {
            assertThat(im.classifySeconds()).isGreaterThanOrEqualTo(0.01 - 1e-9);
            assertThat(im.certifySeconds()).isZero();
        }
    }

    @Test
    void methodsAreRegisteredOnceByName() {
        assertThat(CertificationMethods.names()).startsWith("cohen", "heat", "ibp", "crown");
        assertThat(CertificationMethods.get("Cohen").needsSigma()).isTrue();
        assertThat(CertificationMethods.get("heat").needsSigma()).isTrue();
        assertThat(CertificationMethods.get("ibp").needsSigma()).isFalse();
        assertThatThrownBy(() -> CertificationMethods.get("gloro")).hasMessageContaining("unknown --method 'gloro'")
                .hasMessageContaining("cohen or heat");
        assertThatThrownBy(() -> CertificationMethods.register("cohen", true, (m, s) -> null)).hasMessageContaining("already registered");
        CertificationRun.Plan ibp = CertificationMethods.get("crown").factory().plan(null, new CertificationMethods.Settings(Double.NaN, null, false, 0));
        assertThat(ibp.batchSize()).isEqualTo(BoundCertification.BATCH);
        assertThat(ibp.steps()).hasSize(1);
        assertThat(ibp.steps().get(0).classifies()).isTrue();
        assertThat(ibp.columns()).hasSize(1);
        assertThat(ibp.steps().get(0).columns().get(0).kind()).isEqualTo(Certificate.Kind.SOUND);
        assertThat(ibp.description()).contains("bisection in [0, 2.0] to within 2.0/2^12").contains("(sound)");
    }
}
