package dev.tikhon.attack;

import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

/**
 * The smallest adversarial perturbation per example, in ℓ2 or ℓ∞: the best of DDN's (an ℓ2 attack,
 * its result measured in the threat norm), FAB-T's minimum-distance search in the threat norm and, when asked
 * for (ℓ2 only), Carlini–Wagner's, then refined by bisection along its own ray ({@link Attacks#refine}). On linear classifiers in the [0, 1]
 * box this lands within 2% of the exact minimum for nearly every image (tested against an exact oracle);
 * on any model it is an upper bound on the true minimum distance, never a certificate.
 *
 * @param ddn       null to skip DDN
 * @param fab       null to skip FAB
 * @param cw        null to skip Carlini–Wagner (an ℓ2 attack: only in an ℓ2 search)
 * @param bisection steps of the final refinement
 */
public record MinimumDistance(Norm norm, Ddn ddn, Fab fab, CarliniWagner cw, int bisection) {

    public MinimumDistance {
        if (ddn == null && fab == null && cw == null) throw new IllegalArgumentException("a minimum-distance search needs DDN, FAB or Carlini–Wagner");
        if (fab != null && fab.norm() != norm) throw new IllegalArgumentException("FAB runs in " + fab.norm() + ", the search in " + norm);
        if (cw != null && norm != Norm.L2) throw new IllegalArgumentException("Carlini–Wagner is an ℓ2 attack: use --norm l2, or drop --cw-steps");
        if (bisection < 0) throw new IllegalArgumentException("bisection steps must be ≥ 0, got " + bisection);
    }

    public MinimumDistance(Norm norm, Ddn ddn, Fab fab, int bisection) {
        this(norm, ddn, fab, null, bisection);
    }

    /** DDN with {@code ddnSteps} steps, FAB-T towards {@code targets} classes with {@code fabSteps} steps each, 20 bisection steps. */
    public static MinimumDistance standard(Norm norm, int ddnSteps, int fabSteps, int targets) {
        return standard(norm, ddnSteps, fabSteps, targets, 0);
    }

    /** The same, and Carlini–Wagner with {@code cwSteps} Adam steps per search step ({@link CarliniWagner#standard}; 0: none). */
    public static MinimumDistance standard(Norm norm, int ddnSteps, int fabSteps, int targets, int cwSteps) {
        return new MinimumDistance(norm, ddnSteps > 0 ? Ddn.standard(ddnSteps) : null, fabSteps > 0 ? Fab.minimum(norm, fabSteps, targets) : null,
                cwSteps > 0 ? CarliniWagner.standard(cwSteps) : null, 20);
    }

    /** The members {@link #standard} runs with these budgets, named as in {@link Outcome#foundBy}. */
    public static java.util.List<String> standardMembers(int ddnSteps, int fabSteps, int cwSteps) {
        java.util.List<String> m = new java.util.ArrayList<>();
        if (ddnSteps > 0) m.add("ddn");
        if (fabSteps > 0) m.add("fab-t");
        if (cwSteps > 0) m.add("cw");
        return m;
    }

    /**
     * @param result  per example the smallest adversarial example, distances in {@link #norm}
     * @param foundBy per example "ddn", "fab-t" or "cw" (the member whose point was refined), null where none succeeded
     * @param ddnL2   per example DDN's own ℓ2 distance (NaN where it failed or did not run)
     * @param cwL2    per example Carlini–Wagner's own ℓ2 distance, before refinement (NaN where it failed or did not run)
     */
    public record Outcome(Attack.Result result, String[] foundBy, double[] ddnL2, double[] cwL2) {}

    public Outcome find(Module model, Tensor x, Tensor y) {
        Tensor x0 = x.detach();
        int n = (int) x0.size(0);
        Attack.Result total = Attacks.none(x0);
        String[] foundBy = new String[n];
        double[] ddnL2 = new double[n];
        java.util.Arrays.fill(ddnL2, Double.NaN);
        if (ddn != null) {
            Attack.Result d = ddn.attack(model, x0, y);
            for (int i = 0; i < n; i++) if (d.success()[i]) ddnL2[i] = d.distance()[i];
            total = offer(total, remeasured(d, x0), "ddn", foundBy);
        }
        if (fab != null) total = offer(total, fab.attack(model, x0, y), fab.name(), foundBy);
        double[] cwL2 = new double[n];
        java.util.Arrays.fill(cwL2, Double.NaN);
        if (cw != null) {
            Attack.Result w = cw.attack(model, x0, y);
            for (int i = 0; i < n; i++) if (w.success()[i]) cwL2[i] = w.distance()[i];
            total = offer(total, w, cw.name(), foundBy);
        }
        return new Outcome(Attacks.refine(model, norm, x0, y, total, bisection), foundBy, ddnL2, cwL2);
    }

    /** Keeps, per example, the smaller of the two, naming where it came from. */
    private static Attack.Result offer(Attack.Result total, Attack.Result candidate, String name, String[] foundBy) {
        int[] all = Attacks.all(total.success().length);
        Attack.Result merged = Attacks.merge(total, all, candidate);
        for (int i = 0; i < all.length; i++) if (merged.distance()[i] < total.distance()[i]) foundBy[i] = name;
        return merged;
    }

    /** The same points, distances in this search's norm. */
    private Attack.Result remeasured(Attack.Result r, Tensor x0) {
        double[] d = Geometry.distance(norm, r.adversarial(), x0).toDoubleArray();
        double[] dist = r.distance().clone();
        for (int i = 0; i < d.length; i++) if (r.success()[i]) dist[i] = d[i];
        return new Attack.Result(r.adversarial(), r.success(), dist);
    }
}
