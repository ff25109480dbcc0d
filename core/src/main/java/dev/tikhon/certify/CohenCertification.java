package dev.tikhon.certify;

import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code certify --method cohen}: Cohen et al.'s CERTIFY on the base model, one image at a time (or
 * {@link RandomizedSmoothing.Config#imagesPerBatch} images sharing each forward pass, one unit of work), giving the
 * probabilistic certificate "cohen"; classification time is PREDICT's with the same N, measured on the driver
 * on the first {@code predictImages} images.
 */
public final class CohenCertification {
    private CohenCertification() {}

    /** The plan; {@code predictImages} 0 skips the PREDICT timing. */
    public static CertificationRun.Plan plan(RandomizedSmoothing rs, int predictImages) {
        RandomizedSmoothing.Config config = rs.config();
        CertificationRun.ClassificationTiming predict = (model, data, n, device) -> {
            int timed = Math.min(predictImages, n);
            if (timed <= 0) return new CertificationRun.Timing(Double.NaN, timed);
            rs.counts(model, CertificationRun.image(data, 0, device), 0, RandomizedSmoothing.PHASE_PREDICT, config.batchSize());   // warm-up, untimed
            long t0 = System.nanoTime();
            for (int i = 0; i < timed; i++) rs.predict(model, CertificationRun.image(data, i, device), i);
            return new CertificationRun.Timing((System.nanoTime() - t0) / 1e9 / timed, timed);
        };
        return new CertificationRun.Plan("cohen", rs.describe(), List.of(new Step(config)), null, config.imagesPerBatch(), predict);
    }

    /** CERTIFY on each image; its Monte Carlo majority class is recorded too. */
    record Step(RandomizedSmoothing.Config config) implements CertificationStep {
        @Override public List<Column> columns() {
            return List.of(new Column("cohen", Certificate.Kind.PROBABILISTIC, config.alpha()));
        }

        @Override public List<Outcome> certify(Module model, Tensor xs, long[] indices, List<Map<String, Certificate>> earlier) {
            List<Outcome> out = new ArrayList<>();
            for (RandomizedSmoothing.Estimate e : new RandomizedSmoothing(config).certifyWithCounts(model, xs, indices)) {
                Map<String, Certificate> m = new LinkedHashMap<>();
                m.put("cohen", e.certificate());
                out.add(new Outcome(m, e.mostFrequent()));
            }
            return out;
        }
    }
}
