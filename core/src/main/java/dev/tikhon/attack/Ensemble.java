package dev.tikhon.attack;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Attacks run in turn at one radius ε, AutoAttack-style: each member attacks only the points every
 * earlier member failed on, and a point counts as broken as soon as any member finds an adversarial
 * example within ε (the worst case per point). Members that search for minimum distances (DDN) count
 * only where the distance they found is ≤ ε.
 */
public record Ensemble(Norm norm, double eps, List<Attack> members) implements Attack {

    public Ensemble {
        members = List.copyOf(members);
        if (members.isEmpty()) throw new IllegalArgumentException("an attack ensemble needs at least one attack");
    }

    @Override public String name() {
        StringBuilder s = new StringBuilder("ensemble(");
        for (int i = 0; i < members.size(); i++) s.append(i == 0 ? "" : "+").append(members.get(i).name());
        return s.append(')').toString();
    }

    /**
     * The per-point outcome. {@code foundBy}: per point, the member whose adversarial example is kept (the smallest
     * distance; "clean" if already misclassified, null if none). {@code firstBrokenBy}: per member, the points it was the
     * first in order to break. {@code broke}: with {@link #run(Module, Tensor, Tensor, boolean) every member on every
     * point}, broke[m][i] says whether member m broke point i within ε on its own; null otherwise.
     */
    public record Outcome(Result result, String[] foundBy, int[] firstBrokenBy, boolean[][] broke) {}

    @Override
    public Result attack(Module model, Tensor x, Tensor y) {
        Attacks.checkInputs(x, y, name());
        return run(model, x, y).result();
    }

    /** AutoAttack's order: each member only on the points every earlier member failed on. */
    public Outcome run(Module model, Tensor x, Tensor y) {
        return run(model, x, y, false);
    }

    /**
     * @param everyMember run every member on every correctly classified point, not only on those still robust, so that
     *                    each member's own successes (and the points only it breaks) are known; costs more, finds the same
     *                    set of broken points
     */
    public Outcome run(Module model, Tensor x, Tensor y, boolean everyMember) {
        Tensor logits;
        try (Autograd.Guard g = Autograd.noGrad()) {
            logits = model.forward(x.detach());
        }
        Result total = Attacks.alreadyWrong(logits, x, y);
        int n = total.success().length;
        String[] foundBy = new String[n];
        for (int i = 0; i < n; i++) if (total.success()[i]) foundBy[i] = "clean";
        int[] first = new int[members.size()];
        int[] correct = Attacks.failed(total);
        boolean[][] broke = everyMember ? new boolean[members.size()][n] : null;
        for (int m = 0; m < members.size(); m++) {
            int[] todo = everyMember ? correct : Attacks.failed(total);
            if (todo.length == 0 || Budget.exhausted()) break;
            Attack member = members.get(m);
            Result r = withinRadius(model, member.attack(model, Attacks.rows(x, todo), Attacks.rows(y, todo)), x, y, todo);
            Result merged = Attacks.merge(total, todo, r);
            for (int j = 0; j < todo.length; j++) {
                int i = todo[j];
                if (!r.success()[j]) continue;
                if (everyMember) broke[m][i] = true;
                if (!total.success()[i]) first[m]++;
                if (merged.distance()[i] < total.distance()[i]) foundBy[i] = member.name();
            }
            total = merged;
        }
        return new Outcome(total, foundBy, first, broke);
    }

    /**
     * Keeps a member's success only where the model, run again on the point the member returned, misclassifies it, the
     * point lies within ε (in this ensemble's norm, re-measured) and in the input domain in force: AutoAttack's rule, which
     * trusts no member's own bookkeeping (for a random model this is a fresh draw, not the draws the member chose it on).
     */
    private Result withinRadius(Module model, Result r, Tensor x, Tensor y, int[] rows) {
        Tensor x0 = Attacks.rows(x, rows), labels = Attacks.rows(y, rows), adv = r.adversarial().to(x0.dtype());
        double[] d = Geometry.distance(norm, adv, x0).toDoubleArray();
        boolean[] wrong;
        try (Autograd.Guard g = Autograd.noGrad()) {
            wrong = model.forward(adv).argmax(1).ne(labels).toBooleanArray();
        }
        InputDomain domain = InputDomain.current();
        Tensor flat = adv.reshape(adv.size(0), -1);
        double[] lo = flat.neg().amax(1, false).neg().toDoubleArray(), hi = flat.amax(1, false).toDoubleArray();
        boolean[] ok = new boolean[d.length];
        double[] dist = new double[d.length];
        Arrays.fill(dist, Double.POSITIVE_INFINITY);
        for (int i = 0; i < d.length; i++) {
            boolean inDomain = lo[i] >= domain.lo() - 1e-6 && hi[i] <= domain.hi() + 1e-6;   // x₀ + (clip(x₀ + δ) − x₀) in float32
            ok[i] = r.success()[i] && wrong[i] && inDomain && d[i] <= eps * (1 + 1e-6) + 1e-7;   // float32 rounding of the projection
            if (ok[i]) dist[i] = d[i];
        }
        return new Result(r.adversarial(), ok, dist);
    }

    /**
     * AutoAttack's {@code standard} ensemble for a norm (Croce &amp; Hein 2020), the same members in ℓ∞ and ℓ2: APGD-CE,
     * then APGD-T with the targeted DLR loss towards the {@code targets} classes ranked highest (the margin loss below
     * four classes), then FAB-T towards as many, then the gradient-free Square attack. AutoAttack's budgets are
     * steps = 100, restarts = 1, targets = 9, squareQueries = 5,000 (the CLI's defaults).
     *
     * <p>With two classes, or {@code targets = 0}, there is no class to target: the second member is untargeted APGD on
     * the margin loss (with {@code restarts}), and FAB-T still runs towards one class. The CLI refuses {@code --targets 0},
     * so that its ensemble is always AutoAttack's; Java callers may ask for this untargeted variant.
     */
    public static Ensemble standard(Norm norm, double eps, int numClasses, int steps, int restarts, int targets, int squareQueries) {
        List<Attack> m = new ArrayList<>();
        m.add(new Apgd(norm, eps, steps, AttackLoss.CE, restarts));
        if (numClasses > 2 && targets > 0) m.add(new Apgd(norm, eps, steps, numClasses >= 4 ? AttackLoss.DLR : AttackLoss.MARGIN, 1, targets));
        else m.add(new Apgd(norm, eps, steps, AttackLoss.MARGIN, restarts));
        m.add(new Fab(norm, eps, steps, restarts, Math.max(1, Math.min(targets, numClasses - 1)), 0.1, 1.05, 0.9));
        m.add(square(norm, eps, squareQueries));
        return new Ensemble(norm, eps, m);
    }

    /** The same ensemble with every APGD member averaging {@code k} forward–backward passes per step (expectation over transformation). */
    public Ensemble withEot(int k) {
        if (k == 1) return this;
        return new Ensemble(norm, eps, members.stream().map(a -> a instanceof Apgd apgd ? (Attack) apgd.withEot(k) : a).toList());
    }

    /** The Square attack of the norm: {@link SquareAttack} (ℓ∞) or {@link SquareL2}, p_init 0.8. */
    public static Attack square(Norm norm, double eps, int queries) {
        return norm == Norm.LINF ? new SquareAttack(eps, queries, 0.8) : new SquareL2(eps, queries, 0.8);
    }
}
