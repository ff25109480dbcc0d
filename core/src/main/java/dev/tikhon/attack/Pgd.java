package dev.tikhon.attack;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.List;
import java.util.Locale;

/**
 * Projected gradient ascent on a loss (Madry et al.), in ℓ∞ or ℓ2, inside the ε-ball around x and
 * the [0, 1] box of valid images. FGSM is the one-step case: no random start, step ε, ℓ∞. Only the
 * input is differentiated: parameter gradients are left untouched, so PGD can run inside a
 * training step ({@link #perturb}); as an evaluation {@link #attack} it keeps, per example, any
 * iterate that fools the model, over {@code restarts} random restarts.
 *
 * <pre>
 * ℓ∞: x ← clip_[x−ε, x+ε] ∩ [0,1] (x + αₖ sign ∇ₓℓ)
 * ℓ2: x ← clip_[0,1] (Π_{‖δ‖₂≤ε} (x + αₖ ∇ₓℓ / ‖∇ₓℓ‖₂))
 * </pre>
 *
 * @param stepSize    α; {@link #madry} uses 2.5 ε / steps
 * @param randomStart start from a uniform point of the ε-ball (clipped to the box) instead of x
 * @param restarts    independent runs in {@link #attack}, each only on the examples not yet fooled
 * @param schedule    how αₖ decays over the steps
 * @param loss        the loss ascended
 * @param targets     0: untargeted; k: targeted runs towards each of the k classes the model ranks highest after the true one
 */
public record Pgd(Norm norm, double eps, int steps, double stepSize, boolean randomStart, int restarts,
                  StepSchedule schedule, AttackLoss loss, int targets) implements Attack, Perturbation {

    /** αₖ = α · factor(k, K). */
    public enum StepSchedule {
        CONSTANT, COSINE, STEP;

        double factor(int k, int steps) {
            switch (this) {
                case CONSTANT: return 1;
                case COSINE: return 0.5 * (1 + Math.cos(Math.PI * k / steps));
                case STEP: return k < steps / 2 ? 1 : k < 3 * steps / 4 ? 0.1 : 0.01;
                default: throw new AssertionError(this);
            }
        }

        public static StepSchedule parse(String s) {
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown step-size schedule '" + s + "': use constant, cosine or step");
            }
        }
    }

    public Pgd {
        if (!(eps >= 0)) throw new IllegalArgumentException("--eps must be ≥ 0, got " + eps);
        if (steps < 1) throw new IllegalArgumentException("PGD needs at least one step, got " + steps);
        if (!(stepSize > 0) && eps > 0) throw new IllegalArgumentException("PGD step size must be positive, got " + stepSize);
        if (restarts < 1) throw new IllegalArgumentException("PGD needs at least one restart (run), got " + restarts);
        if (targets < 0) throw new IllegalArgumentException("PGD target count must be ≥ 0, got " + targets);
    }

    /** One run, constant step, cross-entropy: the form used inside adversarial training. */
    public Pgd(Norm norm, double eps, int steps, double stepSize, boolean randomStart) {
        this(norm, eps, steps, stepSize, randomStart, 1, StepSchedule.CONSTANT, AttackLoss.CE, 0);
    }

    /** Madry et al.'s recipe: step 2.5 ε / K, random start. */
    public static Pgd madry(Norm norm, double eps, int steps) {
        return new Pgd(norm, eps, steps, 2.5 * eps / steps, true);
    }

    /** Fast gradient sign method (Goodfellow et al.): one ℓ∞ step of size ε from x. */
    public static Pgd fgsm(double eps) {
        return new Pgd(Norm.LINF, eps, 1, eps, false);
    }

    public Pgd withRestarts(int r) { return new Pgd(norm, eps, steps, stepSize, randomStart, r, schedule, loss, targets); }

    public Pgd withSchedule(StepSchedule s) { return new Pgd(norm, eps, steps, stepSize, randomStart, restarts, s, loss, targets); }

    public Pgd withLoss(AttackLoss l) { return new Pgd(norm, eps, steps, stepSize, randomStart, restarts, schedule, l, targets); }

    public Pgd withTargets(int t) { return new Pgd(norm, eps, steps, stepSize, randomStart, restarts, schedule, loss, t); }

    public Pgd withEps(double e) { return new Pgd(norm, e, steps, stepSize * (eps > 0 ? e / eps : 1), randomStart, restarts, schedule, loss, targets); }

    /** The last iterate of one run, detached: the adversarial batch adversarial training trains on. */
    @Override public Tensor perturb(Module model, Tensor x, Tensor y) {
        Region region = new Region(norm, x, eps);
        Tensor adv = randomStart ? region.randomStart() : region.x.copy();   // stepped in place: never x's own storage
        for (int k = 0; k < steps; k++) {
            try (Scope it = Scope.open()) {   // each step's graph and gradient freed with it: adv is stepped in place
                Tensor xk = adv.detach().requiresGrad(true);
                Tensor g = Autograd.grad(List.of(loss.perExample(model.forward(xk), y).sum()), List.of(xk), null, false, false).get(0);
                region.ascend_(adv, g, stepSize * schedule.factor(k, steps));
            }
        }
        return adv;
    }

    @Override public String name() {
        return isFgsm() ? "fgsm" : "pgd-" + norm + (loss == AttackLoss.CE ? "" : "-" + loss) + (targets > 0 ? "-targeted" : "");
    }

    @Override
    public Result attack(Module model, Tensor x, Tensor y) {
        Attacks.checkInputs(x, y, name());
        // Without a random start every run would repeat the first.
        return Attacks.rounds(model, x, y, targets, randomStart ? restarts : 1, (xs, ys, t) -> runOnce(model, xs, ys, t));
    }

    private Result runOnce(Module model, Tensor x, Tensor y, Tensor target) {
        Region region = new Region(norm, x, eps);
        Tracker tracker = new Tracker(norm, region.x, y);
        Tensor current = randomStart ? region.randomStart() : region.x.copy();
        for (int k = 0; k <= steps; k++) {
            try (Scope it = Scope.open()) {
                Tensor xk = current.detach().requiresGrad(k < steps);
                Tensor logits = model.forward(xk);
                tracker.offer(xk, logits);
                if (k == steps || Budget.exhausted()) break;
                Tensor g = Autograd.grad(List.of(loss.perExample(logits, y, target).sum()), List.of(xk), null, false, false).get(0);
                region.ascend_(current, g, stepSize * schedule.factor(k, steps));   // xk's graph is spent: step its storage
            }
        }
        return tracker.result();
    }

    private boolean isFgsm() {
        return steps == 1 && !randomStart && stepSize == eps && norm == Norm.LINF;
    }

    /** Reshapes a per-example vector [N] to [N, 1, …, 1] so that it broadcasts against {@code like}. */
    public static Tensor perExample(Tensor v, Tensor like) {
        long[] shape = new long[like.dim()];
        java.util.Arrays.fill(shape, 1);
        shape[0] = like.size(0);
        return v.reshape(shape);
    }

    public String describe() {
        return isFgsm() ? "FGSM(ε " + eps + ")"
                : "PGD-" + steps + "(" + norm + ", ε " + eps + ", step " + stepSize + (randomStart ? ", random start" : "")
                + (restarts > 1 ? ", " + restarts + " restarts" : "") + (schedule != StepSchedule.CONSTANT ? ", " + schedule.name().toLowerCase(Locale.ROOT) + " steps" : "")
                + (loss != AttackLoss.CE ? ", " + loss + " loss" : "") + (targets > 0 ? ", " + targets + " targets" : "") + ")";
    }
}
