package dev.tikhon.lipschitz;

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
    /** The threat model of the radius. */
    public enum Norm { L2, LINF }

    /** One certified input. */
    public record Result(int prediction, int runnerUp, double margin, double radius, double runnerUpBound) {}

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
     * The plan of {@code certify --method lipschitz} for {@link dev.tikhon.certify.CertificationRun}: this certifier as one
     * step, column "lipschitz" of kind sound, batches of {@code batchSize}; its pass is the classification.
     */
    public static CertificationRun.Plan plan(Norm norm, int batchSize) {
        LipschitzCertifier c = new LipschitzCertifier(norm);
        CertificationStep step = new CertificationStep() {
            @Override public List<Column> columns() { return List.of(new Column("lipschitz", Certificate.Kind.SOUND, 0)); }

            @Override public boolean classifies() { return true; }

            @Override public List<Outcome> certify(Module model, Tensor xs, long[] indices, List<java.util.Map<String, Certificate>> earlier) {
                List<Outcome> out = new ArrayList<>();
                for (Certificate cert : c.certifyBatch(model, xs, indices)) out.add(new Outcome(java.util.Map.of("lipschitz", cert), -1));
                return out;
            }
        };
        return new CertificationRun.Plan("lipschitz", c.describe(), List.of(step), null, batchSize, null);
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
            out.add(new Result(r.prediction(), r.runnerUp(), r.margin(), radius, r.runnerUpBound()));
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
        return "lipschitz (" + (norm == Norm.L2 ? "l2" : "linf") + ", sound: margin / pairwise Lipschitz bound)";
    }
}
