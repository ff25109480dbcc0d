package dev.tikhon.train;

import java.util.Locale;

/**
 * What a run minimizes, as plain data (stored in checkpoints so --resume rebuilds the same
 * objective); {@code dev.tikhon.regularize.Regularizers} turns it into an {@link Objective}.
 *
 * @param reg         none, tikhonov, tikhonov-exact, tv, lipschitz, tv+lipschitz, noise, fgsm or pgd
 * @param lambda      penalty weight (tikhonov, tikhonov-exact; lipschitz alone)
 * @param h           finite-difference step (tikhonov 0.01; tv and lipschitz 1e-3)
 * @param norm        tikhonov/tv/lipschitz: the gradient's dual norm l2 or l1; pgd: the attack norm linf or l2
 * @param central     central instead of forward differences (tikhonov)
 * @param tvWeight    weight of the TV term (tv, tv+lipschitz)
 * @param lipWeight   weight of the Lipschitz term (lipschitz, tv+lipschitz)
 * @param sigma       noise standard deviation (noise)
 * @param eps         attack radius (fgsm, pgd)
 * @param steps       PGD steps
 * @param stepSize    PGD step size (0: Madry's 2.5 ε / steps)
 * @param randomStart PGD from a random point of the ε-ball
 * @param loss        the per-example classification loss, a {@code dev.tikhon.loss.Losses} name
 *                    (cross-entropy when absent, as in checkpoints written before losses were selectable)
 * @param schedule    certified training (ibp, crown-ibp): warmup_epochs (ε = 0), ramp_epochs (ε from 0 to
 *                    {@code eps}, κ from 1 to kappa_end, CROWN-IBP's β from 1 to 0), kappa_end; empty for the others
 */
public record ObjectiveSpec(String reg, double lambda, double h, String norm, boolean central, double tvWeight,
                            double lipWeight, double sigma, double eps, int steps, double stepSize, boolean randomStart,
                            String loss, java.util.Map<String, Double> schedule) {
    public static final String DEFAULT_LOSS = "cross-entropy";

    public ObjectiveSpec {
        reg = reg.toLowerCase(Locale.ROOT).replace(',', '+');
        if (loss == null || loss.isBlank()) loss = DEFAULT_LOSS;
        schedule = schedule == null ? java.util.Map.of() : java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(schedule));
    }

    /** An objective without a schedule. */
    public ObjectiveSpec(String reg, double lambda, double h, String norm, boolean central, double tvWeight,
                         double lipWeight, double sigma, double eps, int steps, double stepSize, boolean randomStart,
                         String loss) {
        this(reg, lambda, h, norm, central, tvWeight, lipWeight, sigma, eps, steps, stepSize, randomStart, loss, java.util.Map.of());
    }

    /** An objective with the cross-entropy loss. */
    public ObjectiveSpec(String reg, double lambda, double h, String norm, boolean central, double tvWeight,
                         double lipWeight, double sigma, double eps, int steps, double stepSize, boolean randomStart) {
        this(reg, lambda, h, norm, central, tvWeight, lipWeight, sigma, eps, steps, stepSize, randomStart, DEFAULT_LOSS);
    }

    /** The same objective with another loss. */
    public ObjectiveSpec withLoss(String newLoss) {
        return new ObjectiveSpec(reg, lambda, h, norm, central, tvWeight, lipWeight, sigma, eps, steps, stepSize, randomStart, newLoss, schedule);
    }

    public static ObjectiveSpec plain() {
        return new ObjectiveSpec("none", 0, 0, "l2", false, 0, 0, 0, 0, 0, 0, false);
    }
}
