package dev.tikhon.robustness;

import dev.tikhon.attack.Attack;
import dev.tikhon.attack.AttackRegistry;
import dev.tikhon.attack.Attacks;
import dev.tikhon.attack.Budget;
import dev.tikhon.attack.Ensemble;
import dev.tikhon.attack.MinimumDistance;
import dev.tikhon.attack.Norm;
import dev.tikhon.attack.Pgd;
import dev.tikhon.attack.Transfer;
import dev.tikhon.bounds.Bounds;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.report.Progress;
import dev.tikhon.scaleout.Runner;
import dev.tikhon.scaleout.Unit;
import dev.tikhon.scaleout.UnitTask;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A robustness evaluation of a classifier on a data set: for each image, the clean prediction, the
 * smallest adversarial perturbation any attack found, whether it survives attacks at each radius
 * ε, and lower bounds on its adversarial distance (L-bound, C-bound). Radii are attacked in
 * increasing order and only points still robust are attacked again, since a point broken at ε is
 * broken at every larger ε. Every bound is checked against every attack on every run.
 */
public final class RobustnessEvaluation {

    /**
     * @param attack       ensemble (AutoAttack-style), pgd, fgsm, apgd-ce, apgd-dlr, apgd-t, square, ddn, or none (bounds and
     *                     the minimum-distance attack only)
     * @param targets      target classes of the targeted members (APGD-T)
     * @param schedule     PGD's step-size schedule (APGD adapts its own)
     * @param steps        iterations of the gradient attacks (PGD, APGD)
     * @param minDistance  also search each correct point's minimum adversarial distance (best of DDN and FAB-T, refined by bisection)
     * @param bounds       compute L-bounds (and C-bounds when {@code lanczosSteps > 0})
     * @param contributions run every ensemble member on every point still correct (not only on those the earlier members
     *                      missed), to count the points each member breaks and the points only it breaks
     * @param timeBudget   seconds per image for the minimum-distance search and the attacks, pooled over each batch
     *                     (0: none); points the attacks had not broken when it ran out are marked timed out
     * @param eot          forward–backward passes each APGD step averages, for models with randomness in the forward pass
     * @param cwSteps      Adam steps per search step of Carlini–Wagner in the minimum-distance search (ℓ2 only; 0: not run)
     */
    public record Config(Norm norm, double[] eps, String attack, int steps, int restarts, int targets, int squareQueries, int ddnSteps,
                         boolean minDistance, boolean bounds, int lanczosSteps, int batchSize, long seed, Pgd.StepSchedule schedule,
                         boolean contributions, double timeBudget, int eot, int cwSteps)
            implements java.io.Serializable {
        /** Without Carlini–Wagner in the minimum-distance search. */
        public Config(Norm norm, double[] eps, String attack, int steps, int restarts, int targets, int squareQueries, int ddnSteps,
                      boolean minDistance, boolean bounds, int lanczosSteps, int batchSize, long seed, Pgd.StepSchedule schedule,
                      boolean contributions, double timeBudget, int eot) {
            this(norm, eps, attack, steps, restarts, targets, squareQueries, ddnSteps, minDistance, bounds, lanczosSteps, batchSize, seed,
                    schedule, contributions, timeBudget, eot, 0);
        }

        /** AutoAttack's order, no time budget. */
        public Config(Norm norm, double[] eps, String attack, int steps, int restarts, int targets, int squareQueries, int ddnSteps,
                      boolean minDistance, boolean bounds, int lanczosSteps, int batchSize, long seed, Pgd.StepSchedule schedule) {
            this(norm, eps, attack, steps, restarts, targets, squareQueries, ddnSteps, minDistance, bounds, lanczosSteps, batchSize, seed,
                    schedule, false, 0, 1);
        }

        /** With PGD's constant step size. */
        public Config(Norm norm, double[] eps, String attack, int steps, int restarts, int targets, int squareQueries, int ddnSteps,
                      boolean minDistance, boolean bounds, int lanczosSteps, int batchSize, long seed) {
            this(norm, eps, attack, steps, restarts, targets, squareQueries, ddnSteps, minDistance, bounds, lanczosSteps, batchSize, seed,
                    Pgd.StepSchedule.CONSTANT);
        }

        public Config {
            eps = eps.clone();
            Arrays.sort(eps);
            for (double e : eps) if (!(e > 0)) throw new IllegalArgumentException("every --eps must be positive, got " + e);
            if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be ≥ 1, got " + batchSize);
            if (eot < 1) throw new IllegalArgumentException("--eot must be ≥ 1, got " + eot);
            if (cwSteps < 0) throw new IllegalArgumentException("--cw-steps must be ≥ 0, got " + cwSteps);
            if (cwSteps > 0 && norm != Norm.L2) {
                throw new IllegalArgumentException("--cw-steps adds Carlini–Wagner, an ℓ2 attack, to the minimum-distance search: use --norm l2, or drop --cw-steps");
            }
            if (cwSteps > 0 && !minDistance) {
                throw new IllegalArgumentException("--cw-steps adds Carlini–Wagner to the minimum-distance search, which --no-min-distance turns off: drop one of them");
            }
            if (!(timeBudget >= 0)) throw new IllegalArgumentException("--time-budget must be ≥ 0 seconds per image, got " + timeBudget);
            attack = attack.toLowerCase(Locale.ROOT).replace('+', ',').replace(" ", "");
            if (Arrays.asList(attack.split(",", -1)).contains("")) {
                throw new IllegalArgumentException("--attack '" + attack + "' has an empty item: separate its members by single commas");
            }
            List<String> names = members(attack);
            for (String a : names) {
                if (!attacks().contains(a)) {
                    throw new IllegalArgumentException("unknown attack '" + a + "': use one of " + String.join(", ", attacks())
                            + ", or several members separated by commas");
                }
                if (a.equals(NONE) && names.size() > 1) throw new IllegalArgumentException("--attack none runs no attack: do not list it with others");
                if (!a.equals(NONE)) AttackRegistry.check(a, norm);
            }
        }

        public static Config defaults(Norm norm, double... eps) {
            return new Config(norm, eps, "ensemble", 100, 1, 9, 5000, 100, true, true, 0, 256, 0);
        }
    }

    /** The attack name that runs no attack (bounds and the minimum-distance attack only). */
    public static final String NONE = "none";

    /**
     * The budget settings each registered attack reads, by their metrics.json names (the CLI's --steps, --restarts,
     * --targets, --queries, --ddn-steps, --schedule, --eot): the report lists only what the run read, and the CLI notes an
     * option that nothing reads.
     */
    public static final Map<String, Set<String>> SETTINGS_READ = Map.ofEntries(
            Map.entry("ensemble", Set.of("steps", "restarts", "targets", "square_queries", "eot")),
            Map.entry("pgd", Set.of("steps", "restarts", "schedule")),
            Map.entry("fgsm", Set.of()),
            Map.entry("apgd-ce", Set.of("steps", "restarts", "eot")),
            Map.entry("apgd-dlr", Set.of("steps", "restarts", "eot")),
            Map.entry("apgd-t", Set.of("steps", "targets", "eot")),
            Map.entry("square", Set.of("square_queries")),
            Map.entry("ddn", Set.of("ddn_steps")),
            Map.entry("fab-t", Set.of("steps", "restarts", "targets")),
            Map.entry("fab", Set.of("steps", "restarts")),
            Map.entry("cw", Set.of("steps")),
            Map.entry("cw-t", Set.of("steps", "targets")));
    /** What the minimum-distance search (DDN, FAB-T) reads. */
    public static final Set<String> SEARCH_READS = Set.of("steps", "targets", "ddn_steps");
    /** Every budget setting, read by an attack not in {@link #SETTINGS_READ}. */
    public static final Set<String> ALL_SETTINGS = Set.of("steps", "restarts", "targets", "square_queries", "ddn_steps", "schedule", "eot");

    /** The budget settings a run of {@code attacks} (members) and, when {@code search}, the minimum-distance search reads. */
    public static Set<String> settingsRead(List<String> attacks, boolean search) {
        Set<String> read = new java.util.HashSet<>();
        for (String a : attacks) read.addAll(SETTINGS_READ.getOrDefault(a, ALL_SETTINGS));
        if (search) read.addAll(SEARCH_READS);
        return read;
    }

    /** Every attack name a {@link Config} takes: the {@link AttackRegistry}'s, then {@link #NONE}. */
    public static List<String> attacks() {
        List<String> all = new ArrayList<>(AttackRegistry.names());
        all.add(NONE);
        return all;
    }

    /**
     * One evaluated image. Distances are in the threat norm; {@code l2Distance} is DDN's own ℓ2 distance when it ran and
     * succeeded, {@code cwDistance} Carlini–Wagner's (NaN where it did not run or failed). {@code timedOut[e]}: the time
     * budget ran out before the attacks at radius e were done with this image, which was not broken (it counts as robust
     * there: robust accuracy stays an upper bound, a looser one).
     */
    public record Row(int index, int label, int prediction, boolean correct, double margin, double gradNorm,
                      double lBound, double cBound, double minDistance, String foundBy, double l2Distance, double cwDistance,
                      boolean[] robust, boolean[] timedOut)
            implements java.io.Serializable {
        /** Status at the largest radius: misclassified, broken, timeout or robust. */
        public String verdict() {
            if (!correct) return "misclassified";
            int last = robust.length - 1;
            if (last < 0) return "correct";
            return !robust[last] ? "broken" : timedOut[last] ? "timeout" : "robust";
        }
    }

    /**
     * @param firstBrokenBy per ensemble member, the points it was the first in order to break (at the smallest radius at
     *                      which they fell)
     * @param brokenBy      with {@link Config#contributions}, per member, the points it broke on its own; else null
     * @param brokenOnlyBy  with {@link Config#contributions}, per member, the points no other member broke; else null
     */
    public record Result(Config config, List<Row> rows, double lipschitz, double curvature, int[] firstBrokenBy, int[] brokenBy,
                         int[] brokenOnlyBy, List<String> attackNames, double seconds, Map<String, Double> phaseSeconds, List<String> warnings)
            implements java.io.Serializable {
        public int n() { return rows.size(); }

        Result withWarnings(List<String> w) {
            return new Result(config, rows, lipschitz, curvature, firstBrokenBy, brokenBy, brokenOnlyBy, attackNames, seconds, phaseSeconds,
                    List.copyOf(w));
        }

        /** Images the time budget cut short at radius index e (not broken, counted robust). */
        public long timeouts(int epsIndex) { return rows.stream().filter(r -> r.timedOut()[epsIndex]).count(); }

        /** Per member name, the correctly classified images whose smallest adversarial example it found. */
        public Map<String, Long> smallestDistanceFoundBy() {
            Map<String, Long> m = new LinkedHashMap<>();
            for (Row r : rows) if (r.correct() && r.foundBy() != null) m.merge(r.foundBy(), 1L, Long::sum);
            return m;
        }

        public double cleanAccuracy() { return rows.stream().filter(Row::correct).count() / (double) n(); }

        public double robustAccuracy(int epsIndex) { return rows.stream().filter(r -> r.robust()[epsIndex]).count() / (double) n(); }

        /** Points whose (estimated) bound exceeds the smallest adversarial distance found: a broken bound. */
        public long violations(boolean cBound) {
            return rows.stream().filter(r -> r.correct() && (cBound ? r.cBound() : r.lBound()) > r.minDistance() * (1 + 1e-6)).count();
        }
    }

    private RobustnessEvaluation() {}

    /**
     * The attack run at radius ε, as an ensemble of one or more members: a registered name, or several separated by commas
     * (e.g. "apgd-ce,apgd-t,square"), whose members run in that order, each on the points every earlier one failed on.
     */
    public static Ensemble attackAt(Config c, double eps, int numClasses) {
        return attackAt(c, eps, numClasses, Transfers.none());
    }

    /** The same, with the transfer attacks of {@code t} after the white-box members (or alone, for {@code --attack none}). */
    public static Ensemble attackAt(Config c, double eps, int numClasses, Transfers t) {
        AttackRegistry.Settings s = AttackRegistry.Settings.evaluation(c.norm(), eps, c.steps(), c.restarts(), c.targets(),
                c.squareQueries(), c.ddnSteps(), c.schedule(), numClasses).withEot(c.eot());
        List<String> names = c.attack().equals(NONE) ? List.of() : members(c.attack());
        if (names.size() == 1 && !t.any()) return AttackRegistry.create(names.get(0), s);
        List<Attack> all = new ArrayList<>();
        for (String name : names) all.addAll(AttackRegistry.create(name, s).members());
        for (Transfers.Source source : t.sources()) all.add(Transfer.of(source.model(), source.name(), t.attack(), s, t.confidence()));
        return new Ensemble(c.norm(), eps, all);
    }

    /**
     * Transfer attacks ({@link Transfer}) an evaluation adds after its white-box members: {@code attack} (a registered
     * name; PGD's last iterate by default) crafted on each source model and scored on the model under attack. Members
     * named {@code transfer-…}; a point one of them breaks that every white-box attack missed is a sign of gradient masking.
     *
     * @param confidence Carlini–Wagner's κ for {@code attack} cw or cw-t (0 otherwise)
     * @param sources    the models the points are crafted on, in evaluation mode on the evaluation's device
     */
    public record Transfers(String attack, double confidence, List<Source> sources) implements java.io.Serializable {
        /** A source model and the name reports give it (a module does not serialize: transfer attacks run on local runners). */
        public record Source(String name, Module model) implements java.io.Serializable {}

        public Transfers {
            sources = List.copyOf(sources);
        }

        /** No transfer attack. */
        public static Transfers none() { return new Transfers("pgd", 0, List.of()); }

        public boolean any() { return !sources.isEmpty(); }

        /** Checks the crafting attack against the threat norm, with the message naming the fix. */
        public void check(Norm norm) {
            if (any()) check(attack, norm, confidence);
        }

        /** The same check before any source is loaded (the CLI's, before the run folder is written). */
        public static void check(String attack, Norm norm, double confidence) {
            try {
                Transfer.check(attack, norm, confidence);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--transfer-attack: " + e.getMessage(), e);
            }
        }
    }

    /** The attack names of an {@code --attack} value. */
    /** The attack names of a comma-separated {@code --attack} list. */
    public static List<String> members(String attack) {
        return Arrays.stream(attack.split(",")).filter(a -> !a.isEmpty()).toList();
    }

    /**
     * The per-image minimum-distance search: the best of DDN, FAB-T (towards the {@code --targets} classes ranked
     * highest, {@code --steps} steps each) and, with {@code --cw-steps}, Carlini–Wagner, refined by bisection, in the threat norm.
     */
    static MinimumDistance minimumDistance(Config c, int numClasses) {
        return MinimumDistance.standard(c.norm(), c.ddnSteps(), c.steps(), Math.max(1, Math.min(c.targets(), numClasses - 1)), c.cwSteps());
    }

    /**
     * What decides robust accuracy: the attack's members (transfer attacks included), then, when it ran, the minimum-distance
     * search (a point whose smallest adversarial distance is within ε is not robust there), as "minimum-distance search (ddn, fab-t)".
     */
    public static List<String> robustAccuracyBy(Result r) {
        List<String> by = new ArrayList<>(r.attackNames());
        Config c = r.config();
        if (c.minDistance()) by.add(searchName(c));
        return by;
    }

    /** The minimum-distance search as the outputs name it: "minimum-distance search (ddn, fab-t)". */
    static String searchName(Config c) {
        return "minimum-distance search (" + String.join(", ", MinimumDistance.standardMembers(c.ddnSteps(), c.steps(), c.cwSteps())) + ")";
    }

    /** The evaluation on this machine. */
    public static Result run(Module model, Dataset data, Config c, Device device) {
        return run(Runner.local(model, data, device), data, c);
    }

    /**
     * The evaluation, one unit per batch of {@code c.batchSize()} images, wherever {@code runner} runs them. Each
     * batch's random streams derive from (seed, batch index), so the result does not depend on where or in what
     * order batches ran; the Lipschitz and curvature constants of the bounds are maxima over all batches, taken here.
     */
    public static Result run(Runner runner, Dataset data, Config c) {
        return run(runner, data, c, null);
    }

    /**
     * The evaluation, continuing what {@code log} kept of a stopped run: the batches it holds are not attacked again, and
     * each newly attacked batch is appended to it as soon as it is done. Batches are seeded by their index, so the result
     * equals a run that was never stopped (times aside).
     *
     * @param log the run's batch record (null: none)
     */
    public static Result run(Runner runner, Dataset data, Config c, AttackLog log) {
        return run(runner, data, c, log, Transfers.none());
    }

    /**
     * The same, with transfer attacks after the white-box members.
     *
     * @param transfers the sources' models are used where the runner runs, so they must be on this machine (a local runner)
     */
    public static Result run(Runner runner, Dataset data, Config c, AttackLog log, Transfers transfers) {
        transfers.check(c.norm());
        int n = data.size();
        long start = System.nanoTime();
        Map<Integer, BatchOutcome> batches = new java.util.TreeMap<>();
        if (log != null) for (BatchOutcome b : log.done()) batches.put(b.offset(), b);
        List<Unit> todo = new ArrayList<>();
        try (Progress bar = Progress.start("attack", n)) {
            for (Unit u : Unit.split(n, c.batchSize())) {
                BatchOutcome kept = batches.get(u.start());
                if (kept != null && kept.label().length == u.size()) {
                    if (bar != null) bar.skip(u.size());
                } else {
                    batches.remove(u.start());
                    todo.add(u);
                }
            }
            runner.runEach(todo, new BatchTask(c, data.numClasses(), transfers), bar, (u, b) -> {
                batches.put(b.offset(), b);
                if (log != null) log.append(b);
            });
        }
        long dim = Arrays.stream(data.inputShape()).reduce(1, (a, bb) -> a * bb);
        return assemble(c, new ArrayList<>(batches.values()), n, dim, attackNames(c, data.numClasses(), transfers), seconds(start));
    }

    private static List<String> attackNames(Config c, int numClasses, Transfers t) {
        return c.attack().equals(NONE) && !t.any() ? List.of()
                : attackAt(c, c.eps().length > 0 ? c.eps()[0] : 1, numClasses, t).members().stream().map(Attack::name).toList();
    }

    /** What one batch found, per image (arrays of the batch's size), before the data-set-wide constants are known. */
    record BatchOutcome(int offset, int[] label, int[] prediction, double[] margin, double[] gradDual, double[] grad2, double[] curvature,
                        double[] minDistance, String[] foundBy, double[] l2, double[] cw, boolean[][] robust, boolean[][] timedOut, int[] firstBrokenBy,
                        int[] brokenBy, int[] brokenOnlyBy, Map<String, Double> phaseSeconds) implements java.io.Serializable {}

    /** One batch: clean pass, local bound quantities, the minimum-distance search, then the attacks at increasing radii on the points still robust. */
    record BatchTask(Config c, int numClasses, Transfers transfers) implements UnitTask<BatchOutcome> {
        @Override public BatchOutcome run(Module model, Tensor x, Tensor y, Unit unit) {
            boolean wasTraining = model.isTraining();
            model.train(false);
            try {
                return evaluate(model, x, y, unit);
            } finally {
                model.train(wasTraining);
            }
        }

        private BatchOutcome evaluate(Module model, Tensor x, Tensor y, Unit unit) {
            int size = unit.size();
            int[] label = new int[size], prediction = new int[size];
            double[] margin = new double[size], gradDual = new double[size], grad2 = new double[size], curvature = new double[size];
            double[] minDistance = new double[size], l2 = new double[size], cw = new double[size];
            String[] foundBy = new String[size];
            boolean[][] robust = new boolean[size][c.eps().length], timedOut = new boolean[size][c.eps().length];
            Arrays.fill(minDistance, Double.POSITIVE_INFINITY);
            Arrays.fill(l2, Double.NaN);
            Arrays.fill(cw, Double.NaN);
            Arrays.fill(curvature, Double.NaN);
            boolean attacks = !c.attack().equals(NONE) || transfers.any();
            int members = attackNames(c, numClasses, transfers).size();
            int[] firstBrokenBy = new int[members], brokenBy = new int[members], brokenOnlyBy = new int[members];
            Map<String, Double> phase = new LinkedHashMap<>();
            for (String p : List.of("clean", "bounds", "min_distance", "attacks")) phase.put(p, 0.0);

            long t0 = System.nanoTime();
            long[] pred;
            try (Autograd.Guard g = Autograd.noGrad()) {
                pred = model.forward(x).argmax(1).toLongArray();
            }
            long[] lab = y.toLongArray();
            boolean[] correct = new boolean[size];
            for (int i = 0; i < size; i++) {
                label[i] = (int) lab[i];
                prediction[i] = (int) pred[i];
                correct[i] = pred[i] == lab[i];
                if (!correct[i]) {
                    minDistance[i] = 0;
                    foundBy[i] = "clean";
                }
            }
            phase.merge("clean", seconds(t0), Double::sum);

            if (c.bounds()) {
                t0 = System.nanoTime();
                Rng.seed(Rng.derive(c.seed(), unit.index(), 1));
                Bounds.Local local = Bounds.local(model, x, y, c.norm(), c.lanczosSteps());
                for (int i = 0; i < size; i++) {
                    margin[i] = local.margin()[i];
                    gradDual[i] = local.gradDual()[i];
                    grad2[i] = local.grad2()[i];
                    if (local.curvature() != null) curvature[i] = local.curvature()[i];
                }
                phase.merge("bounds", seconds(t0), Double::sum);
            }

            // The time budget covers the minimum-distance search and the attacks, pooled over the batch.
            Budget.within(c.timeBudget() * size, () -> {
                int[] todo = indices(correct);
                if (c.minDistance() && todo.length > 0) {
                    long t1 = System.nanoTime();
                    Rng.seed(Rng.derive(c.seed(), unit.index(), 2));
                    MinimumDistance.Outcome r = minimumDistance(c, numClasses).find(model, Attacks.rows(x, todo), Attacks.rows(y, todo));
                    for (int j = 0; j < todo.length; j++) {
                        int i = todo[j];
                        l2[i] = r.ddnL2()[j];
                        cw[i] = r.cwL2()[j];
                        if (r.result().success()[j] && r.result().distance()[j] < minDistance[i]) {
                            minDistance[i] = r.result().distance()[j];
                            foundBy[i] = r.foundBy()[j];
                        }
                    }
                    phase.merge("min_distance", seconds(t1), Double::sum);
                }

                long t2 = System.nanoTime();
                boolean[] alive = correct.clone();
                for (int e = 0; e < c.eps().length; e++) {
                    double eps = c.eps()[e];
                    for (int i = 0; i < size; i++) if (alive[i] && minDistance[i] <= eps) alive[i] = false;
                    int[] targets = indices(alive);
                    if (attacks && targets.length > 0) {
                        Rng.seed(Rng.derive(c.seed(), unit.index(), 3, e));
                        Ensemble ensemble = attackAt(c, eps, numClasses, transfers);
                        Ensemble.Outcome o = ensemble.run(model, Attacks.rows(x, targets), Attacks.rows(y, targets), c.contributions());
                        for (int j = 0; j < targets.length; j++) {
                            if (!o.result().success()[j]) continue;
                            int i = targets[j];
                            alive[i] = false;
                            if (o.result().distance()[j] < minDistance[i]) {
                                minDistance[i] = o.result().distance()[j];
                                foundBy[i] = o.foundBy()[j];
                            }
                        }
                        for (int m = 0; m < members; m++) firstBrokenBy[m] += o.firstBrokenBy()[m];
                        if (o.broke() != null) count(o.broke(), targets.length, brokenBy, brokenOnlyBy);
                    }
                    boolean out = attacks && Budget.exhausted();
                    for (int i = 0; i < size; i++) {
                        robust[i][e] = alive[i];
                        timedOut[i][e] = alive[i] && out;
                    }
                }
                phase.merge("attacks", seconds(t2), Double::sum);
                return null;
            });
            return new BatchOutcome(unit.start(), label, prediction, margin, gradDual, grad2, curvature, minDistance, foundBy, l2, cw, robust,
                    timedOut, firstBrokenBy, brokenBy, brokenOnlyBy, phase);
        }

        /** Adds, per member, the points it broke and those only it broke. */
        private static void count(boolean[][] broke, int points, int[] brokenBy, int[] brokenOnlyBy) {
            for (int j = 0; j < points; j++) {
                int hits = 0, last = -1;
                for (int m = 0; m < broke.length; m++) {
                    if (broke[m][j]) {
                        hits++;
                        last = m;
                        brokenBy[m]++;
                    }
                }
                if (hits == 1) brokenOnlyBy[last]++;
            }
        }
    }

    /** The rows of all batches with the bounds, whose constants are maxima over every image. */
    private static Result assemble(Config c, List<BatchOutcome> batches, int n, long dim, List<String> attackNames, double seconds) {
        double lipschitz = 0, curv = 0;
        int members = attackNames.size();
        int[] firstBrokenBy = new int[members], brokenBy = new int[members], brokenOnlyBy = new int[members];
        Map<String, Double> phase = new LinkedHashMap<>();
        for (BatchOutcome b : batches) {
            for (double g : b.gradDual()) lipschitz = Math.max(lipschitz, g);
            for (double k : b.curvature()) if (!Double.isNaN(k)) curv = Math.max(curv, k);
            for (int m = 0; m < members; m++) {
                firstBrokenBy[m] += b.firstBrokenBy()[m];
                brokenBy[m] += b.brokenBy()[m];
                brokenOnlyBy[m] += b.brokenOnlyBy()[m];
            }
            b.phaseSeconds().forEach((k, v) -> phase.merge(k, v, Double::sum));
        }
        boolean haveCurvature = c.bounds() && c.lanczosSteps() > 0;
        List<Row> rows = new ArrayList<>(n);
        for (BatchOutcome b : batches) {
            for (int j = 0; j < b.label().length; j++) {
                double lb = c.bounds() ? Bounds.lBound(b.margin()[j], lipschitz) : Double.NaN;
                double cb = Double.NaN;
                if (haveCurvature) {
                    cb = Bounds.cBound(b.margin()[j], b.grad2()[j], curv);
                    if (c.norm() == Norm.LINF) cb /= Math.sqrt(dim);   // ‖δ‖∞ ≥ ‖δ‖₂/√n turns the ℓ2 bound into an ℓ∞ one
                }
                rows.add(new Row(b.offset() + j, b.label()[j], b.prediction()[j], b.label()[j] == b.prediction()[j], b.margin()[j],
                        b.gradDual()[j], lb, cb, b.minDistance()[j], b.foundBy()[j], b.l2()[j], b.cw()[j], b.robust()[j],
                        b.timedOut()[j]));
            }
        }
        if (rows.size() != n) throw new IllegalStateException("evaluated " + rows.size() + " images, expected " + n);
        Result r = new Result(c, rows, lipschitz, haveCurvature ? curv : Double.NaN, firstBrokenBy, c.contributions() ? brokenBy : null,
                c.contributions() ? brokenOnlyBy : null, attackNames, seconds, phase, List.of());
        return r.withWarnings(warnings(r));
    }

    /** Adam steps per search step below which Carlini–Wagner is reported as weak (measured in MinimumDistanceTest). */
    static final int CW_STEPS_ENOUGH = 1000;

    /**
     * AutoAttack-style sanity checks: an evaluation that a gradient-masked model passes is a bug, so say so
     * when the signs of masking show; and an attack run too short to be trusted (Carlini–Wagner below
     * {@link #CW_STEPS_ENOUGH}).
     */
    static List<String> warnings(Result r) {
        List<String> w = new ArrayList<>();
        Config c = r.config();
        if (c.bounds()) {
            long correct = r.rows().stream().filter(Row::correct).count();
            long zero = r.rows().stream().filter(row -> row.correct() && row.gradNorm() == 0).count();
            if (correct > 0 && zero > 0.05 * correct) {
                w.add(String.format(Locale.ROOT, "possible gradient masking: the input gradient is exactly zero at %d of %d correctly "
                        + "classified points, so gradient attacks cannot move them; their robust accuracy is not trustworthy. "
                        + "Use --attack ensemble (it includes the gradient-free Square attack).", zero, correct));
            }
        }
        boolean whiteBox = !c.attack().equals(NONE) || c.minDistance();
        for (int m = 0; m < r.attackNames().size(); m++) {
            String name = r.attackNames().get(m);
            if (whiteBox && Transfer.isTransfer(name) && r.firstBrokenBy()[m] > 0) {
                w.add("possible gradient masking: the transfer attack " + name + " broke " + r.firstBrokenBy()[m] + " point(s) that every "
                        + "white-box attack missed, with points crafted on another model. The white-box attacks were misled by this model's "
                        + "gradients there; its white-box robust accuracy overstates its robustness (the figures above count these points as broken).");
            }
        }
        int square = r.attackNames().indexOf("square");
        if (square > 0 && r.firstBrokenBy()[square] > 0) {
            w.add("possible gradient masking: the gradient-free Square attack broke " + r.firstBrokenBy()[square]
                    + " point(s) that every gradient attack missed. Trust the ensemble's numbers, not any single gradient attack's.");
        }
        List<String> members = members(c.attack());
        int cwSteps = Math.max(c.cwSteps(), members.contains("cw") || members.contains("cw-t") ? c.steps() : 0);
        if (cwSteps > 0 && cwSteps < CW_STEPS_ENOUGH) {
            w.add(String.format(Locale.ROOT, "Carlini–Wagner ran %d Adam steps per search step: fewer than %d leave it far above the "
                    + "smallest distance on inputs at the [0, 1] box's faces, which its tanh change of variables moves slowly (on a "
                    + "linear Fashion-MNIST model: median 1.26× the exact distance at 100 steps, 1.0007× at 1,000; docs/robustness.md). "
                    + "Give --cw-steps (or, for --attack cw or cw-t, --steps) %d or more to compare with published figures.", cwSteps,
                    CW_STEPS_ENOUGH, CW_STEPS_ENOUGH));
        }
        for (int e = 0; e < c.eps().length; e++) {
            long t = r.timeouts(e);
            if (t > 0) {
                w.add(String.format(Locale.ROOT, "the time budget (%.3g s per image) ran out before the attacks at ε = %.5g were done with "
                        + "%d unbroken image(s): they count as robust, so that robust accuracy is a looser upper bound (verdict timeout in per_image.csv)",
                        c.timeBudget(), c.eps()[e], t));
            }
        }
        for (boolean cb : new boolean[]{false, true}) {
            long v = r.violations(cb);
            if (v > 0) {
                w.add(String.format(Locale.ROOT, "%s-bound exceeds the smallest adversarial distance found at %d point(s): its %s "
                        + "constant, estimated on the evaluated points, is too small for this model — the bound is an estimate, not a proof.",
                        cb ? "C" : "L", v, cb ? "curvature" : "Lipschitz"));
            }
        }
        return w;
    }

    private static int[] indices(boolean[] mask) {
        return java.util.stream.IntStream.range(0, mask.length).filter(i -> mask[i]).toArray();
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
