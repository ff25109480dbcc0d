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

    /** One curve: a run's certificate (or attack, or NLL) with its kind, as points (x, value). */
    public record Curve(String run, String method, String kind, double[] x, double[] y) {}

    /**
     * One run read back.
     *
     * @param name     how the chart and CSV name it (its folder name, made unique)
     * @param settings its settings in words (σ, N, α, the model), for the page
     * @param unit     the norm of its radii or ε (ℓ2, ℓ∞) or the NLL's unit
     */
    record Run(Path dir, String name, Kind kind, String unit, List<Curve> curves, String settings, double heldOut) {
        Run withCurves(List<Curve> c) {
            return new Run(dir, name, kind, unit, c, settings, heldOut);
        }
    }



    private final Kind kind;
    private final List<Run> runs;

    private Comparison(Kind kind, List<Run> runs) {
        this.kind = kind;
        this.runs = runs;
    }

    public Kind kind() {
        return kind;
    }

    public List<Curve> curves() {
        return runs.stream().flatMap(r -> r.curves().stream()).toList();
    }

    /** Reads the runs; a missing folder, a run of another kind or of another norm is a {@link UserError}. */
    public static Comparison read(List<Path> dirs) {
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
        if (first.kind() == Kind.CERTIFY) runs = onOneGrid(runs);
        return new Comparison(first.kind(), runs);
    }

    /** Certify runs with per-image radii: every curve on the same radii, 0 to the largest certified (at least 1), in 100 steps. */
    private static List<Run> onOneGrid(List<Run> runs) {
        double max = 0;
        for (Run r : runs) for (Curve c : r.curves()) for (double v : c.x()) if (Double.isFinite(v)) max = Math.max(max, v);
        double top = Math.max(1.0, Math.ceil(max * 4) / 4);
        List<Run> out = new ArrayList<>();
        for (Run r : runs) {
            List<Curve> curves = new ArrayList<>();
            for (Curve c : r.curves()) curves.add(c.y() == null ? stepCurve(c.run(), c.method(), c.kind(), c.x(), top) : c);
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
        switch (command) {
            case "certify":
                return certify(dir, name, m);
            case "attack":
                if (m.path("robust_accuracy").isObject() && m.path("robust_accuracy").size() > 0) return attack(dir, name, m);
                throw new UserError(dir + " is an attack run without robust accuracy (no --eps): nothing to compare");
            case "flow train":
                return flow(dir, name, m);
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
        JsonNode certs = result.path("certificates");
        for (Iterator<Map.Entry<String, JsonNode>> it = certs.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode c = e.getValue();
            kinds.put(e.getKey(), c.path("kind").asText(""));
        }
        if (kinds.isEmpty()) kinds.put(method, result.path("kind").asText("sound"));   // lipschitz: one sound certificate
        List<Curve> curves = new ArrayList<>();
        Path perImage = dir.resolve("certify.csv");
        if (Files.isRegularFile(perImage)) {
            Csv.Table t = Csv.read(perImage);
            List<Map<String, String>> rows = t.records();
            for (Map.Entry<String, String> k : kinds.entrySet()) {
                String c = k.getKey();
                String pred = t.header().contains("prediction_" + c) ? "prediction_" + c : "prediction";
                String rad = t.header().contains("radius_" + c) ? "radius_" + c : "radius";
                if (!t.header().contains(rad)) continue;
                double[] radii = new double[rows.size()];
                for (int i = 0; i < rows.size(); i++) {
                    Map<String, String> row = rows.get(i);
                    boolean right = row.get(pred).equals(row.get("label"))
                            && (!pred.equals("prediction") || !row.containsKey("correct") || row.get("correct").equals("1") || row.get("correct").equals("true"));
                    radii[i] = right ? parse(row.get(rad)) : -1;
                }
                // per-image radii for now (y null); read() puts every run's curves on one grid of radii
                curves.add(new Curve(name, c.equals(method) ? method : method + " (" + c + ")", k.getValue(), radii, null));
            }
        }
        if (curves.isEmpty()) curves.addAll(fromSummary(dir, name, method));
        if (curves.isEmpty()) throw new UserError(dir + " has neither certify.csv nor certified_accuracy.csv: rerun the certification");
        List<String> settings = new ArrayList<>();
        settings.add(m.path("model").asText(""));
        if (m.has("sigma")) settings.add("σ " + Format.number(m.path("sigma").asDouble()));
        JsonNode s = m.path("smoothing");
        if (s.isObject()) settings.add("N " + s.path("n").asLong() + ", α " + Format.number(s.path("alpha").asDouble()));
        settings.add(result.path("images").asInt() + " images");
        return new Run(dir, name, Kind.CERTIFY, unit, curves, method + ": " + String.join(", ", settings), Double.NaN);
    }

    /** Certified accuracy at r: the fraction of images whose certificate is right and at least r (radius −1: wrong or abstained). */
    private static Curve stepCurve(String run, String method, String kind, double[] radii, double top) {
        int points = 101;
        double[] x = new double[points], y = new double[points];
        for (int p = 0; p < points; p++) {
            x[p] = top * p / (points - 1);
            long n = 0;
            for (double r : radii) if (r >= 0 && r >= x[p]) n++;
            y[p] = radii.length == 0 ? Double.NaN : n / (double) radii.length;
        }
        return new Curve(run, method, kind, x, y);
    }

    /** The coarse curve of certified_accuracy.csv (r = 0, 0.25, …), for a run without its per-image file. */
    private static List<Curve> fromSummary(Path dir, String name, String method) {
        Path csv = dir.resolve("certified_accuracy.csv");
        if (!Files.isRegularFile(csv)) return List.of();
        Csv.Table t = Csv.read(csv);
        List<Integer> radiusColumns = new ArrayList<>();
        for (int i = 0; i < t.header().size(); i++) if (t.header().get(i).startsWith("r=")) radiusColumns.add(i);
        List<Curve> out = new ArrayList<>();
        for (List<String> row : t.rows()) {
            double[] x = new double[radiusColumns.size()], y = new double[x.length];
            for (int k = 0; k < x.length; k++) {
                x[k] = parse(t.header().get(radiusColumns.get(k)).substring(2));
                y[k] = parse(row.get(radiusColumns.get(k)));
            }
            String c = row.get(0);
            out.add(new Curve(name, c.equals(method) ? method : method + " (" + c + ")", row.get(t.header().indexOf("kind")), x, y));
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
        Curve c = new Curve(name, attack, "empirical", xs.stream().mapToDouble(Double::doubleValue).toArray(),
                ys.stream().mapToDouble(Double::doubleValue).toArray());
        return new Run(dir, name, Kind.ATTACK, unit, List.of(c), attack + ": " + m.path("model").asText("") + ", " + m.path("n").asInt()
                + " images", Double.NaN);
    }

    // ---------------------------------------------------------------- flow

    private static Run flow(Path dir, String name, JsonNode m) {
        Path history = dir.resolve("history.csv");
        if (!Files.isRegularFile(history)) throw new UserError(dir + " has no history.csv: rerun or resume the flow training");
        Csv.Table t = Csv.read(history);
        List<Map<String, String>> rows = t.records();
        double[] x = new double[rows.size()], y = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            x[i] = parse(rows.get(i).getOrDefault("iteration", String.valueOf(i + 1)));
            y[i] = parse(rows.get(i).get("nll"));
        }
        JsonNode h = m.path("held_out");
        String unit = h.path("unit").asText("NLL");
        JsonNode c = m.path("config");
        return new Run(dir, name, Kind.FLOW, unit, List.of(new Curve(name, c.path("method").asText("cnf"), "", x, y)),
                c.path("method").asText("cnf") + " on " + c.path("data").asText("") + ", solver " + c.path("solver").asText("")
                        + ", " + c.path("iterations").asInt() + " iterations", h.path("nll").asDouble(Double.NaN));
    }

    private static double parse(String s) {
        if (s == null || s.isBlank()) return Double.NaN;
        try {
            return Double.parseDouble(s.strip());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    // ---------------------------------------------------------------- output

    /** compare.csv, compare.png, metrics.json and index.html in {@code out}. */
    public void write(RunDirectory out, Map<String, Object> header) {
        List<List<Object>> rows = new ArrayList<>();
        for (Curve c : curves()) {
            for (int i = 0; i < c.x().length; i++) {
                if (Double.isFinite(c.y()[i])) rows.add(List.of(c.run(), c.method(), c.kind(), c.x()[i], c.y()[i]));
            }
        }
        Csv.write(out.resolve("compare.csv"), List.of("run", "method", "kind", kind.x, "value"), rows);
        String unit = runs.get(0).unit();
        List<Charts.Series> series = new ArrayList<>();
        for (Curve c : curves()) {
            String label = (c.run().equals(c.method()) ? c.run() : c.run() + ": " + c.method()) + (c.kind().isEmpty() ? "" : ", " + c.kind());
            series.add(new Charts.Series(label, c.x(), c.y(), Charts.Stroke.forKind(c.kind())));
        }
        String x = switch (kind) {
            case CERTIFY -> unit + " radius";
            case ATTACK -> "ε (" + unit + ")";
            case FLOW -> "iteration";
        };
        String y = kind == Kind.FLOW ? unit : kind.quantity;
        Charts.line(out.resolve("compare.png"), capitalized(kind.quantity) + " of " + runs.size() + " runs", x, y, series);

        Map<String, Object> metrics = new LinkedHashMap<>(header);
        metrics.put("compared", kind.name().toLowerCase(Locale.ROOT));
        metrics.put("unit", unit);
        List<Map<String, Object>> summary = new ArrayList<>();
        double[] at = kind == Kind.CERTIFY ? new double[]{0, 0.25, 0.5, 0.75, 1.0} : null;
        for (Run r : runs) {
            for (Curve c : r.curves()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("run", r.name());
                row.put("method", c.method());
                if (!c.kind().isEmpty()) row.put("kind", c.kind());
                if (at != null) {
                    for (double a : at) row.put("r=" + Format.number(a), valueAt(c, a));
                } else if (kind == Kind.ATTACK) {
                    for (int i = 0; i < c.x().length; i++) row.put(i == 0 ? "clean" : "ε=" + Format.number(c.x()[i]), c.y()[i]);
                } else {
                    row.put("final training " + unit, c.y().length == 0 ? Double.NaN : c.y()[c.y().length - 1]);
                    row.put("held-out " + unit, r.heldOut());
                }
                row.put("settings", r.settings());
                summary.add(row);
            }
        }
        metrics.put("runs", summary);
        metrics.put("finished", java.time.Instant.now().toString());
        metrics.put("folders", runs.stream().map(r -> r.dir().toAbsolutePath().normalize().toString()).toList());
        out.writeMetrics(metrics);
        HtmlReport.write(out.path(), "Tikhon: " + kind.quantity + " of " + runs.size() + " runs",
                String.join(" · ", runs.stream().map(Run::name).toList()), metrics, List.of("compare.png"));
    }

    /** The curve's value at x (the step function's value at the grid point at or before x). */
    private static double valueAt(Curve c, double x) {
        double v = Double.NaN;
        for (int i = 0; i < c.x().length; i++) if (c.x()[i] <= x + 1e-12) v = c.y()[i];
        return v;
    }

    private static String capitalized(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
