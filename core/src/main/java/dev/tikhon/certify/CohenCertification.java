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
            double[] each = new double[timed];
            double total = 0;
            for (int i = 0; i < timed; i++) {
                dev.tikhon.engine.Tensor x = CertificationRun.image(data, i, device);
                long t0 = System.nanoTime();
                rs.predict(model, x, i);
                each[i] = (System.nanoTime() - t0) / 1e9;
                total += each[i];
            }
            return new CertificationRun.Timing(total / timed, timed, each);
        };
        return new CertificationRun.Plan("cohen", rs.describe(), List.of(new Step(config)), null, config.imagesPerBatch(), predict);
    }

    /** Extra column: the base model's class in one noise-free forward pass (its clean accuracy, beside the smoothed classifier's). */
    public static final String BASE_PREDICTION = "base_prediction";

    /**
     * CERTIFY on each image; its Monte Carlo majority class is recorded too, and the base model's own class in one
     * noise-free forward pass ({@value #BASE_PREDICTION}: one pass beside CERTIFY's N₀ + N, counted in certification time).
     */
    record Step(RandomizedSmoothing.Config config) implements CertificationStep {
        @Override public List<Column> columns() {
            return List.of(new Column("cohen", Certificate.Kind.PROBABILISTIC, config.alpha()));
        }

        @Override public List<String> extraColumns() { return List.of(BASE_PREDICTION); }

        @Override public List<Outcome> certify(Module model, Tensor xs, long[] indices, List<Map<String, Certificate>> earlier) {
            long[] base;
            boolean was = model.isTraining();
            model.train(false);
            try (dev.tikhon.engine.Scope s = dev.tikhon.engine.Scope.open(); dev.tikhon.engine.Autograd.Guard g = dev.tikhon.engine.Autograd.noGrad()) {
                base = model.forward(xs).argmax(1).cpu().toLongArray();
            } finally {
                model.train(was);
            }
            List<Outcome> out = new ArrayList<>();
            int i = 0;
            for (RandomizedSmoothing.Estimate e : new RandomizedSmoothing(config).certifyWithCounts(model, xs, indices)) {
                Map<String, Certificate> m = new LinkedHashMap<>();
                m.put("cohen", e.certificate());
                out.add(new Outcome(m, e.mostFrequent(), Map.of(BASE_PREDICTION, (double) base[i++])));
            }
            return out;
        }

        /** The base model's clean accuracy (one noise-free pass per image), where every image has it (a run resumed from an older record may not). */
        @Override public Map<String, Object> summary(Module model, long[] inputShape, List<CertificationRun.Image> images) {
            if (images.stream().anyMatch(im -> !im.extras().containsKey(BASE_PREDICTION))) return Map.of();
            long right = images.stream().filter(im -> im.extras().get(BASE_PREDICTION) == im.label()).count();
            return Map.of("base_model_clean_accuracy", right / (double) images.size());
        }
    }
}
