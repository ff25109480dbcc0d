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
 */
public record ObjectiveSpec(String reg, double lambda, double h, String norm, boolean central, double tvWeight,
                            double lipWeight, double sigma, double eps, int steps, double stepSize, boolean randomStart,
                            String loss) {
    public static final String DEFAULT_LOSS = "cross-entropy";

    public ObjectiveSpec {
        reg = reg.toLowerCase(Locale.ROOT).replace(',', '+');
        if (loss == null || loss.isBlank()) loss = DEFAULT_LOSS;
    }

    /** An objective with the cross-entropy loss. */
    public ObjectiveSpec(String reg, double lambda, double h, String norm, boolean central, double tvWeight,
                         double lipWeight, double sigma, double eps, int steps, double stepSize, boolean randomStart) {
        this(reg, lambda, h, norm, central, tvWeight, lipWeight, sigma, eps, steps, stepSize, randomStart, DEFAULT_LOSS);
    }

    /** The same objective with another loss. */
    public ObjectiveSpec withLoss(String newLoss) {
        return new ObjectiveSpec(reg, lambda, h, norm, central, tvWeight, lipWeight, sigma, eps, steps, stepSize, randomStart, newLoss);
    }

    public static ObjectiveSpec plain() {
        return new ObjectiveSpec("none", 0, 0, "l2", false, 0, 0, 0, 0, 0, 0, false);
    }
}
