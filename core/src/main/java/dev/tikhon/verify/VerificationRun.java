package dev.tikhon.verify;

import dev.tikhon.attack.Attacks;
import dev.tikhon.attack.Ensemble;
import dev.tikhon.attack.InputDomain;
import dev.tikhon.attack.Norm;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Autograd;
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
     * @param babDomains  branch and bound's budget of domains per image and bound ({@link BranchAndBound.Settings#maxDomains})
     */
    public record Settings(List<Verification.Method> methods, Norm norm, double[] eps, int batchSize, boolean attack,
                           boolean attackAll, int steps, int restarts, int targets, int queries, long seed,
                           double radiusMax, int radiusSteps, int babDomains) {
        BranchAndBound.Settings bab() { return BranchAndBound.Settings.DEFAULT.withDomains(babDomains); }
    }

    /**
     * One image.
     *
     * @param margin   [method][radius] the lower bound of the worst margin (&gt; 0: verified)
     * @param broken   [radius] misclassified, or an adversarial point found in the ball (false where not attacked)
     * @param attacked [radius] whether the ensemble ran on it
     * @param radius   [method] largest verified radius found by bisection (NaN without --radius)
     */
    public record Row(int index, long label, long prediction, double[][] margin, boolean[] broken, boolean[] attacked,
                      String[] brokenBy, double[] radius) {
        public boolean correct() { return label == prediction; }

        public boolean verified(int method, int e) { return margin[method][e] > 0; }

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

    private VerificationRun() {}

    /** The run, within the data's input domain ([0, 1] for images, unbounded for other data: {@link InputDomain}). */
    public static Result run(Module model, Dataset images, Settings s, Device device, java.util.function.IntConsumer progress) {
        return InputDomain.within(InputDomain.of(images.isImages()), () -> runInDomain(model, images, s, device, progress));
    }

    private static Result runInDomain(Module model, Dataset images, Settings s, Device device, java.util.function.IntConsumer progress) {
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
                // one search per batch: a costlier method's bisection starts from a cheaper one's radius (and the attack's)
                Verification.RadiusSearch search = s.radiusSteps() > 0
                        ? new Verification.RadiusSearch(model, x, y, s.norm(), k, s.radiusMax(), s.radiusSteps(), s.bab()) : null;
                for (int m = 0; m < methods; m++) {
                    long t0 = System.nanoTime();
                    for (int e = 0; e < radii; e++) {
                        double[] w = Verification.worstMargin(model, s.methods().get(m), x, y, Verification.full(x, s.eps()[e]), s.norm(), k,
                                        s.bab())
                                .cpu().toDoubleArray();
                        for (int i = 0; i < b; i++) margin[i][m][e] = w[i];
                    }
                    if (search != null) {
                        double[] r = search.radius(s.methods().get(m));
                        for (int i = 0; i < b; i++) radius[i][m] = r[i];
                    }
                    boundSeconds[m] += (System.nanoTime() - t0) / 1e9;
                }
                boolean[][] broken = new boolean[b][radii], attacked = new boolean[b][radii];
                String[][] by = new String[b][radii];
                for (int e = 0; e < radii; e++) {
                    List<Integer> todo = new ArrayList<>();
                    for (int i = 0; i < b; i++) {
                        boolean anyVerified = false;
                        for (int m = 0; m < methods; m++) anyVerified |= margin[i][m][e] > 0;
                        if (labels[i] != pred[i]) {
                            broken[i][e] = true;
                            by[i][e] = "clean";
                        } else if (s.attack() && (s.attackAll() || !anyVerified)) {
                            todo.add(i);
                        }
                    }
                    if (todo.isEmpty()) continue;
                    long t0 = System.nanoTime();
                    int[] rowsToAttack = todo.stream().mapToInt(Integer::intValue).toArray();
                    Rng.seed(Rng.derive(s.seed(), start, e));
                    Ensemble ensemble = Ensemble.standard(s.norm(), s.eps()[e], k, s.steps(), s.restarts(), s.targets(), s.queries());
                    Ensemble.Outcome o = ensemble.run(model, Attacks.rows(x, rowsToAttack), Attacks.rows(y, rowsToAttack));
                    for (int j = 0; j < rowsToAttack.length; j++) {
                        int i = rowsToAttack[j];
                        attacked[i][e] = true;
                        broken[i][e] = o.result().success()[j];
                        by[i][e] = o.foundBy()[j];
                    }
                    attackSeconds += (System.nanoTime() - t0) / 1e9;
                }
                for (int i = 0; i < b; i++) {
                    rows.add(new Row(start + i, labels[i], pred[i], margin[i], broken[i], attacked[i], by[i], radius[i]));
                }
            }
            if (progress != null) progress.accept(b);   // images done in this batch
        }
        double[] perImage = new double[methods];
        for (int m = 0; m < methods; m++) perImage[m] = boundSeconds[m] / Math.max(1, n);
        return new Result(s, rows, perImage, attackSeconds);
    }
}
