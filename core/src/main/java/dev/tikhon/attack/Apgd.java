package dev.tikhon.attack;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.List;

/**
 * Auto-PGD (Croce &amp; Hein, "Reliable evaluation of adversarial robustness with an ensemble of diverse
 * parameter-free attacks", 2020), the core of AutoAttack: PGD with momentum whose step size needs no
 * tuning. Per example, the step starts at 2ε and is halved at checkpoints when the loss has stopped
 * improving, restarting from the best point found:
 *
 * <pre>
 * z      = P(xₖ + η ∇-direction)
 * xₖ₊₁   = P(xₖ + a (z − xₖ) + (1 − a)(xₖ − xₖ₋₁)),   a = 0.75 (1 on the first step)
 * checkpoints every pⱼ·N iterations, p₀ = 0.22, intervals shrinking by 0.03 N down to 0.06 N;
 * halve η at a checkpoint if the loss rose in fewer than ρ = 0.75 of the interval's steps, or if
 * neither η nor the best loss changed since the last checkpoint.
 * </pre>
 *
 * For models with randomness in the forward pass (noise layers, Monte Carlo smoothed classifiers) each step can
 * average over {@code eot} forward–backward passes (expectation over transformation, Athalye et al. 2018): the loss,
 * its gradient and the logits that judge success are the means over the passes.
 *
 * @param restarts runs from fresh random starts, each only on the examples not yet fooled
 * @param targets  0: untargeted; k: APGD-T, runs towards each of the k classes ranked highest after the true one
 * @param eot      forward–backward passes averaged per step (1: a deterministic model)
 */
public record Apgd(Norm norm, double eps, int steps, AttackLoss loss, int restarts, int targets, int eot) implements Attack {
    private static final double RHO = 0.75, MOMENTUM = 0.75;

    public Apgd {
        if (!(eps > 0)) throw new IllegalArgumentException("APGD needs ε > 0, got " + eps);
        if (steps < 2) throw new IllegalArgumentException("APGD needs at least 2 steps, got " + steps);
        if (restarts < 1) throw new IllegalArgumentException("APGD needs at least one restart (run), got " + restarts);
        if (targets < 0) throw new IllegalArgumentException("APGD target count must be ≥ 0, got " + targets);
        if (eot < 1) throw new IllegalArgumentException("--eot must be ≥ 1 (passes averaged per step), got " + eot);
    }

    /** One pass per step. */
    public Apgd(Norm norm, double eps, int steps, AttackLoss loss, int restarts, int targets) {
        this(norm, eps, steps, loss, restarts, targets, 1);
    }

    /** Untargeted APGD. */
    public Apgd(Norm norm, double eps, int steps, AttackLoss loss, int restarts) {
        this(norm, eps, steps, loss, restarts, 0, 1);
    }

    @Override public String name() { return (targets > 0 ? "apgd-t-" : "apgd-") + loss; }

    public Apgd withEps(double e) { return new Apgd(norm, e, steps, loss, restarts, targets, eot); }

    /** Averaging {@code k} forward–backward passes per step (expectation over transformation). */
    public Apgd withEot(int k) { return new Apgd(norm, eps, steps, loss, restarts, targets, k); }

    @Override
    public Result attack(Module model, Tensor x, Tensor y) {
        Attacks.checkInputs(x, y, name());
        return Attacks.rounds(model, x, y, targets, restarts, (xs, ys, t) -> runOnce(model, xs, ys, t));
    }

    private Result runOnce(Module model, Tensor x, Tensor y, Tensor target) {
        Tensor x0 = x.detach();
        long n = x0.size(0);
        Region region = new Region(norm, x0, eps);
        Tracker tracker = new Tracker(norm, x0, y);

        // State, updated in place so that each iteration's temporaries die with its scope.
        Tensor current = region.randomStart();
        Tensor previous = current.copy();
        Tensor grad = x0.zerosLike(), bestPoint = current.copy(), bestGrad = x0.zerosLike();
        Tensor lossNow = Tensor.zeros(x0.dtype(), x0.device(), n), lossPrev = lossNow.copy();
        Tensor bestLoss = Tensor.full(Double.NEGATIVE_INFINITY, x0.dtype(), x0.device(), n);
        Tensor step = Tensor.full(2 * eps, x0.dtype(), x0.device(), n);
        Tensor risesSinceCheckpoint = lossNow.zerosLike();
        Tensor bestLossAtCheckpoint = bestLoss.copy();
        Tensor reducedAtCheckpoint = lossNow.zerosLike().eq(1);   // all false

        evaluate(model, current, y, target, tracker, lossNow, grad);
        bestLoss.copy_(lossNow);
        bestGrad.copy_(grad);
        bestLossAtCheckpoint.copy_(bestLoss);

        int interval = Math.max((int) (0.22 * steps), 1);
        int shrink = Math.max((int) (0.03 * steps), 1), minInterval = Math.max((int) (0.06 * steps), 1);
        int nextCheckpoint = interval;
        // Algorithm 1: x⁽¹⁾ from x⁽⁰⁾, then k = 1 … N − 1: N steps, N + 1 evaluations (before, N − 1 steps).
        for (int k = 0; k < steps && !Budget.exhausted(); k++) {
            try (Scope it = Scope.open()) {
                double a = k == 0 ? 1.0 : MOMENTUM;
                Tensor z = region.project_(current.add(Geometry.direction(norm, grad).mul_(Pgd.perExample(step, x0))));
                Tensor next = region.project_(current.add(z.sub_(current), a).add_(current.sub(previous), 1 - a));
                previous.copy_(current);
                current.copy_(next);
                lossPrev.copy_(lossNow);
                evaluate(model, current, y, target, tracker, lossNow, grad);

                risesSinceCheckpoint.add_(lossNow.gt(lossPrev).to(lossNow.dtype()));
                Tensor improved = lossNow.gt(bestLoss);
                Tensor improvedRows = Pgd.perExample(improved, x0);
                bestPoint.assignWhere_(improvedRows, current);
                bestGrad.assignWhere_(improvedRows, grad);
                bestLoss.assignWhere_(improved, lossNow);

                if (k + 1 == nextCheckpoint) {
                    Tensor oscillating = risesSinceCheckpoint.lt(RHO * interval);
                    Tensor stalled = reducedAtCheckpoint.logicalNot().logicalAnd(bestLoss.le(bestLossAtCheckpoint));
                    Tensor reduce = oscillating.logicalOr(stalled);
                    reducedAtCheckpoint.copy_(reduce);
                    bestLossAtCheckpoint.copy_(bestLoss);
                    step.assignWhere_(reduce, step.mul(0.5));
                    Tensor reduceRows = Pgd.perExample(reduce, x0);
                    current.assignWhere_(reduceRows, bestPoint);
                    grad.assignWhere_(reduceRows, bestGrad);
                    previous.assignWhere_(reduceRows, bestPoint);   // no momentum across a restart from the best point
                    risesSinceCheckpoint.zero_();
                    interval = Math.max(interval - shrink, minInterval);
                    nextCheckpoint += interval;
                }
            }
        }
        return tracker.result();
    }

    /** Loss and input gradient at {@code point}, written into {@code lossOut} and {@code gradOut}; offers the point to the tracker. */
    private void evaluate(Module model, Tensor point, Tensor y, Tensor target, Tracker tracker, Tensor lossOut, Tensor gradOut) {
        try (Scope s = Scope.open()) {
            Tensor xk = point.detach().copy().requiresGrad(true);
            Tensor meanLogits = null;
            lossOut.zero_();
            gradOut.zero_();
            for (int k = 0; k < eot; k++) {
                Tensor logits = model.forward(xk);
                Tensor losses = loss.perExample(logits, y, target);
                Tensor g = Autograd.grad(List.of(losses.sum()), List.of(xk), null, false, false).get(0);
                lossOut.add_(losses.detach(), 1.0 / eot);
                gradOut.add_(g, 1.0 / eot);
                meanLogits = meanLogits == null ? logits.detach().div(eot) : meanLogits.add(logits.detach(), 1.0 / eot);
            }
            tracker.offer(xk, meanLogits);
        }
    }
}
