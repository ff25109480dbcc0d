package dev.tikhon.attack;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The attacks Tikhon knows, by name: the one place an attack is registered. Evaluation
 * ({@code robustness}), adversarial training ({@code regularize}) and the CLI read it, so adding an attack
 * is one class in this package and one {@link #register} line below.
 */
public final class AttackRegistry {

    /**
     * An attack's budget: everything a factory may read.
     *
     * @param norm          the threat norm
     * @param eps           the radius
     * @param steps         iterations of the gradient attacks (PGD, APGD)
     * @param restarts      independent runs of PGD/APGD
     * @param targets       target classes of the targeted members (APGD-T)
     * @param squareQueries queries of the Square attack
     * @param ddnSteps      steps of DDN
     * @param schedule      PGD's step-size schedule
     * @param numClasses    classes of the model under attack
     * @param stepSize      training-time PGD step size (0: Madry's 2.5 ε / steps)
     * @param randomStart   training-time PGD starts from a random point of the ε-ball
     * @param eot           forward–backward passes APGD averages per step, for randomized models (1: none)
     */
    public record Settings(Norm norm, double eps, int steps, int restarts, int targets, int squareQueries, int ddnSteps,
                           Pgd.StepSchedule schedule, int numClasses, double stepSize, boolean randomStart, int eot) {
        /** The same budget with {@code k} passes per APGD step. */
        public Settings withEot(int k) {
            return new Settings(norm, eps, steps, restarts, targets, squareQueries, ddnSteps, schedule, numClasses, stepSize, randomStart, k);
        }

        /** An evaluation budget (the training-only fields at their defaults). */
        public static Settings evaluation(Norm norm, double eps, int steps, int restarts, int targets, int squareQueries, int ddnSteps,
                                          Pgd.StepSchedule schedule, int numClasses) {
            return new Settings(norm, eps, steps, restarts, targets, squareQueries, ddnSteps, schedule, numClasses, 0, true, 1);
        }

        /** A training budget: PGD's radius, steps, step size and start (the evaluation-only fields at their defaults). */
        public static Settings training(Norm norm, double eps, int steps, double stepSize, boolean randomStart) {
            return new Settings(norm, eps, steps, 1, 0, 0, 0, Pgd.StepSchedule.CONSTANT, 0, stepSize, randomStart, 1);
        }
    }

    /** Builds an attack, as an ensemble of one or more members, for an evaluation at radius {@code s.eps()}. */
    @FunctionalInterface
    public interface Factory {
        Ensemble create(Settings s);
    }

    /** Builds the perturbation adversarial training trains on. */
    @FunctionalInterface
    public interface TrainingFactory {
        Perturbation create(Settings s);
    }

    /**
     * One registered attack.
     *
     * @param norms    the threat norms it supports
     * @param training its adversarial-training perturbation, or null when it has none
     */
    public record Entry(String name, List<Norm> norms, Factory factory, TrainingFactory training) {}

    private static final Map<String, Entry> ENTRIES = new LinkedHashMap<>();
    private static final List<Norm> BOTH = List.of(Norm.LINF, Norm.L2);

    static {
        register("ensemble", BOTH, s -> Ensemble.standard(s.norm(), s.eps(), s.numClasses(), s.steps(), s.restarts(), s.targets(),
                s.squareQueries()), null);
        register("pgd", BOTH, s -> single(s, Pgd.madry(s.norm(), s.eps(), s.steps()).withRestarts(s.restarts()).withSchedule(s.schedule())),
                s -> new Pgd(s.norm(), s.eps(), s.steps(), s.stepSize() > 0 ? s.stepSize() : 2.5 * s.eps() / s.steps(), s.randomStart()));
        register("fgsm", List.of(Norm.LINF), s -> single(s, Pgd.fgsm(s.eps())), s -> Pgd.fgsm(s.eps()));
        register("apgd-ce", BOTH, s -> single(s, new Apgd(s.norm(), s.eps(), s.steps(), AttackLoss.CE, s.restarts())), null);
        register("apgd-dlr", BOTH, s -> single(s, new Apgd(s.norm(), s.eps(), s.steps(), AttackLoss.DLR, s.restarts())), null);
        register("apgd-t", BOTH, s -> single(s, new Apgd(s.norm(), s.eps(), s.steps(),
                s.numClasses() >= 4 ? AttackLoss.DLR : AttackLoss.MARGIN, 1, Math.max(1, s.targets()))), null);
        register("square", BOTH, s -> single(s, Ensemble.square(s.norm(), s.eps(), s.squareQueries())), null);
        register("ddn", BOTH, s -> single(s, Ddn.standard(s.ddnSteps())), null);
        register("fab-t", BOTH, s -> single(s, new Fab(s.norm(), s.eps(), s.steps(), s.restarts(), Math.max(1, Math.min(s.targets(), s.numClasses() - 1)),
                0.1, 1.05, 0.9)), null);
        register("fab", BOTH, s -> single(s, new FabUntargeted(s.norm(), s.eps(), s.steps(), s.restarts(), 0.1, 1.05, 0.9)), null);
        register("cw", List.of(Norm.L2), s -> single(s, CarliniWagner.standard(s.steps())), null);
        register("cw-t", List.of(Norm.L2), s -> single(s, CarliniWagner.standard(s.steps()).withTargets(Math.max(1, s.targets()))), null);
    }

    private AttackRegistry() {}

    /** Registers an attack under {@code name}; {@code training} may be null. */
    public static synchronized void register(String name, List<Norm> norms, Factory factory, TrainingFactory training) {
        if (ENTRIES.containsKey(name)) throw new IllegalStateException("attack '" + name + "' is already registered");
        ENTRIES.put(name, new Entry(name, List.copyOf(norms), factory, training));
    }

    /** The registered attack names, in registration order. */
    public static List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(ENTRIES.keySet()));
    }

    /** The names of the attacks that support {@code norm}. */
    public static List<String> names(Norm norm) {
        return ENTRIES.values().stream().filter(e -> e.norms().contains(norm)).map(Entry::name).toList();
    }

    /** The names of the attacks adversarial training can use. */
    public static List<String> trainingNames() {
        return ENTRIES.values().stream().filter(e -> e.training() != null).map(Entry::name).toList();
    }

    /** The entry for {@code name} (case-insensitive). */
    public static Entry entry(String name) {
        Entry e = ENTRIES.get(name.toLowerCase(Locale.ROOT));
        if (e == null) throw new IllegalArgumentException("unknown attack '" + name + "': use one of " + String.join(", ", names()));
        return e;
    }

    /** Checks that {@code name} is known and supports {@code norm}, with a message naming the fix. */
    public static void check(String name, Norm norm) {
        Entry e = entry(name);
        if (!e.norms().contains(norm)) {
            Norm other = e.norms().get(0);
            throw new IllegalArgumentException(name + " is an " + symbol(other) + " attack: use --norm " + other
                    + ", or an " + symbol(norm) + " attack (" + String.join(", ", names(norm)) + ")");
        }
    }

    /** The attack {@code name} with budget {@code s}. */
    public static Ensemble create(String name, Settings s) {
        return entry(name).factory().create(s).withEot(s.eot());
    }

    /** The adversarial-training perturbation {@code name} with budget {@code s}. */
    public static Perturbation training(String name, Settings s) {
        Entry e = entry(name);
        if (e.training() == null) {
            throw new IllegalArgumentException("attack '" + name + "' has no adversarial-training form: use one of "
                    + String.join(", ", trainingNames()));
        }
        return e.training().create(s);
    }

    private static String symbol(Norm n) {
        return n == Norm.LINF ? "ℓ∞" : "ℓ2";
    }

    private static Ensemble single(Settings s, Attack a) {
        return new Ensemble(s.norm(), s.eps(), List.of(a));
    }
}
