package dev.tikhon.cli;

import dev.tikhon.loss.Losses;
import dev.tikhon.regularize.RegularizerOptions;
import dev.tikhon.regularize.Regularizers;
import dev.tikhon.train.ObjectiveSpec;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * What training minimizes: plain cross-entropy, an input-gradient penalty, or an implicit counterpart. The
 * options are handed to the regularizer's registered parser ({@link Regularizers}), which owns the defaults.
 */
final class RegularizationOptions {
    @Option(names = "--reg", defaultValue = "none", paramLabel = "REG",
            description = "none, tikhonov (finite differences), tikhonov-exact (double backprop), tv, lipschitz, tv,lipschitz, "
                    + "noise, fgsm, pgd, trades (Zhang et al.: clean loss + β·KL to the outputs at a KL-ascent point of the eps-ball), "
                    + "lipschitz-margin (Tsuzuku et al.: each competitor logit raised by eps·L_yj, the sound "
                    + "certificate's pairwise bound estimated by power iteration) or gloro (Leino et al.: an extra ⊥ logit; --reg-param "
                    + "power-iterations=K, ramp-steps=S; both need a model without batch norm), or certified training ibp, crown-ibp. Default: ${DEFAULT-VALUE}.")
    String reg;

    @Option(names = "--loss", defaultValue = "cross-entropy", paramLabel = "LOSS",
            description = "Per-example loss: cross-entropy, hinge, logistic, squared (on one-hot), cw[:κ] (Carlini–Wagner margin), "
                    + "smoothed-kl[:ε] (KL to label-smoothed targets). Default: ${DEFAULT-VALUE}.")
    String loss;

    @Option(names = "--lambda", description = "Penalty weight (tikhonov, tikhonov-exact, lipschitz). Default: 0.1.")
    Double lambda;

    @Option(names = "--h", description = "Finite-difference step. Default: 0.01 (tikhonov), 0.001 (tv, lipschitz).")
    Double h;

    @Option(names = "--norm", description = "tikhonov/tv/lipschitz: gradient norm l2 or l1 (l1 defends ℓ∞ attacks); "
            + "pgd, trades: attack norm linf or l2. Default: l2 for penalties, linf for pgd and trades.")
    String norm;

    @Option(names = "--central", description = "Central instead of forward differences (tikhonov).")
    Boolean central;

    @Option(names = "--tv-weight", description = "Weight ε of the TV term (tv, tv,lipschitz). Default: 0.1.")
    Double tvWeight;

    @Option(names = "--lip-weight", description = "Weight of the Lipschitz term (tv,lipschitz; lipschitz alone uses --lambda unless given).")
    Double lipWeight;

    @Option(names = "--sigma", description = "Noise standard deviation (noise). Default: 0.25.")
    Double sigma;

    @Option(names = "--eps", description = "Attack radius (fgsm, pgd, trades); certified ℓ2 radius trained for (gloro, lipschitz-margin); certified radius (ibp, crown-ibp). Default: 0.1 (gloro, lipschitz-margin: 0.5).")
    Double eps;

    @Option(names = "--pgd-steps", description = "PGD steps (pgd), ascent steps (trades). Default: 7 (pgd), 10 (trades).")
    Integer steps;

    @Option(names = "--step-size", description = "PGD or TRADES ascent step size (0: 2.5·eps/steps). Default: 0.")
    Double stepSize;

    @Option(names = "--beta", description = "trades: weight β of the KL term (larger: more robust, less accurate). Default: 6.")
    Double beta;

    @Option(names = "--random-start", negatable = true, description = "PGD from a random point of the eps-ball. Default: on.")
    Boolean randomStart;

    @Option(names = "--eps-warmup", description = "ibp, crown-ibp: epochs of clean training (ε = 0) first. Default: 1.")
    Double epsWarmup;

    @Option(names = "--eps-ramp", description = "ibp, crown-ibp: epochs over which ε rises to --eps and κ falls to --kappa-end. "
            + "Default: half the epochs after the warm-up.")
    Double epsRamp;

    @Option(names = "--kappa-end", description = "ibp, crown-ibp: final weight κ of the clean loss. Default: 0.5.")
    Double kappaEnd;

    @Option(names = "--reg-param", paramLabel = "KEY=VALUE",
            description = "A setting of the regularizer by name, for settings without an option of their own (repeatable).")
    Map<String, String> params = new LinkedHashMap<>();

    ObjectiveSpec spec() { return spec(null); }

    /** The objective of a run of {@code epochs} epochs (null: unknown; certified training's default ramp depends on it). */
    ObjectiveSpec spec(Integer epochs) {
        Map<String, Object> given = new LinkedHashMap<>();
        given.put("epochs", epochs);
        given.put("eps-warmup", epsWarmup);
        given.put("eps-ramp", epsRamp);
        given.put("kappa-end", kappaEnd);
        given.put("lambda", lambda);
        given.put("h", h);
        given.put("norm", norm);
        given.put("central", central);
        given.put("tv-weight", tvWeight);
        given.put("lip-weight", lipWeight);
        given.put("sigma", sigma);
        given.put("eps", eps);
        given.put("pgd-steps", steps);
        given.put("step-size", stepSize);
        given.put("random-start", randomStart);
        given.put("beta", beta);
        // a setting with an option of its own goes through that option (and its range check); before, the option's
        // absence silently replaced the --reg-param value with the default
        for (Map.Entry<String, String> p : params.entrySet()) {
            if (given.containsKey(p.getKey())) {
                throw new IllegalArgumentException("--reg-param " + p.getKey() + "=" + p.getValue() + ": " + p.getKey()
                        + " has an option of its own: give --" + p.getKey() + " " + p.getValue() + " instead");
            }
        }
        given.putAll(params);
        RegularizerOptions options = RegularizerOptions.of(given);
        ObjectiveSpec spec = Regularizers.parse(reg, options, Losses.canonical(loss));
        unread(options);
        return spec;
    }

    /**
     * A setting the regularizer never read: an error for a --reg-param key (it has no such setting: a typo, most often),
     * a note for a named option (it stays valid for other regularizers, and runs recorded with it still resume).
     */
    private void unread(RegularizerOptions options) {
        Set<String> asked = new java.util.TreeSet<>(options.asked());
        asked.remove("epochs");
        for (String key : options.unread()) {
            if (key.equals("epochs")) continue;
            if (params.containsKey(key)) {   // a --reg-param never shares its key with a named option (spec refuses that)
                throw new IllegalArgumentException("--reg-param " + key + ": --reg " + reg + " has no setting '" + key + "'"
                        + (asked.isEmpty() ? "; it has no settings" : "; its settings are " + String.join(", ", asked)));
            }
            if (noted.add(key)) OptionChecks.noteIgnored("--" + key, "--reg " + reg);
        }
    }

    /** The notes printed already (the spec is built more than once in some commands). */
    private final Set<String> noted = new java.util.HashSet<>();
}
