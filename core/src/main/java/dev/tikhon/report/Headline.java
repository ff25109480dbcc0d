package dev.tikhon.report;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The result a report page opens with, read from the run's metrics and the CSV files it wrote: certified accuracy
 * by radius (certify), robust accuracy by ε (attack), verified / not falsified / clean accuracy (verify), test
 * accuracy and loss (train, eval, smooth), held-out NLL and NFE (flows), an experiment's results table (reproduce).
 *
 * @param sentences the result in words, a few sentences
 * @param header    the headline table's column names (empty: no table)
 * @param rows      its cells, already formatted
 * @param images    the charts that belong to the headline, shown right under it when the run wrote them
 * @param kinds     the certificate kinds the headline shows (sound, probabilistic, heuristic, empirical), each explained
 * @param consumed  top-level metrics keys the headline shows in full, left out of the details table
 */
record Headline(List<String> sentences, List<String> header, List<List<String>> rows, List<String> images, Set<String> kinds,
                Set<String> consumed) {
    /** The radii of certified-accuracy tables, as the {@code r=…} columns of certified_accuracy.csv name them. */
    private static final String RADIUS_PREFIX = "r=";

    static Headline of(JsonNode m, Path dir) {
        String command = m.path("command").asText("");
        Headline h;
        if (command.equals("certify")) h = certify(m, dir);
        else if (command.equals("attack") || command.equals("bounds")) h = attack(m, command);
        else if (command.equals("verify")) h = verify(m);
        else if (command.equals("train") || command.equals("kernel fit")) h = train(m);
        else if (command.equals("smooth")) h = smooth(m);
        else if (command.equals("eval") || command.equals("kernel eval")) h = eval(m);
        else if (command.startsWith("flow")) h = flow(m);
        else if (command.equals("compare")) h = compare(m);
        else if (command.equals("data-lipschitz")) h = dataLipschitz(m);
        else if (command.equals("generalization")) h = generalization(m);
        else h = null;
        if (h == null) h = experiment(m, dir);
        return h != null ? h : generic(m);
    }

    // ---------------------------------------------------------------- certify

    private static Headline certify(JsonNode m, Path dir) {
        Path csv = dir.resolve("certified_accuracy.csv");
        JsonNode result = m.path("result");
        List<String> sentences = new ArrayList<>();
        int images = result.path("images").asInt(0);
        String norm = result.path("norm").asText("l2").equals("linf") ? "ℓ∞" : "ℓ2";
        Set<String> kindsRun = new LinkedHashSet<>();
        result.path("certificates").forEach(c -> kindsRun.add(c.path("kind").asText("")));
        String accuracy = cleanPart(result.path("clean_accuracy"));
        if (result.path("smoothed_accuracy").isNumber()) {
            accuracy = " (accuracy of the smoothed classifier, abstaining counted as wrong, i.e. certified accuracy at r = 0: "
                    + Format.number(result.path("smoothed_accuracy").asDouble())
                    + (result.path("base_model_clean_accuracy").isNumber() ? "; the base model's clean accuracy, one noise-free pass: "
                    + Format.number(result.path("base_model_clean_accuracy").asDouble()) : "") + ")";
        }
        String of = "the fraction of the " + (images > 0 ? images + " " : "") + "images that are classified correctly and ";
        if (kindsRun.equals(Set.of("heuristic"))) {
            sentences.add("Accuracy at heuristic radius ≥ r (not certified): " + of + "whose heuristic " + norm + " radius is r or more"
                    + accuracy + ". A heuristic radius is an estimate, not a certificate.");
        } else {
            sentences.add("Certified accuracy: " + of + "certified at " + norm + " radius r or more" + accuracy + "."
                    + (kindsRun.contains("heuristic") ? " For the heuristic rows the figure is the accuracy at heuristic radius ≥ r "
                    + "(not certified)." : ""));
        }
        Headline table = radiusTable(csv, sentences);
        if (table == null) return null;
        for (List<String> row : table.rows) {   // a heuristic row says it is not certified
            for (int i = 0; i < row.size(); i++) if (row.get(i).equals("heuristic")) row.set(i, "heuristic (not certified)");
        }
        double sigma = m.path("sigma").asDouble(Double.NaN);
        if (Double.isFinite(sigma) && kindsRun.contains("probabilistic")) {
            sentences.add("Randomized smoothing at σ " + Format.number(sigma) + " cannot certify beyond r = "
                    + Format.number(m.path("max_certifiable_radius").asDouble()) + " with these N and α.");
        }
        JsonNode explanation = result.path("explanation");
        if (explanation.isObject()) {
            explanation.fields().forEachRemaining(e -> sentences.add("(" + e.getKey() + ") " + e.getValue().asText() + "."));
        }
        if (result.path("single_pass_vs_smoothed_agreement").isNumber()) {
            sentences.add("The single pass agrees with the smoothed classifier's Monte Carlo majority on "
                    + Format.number(100 * result.path("single_pass_vs_smoothed_agreement").asDouble()) + "% of the images.");
        }
        List<String> times = new ArrayList<>();
        if (result.path("classify_ms_per_image").isNumber()) {
            times.add("classification " + Format.number(result.path("classify_ms_per_image").asDouble()) + " ms/image"
                    + (result.path("predict_images_timed").isNumber() ? " (PREDICT, timed on the first "
                    + result.path("predict_images_timed").asInt() + " images)" : ""));
        }
        if (result.path("certify_ms_per_image").isNumber()) {
            times.add("certification " + Format.number(result.path("certify_ms_per_image").asDouble()) + " ms/image");
        }
        if (result.path("single_image_latency_ms").isNumber()) {
            times.add("one image alone " + Format.number(result.path("single_image_latency_ms").asDouble()) + " ms (single-pass latency)");
        }
        if (!times.isEmpty()) sentences.add("Time: " + String.join(", ", times) + ".");
        return new Headline(sentences, table.header, table.rows, List.of("certified_accuracy.png"), table.kinds, Set.of("result"));
    }

    private static String cleanPart(JsonNode clean) {
        return clean.isNumber() ? " (clean accuracy " + Format.number(clean.asDouble()) + ")" : "";
    }

    /**
     * A table of certified accuracy by radius from a CSV with {@code r=…} columns (certified_accuracy.csv, a reproduce
     * run's results.csv): the columns before the first radius name the row, then one column per radius. Adds a
     * sentence with each row's value at the middle radius. Null when the file is missing or has no radius column.
     */
    private static Headline radiusTable(Path csv, List<String> sentences) {
        if (!Files.isRegularFile(csv)) return null;
        Csv.Table t = Csv.read(csv);
        List<String> columns = t.header();
        int first = -1;
        for (int i = 0; i < columns.size(); i++) if (columns.get(i).startsWith(RADIUS_PREFIX) && first < 0) first = i;
        if (first < 0) return null;
        int last = first;
        while (last + 1 < columns.size() && columns.get(last + 1).startsWith(RADIUS_PREFIX)) last++;
        List<String> header = new ArrayList<>();
        for (int i = 0; i < first; i++) header.add(columns.get(i).replace('_', ' '));
        for (int i = first; i <= last; i++) header.add("r = " + Format.radius(Double.parseDouble(columns.get(i).substring(2))));
        int kindColumn = columns.indexOf("kind"), alphaColumn = columns.indexOf("alpha");
        int middle = (first + last) / 2;
        Set<String> kinds = new LinkedHashSet<>();
        List<List<String>> rows = new ArrayList<>();
        List<String> atMiddle = new ArrayList<>();
        for (List<String> row : t.rows()) {
            List<String> cells = new ArrayList<>();
            for (int i = 0; i <= last && i < row.size(); i++) cells.add(cellOf(row.get(i)));
            rows.add(cells);
            if (kindColumn >= 0 && kindColumn < row.size()) kinds.add(kindWord(row.get(kindColumn)));
            StringBuilder name = new StringBuilder();
            for (int i = 0; i < first && i < row.size(); i++) {
                if (i == kindColumn || columns.get(i).equals("norm") || !isText(row.get(i)) || name.toString().contains(row.get(i))) continue;
                if (name.length() > 0) name.append(' ');
                name.append(row.get(i));
            }
            String kind = kindColumn >= 0 && kindColumn < row.size() ? ", " + row.get(kindColumn)
                    + (alphaColumn >= 0 && alphaColumn < row.size() && !row.get(alphaColumn).isBlank() ? ", α = " + cellOf(row.get(alphaColumn)) : "") : "";
            if (middle < row.size()) atMiddle.add(name + " " + cellOf(row.get(middle)) + " (" + kind.substring(Math.min(2, kind.length())) + ")");
        }
        if (!atMiddle.isEmpty()) {
            sentences.add("At r = " + Format.radius(Double.parseDouble(columns.get(middle).substring(2))) + ": "
                    + String.join("; ", atMiddle).replace(" ()", "") + ".");
        }
        return new Headline(sentences, header, rows, List.of(), kinds, Set.of());
    }

    /** "probabilistic (α 0.001)" → probabilistic. */
    static String kindWord(String kind) {
        String k = kind.toLowerCase(Locale.ROOT).strip();
        int cut = k.indexOf(' ');
        return cut > 0 ? k.substring(0, cut) : k;
    }

    private static boolean isText(String cell) {
        try {
            Double.parseDouble(cell);
            return false;
        } catch (NumberFormatException e) {
            return !cell.isBlank();
        }
    }

    /** A CSV cell for the page: numbers shortened, empty and NaN as a dash. */
    static String cellOf(String cell) {
        if (cell == null || cell.isBlank() || cell.equals("NaN") || cell.equals("null")) return Format.DASH;
        try {
            return Format.cell(Double.parseDouble(cell));
        } catch (NumberFormatException e) {
            return cell;
        }
    }

    // ---------------------------------------------------------------- attack, bounds

    private static Headline attack(JsonNode m, String command) {
        List<String> sentences = new ArrayList<>();
        String norm = m.path("norm").asText("").equals("linf") ? "ℓ∞" : m.path("norm").asText("").equals("l2") ? "ℓ2" : m.path("norm").asText("");
        int n = m.path("n").asInt(0);
        JsonNode robust = m.path("robust_accuracy");
        JsonNode clean = m.path("clean_accuracy");
        List<String> header = List.of();
        List<List<String>> rows = new ArrayList<>();
        Set<String> kinds = new LinkedHashSet<>();
        List<String> images = new ArrayList<>();
        String attack = m.path("attacks").path("attack").asText("the attack");
        // what decided robust accuracy, as stdout says it (the minimum-distance search too, when it ran)
        String by = m.path("attacks").path("robust_accuracy_label").asText(attack);
        boolean monteCarlo = m.path("robust_accuracy_kind").asText("").startsWith("monte-carlo");
        if (robust.isObject() && robust.size() > 0) {
            header = List.of("ε (" + norm + ")", "robust accuracy (" + by + (monteCarlo ? "; Monte Carlo estimate" : "") + ")");
            rows.add(List.of("0 (clean)", Format.cell(number(clean))));
            List<String> parts = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = robust.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String eps = epsWords(e.getKey());
                rows.add(List.of(eps, Format.cell(number(e.getValue()))));
                parts.add(Format.cell(number(e.getValue())) + " at ε = " + eps);
            }
            sentences.add("Robust accuracy under " + by + " (" + norm + ") on " + n + " images: " + String.join(", ", parts)
                    + "; clean accuracy " + Format.cell(number(clean)) + "."
                    + (monteCarlo ? " The model attacked is the smoothed classifier, whose every forward pass draws fresh noise: these "
                    + "figures are Monte Carlo estimates of its robust accuracy, with no confidence level." : ""));
            kinds.add("empirical");
            images.add("robust_accuracy.png");
        } else {
            sentences.add("Clean accuracy " + Format.cell(number(clean)) + " on " + n + " images (" + norm + ").");
        }
        JsonNode sound = m.path("sound_lipschitz");
        if (sound.isObject()) {
            JsonNode ca = sound.path("certified_accuracy");
            List<String> parts = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = ca.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                parts.add(Format.cell(number(e.getValue())) + " at r = " + Format.number(Double.parseDouble(e.getKey())));
            }
            JsonNode median = sound.path("radius_median_correct");
            sentences.add("Sound ℓ2 certified accuracy from the network's Lipschitz bound " + Format.cell(number(sound.path("logits")))
                    + ": " + String.join(", ", parts) + (median.isNumber() ? "; median ℓ2 radius of the correct images "
                    + Format.cell(number(median)) + (sound.has("linf_radius_median_correct") ? " (as ℓ∞: "
                    + Format.cell(number(sound.path("linf_radius_median_correct"))) + " = r₂/√" + sound.path("input_dimension").asLong() + ")" : "")
                    : "") + ".");
            kinds.add("sound");
        }
        JsonNode dist = m.path("min_adversarial_distance");
        if (dist.isObject()) {
            sentences.add("Smallest adversarial perturbation found (" + norm + "), median over the correctly classified images: "
                    + Format.cell(number(dist.path("median"))) + (dist.path("not_found").asLong() > 0
                    ? " (none found for " + dist.path("not_found").asLong() + ")" : "") + ".");
        }
        JsonNode bounds = m.path("bounds");
        if (bounds.isObject()) {
            sentences.add("Estimated lower bounds on that distance, median: L-bound " + Format.cell(number(bounds.path("l_bound_median")))
                    + (bounds.has("c_bound_median") ? ", C-bound " + Format.cell(number(bounds.path("c_bound_median"))) : "")
                    + "; violations by the attacks: " + bounds.path("l_bound_violations").asLong() + " (L), "
                    + bounds.path("c_bound_violations").asLong() + " (C).");
            kinds.add("heuristic");
            if (!images.contains("distances.png")) images.add("distances.png");
        }
        if (!images.contains("robust_accuracy.png") && !kinds.isEmpty()) {
            // no line chart (bounds: only the distances' histogram): the kinds' line styles would describe no line
            sentences.add("Kinds: " + String.join("; ", kinds.stream().map(k -> switch (k) {
                case "sound" -> "sound — a proof, no perturbation within the radius can change the prediction";
                case "heuristic" -> "the L- and C-bounds are estimates with no guarantee, an attack may break them";
                default -> k;
            }).toList()) + ".");
            kinds = new LinkedHashSet<>();
        }
        return new Headline(sentences, header, rows, images, kinds, Set.of("robust_accuracy"));
    }

    private static String epsWords(String key) {
        try {
            double eps = Double.parseDouble(key);
            long over255 = Math.round(eps * 255);
            return Math.abs(eps * 255 - over255) < 1e-3 && over255 > 0 ? over255 + "/255" : Format.number(eps);
        } catch (NumberFormatException e) {
            return key;
        }
    }

    private static double number(JsonNode n) {
        return n.isNumber() ? n.asDouble() : Double.NaN;
    }

    // ---------------------------------------------------------------- verify

    private static Headline verify(JsonNode m) {
        JsonNode results = m.path("results");
        if (!results.isArray() || results.isEmpty()) return null;
        String norm = m.path("norm").asText("");
        List<List<String>> rows = new ArrayList<>();
        List<String> parts = new ArrayList<>();
        for (JsonNode r : results) {
            long verified = r.path("verified").asLong(), falsified = r.path("falsified").asLong(), unknown = r.path("unknown").asLong();
            int images = m.path("images").asInt(1);
            String eps = Format.cell(number(r.path("eps")));
            rows.add(List.of(r.path("method").asText(), eps, Format.cell(number(r.path("verified_accuracy"))),
                    Format.number((verified + unknown) / (double) Math.max(1, images)),
                    Format.cell(number(m.path("clean_accuracy"))), verified + " / " + falsified + " / " + unknown));
            parts.add(r.path("method").asText() + " " + Format.cell(number(r.path("verified_accuracy"))) + " at ε = " + eps);
        }
        List<String> sentences = new ArrayList<>(List.of("Verified accuracy (" + norm + ", sound: proven by bound propagation) on "
                + m.path("images").asInt() + " images: " + String.join(", ", parts) + "; clean accuracy "
                + Format.cell(number(m.path("clean_accuracy"))) + ". Verified ≤ robust ≤ clean: what is neither verified nor "
                + "falsified by the attack is unknown."));
        JsonNode vr = m.path("verified_radius");
        if (vr.path("by_method").isObject()) {   // --radius MAX: each method's median largest verified radius
            List<String> medians = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = vr.path("by_method").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                medians.add(e.getKey() + " " + (e.getValue().path("median_capped").asBoolean() ? "≥ " : "")
                        + Format.cell(number(e.getValue().path("median"))) + " (" + e.getValue().path("capped").asLong() + " capped)");
            }
            sentences.add("Largest verified radius (" + norm + ", sound, by bisection in [0, " + Format.cell(number(vr.path("max")))
                    + "]), median over the images: " + String.join(", ", medians) + ". A radius equal to the maximum is capped: the "
                    + "image is verified on the whole range, its radius is at least that (verify.csv: <method>_radius_capped).");
        }
        return new Headline(sentences, List.of("method", "ε", "verified accuracy", "not falsified (robust at most)", "clean accuracy",
                "verified / falsified / unknown"), rows, List.of("verified_accuracy.png", "verified_radius.png"), Set.of("sound"),
                Set.of("results"));
    }

    // ---------------------------------------------------------------- train, smooth, eval

    private static Headline train(JsonNode m) {
        JsonNode fin = m.path("final");
        JsonNode test = m.path("test");
        double acc = fin.has("test_acc") ? number(fin.path("test_acc")) : number(test.path("accuracy"));
        double loss = fin.has("test_loss") ? number(fin.path("test_loss")) : number(test.path("loss"));
        if (Double.isNaN(acc) && Double.isNaN(loss)) return null;
        List<String> sentences = new ArrayList<>();
        sentences.add("Final test accuracy " + Format.cell(acc) + ", test loss " + Format.cell(loss)
                + (m.has("epochs") ? " after " + m.path("epochs").asInt() + " epoch" + (m.path("epochs").asInt() == 1 ? "" : "s") : "")
                + (fin.has("train_acc") ? " (training accuracy " + Format.cell(number(fin.path("train_acc"))) + ")" : "") + ".");
        List<List<String>> rows = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = fin.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            rows.add(List.of(e.getKey().replace('_', ' ').replace("acc", "accuracy"), Format.cell(number(e.getValue()))));
        }
        return new Headline(sentences, rows.isEmpty() ? List.of() : List.of("final", "value"), rows, List.of("accuracy.png", "loss.png"),
                Set.of(), Set.of("final"));
    }

    private static Headline smooth(JsonNode m) {
        if (!m.has("test_accuracy_after")) return null;
        JsonNode heat = m.path("heat");
        String sigma = heat.has("sigma") ? " at σ " + Format.cell(number(heat.path("sigma"))) : "";
        return new Headline(List.of("Test accuracy " + Format.cell(number(m.path("test_accuracy_before"))) + " before heat smoothing"
                        + sigma + ", " + Format.cell(number(m.path("test_accuracy_after"))) + " after (" + m.path("training_images").asInt()
                        + " training images, labels unused)."),
                List.of("test accuracy", "value"), List.of(List.of("before smoothing", Format.cell(number(m.path("test_accuracy_before")))),
                List.of("after smoothing", Format.cell(number(m.path("test_accuracy_after"))))),
                List.of("accuracy.png", "loss.png"), Set.of(), Set.of("test_accuracy_before", "test_accuracy_after"));
    }

    private static Headline eval(JsonNode m) {
        JsonNode e = m.path("evaluation");
        if (!e.isObject()) return null;
        return new Headline(List.of("Accuracy " + Format.cell(number(e.path("accuracy"))) + ", loss " + Format.cell(number(e.path("loss")))
                        + " on " + e.path("n").asInt() + " examples."),
                List.of(), List.of(), List.of("per_class_accuracy.png"), Set.of(), Set.of());
    }

    // ---------------------------------------------------------------- flows

    private static Headline flow(JsonNode m) {
        JsonNode h = m.path("held_out");
        if (!h.isObject()) return null;
        String unit = h.path("unit").asText("NLL");
        List<String> sentences = new ArrayList<>();
        sentences.add("Held-out " + unit + " " + Format.cell(number(h.path("nll"))) + " ± " + Format.cell(number(h.path("standardError")))
                + " (standard error, " + h.path("examples").asInt() + " points, " + h.path("solver").asText("") + "), "
                + Format.cell(number(h.path("nfePerBatch"))) + " function evaluations per batch"
                + (h.path("batches").asInt(0) > 1 ? " (mean over " + h.path("batches").asInt() + " batches of up to " + h.path("batchSize").asInt() + ")"
                        : h.path("batches").asInt(0) == 1 ? " (one batch)" : "") + ".");
        if (h.hasNonNull("estimate")) sentences.add("What the figure is: " + h.path("estimate").asText() + ".");
        if (m.has("nfe_forward_last_10pct")) {
            sentences.add("In training: " + Format.cell(number(m.path("nfe_forward_last_10pct"))) + " forward function evaluations per "
                    + "iteration (mean) over the last 10% of " + m.path("iterations").asInt() + " iterations"
                    + (m.path("nfe_forward_last_10pct_kind").asText("").contains("blocks") ? ", summed over the blocks" : "")
                    + (m.path("nfe_backward").isTextual() ? "; backward: backprop through the solver, no NFE counted" : "") + ".");
        }
        List<List<String>> rows = List.of(List.of(unit, Format.cell(number(h.path("nll")))),
                List.of("standard error", Format.cell(number(h.path("standardError")))),
                List.of("NFE per batch (evaluation)", Format.cell(number(h.path("nfePerBatch")))));
        return new Headline(sentences, List.of("held out", "value"), rows, List.of("loss.png", "nfe.png"), Set.of(), Set.of("held_out"));
    }

    // ---------------------------------------------------------------- data-lipschitz, generalization

    private static Headline dataLipschitz(JsonNode m) {
        JsonNode r = m.path("result");
        if (!r.isObject()) return null;
        return new Headline(List.of("The data set's Lipschitz constant, max |Δlabel| / ‖Δx‖ over pairs of " + r.path("n").asInt() + " points"
                        + (r.path("subsampled").asBoolean() ? " (a subset: a lower bound of the full set's)" : "") + ": "
                        + Format.cell(number(r.path("lipschitz_one_hot_labels"))) + " with one-hot labels, "
                        + Format.cell(number(r.path("lipschitz_01_labels"))) + " with 0/1 labels; the nearest pair of different labels is "
                        + Format.cell(number(r.path("min_distance"))) + " apart."),
                List.of(), List.of(), List.of(), Set.of(), Set.of());
    }

    private static Headline generalization(JsonNode m) {
        JsonNode r = m.path("report");
        if (!r.isObject()) return null;
        return new Headline(List.of("Training accuracy " + Format.cell(number(r.path("train_acc"))) + ", test accuracy "
                        + Format.cell(number(r.path("test_acc"))) + " (gap " + Format.cell(number(r.path("accuracy_gap"))) + "); the largest "
                        + "Jacobian norm measured on the model, ‖∂ softmax f/∂x‖₂, is " + Format.cell(number(r.path("model_over_data_lipschitz_one_hot")))
                        + " times the data set's measured Lipschitz constant (one-hot labels). Both are maxima over the measured points, "
                        + "lower bounds of the true constants, so the ratio is an indication, not a bound."),
                List.of("", "train", "test", "gap"), List.of(
                        List.of("accuracy", Format.cell(number(r.path("train_acc"))), Format.cell(number(r.path("test_acc"))),
                                Format.cell(number(r.path("accuracy_gap")))),
                        List.of("loss", Format.cell(number(r.path("train_loss"))), Format.cell(number(r.path("test_loss"))),
                                Format.cell(number(r.path("loss_gap"))))),
                List.of(), Set.of(), Set.of());
    }

    // ---------------------------------------------------------------- compare

    private static Headline compare(JsonNode m) {
        JsonNode runs = m.path("runs");
        if (!runs.isArray() || runs.isEmpty()) return null;
        List<String> header = new ArrayList<>();
        runs.get(0).fieldNames().forEachRemaining(f -> { if (!f.equals("settings")) header.add(f); });
        List<List<String>> rows = new ArrayList<>();
        Set<String> kinds = new LinkedHashSet<>();
        List<String> sentences = new ArrayList<>();
        String compared = m.path("compared").asText("");
        sentences.add(switch (compared) {
            case "certify" -> "Certified accuracy (" + m.path("unit").asText("") + ") of each run and certificate at radius r: the "
                    + "fraction of images classified correctly and certified at radius r or more, counted from each image's radius; "
                    + "the chart has the whole curves, compare.csv their points (these radii among them).";
            case "attack" -> "Robust accuracy of each run by ε (" + m.path("unit").asText("") + "); compare.csv has the points.";
            default -> "Training " + m.path("unit").asText("NLL") + " of each run by iteration, and its held-out value; compare.csv "
                    + "has the points.";
        });
        if (m.path("heuristic_rows").isTextual()) sentences.add(Character.toUpperCase(m.path("heuristic_rows").asText().charAt(0)) + m.path("heuristic_rows").asText().substring(1) + ".");
        // what compare noted of the runs' data (other seeds, other numbers of examples, --allow-different-data), in the headline
        for (JsonNode n : m.path("data_notes")) sentences.add("Note on the data: " + n.asText() + ".");
        Set<String> described = new LinkedHashSet<>();
        for (JsonNode r : runs) {
            List<String> cells = new ArrayList<>();
            for (String h : header) {
                JsonNode v = r.path(h);
                cells.add(v.isNumber() ? Format.cell(v.asDouble()) : v.isMissingNode() || v.isNull() ? Format.DASH : v.asText());
            }
            rows.add(cells);
            if (r.has("kind")) kinds.add(kindWord(r.path("kind").asText()));
            if (described.add(r.path("run").asText())) sentences.add(r.path("run").asText() + " — " + r.path("settings").asText());
        }
        return new Headline(sentences, header.stream().map(h -> h.replace("r=", "r = ").replace("ε=", "ε = ")).toList(), rows,
                List.of("compare.png"), kinds, Set.of("runs", "data_notes"));
    }

    // ---------------------------------------------------------------- experiments, anything else

    /** A reproduce run: its summary.csv or results.csv as the table (certified accuracy by radius where it has r columns). */
    private static Headline experiment(JsonNode m, Path dir) {
        List<String> sentences = new ArrayList<>();
        Headline radius = radiusTable(dir.resolve("results.csv"), sentences);
        if (radius != null) {
            sentences.add(0, "Certified accuracy by ℓ2 radius r, one row per model and certificate.");
            return new Headline(sentences, radius.header, radius.rows, List.of("certified_accuracy.png"), radius.kinds, Set.of());
        }
        for (String name : List.of("summary.csv", "results.csv")) {
            Path csv = dir.resolve(name);
            if (!Files.isRegularFile(csv)) continue;
            Csv.Table t = Csv.read(csv);
            List<List<String>> rows = new ArrayList<>();
            for (List<String> row : t.rows()) rows.add(row.stream().map(Headline::cellOf).toList());
            Set<String> kinds = new LinkedHashSet<>();
            int k = t.header().indexOf("kind");
            if (k >= 0) for (List<String> row : t.rows()) if (k < row.size()) kinds.add(kindWord(row.get(k)));
            return new Headline(List.of("Results, one row per " + rowKey(t.header()) + " (" + name + ")."), t.header().stream().map(c -> c.replace('_', ' ')).toList(), rows, List.of(), kinds, Set.of());
        }
        return null;
    }

    /** Columns that, after the first, still name what a row is (not what was measured). */
    private static final Set<String> KEY_COLUMNS = Set.of("data", "variant", "method", "n", "seed");

    /** What one row is: its first column, with the key columns right after it ("(variant, n)"); "variant" for no header. */
    static String rowKey(List<String> header) {
        if (header.isEmpty()) return "variant";
        List<String> key = new ArrayList<>(List.of(header.get(0)));
        for (int i = 1; i < header.size() && KEY_COLUMNS.contains(header.get(i)); i++) key.add(header.get(i));
        String words = String.join(", ", key).replace('_', ' ');
        return key.size() == 1 ? words : "(" + words + ")";
    }

    /** No known layout: the top-level numbers. */
    private static Headline generic(JsonNode m) {
        List<List<String>> rows = new ArrayList<>();
        Set<String> consumed = new LinkedHashSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isNumber() || HtmlReport.isProvenance(e.getKey())) continue;
            rows.add(List.of(e.getKey().replace('_', ' '), Format.cell(e.getValue().isFloatingPointNumber() ? e.getValue().asDouble()
                    : e.getValue().numberValue())));
            consumed.add(e.getKey());
        }
        return new Headline(List.of(), rows.isEmpty() ? List.of() : List.of("result", "value"), rows, List.of(), Set.of(), consumed);
    }
}
