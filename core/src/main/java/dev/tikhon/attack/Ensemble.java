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

    /** The per-point outcome and, per point, the name of the member that broke it ("clean" if already misclassified, null if none). */
    public record Outcome(Result result, String[] foundBy, int[] brokenByMember) {}

    @Override
    public Result attack(Module model, Tensor x, Tensor y) {
        return run(model, x, y).result();
    }

    public Outcome run(Module model, Tensor x, Tensor y) {
        Tensor logits;
        try (Autograd.Guard g = Autograd.noGrad()) {
            logits = model.forward(x.detach());
        }
        Result total = Attacks.alreadyWrong(logits, x, y);
        String[] foundBy = new String[total.success().length];
        for (int i = 0; i < foundBy.length; i++) if (total.success()[i]) foundBy[i] = "clean";
        int[] broken = new int[members.size()];
        for (int m = 0; m < members.size(); m++) {
            int[] todo = Attacks.failed(total);
            if (todo.length == 0) break;
            Attack member = members.get(m);
            Result r = withinRadius(member.attack(model, Attacks.rows(x, todo), Attacks.rows(y, todo)), x, todo);
            Result merged = Attacks.merge(total, todo, r);
            for (int i : todo) {
                if (merged.success()[i]) {
                    foundBy[i] = member.name();
                    broken[m]++;
                }
            }
            total = merged;
        }
        return new Outcome(total, foundBy, broken);
    }

    /** Drops successes outside the ε-ball (in this ensemble's norm) and re-measures distances in that norm. */
    private Result withinRadius(Result r, Tensor x, int[] rows) {
        double[] d = Geometry.distance(norm, r.adversarial(), Attacks.rows(x, rows)).toDoubleArray();
        boolean[] ok = new boolean[d.length];
        double[] dist = new double[d.length];
        Arrays.fill(dist, Double.POSITIVE_INFINITY);
        for (int i = 0; i < d.length; i++) {
            ok[i] = r.success()[i] && d[i] <= eps * (1 + 1e-6) + 1e-7;   // float32 rounding of the projection
            if (ok[i]) dist[i] = d[i];
        }
        return new Result(r.adversarial(), ok, dist);
    }

    /**
     * AutoAttack's standard members for a norm: APGD-CE, then APGD-T with the targeted DLR loss towards the
     * {@code targets} classes ranked highest (the margin loss below four classes), then the gradient-free
     * Square attack (ℓ∞) or DDN (ℓ2). FAB-T is not implemented; DDN takes its place as the minimum-norm member.
     */
    public static Ensemble standard(Norm norm, double eps, int numClasses, int steps, int restarts, int targets, int squareQueries, int ddnSteps) {
        List<Attack> m = new ArrayList<>();
        m.add(new Apgd(norm, eps, steps, AttackLoss.CE, restarts));
        if (numClasses > 2 && targets > 0) m.add(new Apgd(norm, eps, steps, numClasses >= 4 ? AttackLoss.DLR : AttackLoss.MARGIN, 1, targets));
        else m.add(new Apgd(norm, eps, steps, AttackLoss.MARGIN, restarts));
        if (norm == Norm.LINF) m.add(new SquareAttack(eps, squareQueries, 0.8));
        else m.add(Ddn.standard(ddnSteps));
        return new Ensemble(norm, eps, m);
    }
}
