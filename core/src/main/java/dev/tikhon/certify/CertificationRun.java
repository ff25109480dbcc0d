package dev.tikhon.certify;

import dev.tikhon.attack.InputDomain;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.report.Charts;
import dev.tikhon.report.Csv;
import dev.tikhon.report.Progress;
import dev.tikhon.scaleout.Runner;
import dev.tikhon.scaleout.Unit;
import dev.tikhon.scaleout.UnitTask;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Certifies the first images of a data set and summarizes: per-image results, certified accuracy at given radii
 * (the fraction of images whose certificate proves the true label at that radius; abstentions count as failures),
 * timings, and, where a run has both a single pass and a Monte Carlo estimate, how often they agree.
 *
 * <p>A run executes a {@link Plan}: a list of {@link CertificationStep}s (certifiers, each certificate with its
 * kind), run in order on each batch of images. {@link CertificationMethods} names the plans ({@code cohen},
 * {@code heat}, …); this class knows none of them.
 */
public final class CertificationRun {
    /** The radii of the certified-accuracy table of an ℓ2 run. */
    public static final double[] RADII = {0, 0.25, 0.5, 0.75, 1.0};

    /**
     * The radii of the certified-accuracy table of an ℓ∞ run: 0, 1/255, 2/255, 4/255, 8/255, the usual ℓ∞ budgets for
     * images in [0, 1] (the ℓ2 grid would be empty: an ℓ∞ radius of 0.25 already moves every pixel by a quarter of its range).
     */
    public static final double[] RADII_LINF = {0, 1 / 255.0, 2 / 255.0, 4 / 255.0, 8 / 255.0};

    /** The table's radii for a threat model ("l2" or "linf"). */
    public static double[] radii(String norm) {
        return "linf".equals(norm) ? RADII_LINF.clone() : RADII.clone();
    }

    /** "ℓ2" or "ℓ∞", for labels. */
    public static String normSymbol(String norm) {
        return "linf".equals(norm) ? "ℓ∞" : "ℓ2";
    }

    /**
     * One image: the prediction used for accuracy, each certificate, times in seconds, and the steps' extra columns
     * ({@link CertificationStep#extraColumns()}).
     */
    public record Image(long index, long label, int prediction, Map<String, Certificate> certificates,
                        double classifySeconds, double certifySeconds, int monteCarloPrediction, Map<String, Double> extras)
            implements java.io.Serializable {
        public Image {
            extras = extras == null ? Map.of() : new LinkedHashMap<>(extras);
        }

        public Image(long index, long label, int prediction, Map<String, Certificate> certificates,
                     double classifySeconds, double certifySeconds, int monteCarloPrediction) {
            this(index, label, prediction, certificates, classifySeconds, certifySeconds, monteCarloPrediction, Map.of());
        }

        public boolean correct() { return prediction == label; }
    }

    /**
     * @param predictSeconds PREDICT's time per image (cohen), NaN when not measured
     * @param agreement      fraction of images where the smoothed classifier's Monte Carlo majority
     *                       equals the single-pass class (heat), NaN otherwise
     * @param extraColumns   the steps' extra per-image columns, in order
     * @param details        what the steps add to the summary ({@link CertificationStep#summary})
     */
    public record Result(String method, List<Image> images, List<String> certificateNames, double predictSeconds,
                         int predictImages, double agreement, List<String> extraColumns, Map<String, Object> details) {
        public Result {
            extraColumns = extraColumns == null ? List.of() : List.copyOf(extraColumns);
            details = details == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(details));
        }

        public Result(String method, List<Image> images, List<String> certificateNames, double predictSeconds, int predictImages,
                      double agreement) {
            this(method, images, certificateNames, predictSeconds, predictImages, agreement, List.of(), Map.of());
        }

        /** Accuracy of the prediction used for accuracy: CERTIFY's class (abstaining counts as wrong) or the single pass. */
        public double cleanAccuracy() {
            return images.stream().filter(Image::correct).count() / (double) images.size();
        }

        /** The threat model of the radii: "linf" where a step's summary says so (lipschitz --norm linf), "l2" otherwise. */
        public String norm() {
            return details.get("norm") instanceof String n ? n : "l2";
        }

        /** The radii of the certified-accuracy table, for {@link #norm()}. */
        public double[] radii() {
            return CertificationRun.radii(norm());
        }

        /**
         * Whether the prediction is the smoothed classifier's (Cohen's CERTIFY class, abstaining = wrong) rather than one
         * deterministic pass: the first certificate is probabilistic and no single pass classified (no agreement to report).
         * Its accuracy is then the certified accuracy at r = 0, not the base model's clean accuracy.
         */
        public boolean smoothedPrediction() {
            return !images.isEmpty() && Double.isNaN(agreement)
                    && first(certificateNames.get(0)).kind() == Certificate.Kind.PROBABILISTIC;
        }

        /** Certificate {@code c} of the first image: its kind, α and method are those of every image's. */
        public Certificate first(String c) {
            return images.get(0).certificates().get(c);
        }

        /** The kind of certificate {@code c} in words: "sound", "heuristic", "probabilistic (α = 0.001)". */
        public String kindOf(String c) {
            Certificate first = first(c);
            String kind = first.kind().name().toLowerCase(java.util.Locale.ROOT);
            return first.kind() == Certificate.Kind.PROBABILISTIC ? kind + " (α = " + dev.tikhon.report.Format.number(first.alpha()) + ")" : kind;
        }

        public double certifiedAccuracy(String certificate, double r) {
            long n = images.stream().filter(i -> i.certificates().get(certificate).certifies(i.label(), r)).count();
            return n / (double) images.size();
        }

        public double abstentionRate(String certificate) {
            return images.stream().filter(i -> i.certificates().get(certificate).abstained()).count() / (double) images.size();
        }

        /** Mean classification time over the images that were timed (Cohen's PREDICT: the first --predict-images); NaN if none. */
        public double meanClassifySeconds() {
            return images.stream().mapToDouble(Image::classifySeconds).filter(Double::isFinite).average().orElse(Double.NaN);
        }

        public double meanCertifySeconds() {
            return images.stream().mapToDouble(Image::certifySeconds).average().orElse(Double.NaN);
        }

        /**
         * Certified accuracy at {@link #radii()} for each certificate, with its kind, α, norm and what the figure is
         * ({@code "measures"}: certified accuracy, or for a heuristic certificate the accuracy at a heuristic radius,
         * which is not certified). The accuracy of the prediction is {@code clean_accuracy} for a single pass and
         * {@code smoothed_accuracy} for Cohen's smoothed classifier (abstaining = wrong); a time not measured is left out.
         */
        public Map<String, Object> summary() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("method", method);
            m.put("images", images.size());
            m.put("norm", norm());
            if (smoothedPrediction()) {
                m.put("smoothed_accuracy", cleanAccuracy());
                m.put("smoothed_accuracy_means", "accuracy of the smoothed classifier (CERTIFY's class; abstaining counts as wrong) = "
                        + "certified accuracy at r = 0; not the base model's clean accuracy");
            } else {
                m.put("clean_accuracy", cleanAccuracy());
            }
            Map<String, Object> certs = new LinkedHashMap<>();
            for (String c : certificateNames) {
                Map<String, Object> one = new LinkedHashMap<>();
                Certificate first = first(c);
                one.put("kind", first.kind().name().toLowerCase(java.util.Locale.ROOT));
                if (first.kind() == Certificate.Kind.PROBABILISTIC) one.put("alpha", first.alpha());
                one.put("method", first.method());
                one.put("norm", norm());
                one.put("measures", first.kind() == Certificate.Kind.HEURISTIC
                        ? "accuracy at heuristic radius ≥ r (not certified)" : "certified accuracy at radius ≥ r");
                Map<String, Double> acc = new LinkedHashMap<>();
                for (double r : radii()) acc.put(String.valueOf(r), certifiedAccuracy(c, r));
                one.put("certified_accuracy", acc);
                one.put("abstention_rate", abstentionRate(c));
                certs.put(c, one);
            }
            m.put("certificates", certs);
            if (!Double.isNaN(meanClassifySeconds())) m.put("classify_ms_per_image", 1000 * meanClassifySeconds());
            m.put("certify_ms_per_image", 1000 * meanCertifySeconds());
            if (!Double.isNaN(predictSeconds)) {
                m.put("predict_ms_per_image", 1000 * predictSeconds);
                m.put("predict_images_timed", predictImages);
            }
            if (!Double.isNaN(agreement)) m.put("single_pass_vs_smoothed_agreement", agreement);
            m.putAll(details);
            return m;
        }

        /**
         * {@code certify.csv}: one row per image. Per certificate c: {@code prediction_c} (−1: abstained, as in
         * {@code prediction} and Cohen et al.'s format), {@code radius_c}, {@code kind_c} (sound, probabilistic or
         * heuristic) and, for a probabilistic one, {@code alpha_c}; then {@code norm} (the threat model of every radius),
         * the steps' extra columns, the Monte Carlo majority, and the times ({@code classify_ms} empty where the image's
         * classification was not timed).
         */
        public void writeCsv(Path file) {
            List<String> header = new ArrayList<>(List.of("index", "label", "prediction", "correct"));
            for (String c : certificateNames) {
                header.add("prediction_" + c);
                header.add("radius_" + c);
                header.add("kind_" + c);
                if (first(c).kind() == Certificate.Kind.PROBABILISTIC) header.add("alpha_" + c);
            }
            header.add("norm");
            header.addAll(extraColumns);
            header.addAll(List.of("monte_carlo_prediction", "classify_ms", "certify_ms"));
            List<List<Object>> rows = new ArrayList<>();
            String norm = norm();
            for (Image i : images) {
                List<Object> r = new ArrayList<>(List.of(i.index(), i.label(), i.prediction(), i.correct() ? 1 : 0));
                for (String c : certificateNames) {
                    Certificate cert = i.certificates().get(c);
                    r.add(cert.abstained() ? Certificate.ABSTAIN : cert.prediction());
                    r.add(cert.radius());
                    r.add(cert.kind().name().toLowerCase(java.util.Locale.ROOT));
                    if (first(c).kind() == Certificate.Kind.PROBABILISTIC) r.add(cert.alpha());
                }
                r.add(norm);
                for (String e : extraColumns) r.add(extraCell(e, i.extras().get(e)));
                r.add(i.monteCarloPrediction() < 0 ? "" : i.monteCarloPrediction());
                r.add(Double.isFinite(i.classifySeconds()) ? 1000 * i.classifySeconds() : "");
                r.add(1000 * i.certifySeconds());
                rows.add(r);
            }
            Csv.write(file, header, rows);
        }

        /** An extra column's cell: a class ({@code *_class}, {@code *_prediction}) as an integer, a missing value empty. */
        private static Object extraCell(String column, Double v) {
            if (v == null || v.isNaN()) return "";
            if ((column.endsWith("_class") || column.endsWith("_prediction")) && v == Math.rint(v)) return (long) (double) v;
            return v;
        }

        /**
         * The certified-accuracy curves, one series per certificate, over r ∈ [0, max], each drawn by its kind (sound
         * solid, probabilistic dashed, heuristic dotted) and named with it. {@code prefix} names the run ("heat ",
         * "cohen σ0.25 "); a certificate named like the method (cohen's "cohen") is not named twice.
         */
        public List<Charts.Series> curves(String prefix, double max) {
            List<Charts.Series> out = new ArrayList<>();
            int points = 101;
            for (String c : certificateNames) {
                double[] x = new double[points], y = new double[points];
                for (int p = 0; p < points; p++) {
                    x[p] = max * p / (points - 1);
                    y[p] = certifiedAccuracy(c, x[p]);
                }
                Certificate first = first(c);
                String kind = first.kind().name().toLowerCase(java.util.Locale.ROOT);
                String run = prefix.strip();
                String name = c.equals(method) || run.endsWith(" " + c) || run.equals(c) ? (run.isEmpty() ? c : run)
                        : (run.isEmpty() ? c : run + " (" + c + ")");
                String label = name + ", " + kind + (first.kind() == Certificate.Kind.PROBABILISTIC
                        ? " (α " + dev.tikhon.report.Format.number(first.alpha()) + ")"
                        : first.kind() == Certificate.Kind.HEURISTIC ? " (not certified)" : "");
                out.add(new Charts.Series(label, x, y, Charts.Stroke.forKind(kind)));
            }
            return out;
        }
    }

    private CertificationRun() {}

    /**
     * What a run certifies with.
     *
     * @param method      the method's name (reports, file names)
     * @param description one line for the console
     * @param steps       the certifiers, run in order on each batch
     * @param columns     the certificate columns in report order (null: the steps' columns in step order)
     * @param batchSize   images per unit of work (1 for per-image certifiers, whose times are then per image)
     * @param timing      an extra classification timing on the driver after the run (Cohen's PREDICT), or null
     */
    public record Plan(String method, String description, List<CertificationStep> steps, List<String> columns, int batchSize,
                       ClassificationTiming timing) {
        public Plan {
            steps = List.copyOf(steps);
            if (steps.isEmpty()) throw new IllegalArgumentException("a certification plan needs at least one certifier");
            List<String> all = new ArrayList<>();
            for (CertificationStep st : steps) for (CertificationStep.Column c : st.columns()) all.add(c.name());
            if (columns == null) columns = all;
            else if (columns.size() != all.size() || !new java.util.HashSet<>(columns).equals(new java.util.HashSet<>(all))) {
                throw new IllegalArgumentException("plan '" + method + "': columns " + columns + " are not the steps' " + all);
            }
            columns = List.copyOf(columns);
            if (batchSize < 1) throw new IllegalArgumentException("plan '" + method + "': batch size must be ≥ 1, got " + batchSize);
        }

        /** The kind of the certificate column {@code column}. */
        public Certificate.Kind kindOf(String column) {
            for (CertificationStep st : steps) for (CertificationStep.Column c : st.columns()) if (c.name().equals(column)) return c.kind();
            throw new IllegalArgumentException("plan '" + method + "' has no certificate '" + column + "'");
        }

        /** A plan of steps, their columns in step order, one image per unit, no extra timing. */
        public Plan(String method, String description, List<CertificationStep> steps) {
            this(method, description, steps, null, 1, null);
        }
    }

    /**
     * Seconds per image of a classification timed on the driver, over the first {@code images} images (0 and NaN: not
     * timed), and each of those images' own time ({@code perImage}, null: each is given the mean).
     */
    public record Timing(double secondsPerImage, int images, double[] perImage) {
        public Timing(double secondsPerImage, int images) {
            this(secondsPerImage, images, null);
        }

        /** The time of image {@code index}: its own, or the mean; NaN for an image that was not timed. */
        double of(long index) {
            if (Double.isNaN(secondsPerImage) || index >= images) return Double.NaN;
            return perImage != null && index < perImage.length ? perImage[(int) index] : secondsPerImage;
        }
    }

    /** Times classification on the driver after a run on the first {@code n} images. */
    @FunctionalInterface
    public interface ClassificationTiming {
        Timing time(Module model, Dataset data, int n, Device device);
    }

    /** {@code plan} on the first {@code limit} images, on this machine. */
    public static Result run(Module model, Dataset data, int limit, Plan plan, Device device, Progress progress) {
        return run(Runner.local(model, data, device), model, data, limit, plan, device, progress);
    }

    /**
     * {@code plan} on the first {@code limit} images, one unit per {@code plan.batchSize()} images, wherever
     * {@code runner} runs them; the plan's classification timing (if any) here, with {@code model}.
     */
    public static Result run(Runner runner, Module model, Dataset data, int limit, Plan plan, Device device, Progress progress) {
        return run(runner, model, data, limit, plan, device, progress, List.of(), null);
    }

    /**
     * {@code plan} on the first {@code limit} images, continuing a run that was stopped: the units whose images are all
     * in {@code done} are not run again (a unit only partly there is run again whole), and {@code sink} receives each
     * unit's images as soon as they are certified, to be kept durably. Random certifiers derive their noise from each
     * image's index, so the result equals a run that was never stopped (times aside).
     *
     * @param done the images an earlier, stopped run of the same plan certified (any order)
     * @param sink receives each newly certified unit's images, in unit order (null: none)
     */
    public static Result run(Runner runner, Module model, Dataset data, int limit, Plan plan, Device device, Progress progress,
                             List<Image> done, java.util.function.Consumer<List<Image>> sink) {
        // the runner puts each unit in the data's input domain; the warm-up and the summaries run here
        return InputDomain.within(InputDomain.of(data.isImages()), () -> runInDomain(runner, model, data, limit, plan, device, progress, done, sink));
    }

    private static Result runInDomain(Runner runner, Module model, Dataset data, int limit, Plan plan, Device device, Progress progress,
                                      List<Image> done, java.util.function.Consumer<List<Image>> sink) {
        int n = Math.min(limit, data.size());
        Map<Long, Image> kept = new java.util.TreeMap<>();
        for (Image im : done) if (im.index() < n) kept.put(im.index(), im);
        List<Unit> todo = new ArrayList<>();
        for (Unit u : Unit.split(n, plan.batchSize())) {
            boolean all = true;
            for (long i = u.start(); i < u.end() && all; i++) all = kept.containsKey(i);
            if (all) {
                if (progress != null) progress.skip(u.size());
            } else {
                todo.add(u);
                for (long i = u.start(); i < u.end(); i++) kept.remove(i);   // a unit partly kept is certified again whole
            }
        }
        // warm-up, untimed (JIT, allocator), so that the first image's time is not inflated; executors warm up on their own
        if (!todo.isEmpty() && !runner.distributed()) {
            for (CertificationStep st : plan.steps()) st.warmUp(model, image(data, todo.get(0).start(), device).unsqueeze(0));
        }
        runner.runEach(todo, new StepsTask(plan.steps()), progress, (unit, batch) -> {
            for (Image im : batch) kept.put(im.index(), im);
            if (sink != null) sink.accept(batch);
        });
        List<Image> images = new ArrayList<>(kept.values());
        Timing timing = plan.timing() != null ? plan.timing().time(model, data, n, device) : new Timing(Double.NaN, 0);
        if (!Double.isNaN(timing.secondsPerImage())) {   // only the images that were timed get a classification time
            List<Image> withTime = new ArrayList<>();
            for (Image im : images) {
                withTime.add(new Image(im.index(), im.label(), im.prediction(), im.certificates(), timing.of(im.index()),
                        im.certifySeconds(), im.monteCarloPrediction(), im.extras()));
            }
            images = withTime;
        }
        boolean singlePass = plan.steps().stream().anyMatch(CertificationStep::classifies);
        boolean sampled = images.stream().anyMatch(im -> im.monteCarloPrediction() >= 0);
        double agreement = Double.NaN;
        if (singlePass && sampled) {
            int agree = 0;
            for (Image im : images) if (im.monteCarloPrediction() == im.prediction()) agree++;
            agreement = agree / (double) n;
        }
        List<String> extraColumns = new ArrayList<>();
        Map<String, Object> details = new LinkedHashMap<>();
        for (CertificationStep st : plan.steps()) {
            extraColumns.addAll(st.extraColumns());
            if (!images.isEmpty()) details.putAll(st.summary(model, data.inputShape(), images));
        }
        return new Result(plan.method(), images, plan.columns(), timing.secondsPerImage(), timing.images(), agreement, extraColumns, details);
    }

    /** Every step of a plan on one unit: per image, the certificates, the prediction and the step times. */
    record StepsTask(List<CertificationStep> steps) implements UnitTask<ArrayList<Image>> {
        @Override public ArrayList<Image> run(Module model, Tensor x, Tensor y, Unit unit) {
            int b = unit.size();
            long[] indices = new long[b];
            for (int i = 0; i < b; i++) indices[i] = unit.start() + i;
            List<Map<String, Certificate>> certs = new ArrayList<>();
            for (int i = 0; i < b; i++) certs.add(new LinkedHashMap<>());
            int[] prediction = new int[b], mc = new int[b];
            Arrays.fill(mc, -1);
            List<Map<String, Double>> extras = new ArrayList<>();
            for (int i = 0; i < b; i++) extras.add(new LinkedHashMap<>());
            boolean first = true;
            double classify = Double.NaN, certify = 0;
            for (CertificationStep st : steps) {
                long t0 = System.nanoTime();
                List<CertificationStep.Outcome> out = st.certify(model, x, indices, certs);
                double seconds = (System.nanoTime() - t0) / 1e9 / b;
                // a classifying step that also certifies says how much of its time was the forward pass
                double pass = st.classifies() && !out.isEmpty() ? out.get(0).classifySeconds() : Double.NaN;
                if (st.classifies() && !Double.isNaN(pass)) {
                    pass = Math.min(pass, seconds);
                    classify = Double.isNaN(classify) ? pass : classify + pass;
                    certify += seconds - pass;
                } else if (st.classifies()) classify = Double.isNaN(classify) ? seconds : classify + seconds;
                else certify += seconds;
                for (int i = 0; i < b; i++) {
                    CertificationStep.Outcome o = out.get(i);
                    certs.get(i).putAll(o.certificates());
                    if (o.monteCarloPrediction() >= 0) mc[i] = o.monteCarloPrediction();
                    extras.get(i).putAll(o.extras());
                    if (first || st.classifies()) prediction[i] = o.certificates().get(st.columns().get(0).name()).prediction();
                }
                first = false;
            }
            long[] labels = y.toLongArray();
            ArrayList<Image> images = new ArrayList<>();
            for (int i = 0; i < b; i++) images.add(new Image(indices[i], labels[i], prediction[i], certs.get(i), classify, certify, mc[i], extras.get(i)));
            return images;
        }
    }

    /** Whether an image has a single-pass radius worth attacking: (b) or (c) above 1e-6. */
    public static boolean attackable(Image im) {
        return im.certificates().get(HeatCertification.LIPSCHITZ).radius() > 1e-6
                || im.certificates().get(HeatCertification.PHI_INVERSE).radius() > 1e-6;
    }

    /**
     * Attacks each image's single-pass radii (b) and (c) with ℓ2 PGD ({@code steps} steps, step
     * 2.5ε/steps, from x and then {@code restarts − 1} random starts, seeded from (seed, image, certificate))
     * at ε = {@code fraction} × radius, against the deterministic model; counts the images where the attack
     * changes the class. One unit per {@link #attackable} image; progress steps once per image.
     *
     * @return certificate name → {tested, broken}
     */
    public static Map<String, long[]> attackSinglePass(Runner runner, Result result, double fraction, int steps, int restarts, long seed,
                                                       Progress progress) {
        Map<Integer, double[]> radii = new java.util.TreeMap<>();   // image → {class, radius b, radius c}
        List<Unit> units = new ArrayList<>();
        for (Image im : result.images()) {
            if (!attackable(im)) continue;
            Certificate b = im.certificates().get(HeatCertification.LIPSCHITZ), c = im.certificates().get(HeatCertification.PHI_INVERSE);
            radii.put((int) im.index(), new double[]{b.prediction(), b.radius(), c.radius()});
            units.add(new Unit(units.size(), (int) im.index(), (int) im.index() + 1));
        }
        List<boolean[]> outcomes = runner.run(units, new SinglePassAttackTask(radii, fraction, steps, restarts, seed), progress);
        Map<String, long[]> out = new LinkedHashMap<>();
        out.put(HeatCertification.LIPSCHITZ, new long[2]);
        out.put(HeatCertification.PHI_INVERSE, new long[2]);
        for (boolean[] o : outcomes) {
            for (int k = 0; k < 2; k++) {
                long[] tally = out.get(k == 0 ? HeatCertification.LIPSCHITZ : HeatCertification.PHI_INVERSE);
                if (o[2 * k]) tally[0]++;
                if (o[2 * k + 1]) tally[1]++;
            }
        }
        return out;
    }

    /**
     * Attacks every image's randomized-smoothing certificate {@code certificate} ("cohen", or {@link HeatCertification#MONTE_CARLO} of a heat run) through
     * the smoothed classifier, judged by PREDICT with {@code judge} (same σ, N, α as the certification, its own seed):
     * see {@link SmoothedAttack}. One unit per image with a positive radius; progress steps once per image.
     */
    public static SmoothedAttack.Tally attackSmoothed(Runner runner, Result result, String certificate, RandomizedSmoothing.Config judge,
                                                      SmoothedAttack.Settings settings, Progress progress) {
        Map<Integer, Certificate> certs = new java.util.TreeMap<>();
        List<Unit> units = new ArrayList<>();
        for (Image im : result.images()) {
            Certificate c = im.certificates().get(certificate);
            if (c == null || c.abstained() || !(c.radius() > 1e-6)) continue;
            certs.put((int) im.index(), c);
            units.add(new Unit(units.size(), (int) im.index(), (int) im.index() + 1));
        }
        SmoothedAttack.Tally total = new SmoothedAttack.Tally(0, 0, 0);
        for (SmoothedAttack.Tally t : runner.run(units, new SmoothedAttackTask(certs, judge, settings), progress)) total = total.plus(t);
        return total;
    }

    /** How many images {@link #attackSmoothed} attacks for {@code certificate}: those certified with a positive radius. */
    public static long attackableSmoothed(Result result, String certificate) {
        return result.images().stream().map(im -> im.certificates().get(certificate))
                .filter(c -> c != null && !c.abstained() && c.radius() > 1e-6).count();
    }

    record SmoothedAttackTask(Map<Integer, Certificate> certs, RandomizedSmoothing.Config judge, SmoothedAttack.Settings settings)
            implements UnitTask<SmoothedAttack.Tally> {
        @Override public SmoothedAttack.Tally run(Module model, Tensor x, Tensor y, Unit unit) {
            return SmoothedAttack.attack(model, x.squeeze(0), unit.start(), certs.get(unit.start()), new RandomizedSmoothing(judge), settings);
        }
    }

    /** PGD at 0.999 × each single-pass radius of one image: {tested b, broken b, tested c, broken c}. */
    record SinglePassAttackTask(Map<Integer, double[]> radii, double fraction, int steps, int restarts, long seed)
            implements UnitTask<boolean[]> {
        @Override public boolean[] run(Module model, Tensor x, Tensor y, Unit unit) {
            double[] r = radii.get(unit.start());
            int cls = (int) r[0];
            boolean[] out = new boolean[4];
            boolean was = model.isTraining();
            model.train(false);
            try {
                Tensor target = Tensor.fromLongs(new long[]{cls}, 1).to(x.device());
                for (int k = 0; k < 2; k++) {
                    double radius = r[1 + k];
                    if (radius <= 1e-6) continue;
                    out[2 * k] = true;
                    double eps = fraction * radius;
                    for (int run = 0; run < restarts; run++) {
                        dev.tikhon.engine.Rng.seed(dev.tikhon.engine.Rng.derive(seed, unit.start(), k, run));
                        Tensor adv = new dev.tikhon.attack.Pgd(dev.tikhon.attack.Norm.L2, eps, steps, 2.5 * eps / steps, run > 0)
                                .perturb(model, x, target);
                        long pred;
                        try (dev.tikhon.engine.Autograd.Guard g = dev.tikhon.engine.Autograd.noGrad()) {
                            pred = model.forward(adv).argmax(1).itemLong();
                        }
                        if (pred != cls) {
                            out[2 * k + 1] = true;
                            break;
                        }
                    }
                }
            } finally {
                model.train(was);
            }
            return out;
        }
    }

    /** Image i of the data set as one FLOAT32 input in [0, 1], without a batch dimension. */
    static Tensor image(Dataset data, int i, Device device) {
        try (Scope s = Scope.open()) {
            return data.batchInputs(Tensor.fromLongs(new long[]{i}, 1)).squeeze(0).to(device).keep();
        }
    }
}
