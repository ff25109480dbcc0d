package dev.tikhon.certify;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

/**
 * The single-pass radii of a heat-smoothed model v (docs/methods.md §5 (b) and (c)): one deterministic
 * forward pass gives ĉ = argmax v(x) and, with v₍₁₎ ≥ v₍₂₎ the two largest softmax outputs,
 *
 * <pre>
 * (b) R = σ √(π/2) (v₍₁₎ − v₍₂₎)          Lipschitz constant √(2/π)/σ of v_c − v_c' for Gaussian
 *                                          averages of [0, 1]-valued functions; capped at σ√(π/2)
 * (c) R = (σ/2) (Φ⁻¹(v₍₁₎) − Φ⁻¹(v₍₂₎))   Φ⁻¹ of such an average is 1/σ-Lipschitz (Salman et al.)
 * </pre>
 *
 * Both are {@link Certificate.Kind#HEURISTIC}: they hold only insofar as v equals the Gaussian
 * average of a [0, 1]-valued function, which a trained v only approximates.
 */
public final class GaussianAverageCertificate implements Certifier {
    /** Which single-pass radius. */
    public enum Bound { LIPSCHITZ, PHI_INVERSE }

    /** Probabilities are clamped to [ε, 1 − ε] before Φ⁻¹ so that a saturated softmax gives a finite radius. */
    static final double EPS = 1e-7;

    private final double sigma;
    private final Bound bound;

    public GaussianAverageCertificate(double sigma, Bound bound) {
        if (!(sigma > 0)) throw new IllegalArgumentException("--sigma must be positive, got " + sigma);
        this.sigma = sigma;
        this.bound = bound;
    }

    /** Both radii and the class from softmax outputs [K] of one input. */
    public record Radii(int prediction, double top, double second, double lipschitz, double phiInverse) {}

    /** The radii of (b) and (c) for σ from the two largest probabilities. */
    public static Radii radii(double sigma, double[] probabilities) {
        int a = 0;
        for (int c = 1; c < probabilities.length; c++) if (probabilities[c] > probabilities[a]) a = c;
        double second = 0;
        for (int c = 0; c < probabilities.length; c++) if (c != a) second = Math.max(second, probabilities[c]);
        double top = probabilities[a];
        double b = sigma * Math.sqrt(Math.PI / 2) * (top - second);
        double c = sigma / 2 * (ClopperPearson.normalQuantile(clamp(top)) - ClopperPearson.normalQuantile(clamp(second)));
        return new Radii(a, top, second, b, Math.max(c, 0));
    }

    private static double clamp(double p) {
        return Math.min(Math.max(p, EPS), 1 - EPS);
    }

    /** Softmax outputs of v for a batch, without gradients, in evaluation mode: [N, K] as doubles per row. */
    public static double[][] probabilities(Module model, Tensor batch) {
        boolean was = model.isTraining();
        model.train(false);
        try (Autograd.Guard g = Autograd.noGrad(); Scope s = Scope.open()) {
            Tensor p = model.forward(batch).softmax(1);
            int n = (int) p.size(0), k = (int) p.size(1);
            double[] flat = p.toDoubleArray();
            double[][] out = new double[n][k];
            for (int i = 0; i < n; i++) System.arraycopy(flat, i * k, out[i], 0, k);
            return out;
        } finally {
            model.train(was);
        }
    }

    @Override public Certificate certify(Module model, Tensor x, long index) {
        Radii r = radii(sigma, probabilities(model, x.unsqueeze(0))[0]);
        return new Certificate(r.prediction(), bound == Bound.LIPSCHITZ ? r.lipschitz() : r.phiInverse(),
                Certificate.Kind.HEURISTIC, 0, bound == Bound.LIPSCHITZ ? HeatCertification.LIPSCHITZ_METHOD : HeatCertification.PHI_INVERSE_METHOD);
    }

    @Override public String describe() {
        return bound == Bound.LIPSCHITZ ? "single pass, (b) σ√(π/2)(v₍₁₎ − v₍₂₎), σ " + sigma
                : "single pass, (c) (σ/2)(Φ⁻¹(v₍₁₎) − Φ⁻¹(v₍₂₎)), σ " + sigma;
    }
}
