package dev.tikhon.cli;

import dev.tikhon.loss.Losses;
import dev.tikhon.regularize.GradientNormPenalty;
import dev.tikhon.train.ObjectiveSpec;
import picocli.CommandLine.Option;

/** What training minimizes: plain cross-entropy, an input-gradient penalty, or an implicit counterpart. */
final class RegularizationOptions {
    @Option(names = "--reg", defaultValue = "none", paramLabel = "REG",
            description = "none, tikhonov (finite differences), tikhonov-exact (double backprop), tv, lipschitz, tv,lipschitz, "
                    + "noise, fgsm, pgd, ibp or crown-ibp (certified training). Default: ${DEFAULT-VALUE}.")
    String reg;

    @Option(names = "--loss", defaultValue = "cross-entropy", paramLabel = "LOSS",
            description = "Per-example loss: cross-entropy, hinge, logistic, squared (on one-hot), cw[:κ] (Carlini–Wagner margin), "
                    + "smoothed-kl[:ε] (KL to label-smoothed targets). Default: ${DEFAULT-VALUE}.")
    String loss;

    @Option(names = "--lambda", defaultValue = "0.1", description = "Penalty weight (tikhonov, tikhonov-exact, lipschitz). Default: ${DEFAULT-VALUE}.")
    double lambda;

    @Option(names = "--h", description = "Finite-difference step. Default: 0.01 (tikhonov), 0.001 (tv, lipschitz).")
    Double h;

    @Option(names = "--norm", description = "tikhonov/tv/lipschitz: gradient norm l2 or l1 (l1 defends ℓ∞ attacks); "
            + "pgd: attack norm linf or l2. Default: l2 for penalties, linf for pgd.")
    String norm;

    @Option(names = "--central", description = "Central instead of forward differences (tikhonov).")
    boolean central;

    @Option(names = "--tv-weight", defaultValue = "0.1", description = "Weight ε of the TV term (tv, tv,lipschitz). Default: ${DEFAULT-VALUE}.")
    double tvWeight;

    @Option(names = "--lip-weight", description = "Weight of the Lipschitz term (tv,lipschitz; lipschitz alone uses --lambda unless given).")
    Double lipWeight;

    @Option(names = "--sigma", defaultValue = "0.25", description = "Noise standard deviation (noise). Default: ${DEFAULT-VALUE}.")
    double sigma;

    @Option(names = "--eps", defaultValue = "0.1", description = "Attack radius (fgsm, pgd). Default: ${DEFAULT-VALUE}.")
    double eps;

    @Option(names = "--pgd-steps", defaultValue = "7", description = "PGD steps. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--step-size", defaultValue = "0", description = "PGD step size (0: 2.5·eps/steps). Default: ${DEFAULT-VALUE}.")
    double stepSize;

    @Option(names = "--random-start", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "PGD from a random point of the eps-ball. Default: on.")
    boolean randomStart;

    @Option(names = "--eps-warmup", defaultValue = "1", description = "ibp, crown-ibp: epochs of clean training (ε = 0) first. Default: ${DEFAULT-VALUE}.")
    double epsWarmup;

    @Option(names = "--eps-ramp", description = "ibp, crown-ibp: epochs over which ε rises to --eps and κ falls to --kappa-end. "
            + "Default: half the epochs after the warm-up.")
    Double epsRamp;

    @Option(names = "--kappa-end", defaultValue = "0.5", description = "ibp, crown-ibp: final weight κ of the clean loss. Default: ${DEFAULT-VALUE}.")
    double kappaEnd;

    ObjectiveSpec spec() { return spec(0); }

    /** The objective of a run of {@code epochs} epochs (certified training's default ramp depends on it). */
    ObjectiveSpec spec(int epochs) {
        String r = reg.toLowerCase(java.util.Locale.ROOT).replace(',', '+');
        boolean attack = r.equals("pgd") || r.equals("fgsm") || r.equals("ibp") || r.equals("crown-ibp");
        double step = h != null ? h : (r.equals("tikhonov") ? 0.01 : GradientNormPenalty.DEFAULT_H);
        String n = norm != null ? norm : (attack ? "linf" : "l2");
        double lip = lipWeight != null ? lipWeight : lambda;
        java.util.Map<String, Double> schedule = java.util.Map.of();
        if (r.equals("ibp") || r.equals("crown-ibp")) {
            double ramp = epsRamp != null ? epsRamp : Math.max(0, (epochs - epsWarmup) / 2);
            schedule = java.util.Map.of("warmup_epochs", epsWarmup, "ramp_epochs", ramp, "kappa_end", kappaEnd);
        }
        return new ObjectiveSpec(r, lambda, step, n, central, tvWeight, lip, sigma, eps, steps, stepSize, randomStart,
                Losses.canonical(loss), schedule);
    }
}
