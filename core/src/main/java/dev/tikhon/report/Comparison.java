package dev.tikhon.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tikhon.UserError;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Several finished runs of one kind side by side, read back from their folders: the certified-accuracy curves of
 * {@code certify} runs (from certify.csv, one radius per image, so the curves are exact), robust accuracy by ε of
 * {@code attack} runs, or the training NLL of {@code flow train} runs (with the held-out NLL). {@link #write} draws
 * them in one chart, one CSV ({@code run, method, kind, x, value}) and one page.
 */
public final class Comparison {
    /** What the runs measured; every run of a comparison has the same. */
    public enum Kind {
        CERTIFY("certified accuracy", "radius"), ATTACK("robust accuracy", "eps"), FLOW("training NLL", "iteration");

        final String quantity;
        final String x;

        Kind(String quantity, String x) {
            this.quantity = quantity;
            this.x = x;
        }
    }

    /**
     * One curve: a run's certificate (or attack, or NLL) with its kind, as points (x, value).
     *
     * @param alpha the failure probability of a probabilistic certificate, NaN for any other kind
     * @param radii a certify run's per-image radii (−1: wrong or abstained), from which certified accuracy at any radius
     *              is counted exactly; null where the curve was read from a summary (certified_accuracy.csv)
     */
    public record Curve(String run, String method, String kind, double alpha, double[] x, double[] y, double[] radii) {
        public Curve(String run, String method, String kind, double[] x, double[] y) {
            this(run, method, kind, Double.NaN, x, y, null);
        }

        /**
         * Certified accuracy at radius r: from the per-image radii, the fraction of images certified correct with radius
         * ≥ r (certify's own convention, {@code Certificate.certifies}); from a summary, its value at r when the summary
         * has that radius, else NaN (never the value at a neighbouring radius).
         */
        public double certifiedAccuracyAt(double r) {
            if (radii != null) {
                if (radii.length == 0) return Double.NaN;
                long n = 0;
                for (double v : radii) if (v >= 0 && v >= r) n++;
                return n / (double) radii.length;
            }
            for (int i = 0; i < x.length; i++) if (Math.abs(x[i] - r) <= 1e-12 * Math.max(1, Math.abs(r))) return y[i];
            return Double.NaN;
        }
    }

    /**
     * One run read back.
     *
     * @param name     how the chart and CSV name it (its folder name, made unique)
     * @param settings its settings in words (σ, N, α, the model), for the page
     * @param unit     the norm of its radii or ε (ℓ2, ℓ∞) or the NLL's unit
     */
    record Run(Path dir, String name, Kind kind, String unit, List<Curve> curves, String settings, double heldOut, double[] named,
               DataCheck.Seen data) {
        Run withCurves(List<Curve> c) {
            return new Run(dir, name, kind, unit, c, settings, heldOut, named, data);
        }

        Run withData(DataCheck.Seen d) {
            return new Run(dir, name, kind, unit, curves, settings, heldOut, named, d);
        }
    }

    /** The radii certify's tables name when a run's metrics name none (certify's {@code CertificationRun.RADII}). */
    static final double[] DEFAULT_RADII = {0, 0.25, 0.5, 0.75, 1.0};

    private final Kind kind;
    private final List<Run> runs;
    /** The radii (certify) at which metrics.json and the page give each curve's value: those the runs' own tables name. */
    private final double[] named;

    /** What compare notes of the runs' data (other seeds, other numbers of examples, runs that recorded too little). */
    private final List<String> dataNotes;

    private Comparison(Kind kind, List<Run> runs, double[] named, List<String> dataNotes) {
        this.kind = kind;
        this.runs = runs;
        this.named = named;
        this.dataNotes = dataNotes;
    }

    /** Notes on the runs' data: softer differences than a refusal (see {@link #read(List, boolean)}). */
    public List<String> dataNotes() {
        return dataNotes;
    }

    /** The radii at which certified accuracy is tabulated (certify runs; empty otherwise). */
    public double[] namedRadii() {
        return named.clone();
    }

    public Kind kind() {
        return kind;
    }

    public List<Curve> curves() {
        return runs.stream().flatMap(r -> r.curves().stream()).toList();
    }

    /** Reads the runs; a missing folder, a run of another kind, of another norm or on other data is a {@link UserError}. */
    public static Comparison read(List<Path> dirs) {
        return read(dirs, false);
    }

    /**
     * Reads the runs; a missing folder, a run of another kind or of another norm is a {@link UserError}, and so are runs
     * on other data (another data set, split, or other examples of one: {@link DataCheck}) unless {@code allowDifferentData},
     * which turns that into a note. Other samples of a generated set (another seed) and other numbers of examples are notes.
     */
    public static Comparison read(List<Path> dirs, boolean allowDifferentData) {
        if (dirs.size() < 2) throw new UserError("compare needs at least two run folders, got " + dirs.size() + ": list them after 'compare'");
        List<Run> runs = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (Path dir : dirs) {
            String name = dir.toAbsolutePath().normalize().getFileName() == null ? dir.toString()
                    : dir.toAbsolutePath().normalize().getFileName().toString();
            String unique = name;
            for (int k = 2; !names.add(unique); k++) unique = name + " (" + k + ")";
            runs.add(readRun(dir, unique));
        }
        Run first = runs.get(0);
        for (Run r : runs) {
            if (r.kind() != first.kind()) {
                throw new UserError(r.dir() + " is " + article(r.kind()) + " run but " + first.dir() + " is " + article(first.kind())
                        + " run: compare runs of one kind (certify, attack or flow train)");
            }
            if (!r.unit().equals(first.unit())) {
                throw new UserError(r.dir() + " measures in " + r.unit() + " but " + first.dir() + " in " + first.unit()
                        + ": compare runs of one norm");
            }
        }
        DataCheck.Outcome data = DataCheck.check(runs.stream().map(Run::data).toList(), allowDifferentData);
        double[] named = new double[0];
        if (first.kind() == Kind.CERTIFY) {
            java.util.TreeSet<Double> radii = new java.util.TreeSet<>();
            for (Run r : runs) for (double a : r.named()) radii.add(a);
            if (radii.isEmpty()) for (double a : DEFAULT_RADII) radii.add(a);
            named = radii.stream().mapToDouble(Double::doubleValue).toArray();
            runs = onOneGrid(runs, named);
        }
        return new Comparison(first.kind(), runs, named, data.notes());
    }

    /**
     * Certify runs with per-image radii: every curve on the same radii, 0 to the largest certified (at least the largest
     * named radius), in 100 steps, plus the named radii themselves (so compare.csv has the exact value at each).
     */
    private static List<Run> onOneGrid(List<Run> runs, double[] named) {
        double max = 0;
        for (Run r : runs) for (Curve c : r.curves()) if (c.radii() != null) for (double v : c.radii()) if (Double.isFinite(v)) max = Math.max(max, v);
        // rounded up to a quarter of the largest named radius (ℓ2: 0.25; ℓ∞ up to 8/255: 2/255), so that an ℓ∞ curve
        // is not squeezed into the first tenth of an axis drawn to an ℓ2-sized 0.25
        double namedTop = named.length == 0 || named[named.length - 1] <= 0 ? 1.0 : named[named.length - 1];
        double unit = namedTop / 4;
        double top = Math.max(namedTop, Math.ceil(max / unit - 1e-9) * unit);
        java.util.TreeSet<Double> grid = new java.util.TreeSet<>();
        int points = 101;
        for (int p = 0; p < points; p++) grid.add(top * p / (points - 1));
        for (double a : named) {
            // a named radius replaces a grid point that differs from it only by rounding
            Double near = grid.floor(a);
            if (near != null && Math.abs(near - a) <= 1e-12 * Math.max(1, a)) grid.remove(near);
            near = grid.ceiling(a);
            if (near != null && Math.abs(near - a) <= 1e-12 * Math.max(1, a)) grid.remove(near);
            grid.add(a);
        }
        double[] x = grid.stream().mapToDouble(Double::doubleValue).toArray();
        List<Run> out = new ArrayList<>();
        for (Run r : runs) {
            List<Curve> curves = new ArrayList<>();
            for (Curve c : r.curves()) {
                if (c.radii() == null) {
                    curves.add(c);
                    continue;
                }
                double[] y = new double[x.length];
                for (int p = 0; p < x.length; p++) y[p] = c.certifiedAccuracyAt(x[p]);
                curves.add(new Curve(c.run(), c.method(), c.kind(), c.alpha(), x, y, c.radii()));
            }
            out.add(r.withCurves(curves));
        }
        return out;
    }

    private static String article(Kind k) {
        return switch (k) {
            case CERTIFY -> "a certify";
            case ATTACK -> "an attack";
            case FLOW -> "a flow";
        };
    }

    private static Run readRun(Path dir, String name) {
        Path metricsFile = dir.resolve(RunDirectory.METRICS_FILE);
        if (!Files.isDirectory(dir)) throw new UserError("run folder " + dir + " not found: give folders written by certify, attack or flow train");
        if (!Files.isRegularFile(metricsFile)) {
            throw new UserError(dir + " has no " + RunDirectory.METRICS_FILE + ": it is not a finished Tikhon run (rerun or resume it first)");
        }
        JsonNode m = Json.mapper().valueToTree(Json.read(metricsFile, Map.class));
        String command = m.path("command").asText("");
        DataCheck.Seen data = DataCheck.read(dir, m);
        switch (command) {
            case "certify":
                return certify(dir, name, m).withData(data);
            case "attack":
                if (m.path("robust_accuracy").isObject() && m.path("robust_accuracy").size() > 0) return attack(dir, name, m).withData(data);
                throw new UserError(dir + " is an attack run without robust accuracy (no --eps): nothing to compare");
            case "flow train":
                return flow(dir, name, m).withData(data);
            default:
                throw new UserError(dir + " is a '" + (command.isEmpty() ? "unknown" : command) + "' run: compare reads certify, attack "
                        + "and flow train runs");
        }
    }

    // ---------------------------------------------------------------- certify

    private static Run certify(Path dir, String name, JsonNode m) {
        JsonNode result = m.path("result");
        String method = result.path("method").asText("certify");
        String unit = result.path("norm").asText("l2").equals("linf") ? "ℓ∞" : "ℓ2";
        Map<String, String> kinds = new LinkedHashMap<>();
        Map<String, Double> alphas = new LinkedHashMap<>();
        java.util.TreeSet<Double> named = new java.util.TreeSet<>();
        JsonNode certs = result.path("certificates");
        for (Iterator<Map.Entry<String, JsonNode>> it = certs.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode c = e.getValue();
            kinds.put(e.getKey(), c.path("kind").asText(""));
            alphas.put(e.getKey(), c.path("alpha").isNumber() ? c.path("alpha").asDouble() : Double.NaN);
            namedRadii(c.path("certified_accuracy"), named);
        }
        if (kinds.isEmpty()) {
            kinds.put(method, result.path("kind").asText("sound"));   // lipschitz: one sound certificate
            namedRadii(result.path("certified_accuracy"), named);
        }
        List<Curve> curves = new ArrayList<>();
        Path perImage = dir.resolve("certify.csv");
        if (Files.isRegularFile(perImage)) {
            Csv.Table t = Csv.readWhole(perImage, RECERTIFY);
            List<Map<String, String>> rows = t.records();
            for (Map.Entry<String, String> k : kinds.entrySet()) {
                String c = k.getKey();
                String pred = t.header().contains("prediction_" + c) ? "prediction_" + c : "prediction";
                String rad = t.header().contains("radius_" + c) ? "radius_" + c : "radius";
                if (!t.header().contains(rad)) continue;
                for (String column : List.of(pred, "label")) {
                    if (!t.header().contains(column)) throw new UserError(perImage + " has a " + rad + " column but no " + column + " column: " + RECERTIFY);
                }
                double[] radii = new double[rows.size()];
                for (int i = 0; i < rows.size(); i++) {
                    Map<String, String> row = rows.get(i);
                    boolean right = row.get(pred).equals(row.get("label"))
                            && (!pred.equals("prediction") || !row.containsKey("correct") || row.get("correct").equals("1") || row.get("correct").equals("true"));
                    radii[i] = right ? Csv.number(row.get(rad), perImage, i + 1, rad, RECERTIFY) : -1;
                }
                // per-image radii (x and y for now empty); read() puts every run's curves on one grid of radii
                curves.add(new Curve(name, c.equals(method) ? method : method + " (" + c + ")", k.getValue(),
                        alphas.getOrDefault(c, Double.NaN), new double[0], new double[0], radii));
            }
        }
        if (curves.isEmpty()) curves.addAll(fromSummary(dir, name, method, alphas));
        if (curves.isEmpty()) throw new UserError(dir + " has neither certify.csv nor certified_accuracy.csv: rerun the certification");
        List<String> settings = new ArrayList<>();
        settings.add(m.path("model").asText(""));
        if (m.has("sigma")) settings.add("σ " + Format.number(m.path("sigma").asDouble()));
        JsonNode s = m.path("smoothing");
        if (s.isObject()) settings.add("N " + s.path("n").asLong() + ", α " + Format.number(s.path("alpha").asDouble()));
        settings.add(result.path("images").asInt() + " images");
        return new Run(dir, name, Kind.CERTIFY, unit, curves, method + ": " + String.join(", ", settings), Double.NaN,
                named.stream().mapToDouble(Double::doubleValue).toArray(), null);
    }

    /** Adds the radii a run's {@code certified_accuracy} object names ({@code "0.25": …}) to {@code into}. */
    private static void namedRadii(JsonNode certifiedAccuracy, java.util.Set<Double> into) {
        for (Iterator<String> it = certifiedAccuracy.fieldNames(); it.hasNext(); ) {
            double r = parse(it.next());
            if (Double.isFinite(r)) into.add(r);
        }
    }

    /** The coarse curve of certified_accuracy.csv (r = 0, 0.25, …), for a run without its per-image file. */
    private static List<Curve> fromSummary(Path dir, String name, String method, Map<String, Double> alphas) {
        Path csv = dir.resolve("certified_accuracy.csv");
        if (!Files.isRegularFile(csv)) return List.of();
        Csv.Table t = Csv.readWhole(csv, RECERTIFY);
        List<Integer> radiusColumns = new ArrayList<>();
        for (int i = 0; i < t.header().size(); i++) if (t.header().get(i).startsWith("r=")) radiusColumns.add(i);
        List<Curve> out = new ArrayList<>();
        for (int r = 0; r < t.rows().size(); r++) {
            List<String> row = t.rows().get(r);
            double[] x = new double[radiusColumns.size()], y = new double[x.length];
            for (int k = 0; k < x.length; k++) {
                String column = t.header().get(radiusColumns.get(k));
                x[k] = parse(column.substring(2));
                y[k] = Csv.number(row.get(radiusColumns.get(k)), csv, r + 1, column, RECERTIFY);
            }
            String c = row.get(0);
            out.add(new Curve(name, c.equals(method) ? method : method + " (" + c + ")", Headline.kindWord(row.get(t.header().indexOf("kind"))),
                    alphas.getOrDefault(c, Double.NaN), x, y, null));
        }
        return out;
    }

    // ---------------------------------------------------------------- attack

    private static Run attack(Path dir, String name, JsonNode m) {
        JsonNode robust = m.path("robust_accuracy");
        List<Double> xs = new ArrayList<>(List.of(0.0)), ys = new ArrayList<>(List.of(m.path("clean_accuracy").asDouble(Double.NaN)));
        for (Iterator<Map.Entry<String, JsonNode>> it = robust.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            xs.add(parse(e.getKey()));
            ys.add(e.getValue().asDouble(Double.NaN));
        }
        String attack = m.path("attacks").path("attack").asText("attack");
        String unit = m.path("norm").asText("").equals("linf") ? "ℓ∞" : "ℓ2";
        // attack --smoothed: a Monte Carlo estimate of the smoothed classifier's robust accuracy (robust_accuracy_kind)
        Curve c = new Curve(name, attack, m.path("robust_accuracy_kind").asText("empirical"), xs.stream().mapToDouble(Double::doubleValue).toArray(),
                ys.stream().mapToDouble(Double::doubleValue).toArray());
        return new Run(dir, name, Kind.ATTACK, unit, List.of(c), attack + ": " + m.path("model").asText("") + ", " + m.path("n").asInt()
                + " images", Double.NaN, new double[0], null);
    }

    // ---------------------------------------------------------------- flow

    private static Run flow(Path dir, String name, JsonNode m) {
        Path history = dir.resolve("history.csv");
        if (!Files.isRegularFile(history)) throw new UserError(dir + " has no history.csv: rerun or resume the flow training");
        String remedy = "rerun or resume the flow training";
        Csv.Table t = Csv.readWhole(history, remedy);
        String value = t.header().contains("bits_per_dim") ? "bits_per_dim" : "nll";
        if (!t.header().contains(value)) throw new UserError(history + " has neither a bits_per_dim nor an nll column: " + remedy);
        List<Map<String, String>> rows = t.records();
        double[] x = new double[rows.size()], y = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            x[i] = rows.get(i).containsKey("iteration") ? Csv.number(rows.get(i).get("iteration"), history, i + 1, "iteration", remedy) : i + 1;
            y[i] = Csv.number(rows.get(i).get(value), history, i + 1, value, remedy);
        }
        JsonNode h = m.path("held_out");
        String unit = h.path("unit").asText("NLL");
        JsonNode c = m.path("config");
        return new Run(dir, name, Kind.FLOW, unit, List.of(new Curve(name, c.path("method").asText("cnf"), "", x, y)),
                c.path("method").asText("cnf") + " on " + c.path("data").asText("") + (c.has("solver") ? ", solver " + c.path("solver").asText("") : "")
                        + ", " + c.path("iterations").asInt() + " iterations", h.path("nll").asDouble(Double.NaN), new double[0], null);
    }

    private static final String RECERTIFY = "rerun the certification (or --resume it)";

    private static double parse(String s) {
        if (s == null || s.isBlank()) return Double.NaN;
        try {
            return Double.parseDouble(s.strip());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    // ---------------------------------------------------------------- output

    /**
     * compare.csv, compare.png, metrics.json and index.html in {@code out}. compare.csv has, after its first five columns
     * (run, method, kind, radius|eps|iteration, value), the norm of the radii or ε ({@code l2}, {@code linf}; empty for
     * flows) and α of a probabilistic certificate (empty for any other kind).
     */
    public void write(RunDirectory out, Map<String, Object> header) {
        String norm = norm(runs.get(0).unit());
        List<List<Object>> rows = new ArrayList<>();
        for (Curve c : curves()) {
            for (int i = 0; i < c.x().length; i++) {
                if (Double.isFinite(c.y()[i])) {
                    rows.add(List.of(c.run(), c.method(), c.kind(), c.x()[i], c.y()[i], norm, Double.isNaN(c.alpha()) ? "" : c.alpha()));
                }
            }
        }
        Csv.write(out.resolve("compare.csv"), List.of("run", "method", "kind", kind.x, "value", "norm", "alpha"), rows);
        String unit = runs.get(0).unit();
        List<Charts.Series> series = new ArrayList<>();
        for (Curve c : curves()) {
            // a Monte Carlo estimate is no proof: dotted, as empirical results
            series.add(new Charts.Series(label(c), c.x(), c.y(), c.kind().startsWith("monte-carlo") ? Charts.Stroke.DOTTED : Charts.Stroke.forKind(c.kind())));
        }
        boolean heuristic = kind == Kind.CERTIFY && curves().stream().anyMatch(c -> c.kind().equals("heuristic"));
        String x = switch (kind) {
            case CERTIFY -> unit + " radius";
            case ATTACK -> "ε (" + unit + ")";
            case FLOW -> "iteration";
        };
        String y = kind == Kind.FLOW ? unit : heuristic ? kind.quantity + " (heuristic curves: not certified)" : kind.quantity;
        Charts.line(out.resolve("compare.png"), capitalized(kind.quantity) + " of " + runs.size() + " runs", x, y, series);

        Map<String, Object> metrics = new LinkedHashMap<>(header);
        metrics.put("compared", kind.name().toLowerCase(Locale.ROOT));
        metrics.put("unit", unit);
        if (!norm.isEmpty()) metrics.put("norm", norm);
        double[] at = kind == Kind.CERTIFY ? named : null;
        if (at != null) metrics.put("radii", at);
        if (heuristic) metrics.put("heuristic_rows", HEURISTIC_ROWS);
        List<Map<String, Object>> summary = new ArrayList<>();
        boolean anyAlpha = curves().stream().anyMatch(c -> !Double.isNaN(c.alpha()));
        for (Run r : runs) {
            for (Curve c : r.curves()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("run", r.name());
                row.put("method", c.method());
                if (!c.kind().isEmpty()) row.put("kind", c.kind());
                if (anyAlpha) row.put("alpha", Double.isNaN(c.alpha()) ? null : c.alpha());
                if (at != null) {
                    // exact: counted from the per-image radii at r itself (radius ≥ r), never read off a neighbouring grid point
                    for (double a : at) row.put("r=" + Format.number(a), c.certifiedAccuracyAt(a));
                } else if (kind == Kind.ATTACK) {
                    for (int i = 0; i < c.x().length; i++) row.put(i == 0 ? "clean" : "ε=" + Format.number(c.x()[i]), c.y()[i]);
                } else {
                    row.put("final training " + unit, c.y().length == 0 ? Double.NaN : c.y()[c.y().length - 1]);
                    row.put("held-out " + unit, r.heldOut());
                }
                row.put("settings", r.settings());
                row.put("data", r.data().words());
                summary.add(row);
            }
        }
        metrics.put("runs", summary);
        if (!dataNotes.isEmpty()) metrics.put("data_notes", dataNotes);
        metrics.put("finished", java.time.Instant.now().toString());
        metrics.put("folders", runs.stream().map(r -> r.dir().toAbsolutePath().normalize().toString()).toList());
        out.writeMetrics(metrics);
        HtmlReport.write(out.path(), "Tikhon: " + kind.quantity + " of " + runs.size() + " runs",
                String.join(" · ", runs.stream().map(Run::name).toList()), metrics, List.of("compare.png"));
    }

    /** What a heuristic certificate's row and curve give (metrics.json {@code heuristic_rows}, the page). */
    public static final String HEURISTIC_ROWS = "rows of kind heuristic give the accuracy at a heuristic radius ≥ r, not certified "
            + "accuracy: the radius holds only insofar as the model is a Gaussian average, and an attack may break it";

    /**
     * A curve's legend: run, method, kind, α of a probabilistic certificate; a heuristic certificate's says "not certified",
     * as certify's own chart does.
     */
    static String label(Curve c) {
        return (c.run().equals(c.method()) ? c.run() : c.run() + ": " + c.method()) + (c.kind().isEmpty() ? "" : ", " + c.kind())
                + (Double.isNaN(c.alpha()) ? "" : " (α " + Format.number(c.alpha()) + ")")
                + (c.kind().equals("heuristic") ? " (not certified)" : "");
    }

    /** "ℓ2" → l2, "ℓ∞" → linf; anything else (a flow's NLL unit) → "". */
    private static String norm(String unit) {
        return switch (unit) {
            case "ℓ2" -> "l2";
            case "ℓ∞" -> "linf";
            default -> "";
        };
    }

    private static String capitalized(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
