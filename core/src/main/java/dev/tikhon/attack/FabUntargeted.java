package dev.tikhon.attack;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.ArrayList;
import java.util.List;

/**
 * FAB, the untargeted Fast Adaptive Boundary attack (Croce &amp; Hein, ICML 2020; AutoAttack's {@code fab}): the
 * same step as {@link Fab FAB-T}, but at every iterate x₁ the boundary it linearizes is that of the competing class
 * closest to x₁ under the linear approximation,
 *
 * <pre>
 * t = argmin_{j≠y} |f_j(x₁) − f_y(x₁)| / ‖∇f_j(x₁) − ∇f_y(x₁)‖_q     (q: the dual norm, ℓ1 for ℓ∞, ℓ2 for ℓ2)
 * </pre>
 *
 * which needs the full input Jacobian of the logits (one backward pass per class) at each step. The first run starts
 * at x₀, later ones at a random point of the ball of half the best radius so far (each only on the points not yet
 * fooled within ε). With ε = +∞ ({@link #minimum}) every point is attacked and the smallest adversarial perturbation
 * found is returned.
 */
public record FabUntargeted(Norm norm, double eps, int steps, int restarts, double alphaMax, double eta, double beta) implements Attack {

    public FabUntargeted {
        new Fab(norm, eps, steps, restarts, 1, alphaMax, eta, beta);   // the same checks, the same messages
    }

    /** AutoAttack's untargeted FAB: 100 steps, α_max 0.1, η 1.05, β 0.9. */
    public static FabUntargeted standard(Norm norm, double eps, int restarts) {
        return new FabUntargeted(norm, eps, 100, restarts, 0.1, 1.05, 0.9);
    }

    /** The minimum-distance search: the smallest adversarial perturbation found, at any size. */
    public static FabUntargeted minimum(Norm norm, int steps, int restarts) {
        return new FabUntargeted(norm, Double.POSITIVE_INFINITY, steps, restarts, 0.1, 1.05, 0.9);
    }

    @Override public String name() { return "fab"; }

    @Override
    public Result attack(Module model, Tensor x, Tensor y) {
        Attacks.checkInputs(x, y, name());
        Fab fab = new Fab(norm, eps, steps, restarts, 1, alphaMax, eta, beta);
        Tensor x0 = x.detach();
        Result total = Attacks.none(x0);
        for (int r = 0; r < restarts; r++) {
            int[] todo = fab.open(total);
            if (todo.length == 0 || Budget.exhausted()) break;
            double[] radius = new double[todo.length];
            for (int j = 0; j < todo.length; j++) radius[j] = Math.min(total.distance()[todo[j]], eps);
            Result res = fab.runOnce(model, Attacks.rows(x0, todo), Attacks.rows(y, todo), this::closestBoundary, r > 0 ? radius : null);
            total = Attacks.merge(total, todo, res);
        }
        return fab.inBall(total, x0);
    }

    /** f_y − f_t and its gradient for the class t whose linearized boundary is closest to {@code xk}. */
    private Tensor[] closestBoundary(Tensor xk, Tensor logits, Tensor y) {
        long n = xk.size(0), classes = logits.size(1), dim = xk.numel() / n;
        List<Tensor> rows = new ArrayList<>((int) classes);
        for (int j = 0; j < classes; j++) {
            rows.add(Autograd.grad(List.of(logits.select(1, j).sum()), List.of(xk), null, false, j < classes - 1).get(0).reshape(n, 1, dim));
        }
        Tensor jacobian = Tensor.cat(rows, 1);                                          // [N, K, D]
        Tensor yIdx = y.reshape(n, 1, 1).expand(n, 1, dim);
        Tensor dg = jacobian.sub(jacobian.gather(1, yIdx));                             // ∇f_j − ∇f_y
        Tensor z = logits.detach();
        Tensor df = z.sub(AttackLoss.trueLogit(z, y).unsqueeze(1));                     // f_j − f_y
        Tensor size = dg.reshape(n * classes, dim).normPerExample(norm == Norm.LINF ? 1 : 2).reshape(n, classes);
        Tensor gap = df.abs().div(size.add(1e-12)).maskedFill(y.oneHot(classes).eq(1), Double.POSITIVE_INFINITY);
        Tensor t = gap.neg().argmax(1);
        Tensor diff = AttackLoss.trueLogit(df, t).neg();                                // f_y − f_t
        Tensor grad = dg.gather(1, t.reshape(n, 1, 1).expand(n, 1, dim)).squeeze(1).neg().reshape(xk.shape());
        return new Tensor[]{diff, grad};
    }
}
