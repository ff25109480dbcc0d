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
        List<CertificationStep> steps = new ArrayList<>();
        steps.add(new SinglePass(sigma));
        if (rs != null) steps.add(new MonteCarlo(rs.config()));
        return new CertificationRun.Plan("heat", "heat, single pass + " + (rs != null ? rs.describe() : "no Monte Carlo"), steps,
                rs != null ? List.of(MONTE_CARLO, LIPSCHITZ, PHI_INVERSE) : List.of(LIPSCHITZ, PHI_INVERSE), 1, null);
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

    /** Certificate (a): CERTIFY's estimation with the single pass's class fixed. */
    record MonteCarlo(RandomizedSmoothing.Config config) implements CertificationStep {
        @Override public List<Column> columns() {
            return List.of(new Column(MONTE_CARLO, Certificate.Kind.PROBABILISTIC, config.alpha()));
        }

        @Override public List<Outcome> certify(Module model, Tensor xs, long[] indices, List<Map<String, Certificate>> earlier) {
            RandomizedSmoothing rs = new RandomizedSmoothing(config);
            List<Outcome> out = new ArrayList<>();
            for (int i = 0; i < indices.length; i++) {
                int cHat = earlier.get(i).get(LIPSCHITZ).prediction();
                RandomizedSmoothing.Estimate e = rs.certifyClass(model, xs.select(0, i), indices[i], cHat);
                Map<String, Certificate> m = new LinkedHashMap<>();
                m.put(MONTE_CARLO, new Certificate(e.certificate().prediction(), e.certificate().radius(), Certificate.Kind.PROBABILISTIC,
                        config.alpha(), MONTE_CARLO_METHOD));
                out.add(new Outcome(m, e.mostFrequent()));
            }
            return out;
        }
    }
}
