package dev.tikhon.certify;

import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code certify --method heat}, for a heat-smoothed model v: one deterministic pass per image (timed as
 * classification) gives ĉ and the heuristic single-pass radii (b) and (c) of {@link GaussianAverageCertificate};
 * with Monte Carlo on, certificate (a) is CERTIFY's estimation on v with ĉ fixed (probabilistic).
 */
public final class HeatCertification {
    private HeatCertification() {}

    /**
     * The columns, by what they are. Their keys stay the letters of the paper's certificates (a), (b), (c): they name
     * certify.csv's {@code prediction_KEY}/{@code radius_KEY} columns and metrics.json's certificates, which reports read.
     * Each certificate's {@code method} is the descriptive name.
     */
    public static final String MONTE_CARLO = "a", LIPSCHITZ = "b", PHI_INVERSE = "c";

    /** The certificates' method names: CERTIFY on v with ĉ fixed, and the two single-pass radii. */
    public static final String MONTE_CARLO_METHOD = "heat-monte-carlo", LIPSCHITZ_METHOD = "heat-lipschitz",
            PHI_INVERSE_METHOD = "heat-phi-inverse";

    /** The plan; {@code rs} null runs the single pass only. Columns a (with {@code rs}), b, c. */
    public static CertificationRun.Plan plan(double sigma, RandomizedSmoothing rs) {
        return plan(sigma, rs, 1);
    }

    /**
     * The plan, with the single pass alone ({@code rs} null) classifying {@code batchSize} images per forward pass, as
     * {@code eval} does; its classification time is then the batched cost per image, and the step's summary adds the
     * latency of one image alone. With the Monte Carlo certificate, whose cost is per image, a unit is the images that
     * share its forward passes ({@link RandomizedSmoothing.Config#imagesPerBatch}, 1 by default: a killed run then
     * loses at most one image's work).
     */
    public static CertificationRun.Plan plan(double sigma, RandomizedSmoothing rs, int batchSize) {
        List<CertificationStep> steps = new ArrayList<>();
        steps.add(new SinglePass(sigma));
        if (rs != null) steps.add(new MonteCarlo(rs.config()));
        return new CertificationRun.Plan("heat", "heat, single pass + " + (rs != null ? "(a) CERTIFY's estimation with the single pass's class (no N0 selection): σ "
                + rs.config().sigma() + ", N " + rs.config().n() + ", α " + rs.config().alpha() : "no Monte Carlo"), steps,
                rs != null ? List.of(MONTE_CARLO, LIPSCHITZ, PHI_INVERSE) : List.of(LIPSCHITZ, PHI_INVERSE), rs != null ? rs.config().imagesPerBatch() : batchSize, null);
    }

    /** ĉ and radii (b), (c) from one forward pass of the batch. */
    record SinglePass(double sigma) implements CertificationStep {
        @Override public List<Column> columns() {
            return List.of(new Column(LIPSCHITZ, Certificate.Kind.HEURISTIC, 0), new Column(PHI_INVERSE, Certificate.Kind.HEURISTIC, 0));
        }

        @Override public boolean classifies() { return true; }

        @Override public void warmUp(Module model, Tensor x) {
            GaussianAverageCertificate.probabilities(model, x);
        }

        /** The latency of one image alone (median of 21 single-image passes), beside the run's cost per image. */
        @Override public Map<String, Object> summary(Module model, long[] inputShape, List<CertificationRun.Image> images) {
            long[] one = new long[inputShape.length + 1];
            one[0] = 1;
            System.arraycopy(inputShape, 0, one, 1, inputShape.length);
            double[] ms = new double[21];
            try (dev.tikhon.engine.Scope s = dev.tikhon.engine.Scope.open()) {
                Tensor x = Tensor.zeros(dev.tikhon.engine.DType.FLOAT32, model.device(), one).add(0.5);
                GaussianAverageCertificate.probabilities(model, x);   // warm
                for (int i = 0; i < ms.length; i++) {
                    long t0 = System.nanoTime();
                    GaussianAverageCertificate.probabilities(model, x);
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                }
            }
            java.util.Arrays.sort(ms);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("single_image_latency_ms", ms[ms.length / 2]);
            m.put("explanation", explanation(sigma, !images.isEmpty() && images.get(0).certificates().containsKey(MONTE_CARLO)));
            return m;
        }

        @Override public List<Outcome> certify(Module model, Tensor xs, long[] indices, List<Map<String, Certificate>> earlier) {
            double[][] p = GaussianAverageCertificate.probabilities(model, xs);
            List<Outcome> out = new ArrayList<>();
            for (double[] row : p) {
                GaussianAverageCertificate.Radii r = GaussianAverageCertificate.radii(sigma, row);
                Map<String, Certificate> m = new LinkedHashMap<>();
                m.put(LIPSCHITZ, new Certificate(r.prediction(), r.lipschitz(), Certificate.Kind.HEURISTIC, 0, LIPSCHITZ_METHOD));
                m.put(PHI_INVERSE, new Certificate(r.prediction(), r.phiInverse(), Certificate.Kind.HEURISTIC, 0, PHI_INVERSE_METHOD));
                out.add(new Outcome(m, -1));
            }
            return out;
        }
    }

    /** What each certificate column is, in one line each (metrics.json {@code result.explanation}, the report page). */
    static Map<String, String> explanation(double sigma, boolean monteCarlo) {
        Map<String, String> m = new LinkedHashMap<>();
        if (monteCarlo) {
            m.put(MONTE_CARLO, MONTE_CARLO_METHOD + ", probabilistic: Cohen et al.'s CERTIFY (N Monte Carlo samples at σ " + sigma
                    + ") on the heat-smoothed model v with the single pass's class ĉ fixed; r = σΦ⁻¹(p_A), p_A a lower confidence "
                    + "bound on P(v(x + δ) = ĉ), holding with probability ≥ 1 − α for the smoothed classifier, which the single "
                    + "pass inherits only where the two agree");
        }
        m.put(LIPSCHITZ, LIPSCHITZ_METHOD + ", heuristic (not certified): r = σ√(π/2)(v₁ − v₂) from the top two softmax values "
                + "of one pass, the Lipschitz radius of a Gaussian average of a [0, 1]-valued function; it holds only insofar as "
                + "the model is such an average");
        m.put(PHI_INVERSE, PHI_INVERSE_METHOD + ", heuristic (not certified): r = (σ/2)(Φ⁻¹(v₁) − Φ⁻¹(v₂)) from the same pass, "
                + "Salman et al.'s radius under the same assumption");
        return m;
    }

    /** Certificate (a): CERTIFY's estimation with the single pass's class fixed. */
    record MonteCarlo(RandomizedSmoothing.Config config) implements CertificationStep {
        @Override public List<Column> columns() {
            return List.of(new Column(MONTE_CARLO, Certificate.Kind.PROBABILISTIC, config.alpha()));
        }

        @Override public List<Outcome> certify(Module model, Tensor xs, long[] indices, List<Map<String, Certificate>> earlier) {
            int[] cHat = new int[indices.length];
            for (int i = 0; i < indices.length; i++) cHat[i] = earlier.get(i).get(LIPSCHITZ).prediction();
            List<Outcome> out = new ArrayList<>();
            for (RandomizedSmoothing.Estimate e : new RandomizedSmoothing(config).certifyClasses(model, xs, indices, cHat)) {
                Map<String, Certificate> m = new LinkedHashMap<>();
                m.put(MONTE_CARLO, new Certificate(e.certificate().prediction(), e.certificate().radius(), Certificate.Kind.PROBABILISTIC,
                        config.alpha(), MONTE_CARLO_METHOD));
                out.add(new Outcome(m, e.mostFrequent()));
            }
            return out;
        }
    }
}
