package dev.tikhon.lipschitz;

import dev.tikhon.attack.Norm;
import dev.tikhon.certify.Certificate;
import dev.tikhon.certify.CertificationRun;
import dev.tikhon.certify.CertificationStep;
import dev.tikhon.certify.Certifier;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.ArrayList;
import java.util.List;

/**
 * The sound one-pass certificate: one forward pass gives the logits z, and {@link NetworkBound} turns the margin
 * into the radius r = min_{j≠c} (z_c − z_j)/L_cj (ℓ2), or r/√d (ℓ∞). The bound is computed once per model (its
 * cost is reported apart) and reused for every input; the certificate is {@link Certificate.Kind#SOUND}:
 * a proof, with no probability of failure.
 *
 * <p>The logits are computed in float64 (the model is converted for the pass and converted back, exactly), so the
 * margins are those of the real-arithmetic network the bound is about.
 */
public final class LipschitzCertifier implements Certifier, java.io.Serializable {
    /**
     * One certified input: the runner-up's margin and bound, and those of the class j the radius is attained at
     * (radius = bindingMargin / bindingBound, divided by √d for ℓ∞).
     */
    public record Result(int prediction, int runnerUp, double margin, double radius, double runnerUpBound, int binding,
                         double bindingMargin, double bindingBound) {
        public Result(int prediction, int runnerUp, double margin, double radius, double runnerUpBound) {
            this(prediction, runnerUp, margin, radius, runnerUpBound, runnerUp, margin, runnerUpBound);
        }
    }

    private final Norm norm;
    private transient Module boundModel;
    private transient NetworkBound bound;

    public LipschitzCertifier(Norm norm) { this.norm = norm; }

    /** The model's bound, computed on first use with this model and kept (power-iteration lower bounds: 50 steps). */
    public synchronized NetworkBound bound(Module model, long[] inputShape) {
        if (bound == null || boundModel != model) {
            bound = NetworkBound.of(model, inputShape, 50);
            boundModel = model;
        }
        return bound;
    }

    public Norm norm() { return norm; }

    @Override public Certificate certify(Module model, Tensor x, long index) {
        return certifyBatch(model, x.unsqueeze(0), new long[]{index}).get(0);
    }

    /** One forward pass for the whole batch. */
    @Override public List<Certificate> certifyBatch(Module model, Tensor xs, long[] indices) {
        List<Certificate> out = new ArrayList<>();
        for (Result r : certifyBatch(model, xs)) out.add(new Certificate(r.prediction(), r.radius(), Certificate.Kind.SOUND, 0, "lipschitz"));
        return out;
    }

    /**
     * The plan of {@code certify --method lipschitz} for {@link dev.tikhon.certify.CertificationRun}: {@link Step} in
     * batches of {@code batchSize}; its pass is the classification.
     */
    public static CertificationRun.Plan plan(Norm norm, int batchSize) {
        Step step = new Step(new LipschitzCertifier(norm));
        return new CertificationRun.Plan("lipschitz", step.certifier().describe(), List.of(step), null, batchSize, null);
    }

    /**
     * This certifier as a certification step: column "lipschitz" (sound), with per-image extra columns
     * {@code binding_class} (the class j at which r = min_j (z_c − z_j)/L_cj is attained: often, not always, the
     * runner-up), {@code margin} (z_c − z_j for that j), {@code L} (the bound L_cj on that margin's Lipschitz constant),
     * so that radius = margin / L in ℓ2 (margin / L / √d in ℓ∞), and {@code gradient_norm} (‖∇(z_c − z_j)‖₂ at the image
     * for the same j: a lower bound on the same constant, so gradient_norm ≤ L is a check of the bound); then
     * {@code runner_up_class} and {@code runner_up_margin} (the smallest logit margin, which may give a larger radius).
     * Its summary is the model's bound (layers, body, logits, largest pair; computed once and timed) and how tight it is
     * on the data.
     */
    public record Step(LipschitzCertifier certifier) implements CertificationStep {
        public static final String BINDING = "binding_class", MARGIN = "margin", L = "L", GRADIENT = "gradient_norm",
                RUNNER_UP = "runner_up_class", RUNNER_UP_MARGIN = "runner_up_margin";

        @Override public List<Column> columns() { return List.of(new Column("lipschitz", Certificate.Kind.SOUND, 0)); }

        @Override public List<String> extraColumns() { return List.of(BINDING, MARGIN, L, GRADIENT, RUNNER_UP, RUNNER_UP_MARGIN); }

        @Override public boolean classifies() { return true; }

        /** The model's bound, once, before the images (its time is reported apart, not in any image's). */
        @Override public void warmUp(Module model, Tensor x) {
            long[] shape = x.shape();
            certifier.timedBound(model, java.util.Arrays.copyOfRange(shape, 1, shape.length));
        }

        @Override public List<Outcome> certify(Module model, Tensor xs, long[] indices, List<java.util.Map<String, Certificate>> earlier) {
            long[] shape = xs.shape();
            certifier.timedBound(model, java.util.Arrays.copyOfRange(shape, 1, shape.length));   // computed already, but on an executor
            DType was = model.dtype();
            model.to(DType.FLOAT64);   // for both passes of the batch (exact, and undone below)
            try {
                long t0 = System.nanoTime();
                List<Result> rs = certifier.certifyBatch(model, xs);
                // the forward pass with its margins and radii is the classification (and the certificate); the margin
                // gradients after it, a check of the bound, are booked as certification
                double pass = (System.nanoTime() - t0) / 1e9 / Math.max(1, rs.size());
                int[] binding = new int[rs.size()];
                for (int i = 0; i < binding.length; i++) binding[i] = rs.get(i).binding();
                double[] grads = LipschitzCertification.marginGradients(model, xs, rs, binding);
                List<Outcome> out = new ArrayList<>();
                for (int i = 0; i < rs.size(); i++) {
                    Result r = rs.get(i);
                    Certificate cert = new Certificate(r.prediction(), r.radius(), Certificate.Kind.SOUND, 0, "lipschitz");
                    java.util.Map<String, Double> extras = new java.util.HashMap<>();
                    extras.put(BINDING, (double) r.binding());
                    extras.put(MARGIN, r.bindingMargin());
                    extras.put(L, r.bindingBound());
                    extras.put(GRADIENT, grads[i]);
                    extras.put(RUNNER_UP, (double) r.runnerUp());
                    extras.put(RUNNER_UP_MARGIN, r.margin());
                    out.add(new Outcome(java.util.Map.of("lipschitz", cert), -1, extras, pass));
                }
                return out;
            } finally {
                model.to(was);
            }
        }

        @Override public java.util.Map<String, Object> summary(Module model, long[] inputShape, List<CertificationRun.Image> images) {
            NetworkBound bound = certifier.timedBound(model, inputShape);
            int classes;
            try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
                long[] one = new long[inputShape.length + 1];
                one[0] = 1;
                System.arraycopy(inputShape, 0, one, 1, inputShape.length);
                boolean training = model.isTraining();
                model.train(false);
                classes = (int) model.forward(Tensor.zeros(model.dtype(), model.device(), one)).size(1);
                model.train(training);
            }
            double maxGrad = 0, maxRatio = 0;
            for (CertificationRun.Image im : images) {
                double g = im.extras().getOrDefault(GRADIENT, 0.0), l = im.extras().getOrDefault(L, 0.0);
                maxGrad = Math.max(maxGrad, g);
                if (l > 0) maxRatio = Math.max(maxRatio, g / l);
            }
            java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("norm", certifier.norm().toString());
            m.put("pairwise_form", bound.pairwise());
            m.put("lipschitz_bound_body", bound.body());
            m.put("lipschitz_bound_logits", bound.total());
            m.put("lipschitz_bound_max_pair", bound.maxPairwise(classes));
            m.put("max_margin_gradient_norm", maxGrad);
            m.put("max_gradient_over_bound", maxRatio);
            m.put("bound_seconds", certifier.boundSeconds);
            m.put("layers", LipschitzCertification.layerTable(bound));
            m.put("note", String.format(java.util.Locale.ROOT, "bound: body %.4g, logits %.4g, largest pairwise L_cj %.4g (%.2f s once); "
                    + "largest margin gradient on the data %.4g (%.1f%% of its L_cj at most)", bound.body(), bound.total(),
                    bound.maxPairwise(classes), certifier.boundSeconds, maxGrad, 100 * maxRatio));
            return m;
        }
    }

    private transient double boundSeconds = Double.NaN;

    /** {@link #bound}, timing its first computation for this model ({@code bound_seconds} of the summary). */
    synchronized NetworkBound timedBound(Module model, long[] inputShape) {
        if (bound != null && boundModel == model) return bound;
        long t0 = System.nanoTime();
        NetworkBound b = bound(model, inputShape);
        boundSeconds = (System.nanoTime() - t0) / 1e9;
        return b;
    }

    /** Certifies a batch [N, ...] in one float64 forward pass. */
    public List<Result> certifyBatch(Module model, Tensor xs) {
        long[] shape = xs.shape();
        NetworkBound b = bound(model, java.util.Arrays.copyOfRange(shape, 1, shape.length));
        double[][] z = logits64(model, xs);
        List<Result> out = new ArrayList<>(z.length);
        for (double[] row : z) {
            NetworkBound.Radius r = b.radius(row);
            double radius = norm == Norm.L2 ? r.l2() : r.linf(b.inputSize());
            out.add(new Result(r.prediction(), r.runnerUp(), r.margin(), radius, r.runnerUpBound(), r.binding(), r.bindingMargin(),
                    r.bindingBound()));
        }
        return out;
    }

    /**
     * The model's logits in float64, in evaluation mode; the model is restored to its dtype and mode (a model already
     * in float64 is not converted: certify many batches with {@code model.to(DType.FLOAT64)} once around them).
     */
    static double[][] logits64(Module model, Tensor xs) {
        DType was = model.dtype();
        boolean training = model.isTraining();
        model.train(false);
        if (was != DType.FLOAT64) model.to(DType.FLOAT64);
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            Tensor z = model.forward(xs.to(DType.FLOAT64)).cpu();
            int n = (int) z.size(0), k = (int) z.size(1);
            double[] flat = z.contiguous().toDoubleArray();
            double[][] out = new double[n][k];
            for (int i = 0; i < n; i++) System.arraycopy(flat, i * k, out[i], 0, k);
            return out;
        } finally {
            if (was != DType.FLOAT64) model.to(was);
            model.train(training);
        }
    }

    @Override public String describe() {
        return "lipschitz (" + norm + ", sound: margin / pairwise Lipschitz bound)";
    }
}
