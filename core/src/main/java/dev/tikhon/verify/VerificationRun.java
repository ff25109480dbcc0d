package dev.tikhon.verify;

import dev.tikhon.attack.Attacks;
import dev.tikhon.attack.Ensemble;
import dev.tikhon.attack.InputDomain;
import dev.tikhon.attack.Norm;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Verification of a classifier on a set of images at each radius, with a verdict per image and radius:
 * <b>verified</b> (every margin has a positive sound lower bound over the ball ∩ [0, 1]), <b>falsified</b> (the image
 * is misclassified, or the attack ensemble found a misclassified point in the ball), or <b>unknown</b>. The ensemble
 * runs on the images no method verified, or on all of them ({@code attackAll}, the soundness check: an image both
 * verified and falsified is a violation, and there must be none). Bounds are computed in batches of images.
 */
public final class VerificationRun {

    /**
     * @param radiusMax   with {@code radiusSteps} &gt; 0: each image's largest verified radius in [0, radiusMax] by bisection
     * @param bab         branch and bound's settings (its budget of domains and time per image and bound; bab-input reads
     *                    those two, {@link InputSplitting.Settings#like})
     */
    public record Settings(List<Verification.Method> methods, Norm norm, double[] eps, int batchSize, boolean attack,
                           boolean attackAll, int steps, int restarts, int targets, int queries, long seed,
                           double radiusMax, int radiusSteps, BranchAndBound.Settings bab) {}

    /**
     * One image.
     *
     * @param margin   [method][radius] the lower bound of the worst margin (&gt; 0: verified)
     * @param broken   [radius] misclassified, or an adversarial point found in the ball (false where not attacked)
     * @param attacked [radius] whether the ensemble ran on it
     * @param radius   [method] largest verified radius found by bisection (NaN without --radius)
     * @param search   [method][radius] how a search method's search of the image ended ({@link #searchEnd}); null for the others
     * @param domains  [method][radius] the domains that search bounded (0 where it did not search)
     */
    public record Row(int index, long label, long prediction, double[][] margin, boolean[] broken, boolean[] attacked,
                      String[] brokenBy, double[] radius, String[][] search, int[][] domains) {
        public boolean correct() { return label == prediction; }

        public boolean verified(int method, int e) { return margin[method][e] > 0; }

        /**
         * How the search of method {@code m} at radius {@code e} ended: "root" (decided without a search: verified by the
         * root's bound, or misclassified), "attacked first" (broken by the attack before it, not searched), or the end of
         * its search ({@link SearchHooks.End}: proved, counterexample, budget, stuck, stopped); null for a method that does
         * not search.
         */
        public String searchEnd(int m, int e) { return search[m] == null ? null : search[m][e]; }

        public String verdict(int method, int e) {
            return verified(method, e) ? "verified" : broken[e] ? "falsified" : "unknown";
        }
    }

    public record Result(Settings settings, List<Row> rows, double[] boundSecondsPerImage, double attackSeconds) {
        public double verifiedAccuracy(int method, int e) {
            return rows.stream().filter(r -> r.verified(method, e)).count() / (double) rows.size();
        }

        /** Accuracy under the ensemble where every image was attacked (or verified, which implies it). */
        public double robustAccuracy(int e) {
            return rows.stream().filter(r -> !r.broken()[e]).count() / (double) rows.size();
        }

        public double cleanAccuracy() { return rows.stream().filter(Row::correct).count() / (double) rows.size(); }

        /** Images both verified (by any method) and broken by the attack: a sound verifier has none. */
        public long violations(int e) {
            return rows.stream().filter(r -> r.broken()[e] && anyVerified(r, e)).count();
        }

        boolean anyVerified(Row r, int e) {
            for (int m = 0; m < settings.methods().size(); m++) if (r.verified(m, e)) return true;
            return false;
        }
    }

    /** A search method's image decided without a search: verified by the root's bound, or misclassified. */
    public static final String ROOT = "root";
    /** A search method's image broken by the attack before the search, and so not searched. */
    public static final String ATTACKED_FIRST = "attacked first";

    /** Every way a search method's image can end ({@link Row#searchEnd}), in the order reports list them. */
    public static List<String> searchEnds() {
        List<String> out = new ArrayList<>(List.of(ROOT, ATTACKED_FIRST));
        for (SearchHooks.End end : SearchHooks.End.values()) out.add(end.toString());
        return out;
    }

    private VerificationRun() {}

    /** The run, within the data's input domain ([0, 1] for images, unbounded for other data: {@link InputDomain}). */
    public static Result run(Module model, Dataset images, Settings s, Device device, java.util.function.IntConsumer progress) {
        return run(model, images, s, device, progress, status -> {});
    }

    /**
     * The same, telling {@code status} where a long search is (method, radius, image, domains so far and its bound), after
     * each of its batches of domains, and "" once a batch of images is done: a progress bar's extra text.
     */
    public static Result run(Module model, Dataset images, Settings s, Device device, java.util.function.IntConsumer progress,
                             java.util.function.Consumer<String> status) {
        return InputDomain.within(InputDomain.of(images.isImages()), () -> runInDomain(model, images, s, device, progress, status));
    }

    private static Result runInDomain(Module model, Dataset images, Settings s, Device device, java.util.function.IntConsumer progress,
                                      java.util.function.Consumer<String> status) {
        model.train(false);
        int n = images.size(), k = images.numClasses(), methods = s.methods().size(), radii = s.eps().length;
        List<Row> rows = new ArrayList<>();
        double[] boundSeconds = new double[methods];
        double attackSeconds = 0;
        for (int start = 0; start < n; start += s.batchSize()) {
            int b = Math.min(s.batchSize(), n - start);
            try (Scope scope = Scope.open()) {
                long[] idx = new long[b];
                for (int i = 0; i < b; i++) idx[i] = start + i;
                Tensor ix = Tensor.fromLongs(idx, b);
                // the model's own precision (float64 where rounding is accounted for: the images convert exactly)
                Tensor x = images.batchInputs(ix).to(device).to(model.dtype()), y = images.batchLabels(ix).to(device);
                long[] labels = y.cpu().toLongArray(), pred;
                try (Autograd.Guard g = Autograd.noGrad()) {
                    pred = model.forward(x).argmax(1).cpu().toLongArray();
                }
                double[][][] margin = new double[b][methods][radii];
                double[][] radius = new double[b][methods];
                for (double[] r : radius) Arrays.fill(r, Double.NaN);
                boolean[][] broken = new boolean[b][radii], attacked = new boolean[b][radii];
                String[][] by = new String[b][radii];
                String[][][] searchEnd = new String[b][methods][];
                int[][][] domains = new int[b][methods][radii];
                for (int i = 0; i < b; i++) {
                    if (labels[i] != pred[i]) {
                        Arrays.fill(broken[i], true);
                        Arrays.fill(by[i], "clean");
                    }
                    for (int m = 0; m < methods; m++) {
                        if (s.methods().get(m).searches()) searchEnd[i][m] = filled(radii, ROOT);
                    }
                }
                Attacker attacker = new Attacker(model, x, y, s, k, start, broken, attacked, by, status);
                // one search per batch: a costlier method's bisection starts from a cheaper one's radius (and the attack's)
                Verification.RadiusSearch search = s.radiusSteps() > 0
                        ? new Verification.RadiusSearch(model, x, y, s.norm(), k, s.radiusMax(), s.radiusSteps(), s.bab()) : null;
                for (int m = 0; m < methods; m++) {
                    long t0 = System.nanoTime();
                    double asked = attacker.seconds();
                    for (int e = 0; e < radii; e++) {
                        double[] w = Verification.worstMargin(model, s.methods().get(m), x, y, Verification.full(x, s.eps()[e]), s.norm(), k,
                                        s.bab(), attacker.hooks(e, m, searchEnd, domains))
                                .cpu().toDoubleArray();
                        for (int i = 0; i < b; i++) margin[i][m][e] = w[i];
                    }
                    if (search != null) {
                        double[] r = search.radius(s.methods().get(m));
                        for (int i = 0; i < b; i++) radius[i][m] = r[i];
                    }
                    // an attack a search asked for counts as the attack's time, not the method's
                    boundSeconds[m] += (System.nanoTime() - t0) / 1e9 - (attacker.seconds() - asked);
                }
                for (int e = 0; e < radii; e++) {
                    List<Integer> todo = new ArrayList<>();
                    for (int i = 0; i < b; i++) {
                        boolean anyVerified = false;
                        for (int m = 0; m < methods; m++) anyVerified |= margin[i][m][e] > 0;
                        if (!broken[i][e] && !attacked[i][e] && (s.attackAll() || !anyVerified)) todo.add(i);
                    }
                    if (s.attack()) attacker.attack(e, todo.stream().mapToInt(Integer::intValue).toArray());
                }
                attackSeconds += attacker.seconds();
                for (int i = 0; i < b; i++) {
                    rows.add(new Row(start + i, labels[i], pred[i], margin[i], broken[i], attacked[i], by[i], radius[i], searchEnd[i], domains[i]));
                }
            }
            status.accept("");
            if (progress != null) progress.accept(b);   // images done in this batch
        }
        double[] perImage = new double[methods];
        for (int m = 0; m < methods; m++) perImage[m] = boundSeconds[m] / Math.max(1, n);
        return new Result(s, rows, perImage, attackSeconds);
    }

    private static String[] filled(int n, String v) {
        String[] out = new String[n];
        Arrays.fill(out, v);
        return out;
    }

    /**
     * The attack ensemble on one batch, each image attacked at most once per radius: by the final sweep over what no
     * method verified, or earlier, when a search asks which of the images its root leaves open are broken (a broken image
     * is not searched: its whole budget saved). Also confirms a search's counterexamples. Writes into the batch's
     * {@code broken}, {@code attacked} and {@code brokenBy}.
     */
    private static final class Attacker {
        private final Module model;
        private final Tensor x, y;
        private final Settings s;
        private final int classes, start;
        private final boolean[][] broken, attacked;
        private final String[][] by;
        private final int[] runs;   // per radius: ensembles run so far (each run its own seed; the first one's as before searches asked)
        private final java.util.function.Consumer<String> status;
        private double seconds;

        Attacker(Module model, Tensor x, Tensor y, Settings s, int classes, int start, boolean[][] broken, boolean[][] attacked,
                 String[][] by, java.util.function.Consumer<String> status) {
            this.model = model;
            this.x = x;
            this.y = y;
            this.s = s;
            this.classes = classes;
            this.start = start;
            this.broken = broken;
            this.attacked = attacked;
            this.by = by;
            this.runs = new int[s.eps().length];
            this.status = status;
        }

        /** Seconds spent attacking so far. */
        double seconds() { return seconds; }

        /** The ensemble at radius {@code e} on the batch's {@code rows}. */
        void attack(int e, int[] rows) {
            if (rows.length == 0) return;
            long t0 = System.nanoTime();
            Rng.seed(runs[e] == 0 ? Rng.derive(s.seed(), start, e) : Rng.derive(s.seed(), start, e, runs[e]));
            runs[e]++;
            Ensemble ensemble = Ensemble.standard(s.norm(), s.eps()[e], classes, s.steps(), s.restarts(), s.targets(), s.queries());
            Ensemble.Outcome o;
            try (Scope scope = Scope.open(); Autograd.Guard g = Autograd.enableGrad()) {   // a search asks from inside its no-grad bounds
                o = ensemble.run(model, Attacks.rows(x, rows), Attacks.rows(y, rows));
            }
            for (int j = 0; j < rows.length; j++) {
                int i = rows[j];
                attacked[i][e] = true;
                broken[i][e] = o.result().success()[j];
                by[i][e] = o.foundBy()[j];
            }
            seconds += (System.nanoTime() - t0) / 1e9;
        }

        /**
         * What a search at radius {@code e} asks and tells: with the attack on (and not --attack-all, whose soundness check
         * needs every method's verdict on every image), the open images not attacked yet are attacked first, and the broken
         * ones are not searched; a counterexample a search finds breaks its image once confirmed.
         */
        SearchHooks hooks(int e, int m, String[][][] searchEnd, int[][][] domains) {
            Verification.Method method = s.methods().get(m);
            return new SearchHooks() {
                @Override public boolean[] refuted(int[] open) {
                    boolean[] out = new boolean[open.length];
                    if (!s.attack() || s.attackAll()) return out;
                    attack(e, java.util.Arrays.stream(open).filter(i -> !broken[i][e] && !attacked[i][e]).toArray());
                    for (int j = 0; j < open.length; j++) {
                        out[j] = broken[open[j]][e];
                        if (out[j]) searchEnd[open[j]][m][e] = ATTACKED_FIRST;
                    }
                    return out;
                }

                @Override public void progress(int i, int spent, double lower) {
                    status.accept(String.format(java.util.Locale.ROOT, "%s ε %s: image %d, %d domains, bound %.4g", method,
                            dev.tikhon.report.Format.number(s.eps()[e]), start + i, spent, lower));
                }

                @Override public void searched(int i, int spent, End end) {
                    status.accept(String.format(java.util.Locale.ROOT, "%s ε %s: image %d %s after %d domains", method,
                            dev.tikhon.report.Format.number(s.eps()[e]), start + i, end, spent));
                    searchEnd[i][m][e] = end.toString();
                    domains[i][m][e] = spent;
                }

                @Override public void counterexample(int i, double[] point) {
                    if (!broken[i][e] && confirmed(i, e, point)) {
                        broken[i][e] = true;
                        by[i][e] = method.toString();
                    }
                }
            };
        }

        /**
         * Whether {@code point} lies in image i's ball at radius e (the box as the model's type computes x ± ε, within the
         * input domain; with rounding accounted, the exact ball, compared exactly) and some margin z_y − z_j there is ≤ 0 (the
         * forward pass's upper end: with rounding accounted, for the exact network).
         */
        private boolean confirmed(int i, int e, double[] point) {
            double eps = s.eps()[e];
            Tensor xi = x.narrow(0, i, 1);
            Interval box = InputRegion.inDomain(xi, Verification.full(xi, eps), s.norm()).box();
            double[] x0 = xi.to(DType.FLOAT64).flatten(0, -1).toDoubleArray(), lo = box.lo().to(DType.FLOAT64).flatten(0, -1).toDoubleArray(),
                    hi = box.hi().to(DType.FLOAT64).flatten(0, -1).toDoubleArray();
            if (point.length != x0.length) return false;
            java.math.BigDecimal sumSq = java.math.BigDecimal.ZERO, radius = new java.math.BigDecimal(eps);
            for (int d = 0; d < point.length; d++) {
                if (!(point[d] >= lo[d] && point[d] <= hi[d])) return false;
                java.math.BigDecimal diff = new java.math.BigDecimal(point[d]).subtract(new java.math.BigDecimal(x0[d])).abs();
                if (Rounding.on() && s.norm() == Norm.LINF && diff.compareTo(radius) > 0) return false;
                sumSq = sumSq.add(diff.multiply(diff));
            }
            if (s.norm() == Norm.L2 && sumSq.compareTo(radius.multiply(radius)) > 0) return false;
            long[] shape = xi.shape();
            Tensor p = Tensor.fromDoubles(point, shape).to(x.device(), x.dtype());
            Tensor spec = BoundedNetwork.marginsOverOthers(y.narrow(0, i, 1), classes, p);
            return BoundedNetwork.of(model).upperAt(p, spec).min().item() <= 0;
        }
    }
}
