package dev.tikhon.transport;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;

/**
 * The entropic dual between data p_D and N(0, I), cost ½‖x − y‖², in the parametrisation this
 * package uses (docs/ek.md): φ is relative to Lebesgue measure and ψ relative to N, i.e. the coupling is
 * <pre>  π(x, y) = e^{φ(x)/ε} k_ε(x, y) e^{ψ(y)/ε} N(y),   k_ε the heat kernel of variance ε (Gaussian density), </pre>
 * so that e^{φ/ε} and the data density are both functions on R^d that the heat semigroup can average.
 * The dual is
 * <pre>  D(φ, ψ) = E_{p_D} φ + E_N ψ − ε E_{y~N} exp((ψ(y) + φ^H(y))/ε) + ε,   φ^H = ε log H_ε[e^{φ/ε}], </pre>
 * φ^H(y) estimated by Monte Carlo as ε log mean_i exp(φ(y + √ε wᵢ)/ε), wᵢ ~ N(0, I) (the paper's Monte Carlo
 * transform), always through log-sum-exp. Given φ, the best ψ is the (c,ε)-transform ψ = −φ^H: that is
 * what the twin penalty α E_N (ψ + φ^H)² ties ψ to. The paper's form (docs/methods.md §7) with the product reference measure,
 * D_P(f, g) = E f + E g − ε E_{p_D⊗N} e^{(f + g − c)/ε} + ε, is the same functional under
 * f = φ − ε log p_D − (d/2) ε log(2πε), g = ψ, so at the optimum
 * <pre>  OT_ε(p_D, N) = D(φ, ψ) + ε H(p_D) − (d/2) ε log(2πε),   H the differential entropy. </pre>
 */
public final class EntropicDual {
    private EntropicDual() {}

    /** log N(z; 0, I) per row of z [..., d]: −½‖z‖² − (d/2) log 2π (over the last dimension). */
    public static Tensor logStandardNormal(Tensor z) {
        int last = z.dim() - 1;
        double d = z.size(last);
        return z.square().sum(last, false).mul(-0.5).sub(0.5 * d * Math.log(2 * Math.PI));
    }

    /**
     * ε log H_{σ²}[e^{u/ε}](z) per row of z [B, d] by Monte Carlo over the draws wᵢ: for u = p,
     * ε log mean_i exp(p(z + σ wᵢ)/ε); with {@code timesGaussian}, u = p + ε log N (a potential relative to N),
     * and the Gaussian factor is integrated exactly rather than sampled: N(z'; z, s) N(z') = N(z; 0, (1 + s))
     * N(z'; z/(1 + s), s/(1 + s)), s = σ², so
     * <pre>  H_s[e^{p/ε} N](z) = N(z; 0, (1 + s) I) · mean_i exp(p(z/(1 + s) + √(s/(1 + s)) wᵢ)/ε). </pre>
     * Sampling N as well (z + σ wᵢ with the weight N(z + σ wᵢ)) is the same expectation, but far from the origin it
     * is dominated by the one draw nearest to −z/σ, so a fixed set of draws gives a ridged, direction-dependent
     * field (docs/ek.md); the exact factor leaves only p to sample (exact for constant p).
     * {@code noise} is [M, d] (the same draws for every row: a deterministic function of z) or [B, M, d].
     * Log-sum-exp over i.
     */
    public static Tensor logHeat(Potential p, Tensor z, double sigma, Tensor noise, double eps, boolean timesGaussian) {
        long b = z.size(0), d = z.size(1);
        Tensor w = noise.dim() == 2 ? noise.unsqueeze(0) : noise;
        long m = w.size(1);
        double s = sigma * sigma;
        Tensor centre = timesGaussian ? z.div(1 + s) : z;
        double spread = timesGaussian ? Math.sqrt(s / (1 + s)) : sigma;
        Tensor points = spread == 0 ? centre.unsqueeze(1).expand(b, m, d) : centre.unsqueeze(1).add(w.mul(spread));
        Tensor flat = points.reshape(b * m, d);
        Tensor u = p.value(flat).div(eps);
        Tensor out = u.reshape(b, m).logsumexp(1, false).sub(Math.log(m));
        if (timesGaussian) out = out.add(z.square().sum(1, false).mul(-0.5 / (1 + s)).sub(0.5 * d * Math.log(2 * Math.PI * (1 + s))));
        return out.mul(eps);
    }

    /** φ^H(y) = ε log H_ε[e^{φ/ε}](y) by Monte Carlo; the (c,ε)-transform of φ is −φ^H. */
    public static Tensor heatTransform(Potential phi, Tensor y, Tensor noise, double eps) {
        return logHeat(phi, y, Math.sqrt(eps), noise, eps, false);
    }

    /**
     * The dual's estimate on a batch, its twin penalty mean (ψ + φ^H)², log of the coupling's
     * mass ∫π (1 at the optimum), the profiled dual {@code profiled} = max over constants c of
     * D(φ, ψ + c) = E φ + E ψ − ε log ∫π (attained at c = −ε log ∫π, where it equals D), and the
     * (c,ε)-transform term φ^H on the Gaussian points.
     */
    public record Terms(Tensor dual, Tensor penalty, Tensor logMass, Tensor profiled, Tensor phiH) {}

    /**
     * D and the penalty on data x [B, d] and Gaussian points y [B', d], with heat noise [B', M, d] or [M, d].
     * With {@code phiFixed} the φ terms carry no graph (the ψ step); otherwise everything is differentiable.
     */
    public static Terms evaluate(Potential phi, Potential psi, Tensor x, Tensor y, Tensor noise, double eps, boolean phiFixed) {
        Tensor phiX, phiH;
        if (phiFixed) {
            try (Autograd.Guard g = Autograd.noGrad()) {
                phiX = phi.value(x);
                phiH = heatTransform(phi, y, noise, eps);
            }
        } else {
            phiX = phi.value(x);
            phiH = heatTransform(phi, y, noise, eps);
        }
        Tensor psiY = psi.value(y);
        Tensor s = psiY.add(phiH);
        Tensor logMass = s.div(eps).logsumexp(0, false).sub(Math.log(y.size(0)));
        Tensor linear = phiX.mean().add(psiY.mean());
        Tensor dual = linear.sub(logMass.exp().mul(eps)).add(eps);
        return new Terms(dual, s.square().mean(), logMass, linear.sub(logMass.mul(eps)), phiH);
    }

    /** Differential entropy of N(m, Σ) in d dimensions: ½ log((2πe)^d det Σ). */
    public static double gaussianEntropy(double[][] sigma) {
        int d = sigma.length;
        return 0.5 * (d * Math.log(2 * Math.PI * Math.E) + Math.log(GaussianBridge.det(sigma)));
    }

    /** OT_ε in the product-reference convention (Sinkhorn's) from the value D reached here, for data of entropy h. */
    public static double productValue(double dual, double dataEntropy, int dim, double eps) {
        return dual + eps * dataEntropy - 0.5 * dim * eps * Math.log(2 * Math.PI * eps);
    }
}
