package dev.tikhon.regularize;

import dev.tikhon.attack.AttackRegistry;
import dev.tikhon.attack.Norm;
import dev.tikhon.lipschitz.LipschitzMargin;
import dev.tikhon.loss.Loss;
import dev.tikhon.loss.Losses;
import dev.tikhon.regularize.InputGradients.Dual;
import dev.tikhon.train.Objective;
import dev.tikhon.train.ObjectiveSpec;
import dev.tikhon.verify.CertifiedTraining;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The regularizers {@code train --reg} offers, by name: the one place a regularizer is registered. Each entry has
 * its own settings record, a parser from the user's options (with the regularizer's defaults) and a factory of
 * the {@link Objective}; an {@link ObjectiveSpec} stores the name and the record's fields, so checkpoints record
 * and restore the regularizer. Adding a regularizer is one class with its settings record and one
 * {@link #register} line below.
 */
public final class Regularizers {

    /** The settings of "none": nothing. */
    public record None() {}

    /**
     * One registered regularizer.
     *
     * @param type  its settings record
     * @param parse the user's options → settings, with the regularizer's defaults
     * @param build settings and the per-example loss → the objective
     */
    public record Entry<S>(String name, Class<S> type, Function<RegularizerOptions, S> parse, BiFunction<S, Loss, Objective> build) {
        Objective objective(ObjectiveSpec spec) {
            return build.apply(spec.settings(type), Losses.parse(spec.loss()));
        }
    }

    private static final Map<String, Entry<?>> ENTRIES = new LinkedHashMap<>();
    private static final Map<String, String> ALIASES = new LinkedHashMap<>();

    static {
        register("none", None.class, o -> new None(), (s, loss) -> Objective.of(loss));
        register("tikhonov", Tikhonov.Settings.class, Tikhonov.Settings::parse,
                (s, loss) -> new Tikhonov(loss, s));
        register("tikhonov-exact", TikhonovExact.Settings.class, TikhonovExact.Settings::parse,
                (s, loss) -> new TikhonovExact(loss, s));
        register("tv", GradientNormPenalty.Settings.class, o -> GradientNormPenalty.Settings.parse(o, true, false),
                (s, loss) -> new GradientNormPenalty(loss, s.tvWeight(), 0, s.h(), dual(s.norm())));
        register("lipschitz", GradientNormPenalty.Settings.class, o -> GradientNormPenalty.Settings.parse(o, false, true),
                (s, loss) -> new GradientNormPenalty(loss, 0, s.lipWeight(), s.h(), dual(s.norm())));
        register("tv+lipschitz", GradientNormPenalty.Settings.class, o -> GradientNormPenalty.Settings.parse(o, true, true),
                (s, loss) -> new GradientNormPenalty(loss, s.tvWeight(), s.lipWeight(), s.h(), dual(s.norm())));
        alias("lipschitz+tv", "tv+lipschitz");
        register("noise", NoiseAugmentation.Settings.class, NoiseAugmentation.Settings::parse,
                (s, loss) -> new NoiseAugmentation(loss, s.sigma()));
        register("fgsm", AdversarialTraining.Settings.class, AdversarialTraining.Settings::fgsm,
                (s, loss) -> new AdversarialTraining(AttackRegistry.training("fgsm",
                        AttackRegistry.Settings.training(Norm.LINF, s.eps(), s.steps(), s.stepSize(), s.randomStart())), loss));
        register("pgd", AdversarialTraining.Settings.class, AdversarialTraining.Settings::parse,
                (s, loss) -> new AdversarialTraining(AttackRegistry.training("pgd",
                        AttackRegistry.Settings.training(Norm.parse(s.norm()), s.eps(), s.steps(), s.stepSize(), s.randomStart())), loss));
        register("trades", Trades.Settings.class, Trades.Settings::parse, Trades::new);
        register("gloro", LipschitzMargin.Settings.class, Regularizers::lipschitzMargin, (s, loss) -> LipschitzMargin.of(LipschitzMargin.Form.GLORO, s, loss));
        register("lipschitz-margin", LipschitzMargin.Settings.class, Regularizers::lipschitzMargin,
                (s, loss) -> LipschitzMargin.of(LipschitzMargin.Form.TSUZUKU, s, loss));
        register("ibp", CertifiedTraining.Settings.class, Regularizers::certified, (s, loss) -> certified(CertifiedTraining.Bound.IBP, s, loss));
        register("crown-ibp", CertifiedTraining.Settings.class, Regularizers::certified,
                (s, loss) -> certified(CertifiedTraining.Bound.CROWN_IBP, s, loss));
    }

    /**
     * Certified training's settings: --norm (linf), --eps (0.1), --eps-warmup epochs (1), --eps-ramp epochs (default: half
     * the run's epochs after the warm-up, when the options carry "epochs"), --kappa-end (0.5), --reg-param bound-reg (0: the
     * weight of Shi et al.'s warm-up regularizers).
     */
    static CertifiedTraining.Settings certified(RegularizerOptions o) {
        double warmup = o.number("eps-warmup", 1);
        double ramp = o.number("eps-ramp", Math.max(0, (o.number("epochs", 2 * warmup + 2) - warmup) / 2));
        return new CertifiedTraining.Settings(o.text("norm", "linf"), o.number("eps", 0.1), warmup, ramp, o.number("kappa-end", 0.5),
                o.number("bound-reg", 0));
    }

    static Objective certified(CertifiedTraining.Bound bound, CertifiedTraining.Settings s, Loss loss) {
        if (loss != Loss.CROSS_ENTROPY) {
            throw new IllegalArgumentException("--reg " + (bound == CertifiedTraining.Bound.IBP ? "ibp" : "crown-ibp")
                    + " trains on the cross-entropy of the worst-case margins: drop --loss " + loss.describe());
        }
        return new CertifiedTraining(bound, Norm.parse(s.norm()), s.eps(), s.warmupEpochs(), s.rampEpochs(), s.kappaEnd(), s.boundReg());
    }

    private Regularizers() {}

    /** Registers a regularizer: its name, settings record, options parser and objective factory. */
    public static synchronized <S> void register(String name, Class<S> type, Function<RegularizerOptions, S> parse,
                                                 BiFunction<S, Loss, Objective> build) {
        if (ENTRIES.containsKey(name)) throw new IllegalStateException("regularizer '" + name + "' is already registered");
        ENTRIES.put(name, new Entry<>(name, type, parse, build));
    }

    /** Another name for a registered regularizer. */
    public static synchronized void alias(String alias, String name) {
        ALIASES.put(alias, name);
    }

    /** The registered names, in registration order. */
    public static List<String> names() {
        return new ArrayList<>(ENTRIES.keySet());
    }

    /** The entry {@code reg} names (case-insensitive; "a,b" is "a+b"; aliases resolved). */
    public static Entry<?> entry(String reg) {
        String r = reg.toLowerCase(Locale.ROOT).replace(',', '+');
        Entry<?> e = ENTRIES.get(ALIASES.getOrDefault(r, r));
        if (e == null) {
            throw new IllegalArgumentException("unknown --reg '" + reg + "': use one of " + String.join(", ", names())
                    + " (tv,lipschitz combines the two)");
        }
        return e;
    }

    /** The spec of regularizer {@code reg} with the user's options and the per-example loss. */
    public static ObjectiveSpec parse(String reg, RegularizerOptions options, String loss) {
        return ObjectiveSpec.of(reg, entry(reg).parse().apply(options), loss);
    }

    /** The spec of regularizer {@code reg} with its defaults except for {@code options}. */
    public static ObjectiveSpec spec(String reg, Map<String, ?> options) {
        return parse(reg, RegularizerOptions.of(options), ObjectiveSpec.DEFAULT_LOSS);
    }

    /** The objective a spec names. */
    public static Objective build(ObjectiveSpec s) {
        return entry(s.reg()).objective(s);
    }

    /** gloro / lipschitz-margin: --eps (0.5), --reg-param power-iterations=K (1 per step), ramp-steps=S (0: ε from the start). */
    static LipschitzMargin.Settings lipschitzMargin(RegularizerOptions o) {
        // power iteration from a unit vector needs one step to say anything about σ_max; a checkpoint without it reads 0 (one)
        int iterations = o.integer("power-iterations", 1);
        if (iterations < 1) {
            throw new IllegalArgumentException("--reg-param power-iterations=" + iterations + ": the Lipschitz constant is estimated by "
                    + "power iteration, which needs at least one step per training step; give power-iterations=1 or more");
        }
        int ramp = o.integer("ramp-steps", 0);
        if (ramp < 0) {
            throw new IllegalArgumentException("--reg-param ramp-steps=" + ramp + ": a ramp is a number of steps; give ramp-steps=0 "
                    + "(ε from the start) or more");
        }
        return new LipschitzMargin.Settings(o.number("eps", 0.5), iterations, ramp);
    }

    /** PGD's and TRADES's ascent: at least one step (zero would train on the random start or on x itself). */
    static int ascentSteps(RegularizerOptions o, int fallback, String reg) {
        int steps = o.integer("pgd-steps", fallback);
        if (steps < 1) {
            throw new IllegalArgumentException("--pgd-steps " + steps + ": --reg " + reg + " needs at least one ascent step; give "
                    + "--pgd-steps 1 or more");
        }
        return steps;
    }

    /** The gradient norm a penalty controls: l2, or l1 (the dual of ℓ∞; "linf" names the threat model). */
    static Dual dual(String norm) {
        switch (norm.toLowerCase(Locale.ROOT)) {
            case "l2": return Dual.L2;
            case "l1": case "linf": return Dual.L1;
            default: throw new IllegalArgumentException("unknown --norm '" + norm + "' for a gradient penalty: use l2 or l1");
        }
    }
}
