package dev.tikhon.bounds;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.List;

/**
 * Lower bounds on the distance to the nearest adversarial example from first- and second-order
 * information of the margin loss ℓ (docs/methods.md §3; Finlay &amp; Oberman):
 *
 * <pre>
 * L-bound:  d ≥ max(−ℓ(x), 0) / L                              L = Lipschitz constant of ℓ in the dual norm
 * C-bound:  d ≥ (−‖g‖ + √(‖g‖² + 2C·max(−ℓ, 0))) / C          g = ∇ₓℓ(x), C ≥ every positive Hessian eigenvalue
 * </pre>
 *
 * Both are proofs only if L and C bound the whole region. Here, as in the paper, L and C are
 * <em>estimates</em>: the largest gradient norm and the largest Hessian eigenvalue measured over the
 * evaluated points. The results are therefore estimated bounds, reported as such, and checked against
 * the attacks on every run.
 */
public final class Bounds {
    private Bounds() {}

    /**
     * Local first- and second-order quantities of ℓ at each example.
     *
     * @param margin    ℓ(x) (negative when correctly classified)
     * @param gradDual  ‖∇ₓℓ‖ in the dual of the threat norm (ℓ1 for ℓ∞, ℓ2 for ℓ2)
     * @param grad2     ‖∇ₓℓ‖₂
     * @param curvature largest Hessian eigenvalue of ℓ at x (Lanczos), or null when not computed
     */
    public record Local(double[] margin, double[] gradDual, double[] grad2, double[] curvature) {}

    /** ℓ, its gradient norms and (when {@code lanczosSteps > 0}) the top Hessian eigenvalue, for one batch. */
    public static Local local(Module model, Tensor x, Tensor y, Norm norm, int lanczosSteps) {
        Tensor input = x.detach().requiresGrad(true);
        Tensor margin = MarginLoss.of(model.forward(input), y);
        boolean curvature = lanczosSteps > 0;
        Tensor g = Autograd.grad(List.of(margin.sum()), List.of(input), null, curvature, curvature).get(0);
        double[] m = margin.detach().toDoubleArray();
        double[] dual = g.detach().normPerExample(norm.dualP()).toDoubleArray();
        double[] two = g.detach().normPerExample(2).toDoubleArray();
        double[] lambda = null;
        if (curvature) {
            long n = x.size(0), dim = x.numel() / n;
            long[] shape = x.shape();
            lambda = Lanczos.largestEigenvalues(v -> Autograd.grad(List.of(g.mul(v.reshape(shape)).sum()), List.of(input), null, false, true)
                    .get(0).reshape(n, dim), x.detach().reshape(n, dim), lanczosSteps);
        }
        return new Local(m, dual, two, lambda);
    }

    /** max(−ℓ, 0) / L. */
    public static double lBound(double margin, double lipschitz) {
        double m = Math.max(-margin, 0);
        return m == 0 ? 0 : lipschitz > 0 ? m / lipschitz : Double.POSITIVE_INFINITY;
    }

    /**
     * The C-bound in ℓ2, written as 2m / (‖g‖ + √(‖g‖² + 2Cm)) — algebraically the formula above, but exact
     * in the limit C → 0 (where it becomes the linear bound m/‖g‖) and free of cancellation.
     */
    public static double cBound(double margin, double grad2, double curvature) {
        double m = Math.max(-margin, 0);
        if (m == 0) return 0;
        double c = Math.max(curvature, 0);
        double denom = grad2 + Math.sqrt(grad2 * grad2 + 2 * c * m);
        return denom > 0 ? 2 * m / denom : Double.POSITIVE_INFINITY;
    }
}
