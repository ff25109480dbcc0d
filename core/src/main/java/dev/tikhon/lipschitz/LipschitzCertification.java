package dev.tikhon.lipschitz;

import dev.tikhon.attack.Norm;
import dev.tikhon.certify.Certificate;
import dev.tikhon.certify.CertificationRun;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.report.Csv;
import dev.tikhon.report.Progress;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sound one-pass certification of the first images of a data set, in batches: the model's bound once
 * ({@link NetworkBound}, timed apart), then one float64 forward pass per batch. Beside the bound it measures the
 * largest gradient norm of the certified margin z_c − z_j (j the runner-up) seen on the data: a lower bound on that
 * margin's true Lipschitz constant, so gradient / L_cj ≤ 1 always (a check of the bound), and its size shows how
 * loose the bound is.
 */
public final class LipschitzCertification {
    private LipschitzCertification() {}

    /** One image: the certified margin, radius and time (the batch's time divided by its size). */
    public record Image(long index, long label, int prediction, double margin, double radius, double seconds,
                        double gradientNorm, double runnerUpBound) {
        public boolean correct() { return prediction == label; }
    }

    /**
     * @param boundSeconds     time to compute the sound bound, once per model
     * @param maxPairBound     max over class pairs of L_cj, the bound on every margin's Lipschitz constant
     * @param maxGradientNorm  the largest ‖∇(z_c − z_runnerUp)‖₂ over the images (ℓ2; a lower bound on the constant)
     * @param maxGradientRatio the largest ‖∇(z_c − z_runnerUp)‖₂ / L_c,runnerUp (≤ 1 when the bound is sound)
     */
    public record Result(Norm norm, NetworkBound bound, List<Image> images, double boundSeconds,
                         double maxPairBound, double maxGradientNorm, double maxGradientRatio) {

        public double cleanAccuracy() { return images.stream().filter(Image::correct).count() / (double) images.size(); }

        public double certifiedAccuracy(double r) {
            return images.stream().filter(i -> i.correct() && i.radius() >= r).count() / (double) images.size();
        }

        public double meanSeconds() { return images.stream().mapToDouble(Image::seconds).average().orElse(Double.NaN); }


        /** As a {@link CertificationRun.Result} with one deterministic certificate "lipschitz", for the shared curves and tables. */
        public CertificationRun.Result asCertificationRun() {
            List<CertificationRun.Image> out = new ArrayList<>();
            String method = "lipschitz-" + norm;
            for (Image i : images) {
                Certificate c = new Certificate(i.prediction(), i.radius(), Certificate.Kind.SOUND, 0, method);
                out.add(new CertificationRun.Image(i.index(), i.label(), i.prediction(), Map.of("lipschitz", c), i.seconds(), i.seconds(), -1));
            }
            return new CertificationRun.Result("lipschitz", out, List.of("lipschitz"), Double.NaN, 0, Double.NaN);
        }

        public Map<String, Object> summary() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("method", "lipschitz");
            m.put("kind", "sound");
            m.put("norm", norm.toString());
            m.put("images", images.size());
            m.put("clean_accuracy", cleanAccuracy());
            Map<String, Double> acc = new LinkedHashMap<>();
            for (double r : CertificationRun.RADII) acc.put(String.valueOf(r), certifiedAccuracy(r));
            m.put("certified_accuracy", acc);
            m.put("pairwise_form", bound.pairwise());
            m.put("lipschitz_bound_body", bound.body());
            m.put("lipschitz_bound_logits", bound.total());
            m.put("lipschitz_bound_max_pair", maxPairBound);
            m.put("max_margin_gradient_norm", maxGradientNorm);
            m.put("max_gradient_over_bound", maxGradientRatio);
            m.put("bound_seconds", boundSeconds);
            m.put("certify_ms_per_image", 1000 * meanSeconds());
            m.put("layers", layerTable(bound));
            return m;
        }

        /** {@code certify.csv}: index, label, prediction, margin, radius, correct, time. */
        public void writeCsv(Path file) {
            List<List<Object>> rows = new ArrayList<>();
            for (Image i : images) {
                rows.add(List.of(i.index(), i.label(), i.prediction(), i.margin(), i.radius(), i.correct() ? 1 : 0, 1000 * i.seconds()));
            }
            Csv.write(file, List.of("index", "label", "prediction", "margin", "radius", "correct", "time_ms"), rows);
        }
    }

    /** The bound's layers as rows (layer, kind, upper, power_iteration_lower), for metrics.json and layers.csv. */
    public static List<Map<String, Object>> layerTable(NetworkBound bound) {
        List<Map<String, Object>> layers = new ArrayList<>();
        for (NetworkBound.Layer l : bound.layers()) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("layer", l.name());
            one.put("kind", l.kind());
            one.put("upper", l.upper());
            one.put("power_iteration_lower", l.lower());
            layers.add(one);
        }
        return layers;
    }

    /** Certifies the first {@code limit} images in batches of {@code batchSize}; progress steps once per image. */
    public static Result run(Module model, Dataset data, int limit, Norm norm, int batchSize, Device device,
                             Progress progress) {
        int n = Math.min(limit, data.size());
        LipschitzCertifier certifier = new LipschitzCertifier(norm);
        long[] shape = data.inputShape();
        long t0 = System.nanoTime();
        NetworkBound bound = certifier.bound(model, shape);
        double boundSeconds = (System.nanoTime() - t0) / 1e9;
        List<Image> images = new ArrayList<>(n);
        double maxGrad = 0, maxRatio = 0;
        DType was = model.dtype();
        model.to(DType.FLOAT64);   // once for all batches (exact, and undone below)
        try {
        for (int start = 0; start < n; start += batchSize) {
            int len = Math.min(batchSize, n - start);
            try (Scope s = Scope.open()) {
                long[] idx = new long[len];
                for (int i = 0; i < len; i++) idx[i] = start + i;
                Tensor ids = Tensor.fromLongs(idx, len);
                Tensor x = data.batchInputs(ids).to(device);
                long[] y = data.batchLabels(ids).toLongArray();
                long t1 = System.nanoTime();
                List<LipschitzCertifier.Result> rs = certifier.certifyBatch(model, x);
                double each = (System.nanoTime() - t1) / 1e9 / len;
                double[] grads = marginGradients(model, x, rs);
                for (int i = 0; i < len; i++) {
                    LipschitzCertifier.Result r = rs.get(i);
                    double pair = r.runnerUpBound();
                    images.add(new Image(start + i, y[i], r.prediction(), r.margin(), r.radius(), each, grads[i], pair));
                    maxGrad = Math.max(maxGrad, grads[i]);
                    if (pair > 0) maxRatio = Math.max(maxRatio, grads[i] / pair);
                }
            }
            if (progress != null) progress.step(len);
        }
        } finally {
            model.to(was);
        }
        return new Result(norm, bound, images, boundSeconds, bound.maxPairwise(data.numClasses()), maxGrad, maxRatio);
    }

    /** ‖∇ₓ(z_c − z_runnerUp)‖₂ per input, in the model's dtype (a measurement, not part of the certificate). */
    static double[] marginGradients(Module model, Tensor x, List<LipschitzCertifier.Result> rs) {
        int[] j = new int[rs.size()];
        for (int i = 0; i < j.length; i++) j[i] = rs.get(i).runnerUp();
        return marginGradients(model, x, rs, j);
    }

    /** ‖∇ₓ(z_c − z_{other[i]})‖₂ per input, in the model's dtype (a measurement, not part of the certificate). */
    static double[] marginGradients(Module model, Tensor x, List<LipschitzCertifier.Result> rs, int[] other) {
        boolean training = model.isTraining();
        model.train(false);
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.enableGrad()) {
            Tensor xi = x.detach().to(model.dtype()).requiresGrad(true);
            Tensor z = model.forward(xi);
            int n = rs.size();
            long[] c = new long[n], j = new long[n];
            for (int i = 0; i < n; i++) {
                c[i] = rs.get(i).prediction();
                j[i] = Math.max(other[i], 0);
            }
            Tensor zc = z.gather(1, Tensor.fromLongs(c, n, 1).to(z.device()));
            Tensor zj = z.gather(1, Tensor.fromLongs(j, n, 1).to(z.device()));
            Tensor grad = Autograd.grad(zc.sub(zj).sum(), xi, false);
            return grad.flatten(1, -1).norm(2, new long[]{1}, false).cpu().toDoubleArray();
        } finally {
            model.train(training);
        }
    }
}
