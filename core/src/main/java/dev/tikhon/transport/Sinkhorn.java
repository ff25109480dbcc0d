package dev.tikhon.transport;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;

/**
 * Discrete entropic optimal transport between two weighted point clouds by Sinkhorn's algorithm in
 * the log domain (every exponential of ε-scaled potentials goes through log-sum-exp, so small ε
 * neither overflows nor underflows). With cost C_ij = ½‖x_i − y_j‖², weights a, b, the problem is
 * <pre>
 *   OT_ε = min_π ⟨C, π⟩ + ε KL(π | a⊗b),   KL(π|μ) = Σ π log(π/μ) − Σ π + Σ μ,
 * </pre>
 * with dual max_{f,g} ⟨f, a⟩ + ⟨g, b⟩ − ε Σ_ij a_i b_j (e^{(f_i + g_j − C_ij)/ε} − 1) and optimal plan
 * π_ij = a_i b_j e^{(f_i + g_j − C_ij)/ε}. The dual of docs/methods.md §7 (without the "+ε") is OT_ε − ε at the optimum.
 * Updates: f_i = −ε LSE_j((g_j − C_ij)/ε + log b_j), g_j = −ε LSE_i((f_i − C_ij)/ε + log a_i).
 */
public final class Sinkhorn {
    private Sinkhorn() {}

    /**
     * A solved problem. {@code marginalError} is ‖π1 − a‖₁ + ‖πᵀ1 − b‖₁ of the returned plan;
     * {@code primal} is ⟨C, π⟩ + ε KL(π | a⊗b) evaluated on the plan, {@code dual} the dual objective
     * on (f, g): they agree when the marginals are met.
     */
    public record Result(Tensor f, Tensor g, Tensor logPlan, double primal, double dual, double marginalError,
                         int iterations, boolean converged) {
        /** The plan π (n × m). */
        public Tensor plan() { return logPlan.exp(); }
    }

    /** C_ij = ½‖x_i − y_j‖² for x [n, d], y [m, d]. */
    public static Tensor cost(Tensor x, Tensor y) {
        Tensor xx = x.square().sum(1, true);                    // [n, 1]
        Tensor yy = y.square().sum(1, true).t();                // [1, m]
        return xx.add(yy).sub(x.matmul(y.t()).mul(2)).mul(0.5).clampMin(0);
    }

    /** Uniform weights on both clouds. */
    public static Result solve(Tensor x, Tensor y, double eps, double tolerance, int maxIterations) {
        int n = (int) x.size(0), m = (int) y.size(0);
        Tensor logA = Tensor.full(-Math.log(n), x.dtype(), x.device(), n);
        Tensor logB = Tensor.full(-Math.log(m), x.dtype(), x.device(), m);
        return solve(cost(x, y), logA, logB, eps, tolerance, maxIterations);
    }

    /**
     * Solves for a cost matrix and log-weights (each summing to 1 after exp). Stops when the
     * row-marginal error (the column marginals are exact after each g-update) falls below
     * {@code tolerance}, or after {@code maxIterations}.
     */
    public static Result solve(Tensor c, Tensor logA, Tensor logB, double eps, double tolerance, int maxIterations) {
        if (!(eps > 0)) throw new IllegalArgumentException("ε must be positive, got " + eps);
        try (Autograd.Guard guard = Autograd.noGrad()) {
            Tensor cOverEps = c.div(eps);
            Tensor a = logA.exp();
            Tensor f = c.zerosLike().select(1, 0), g = c.zerosLike().select(0, 0);
            int it = 0;
            double err = Double.POSITIVE_INFINITY;
            while (it < maxIterations) {
                // f_i = −ε LSE_j((g_j − C_ij)/ε + log b_j)
                f = g.div(eps).add(logB).unsqueeze(0).sub(cOverEps).logsumexp(1, false).mul(-eps);
                g = f.div(eps).add(logA).unsqueeze(1).sub(cOverEps).logsumexp(0, false).mul(-eps);
                it++;
                if (it % 5 == 0 || it == maxIterations) {
                    Tensor logPlan = logPlan(f, g, cOverEps, logA, logB, eps);
                    err = logPlan.exp().sum(1, false).sub(a).abs().sum().item();
                    if (err < tolerance) break;
                }
            }
            Tensor logPlan = logPlan(f, g, cOverEps, logA, logB, eps);
            Tensor plan = logPlan.exp();
            Tensor b = logB.exp();
            double marginal = plan.sum(1, false).sub(a).abs().sum().item() + plan.sum(0, false).sub(b).abs().sum().item();
            Tensor logProduct = logA.unsqueeze(1).add(logB.unsqueeze(0));
            double mass = plan.sum().item();
            double kl = plan.mul(logPlan.sub(logProduct)).sum().item() - mass + 1;
            double primal = plan.mul(c).sum().item() + eps * kl;
            double dual = f.mul(a).sum().item() + g.mul(b).sum().item() - eps * (mass - 1);
            return new Result(f.keep(), g.keep(), logPlan.keep(), primal, dual, marginal, it, marginal < 2 * tolerance);
        }
    }

    private static Tensor logPlan(Tensor f, Tensor g, Tensor cOverEps, Tensor logA, Tensor logB, double eps) {
        return f.div(eps).add(logA).unsqueeze(1).add(g.div(eps).add(logB).unsqueeze(0)).sub(cOverEps);
    }

    /**
     * The dual objective of docs/methods.md §7 with the constant that makes it equal OT_ε at the optimum, for
     * potential values f on x (uniform weights) and g on y:
     * mean f + mean g − ε mean_ij exp((f_i + g_j − C_ij)/ε) + ε, the mean of exponentials by log-sum-exp.
     */
    public static double dual(Tensor f, Tensor g, Tensor c, double eps) {
        try (Autograd.Guard guard = Autograd.noGrad()) {
            Tensor z = f.unsqueeze(1).add(g.unsqueeze(0)).sub(c).div(eps).flatten(0, 1);
            double logMean = z.logsumexp(0, false).item() - Math.log(z.size(0));
            return f.mean().item() + g.mean().item() - eps * Math.exp(logMean) + eps;
        }
    }
}
