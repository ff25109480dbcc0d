package dev.tikhon.attack;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.List;

/**
 * FAB-T, the targeted Fast Adaptive Boundary attack (Croce &amp; Hein, "Minimally distorted adversarial
 * examples with a fast adaptive boundary attack", ICML 2020), the minimum-norm member of AutoAttack's
 * standard ensemble, in ℓ∞ or ℓ2. Towards a target class t it linearizes the decision boundary
 * f_y − f_t = 0 at the current point x₁ and projects both x₁ and the original x₀ onto that hyperplane
 * within the input domain ({@link BoxProjection}, exact), then moves to a convex combination biased
 * towards x₀, so that the iterates stay close to the original:
 *
 * <pre>
 * δ₁ = proj(x₁) − x₁,  δ₀ = proj(x₀) − x₀,  α = min(‖δ₁‖ / (‖δ₁‖ + ‖δ₀‖), α_max)
 * x₁ ← clip_[0,1]((1 − α)(x₁ + η δ₁) + α (x₀ + η δ₀))
 * if x₁ is adversarial: x₁ ← x₀ + β (x₁ − x₀)      (step back inside, to keep shrinking)
 * </pre>
 *
 * The overshoot η &gt; 1 lands just beyond the boundary; β &lt; 1 backs off after each success. FAB-T runs
 * towards the {@code targets} classes ranked highest after the true one, each with {@code restarts} runs
 * (the first from x₀, later ones from a random point of the ball of the best radius so far), AutoAttack's
 * order. With a finite {@code eps} a point stops being attacked once an adversarial example within ε is
 * found, and only such examples are returned (the attack stays in the ball, like AutoAttack's); with
 * ε = +∞ ({@link #minimum}) every point is attacked towards every target and the smallest adversarial
 * perturbation found is returned.
 *
 * @param steps    iterations per run (AutoAttack: 100)
 * @param alphaMax largest weight on the step from x₀ (0.1)
 * @param eta      overshoot (1.05)
 * @param beta     back-off after a success (0.9)
 */
public record Fab(Norm norm, double eps, int steps, int restarts, int targets, double alphaMax, double eta, double beta) implements Attack {

    public Fab {
        if (!(eps > 0)) throw new IllegalArgumentException("FAB needs ε > 0 (+∞ for a minimum-distance search), got " + eps);
        if (steps < 1) throw new IllegalArgumentException("FAB needs at least one step, got " + steps);
        if (restarts < 1) throw new IllegalArgumentException("FAB needs at least one restart (run), got " + restarts);
        if (targets < 1) throw new IllegalArgumentException("FAB-T needs at least one target class, got " + targets);
        if (!(alphaMax >= 0 && alphaMax <= 1)) throw new IllegalArgumentException("FAB α_max must be in [0, 1], got " + alphaMax);
        if (!(eta >= 1)) throw new IllegalArgumentException("FAB η must be ≥ 1, got " + eta);
        if (!(beta > 0 && beta <= 1)) throw new IllegalArgumentException("FAB β must be in (0, 1], got " + beta);
    }

    /** AutoAttack's {@code standard} FAB-T: 100 steps, one run per target, α_max 0.1, η 1.05, β 0.9. */
    public static Fab standard(Norm norm, double eps, int targets) {
        return new Fab(norm, eps, 100, 1, targets, 0.1, 1.05, 0.9);
    }

    /** The minimum-distance search: every point towards every target, the smallest adversarial perturbation kept. */
    public static Fab minimum(Norm norm, int steps, int targets) {
        return new Fab(norm, Double.POSITIVE_INFINITY, steps, 1, targets, 0.1, 1.05, 0.9);
    }

    @Override public String name() { return "fab-t"; }

    public Fab withEps(double e) { return new Fab(norm, e, steps, restarts, targets, alphaMax, eta, beta); }

    @Override
    public Result attack(Module model, Tensor x, Tensor y) {
        Attacks.checkInputs(x, y, name());
        Tensor x0 = x.detach();
        Tensor clean;
        try (Autograd.Guard g = Autograd.noGrad()) {
            clean = model.forward(x0);
        }
        int ranks = (int) Math.min(targets, clean.size(1) - 1);
        Result total = Attacks.none(x0);
        for (int rank = 1; rank <= ranks; rank++) {
            Tensor target = AttackLoss.rankedTarget(clean, y, rank);
            for (int r = 0; r < restarts; r++) {
                int[] todo = open(total);
                if (todo.length == 0 || Budget.exhausted()) return inBall(total, x0);
                double[] radius = new double[todo.length];
                for (int j = 0; j < todo.length; j++) radius[j] = Math.min(total.distance()[todo[j]], eps);
                Tensor t = Attacks.rows(target, todo);
                Result res = runOnce(model, Attacks.rows(x0, todo), Attacks.rows(y, todo), towards(t), r > 0 ? radius : null);
                total = Attacks.merge(total, todo, res);
            }
        }
        return inBall(total, x0);
    }

    /** The points still to attack: all of them in a minimum-distance search, else those with no adversarial example within ε. */
    int[] open(Result r) {
        return java.util.stream.IntStream.range(0, r.success().length)
                .filter(i -> eps == Double.POSITIVE_INFINITY ? r.distance()[i] > 0 : !(r.success()[i] && r.distance()[i] <= eps)).toArray();
    }

    /** With a finite ε, only adversarial examples within ε count; the others revert to the clean input. */
    Result inBall(Result r, Tensor x0) {
        if (eps == Double.POSITIVE_INFINITY) return r;
        int[] within = java.util.stream.IntStream.range(0, r.success().length).filter(i -> r.success()[i] && r.distance()[i] <= eps).toArray();
        if (within.length == r.successes()) return r;
        double[] d = new double[within.length];
        boolean[] ok = new boolean[within.length];
        for (int j = 0; j < within.length; j++) {
            d[j] = r.distance()[within[j]];
            ok[j] = true;
        }
        return Attacks.merge(Attacks.none(x0), within, new Result(Attacks.rows(r.adversarial(), within), ok, d));
    }

    /**
     * The decision boundary FAB linearizes at the current point x₁: per example the logit difference f = z_y − z_t to a
     * competing class t (positive while x₁ is classified y) and its input gradient ∇f, as {@code {f [N], ∇f [N, …]}}.
     */
    @FunctionalInterface
    interface Boundary {
        Tensor[] linearize(Tensor xk, Tensor logits, Tensor y);
    }

    /** FAB-T's boundary: towards a fixed target class per example. */
    static Boundary towards(Tensor target) {
        return (xk, logits, y) -> {
            Tensor diff = AttackLoss.trueLogit(logits, y).sub(AttackLoss.trueLogit(logits, target));
            Tensor g = Autograd.grad(List.of(diff.sum()), List.of(xk), null, false, false).get(0);
            return new Tensor[]{diff, g};
        };
    }

    /** One run towards the {@code boundary}, from x₀ or (with {@code startRadius}) from a random point of the ball of that radius. */
    Result runOnce(Module model, Tensor x, Tensor y, Boundary boundary, double[] startRadius) {
        Tensor x0 = x.detach();
        int n = (int) x0.size(0);
        int dim = (int) (x0.numel() / n);
        long[] shape = x0.shape();
        Tracker tracker = new Tracker(norm, x0, y);
        Tensor current = (startRadius == null ? x0 : randomStart(x0, startRadius)).copy();
        double[] origin = x0.reshape(n, dim).to(dev.tikhon.engine.DType.FLOAT64).toDoubleArray();
        BoxProjection projection = new BoxProjection(norm, dim);
        InputDomain domain = InputDomain.current();
        double[] d1 = new double[dim], d0 = new double[dim], next = new double[n * dim];
        for (int k = 0; k < steps && !Budget.exhausted(); k++) {
            try (Scope it = Scope.open()) {
                Tensor xk = current.detach().copy().requiresGrad(true);
                Tensor logits = model.forward(xk);
                tracker.offer(xk, logits);
                Tensor[] linear = boundary.linearize(xk, logits, y);
                Tensor diff = linear[0], g = linear[1];
                double[] grad = g.reshape(n, dim).to(dev.tikhon.engine.DType.FLOAT64).toDoubleArray();
                double[] point = xk.detach().reshape(n, dim).to(dev.tikhon.engine.DType.FLOAT64).toDoubleArray();
                double[] f = diff.detach().to(dev.tikhon.engine.DType.FLOAT64).toDoubleArray();
                for (int i = 0; i < n; i++) step(i, dim, origin, point, grad, f[i], projection, domain, d1, d0, next);
                Tensor candidate = Tensor.fromDoubles(next, shape).to(x0.device(), x0.dtype());
                Tensor adversarial;
                try (Autograd.Guard ng = Autograd.noGrad()) {
                    Tensor out = model.forward(candidate);
                    tracker.offer(candidate, out);
                    adversarial = out.argmax(1).ne(y);
                }
                Tensor backedOff = x0.add(candidate.sub(x0).mul(beta));
                current.copy_(Tensor.where(Pgd.perExample(adversarial, x0), backedOff, candidate));
            }
        }
        return tracker.result();
    }

    /** One FAB step for example i, written into {@code next}. */
    private void step(int i, int dim, double[] origin, double[] point, double[] grad, double f, BoxProjection projection,
                      InputDomain domain, double[] d1, double[] d0, double[] next) {
        int o = i * dim;
        double b = -f;   // the linearized boundary f(x₁) + w·(z − x₁) = 0, i.e. w·z = w·x₁ − f(x₁)
        for (int j = 0; j < dim; j++) b += grad[o + j] * point[o + j];
        double a1 = Math.max(projection.project(point, o, grad, o, b, d1, 0), 1e-8);
        double a0 = Math.max(projection.project(origin, o, grad, o, b, d0, 0), 1e-8);
        double alpha = Math.min(Math.max(a1 / (a1 + a0), 0), alphaMax);
        for (int j = 0; j < dim; j++) {
            double z = (1 - alpha) * (point[o + j] + eta * d1[j]) + alpha * (origin[o + j] + eta * d0[j]);
            next[o + j] = domain.clamp(z);
        }
    }

    /** x₀ plus a random perturbation of half the radius (AutoAttack's restart), clipped to the domain; the clean point where the radius is not finite. */
    private Tensor randomStart(Tensor x0, double[] radius) {
        double[] r = radius.clone();
        for (int j = 0; j < r.length; j++) if (!Double.isFinite(r[j])) r[j] = 0;
        Tensor rad = Pgd.perExample(Tensor.fromDoubles(r, r.length).to(x0.device(), x0.dtype()), x0);
        Tensor t = norm == Norm.LINF ? x0.randLike().mul(2).sub(1) : x0.randnLike();
        Tensor size = Pgd.perExample(t.normPerExample(norm.p()).clampMin(1e-12), t);
        return InputDomain.current().clamp_(x0.add(t.div(size).mul(rad).mul(0.5)));
    }
}
