package dev.tikhon.transport;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;
import dev.tikhon.flow.TimeField;

/**
 * The normalizing flow recovered from entropy–Kantorovich potentials (docs/methods.md §7). With φ relative to
 * Lebesgue measure and ψ relative to N (see {@link EntropicDual}),
 * <pre>
 *   φₜ = ε log H_{tε}[e^{φ/ε}],   ψₜ = ε log H_{(1−t)ε}[e^{ψ/ε} N],   ρₜ = exp((φₜ + ψₜ)/ε),
 *   vₜ = −∇(φₜ − ψₜ)/2 = ∇(ψₜ − φₜ)/2,
 * </pre>
 * H_s the Gaussian average of variance s. The sign: e^{φₜ/ε} solves the forward heat equation
 * ∂ₜf = (ε/2)Δf and e^{ψₜ/ε} the backward one ∂ₜg = −(ε/2)Δg, so ∂ₜ(fg) = (ε/2)(gΔf − fΔg)
 * = −∇·(fg · (ε/2)∇log(g/f)): ρₜ = fg moves with vₜ = (ε/2)∇log(g/f) = ∇(ψₜ − φₜ)/2, from ρ₀ (the data
 * model) at t = 0 to ρ₁ = N at t = 1 — the direction of {@link dev.tikhon.flow.ContinuousFlow}.
 * {@code EkFieldTest} checks the sign numerically (the other sign does not carry data to the Gaussian).
 *
 * <p>The heat averages are Monte Carlo means over {@code flowSamples} standard normal draws wᵢ, drawn
 * once (a buffer saved with the model), the same for every point and every t: the field is a fixed
 * smooth function of (t, z), so the change of variables with its exact divergence is the exact
 * log-density of the flow it defines (which integrates to 1 whatever the Monte Carlo error).
 */
public final class EkField extends TimeField {
    /** The settled sign: v = SIGN · ∇(φₜ − ψₜ)/2. */
    public static final double SIGN = -1;

    private final Potential phi, psi;
    private final double eps;
    private final Tensor[] noise;
    private final int dim;
    private double sign = SIGN;

    public EkField(Potential phi, Potential psi, int dim, double eps, int flowSamples) {
        this.phi = child("phi", phi);
        this.psi = child("psi", psi);
        this.eps = eps;
        this.dim = dim;
        this.noise = buffer("flow_noise", Tensor.randn(flowSamples, dim));
    }

    public Potential phi() { return phi; }

    public Potential psi() { return psi; }

    public double epsilon() { return eps; }

    /** The Monte Carlo draws of the heat averages, [M, d]. */
    public Tensor noise() { return noise[0]; }

    /** For the sign test only: the field with the other sign. */
    public EkField withSign(double s) {
        this.sign = s;
        return this;
    }

    /** φₜ(z). */
    public Tensor phiAt(double t, Tensor z) {
        return EntropicDual.logHeat(phi, z, Math.sqrt(clamp(t) * eps), noise[0].to(z.dtype()), eps, false);
    }

    /** ψₜ(z) (including the factor N of ψ's reference measure). */
    public Tensor psiAt(double t, Tensor z) {
        return EntropicDual.logHeat(psi, z, Math.sqrt((1 - clamp(t)) * eps), noise[0].to(z.dtype()), eps, true);
    }

    /** log ρₜ(z) = (φₜ + ψₜ)/ε: the interpolating density of the potentials (exact only at their optimum). */
    public Tensor logDensity(double t, Tensor z) { return phiAt(t, z).add(psiAt(t, z)).div(eps); }

    private static double clamp(double t) { return Math.max(0, Math.min(1, t)); }

    @Override public Tensor velocity(double t, Tensor z) {
        boolean record = Autograd.isGradEnabled();
        try (Autograd.Guard g = Autograd.enableGrad()) {
            Tensor zz = z.requiresGrad() ? z : z.detach().requiresGrad(true);
            Tensor diff = phiAt(t, zz).sub(psiAt(t, zz));
            Tensor v = Autograd.grad(diff.sum(), zz, record).mul(0.5 * sign);
            return record ? v : v.detach();
        }
    }

    @Override public String describe() {
        return "EK flow (ε " + eps + ", " + noise[0].size(0) + " fixed heat samples): φ " + phi.describe() + ", ψ " + psi.describe();
    }
}
