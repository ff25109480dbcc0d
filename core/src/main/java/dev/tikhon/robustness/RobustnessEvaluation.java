package dev.tikhon.robustness;

import dev.tikhon.attack.Attack;
import dev.tikhon.attack.AttackRegistry;
import dev.tikhon.attack.Attacks;
import dev.tikhon.attack.Ddn;
import dev.tikhon.attack.Ensemble;
import dev.tikhon.attack.Norm;
import dev.tikhon.attack.Pgd;
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
     * @param minDistance  also run DDN for each correct point's minimum ℓ2 adversarial distance
     * @param bounds       compute L-bounds (and C-bounds when {@code lanczosSteps > 0})
     */
    public record Config(Norm norm, double[] eps, String attack, int steps, int restarts, int targets, int squareQueries, int ddnSteps,
                         boolean minDistance, boolean bounds, int lanczosSteps, int batchSize, long seed, Pgd.StepSchedule schedule)
            implements java.io.Serializable {
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
            attack = attack.toLowerCase(Locale.ROOT);
            if (!attacks().contains(attack)) {
                throw new IllegalArgumentException("unknown attack '" + attack + "': use one of " + String.join(", ", attacks()));
            }
            if (!attack.equals(NONE)) AttackRegistry.check(attack, norm);
        }

        public static Config defaults(Norm norm, double... eps) {
            return new Config(norm, eps, "ensemble", 100, 1, 9, 1000, 100, true, true, 0, 256, 0);
        }
    }

    /** The attack name that runs no attack (bounds and the minimum-distance attack only). */
    public static final String NONE = "none";

    /** Every attack name a {@link Config} takes: the {@link AttackRegistry}'s, then {@link #NONE}. */
    public static List<String> attacks() {
        List<String> all = new ArrayList<>(AttackRegistry.names());
        all.add(NONE);
        return all;
    }

    /** One evaluated image. Distances are in the threat norm; {@code l2Distance} is DDN's (ℓ2) when it ran. */
    public record Row(int index, int label, int prediction, boolean correct, double margin, double gradNorm,
                      double lBound, double cBound, double minDistance, String foundBy, double l2Distance, boolean[] robust)
            implements java.io.Serializable {}

    public record Result(Config config, List<Row> rows, double lipschitz, double curvature, int[] brokenByAttack,
                         List<String> attackNames, double seconds, Map<String, Double> phaseSeconds, List<String> warnings)
            implements java.io.Serializable {
        public int n() { return rows.size(); }

        Result withWarnings(List<String> w) {
            return new Result(config, rows, lipschitz, curvature, brokenByAttack, attackNames, seconds, phaseSeconds, List.copyOf(w));
        }

        public double cleanAccuracy() { return rows.stream().filter(Row::correct).count() / (double) n(); }

        public double robustAccuracy(int epsIndex) { return rows.stream().filter(r -> r.robust()[epsIndex]).count() / (double) n(); }

        /** Points whose (estimated) bound exceeds the smallest adversarial distance found: a broken bound. */
        public long violations(boolean cBound) {
            return rows.stream().filter(r -> r.correct() && (cBound ? r.cBound() : r.lBound()) > r.minDistance() * (1 + 1e-6)).count();
        }
    }

    private RobustnessEvaluation() {}

    /** The attack run at radius ε, as an ensemble of one or more members. */
    public static Ensemble attackAt(Config c, double eps, int numClasses) {
        return AttackRegistry.create(c.attack(), AttackRegistry.Settings.evaluation(c.norm(), eps, c.steps(), c.restarts(), c.targets(),
                c.squareQueries(), c.ddnSteps(), c.schedule(), numClasses));
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
        int n = data.size();
        long start = System.nanoTime();
        List<BatchOutcome> batches;
        try (Progress bar = Progress.start("attack", n)) {
            batches = runner.run(Unit.split(n, c.batchSize()), new BatchTask(c, data.numClasses()), bar);
        }
        long dim = Arrays.stream(data.inputShape()).reduce(1, (a, bb) -> a * bb);
        return assemble(c, batches, n, dim, attackNames(c, data.numClasses()), seconds(start));
    }

    private static List<String> attackNames(Config c, int numClasses) {
        return c.attack().equals(NONE) ? List.of()
                : attackAt(c, c.eps().length > 0 ? c.eps()[0] : 1, numClasses).members().stream().map(Attack::name).toList();
    }

    /** What one batch found, per image (arrays of the batch's size), before the data-set-wide constants are known. */
    record BatchOutcome(int offset, int[] label, int[] prediction, double[] margin, double[] gradDual, double[] grad2, double[] curvature,
                        double[] minDistance, String[] foundBy, double[] l2, boolean[][] robust, int[] brokenBy,
                        Map<String, Double> phaseSeconds) implements java.io.Serializable {}

    /** One batch: clean pass, local bound quantities, DDN, then the attacks at increasing radii on the points still robust. */
    record BatchTask(Config c, int numClasses) implements UnitTask<BatchOutcome> {
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
            double[] minDistance = new double[size], l2 = new double[size];
            String[] foundBy = new String[size];
            boolean[][] robust = new boolean[size][c.eps().length];
            Arrays.fill(minDistance, Double.POSITIVE_INFINITY);
            Arrays.fill(l2, Double.NaN);
            Arrays.fill(curvature, Double.NaN);
            boolean attacks = !c.attack().equals(NONE);
            int[] brokenBy = new int[attackNames(c, numClasses).size()];
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

            int[] todo = indices(correct);
            if (c.minDistance() && todo.length > 0) {
                t0 = System.nanoTime();
                Rng.seed(Rng.derive(c.seed(), unit.index(), 2));
                Tensor xs = Attacks.rows(x, todo);
                Attack.Result r = Ddn.standard(c.ddnSteps()).attack(model, xs, Attacks.rows(y, todo));
                double[] inNorm = r.adversarial().sub(xs).normPerExample(c.norm().p()).toDoubleArray();
                for (int j = 0; j < todo.length; j++) {
                    int i = todo[j];
                    if (!r.success()[j]) continue;
                    l2[i] = r.distance()[j];
                    if (inNorm[j] < minDistance[i]) {
                        minDistance[i] = inNorm[j];
                        foundBy[i] = "ddn";
                    }
                }
                phase.merge("min_distance", seconds(t0), Double::sum);
            }

            t0 = System.nanoTime();
            boolean[] alive = correct.clone();
            for (int e = 0; e < c.eps().length; e++) {
                double eps = c.eps()[e];
                for (int i = 0; i < size; i++) if (alive[i] && minDistance[i] <= eps) alive[i] = false;
                int[] targets = indices(alive);
                if (attacks && targets.length > 0) {
                    Rng.seed(Rng.derive(c.seed(), unit.index(), 3, e));
                    Ensemble ensemble = attackAt(c, eps, numClasses);
                    Ensemble.Outcome o = ensemble.run(model, Attacks.rows(x, targets), Attacks.rows(y, targets));
                    for (int j = 0; j < targets.length; j++) {
                        if (!o.result().success()[j]) continue;
                        int i = targets[j];
                        alive[i] = false;
                        if (o.result().distance()[j] < minDistance[i]) {
                            minDistance[i] = o.result().distance()[j];
                            foundBy[i] = o.foundBy()[j];
                        }
                    }
                    for (int m = 0; m < brokenBy.length; m++) brokenBy[m] += o.brokenByMember()[m];
                }
                for (int i = 0; i < size; i++) robust[i][e] = alive[i];
            }
            phase.merge("attacks", seconds(t0), Double::sum);
            return new BatchOutcome(unit.start(), label, prediction, margin, gradDual, grad2, curvature, minDistance, foundBy, l2, robust,
                    brokenBy, phase);
        }
    }

    /** The rows of all batches with the bounds, whose constants are maxima over every image. */
    private static Result assemble(Config c, List<BatchOutcome> batches, int n, long dim, List<String> attackNames, double seconds) {
        double lipschitz = 0, curv = 0;
        int[] brokenBy = new int[attackNames.size()];
        Map<String, Double> phase = new LinkedHashMap<>();
        for (BatchOutcome b : batches) {
            for (double g : b.gradDual()) lipschitz = Math.max(lipschitz, g);
            for (double k : b.curvature()) if (!Double.isNaN(k)) curv = Math.max(curv, k);
            for (int m = 0; m < brokenBy.length; m++) brokenBy[m] += b.brokenBy()[m];
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
                        b.gradDual()[j], lb, cb, b.minDistance()[j], b.foundBy()[j], b.l2()[j], b.robust()[j]));
            }
        }
        if (rows.size() != n) throw new IllegalStateException("evaluated " + rows.size() + " images, expected " + n);
        Result r = new Result(c, rows, lipschitz, haveCurvature ? curv : Double.NaN, brokenBy, attackNames, seconds, phase, List.of());
        return r.withWarnings(warnings(r));
    }

    /**
     * AutoAttack-style sanity checks: an evaluation that a gradient-masked model passes is a bug, so say so
     * when the signs of masking show.
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
                        + "Use --attack ensemble with --norm linf (it includes the gradient-free Square attack).", zero, correct));
            }
        }
        int square = r.attackNames().indexOf("square");
        if (square > 0 && r.brokenByAttack()[square] > 0) {
            w.add("possible gradient masking: the gradient-free Square attack broke " + r.brokenByAttack()[square]
                    + " point(s) that every gradient attack missed. Trust the ensemble's numbers, not any single gradient attack's.");
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
