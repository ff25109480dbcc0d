package dev.tikhon.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tikhon.io.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The {@code index.html} of a run directory: what a person opens first after a run. One self-contained page (inline
 * CSS, no scripts, nothing fetched from the network), in the order a reader needs it: the result first (a {@link
 * Headline}: certified accuracy by radius, robust accuracy by ε, test accuracy, NLL and NFE, with its chart), what each
 * certificate kind shown means, the other charts, the settings in words, every other metric, the files, and last,
 * folded, the provenance (engine, machine, paths). Images and links are relative, so the page keeps working when the
 * directory is copied or archived as a whole. All text is HTML-escaped; values are shown as metrics.json holds them
 * (records as their fields, arrays as lists), never as a Java toString, and a value not measured (null, NaN) as a dash.
 */
public final class HtmlReport {
    public static final String FILE_NAME = "index.html";
    /** Longer lists in a metric cell are cut, so a per-class vector cannot swamp the table. */
    private static final int MAX_LIST_ITEMS = 20;
    /** Top-level metrics that say where and how the run was made rather than what it found. */
    private static final Set<String> PROVENANCE = Set.of("command", "tikhon_version", "finished", "started", "device", "engine",
            "spark", "checkpoint", "native_cache", "resumed", "folders");
    /** Top-level metrics that are the run's settings. */
    private static final Set<String> SETTINGS = Set.of("model", "data", "split", "parameters", "objective", "config", "sigma",
            "smoothing", "heat", "optimizer", "budget", "settings", "norm", "training_images", "images", "n");
    /** One sentence per certificate kind, with the line style the charts draw it in. */
    private static final Map<String, String> KINDS = kinds();
    private static final String CSS = """
            body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1000px;\
            margin:2em auto;padding:0 1em;color:#222}
            h1{margin-bottom:.2em}.desc{color:#555;margin-top:0}
            .headline{border-left:4px solid #3b6fd8;padding:.2em 1em;background:#f7f9ff}
            .headline p{font-size:1.05em}
            table{border-collapse:collapse;margin:1em 0}
            th,td{border:1px solid #ddd;padding:.3em .8em;text-align:left;vertical-align:top}
            th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
            tbody tr:nth-child(even){background:#fafafa}table.inner{margin:0;font-size:.9em}
            figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}
            figcaption{color:#555;font-size:.9em}dl.settings dt{font-weight:600;margin-top:.4em}
            dl.settings dd{margin-left:1.5em}details{margin-top:2em}summary{cursor:pointer;color:#555}
            footer{color:#888;font-size:.8em;margin-top:3em}
            """;

    private HtmlReport() {}

    private static Map<String, String> kinds() {
        Map<String, String> k = new LinkedHashMap<>();
        k.put("sound", "<b>sound</b> (solid line): a proof — no perturbation within the radius can change the prediction.");
        k.put("probabilistic", "<b>probabilistic</b> (dashed line): holds with probability ≥ 1 − α over the Monte Carlo noise, "
                + "for the smoothed classifier.");
        k.put("heuristic", "<b>heuristic</b> (dotted line): an estimate with no guarantee — an attack may break it.");
        k.put("estimate", k.get("heuristic"));
        k.put("empirical", "<b>empirical</b>: what an attack found; robust accuracy under attack is an upper bound on the true "
                + "robust accuracy, not a guarantee.");
        return k;
    }

    /** Writes {@code dir/index.html} showing every PNG present in {@code dir}, by name. */
    public static Path write(Path dir, String title, String description, Map<String, ?> metrics) {
        return write(dir, title, description, metrics, filesEndingIn(dir, ".png"));
    }

    /**
     * Writes {@code dir/index.html} showing the given images (file names relative to {@code dir}; the headline's chart
     * first, the others in this order) and linking the CSV and JSON files present.
     *
     * @param description one line under the title; may be null
     */
    public static Path write(Path dir, String title, String description, Map<String, ?> metrics, List<String> images) {
        return write(dir, title, description, metrics, images, Map.of());
    }

    /**
     * As {@link #write(Path, String, String, Map, List)}, with the captions (and alt texts) of some images: an image
     * not in {@code captions} is captioned with its file name in words.
     */
    public static Path write(Path dir, String title, String description, Map<String, ?> metrics, List<String> images,
                             Map<String, String> captions) {
        JsonNode tree = tree(metrics);
        Headline headline = Headline.of(tree, dir);
        StringBuilder html = new StringBuilder(8192)
                .append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(escape(title)).append("</title>\n<style>\n").append(CSS).append("</style>\n")
                .append("</head>\n<body>\n<h1>").append(escape(title)).append("</h1>\n");
        if (description != null && !description.isBlank()) {
            html.append("<p class=\"desc\">").append(escape(description)).append("</p>\n");
        }
        List<String> rest = new ArrayList<>(images);
        List<String> lead = headline.images().stream().filter(rest::contains).toList();
        rest.removeAll(lead);
        appendHeadline(html, headline, lead, captions);
        appendImages(html, "Charts", rest, captions);
        appendSettings(html, tree);
        Map<String, Object> details = new LinkedHashMap<>();
        tree.fields().forEachRemaining(e -> {
            String key = e.getKey();
            if (!isProvenance(key, e.getValue()) && !SETTINGS.contains(key) && !headline.consumed().contains(key)) details.put(key, e.getValue());
        });
        appendTable(html, "Details", flatten(details));
        appendFiles(html, dir);
        appendProvenance(html, tree);
        html.append("<footer>Written by Tikhon on ")
                .append(escape(OffsetDateTime.now().truncatedTo(ChronoUnit.SECONDS).toString()))
                .append("</footer>\n</body>\n</html>\n");
        Path index = dir.resolve(FILE_NAME);
        AtomicFiles.write(index, out -> out.write(html.toString().getBytes(StandardCharsets.UTF_8)));
        return index;
    }

    /** The metrics as metrics.json holds them (records as objects, arrays as lists); a value Jackson cannot write as its text. */
    private static JsonNode tree(Map<String, ?> metrics) {
        ObjectNode root = Json.mapper().createObjectNode();
        metrics.forEach((key, value) -> {
            try {
                root.set(String.valueOf(key), Json.mapper().valueToTree(value));
            } catch (IllegalArgumentException e) {
                root.put(String.valueOf(key), String.valueOf(value));
            }
        });
        return root;
    }

    static boolean isProvenance(String key) {
        return PROVENANCE.contains(key);
    }

    /** Provenance keys, and any text that is an absolute file path (a checkpoint, a data folder, a cache). */
    private static boolean isProvenance(String key, JsonNode value) {
        return PROVENANCE.contains(key) || (value.isTextual() && isPath(value.asText()));
    }

    private static boolean isPath(String text) {
        return (text.startsWith("/") || text.matches("^[A-Za-z]:\\\\.*")) && !text.contains(" ");
    }

    private static void appendHeadline(StringBuilder html, Headline h, List<String> images, Map<String, String> captions) {
        if (h.sentences().isEmpty() && h.header().isEmpty() && images.isEmpty()) return;
        html.append("<section class=\"headline\" id=\"headline\">\n<h2>Result</h2>\n");
        for (String sentence : h.sentences()) html.append("<p>").append(escape(sentence)).append("</p>\n");
        if (!h.header().isEmpty()) {
            html.append("<table>\n<thead><tr>");
            for (String c : h.header()) html.append("<th>").append(escape(c)).append("</th>");
            html.append("</tr></thead>\n<tbody>\n");
            for (List<String> row : h.rows()) {
                html.append("<tr>");
                for (String c : row) html.append(isNumeric(c) ? "<td class=\"num\">" : "<td>").append(escape(c)).append("</td>");
                html.append("</tr>\n");
            }
            html.append("</tbody>\n</table>\n");
        }
        for (String image : images) appendFigure(html, image, captions);
        Set<String> said = new LinkedHashSet<>();
        for (String kind : h.kinds()) {
            String sentence = KINDS.get(kind);
            if (sentence != null && said.add(sentence)) html.append(said.size() == 1 ? "<ul class=\"kinds\">\n" : "").append("<li>")
                    .append(sentence).append("</li>\n");
        }
        if (!said.isEmpty()) html.append("</ul>\n");
        html.append("</section>\n");
    }

    private static boolean isNumeric(String cell) {
        return !cell.isEmpty() && (Character.isDigit(cell.charAt(0)) || cell.charAt(0) == '-' || cell.equals(Format.DASH))
                && cell.chars().noneMatch(Character::isLetter);
    }

    private static void appendSettings(StringBuilder html, JsonNode tree) {
        StringBuilder dl = new StringBuilder();
        tree.fields().forEachRemaining(e -> {
            if (!SETTINGS.contains(e.getKey()) || e.getValue().isNull()) return;
            dl.append("<dt>").append(escape(words(e.getKey()))).append("</dt><dd>").append(escape(inWords(e.getValue()))).append("</dd>\n");
        });
        if (dl.length() == 0) return;
        html.append("<h2>Settings</h2>\n<dl class=\"settings\">\n").append(dl).append("</dl>\n");
    }

    /** A setting in words: "σ 0.25, N₀ 100, N 2000, α 0.001, seed 0"; nested settings in parentheses; null ones left out. */
    static String inWords(JsonNode v) {
        if (v.isObject()) {
            List<String> parts = new ArrayList<>();
            v.fields().forEachRemaining(e -> {
                if (e.getValue().isNull() || (e.getValue().isContainerNode() && e.getValue().isEmpty())) return;
                String value = e.getValue().isObject() ? "(" + inWords(e.getValue()) + ")" : inWords(e.getValue());
                parts.add(words(e.getKey()) + " " + value);
            });
            return String.join(", ", parts);
        }
        if (v.isArray()) {
            List<String> parts = new ArrayList<>();
            v.forEach(x -> parts.add(x.isObject() ? "(" + inWords(x) + ")" : inWords(x)));   // each object of a list in parentheses
            return "[" + String.join(", ", parts) + "]";
        }
        if (v.isNumber()) return Format.cell(v.isFloatingPointNumber() ? v.asDouble() : v.numberValue());
        if (v.isNull()) return Format.DASH;
        return Format.cell(v.asText());
    }

    private static final Map<String, String> WORDS = Map.ofEntries(Map.entry("sigma", "σ"), Map.entry("alpha", "α"),
            Map.entry("lambda", "λ"), Map.entry("kappa", "κ"), Map.entry("delta", "δ"), Map.entry("eps", "ε"), Map.entry("epsilon", "ε"),
            Map.entry("n0", "N₀"), Map.entry("n", "N"), Map.entry("lr", "learning rate"), Map.entry("reg", "regularizer"),
            Map.entry("h", "finite-difference step h"), Map.entry("batchSize", "batch size"), Map.entry("arch", "architecture"));

    /** A key in words: known symbols (sigma → σ), camelCase and snake_case split ("batchSize" → "batch size"). */
    static String words(String key) {
        String known = WORDS.get(key);
        if (known != null) return known;
        return key.replaceAll("([a-z0-9])([A-Z])", "$1 $2").replace('_', ' ').toLowerCase(Locale.ROOT);
    }

    private static void appendProvenance(StringBuilder html, JsonNode tree) {
        Map<String, Object> p = new LinkedHashMap<>();
        tree.fields().forEachRemaining(e -> {
            if (isProvenance(e.getKey(), e.getValue())) p.put(e.getKey(), e.getValue());
        });
        p.put("machine", Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch") + ", Java " + System.getProperty("java.version"));
        html.append("<details class=\"provenance\">\n<summary>Provenance: engine, machine, paths</summary>\n");
        appendRows(html, flatten(p));
        html.append("</details>\n");
    }

    /** Nested maps become dotted keys ({@code {"test":{"acc":0.9}}} → {@code test.acc}), in order. */
    static Map<String, Object> flatten(Map<String, ?> metrics) {
        Map<String, Object> flat = new LinkedHashMap<>();
        flattenInto(flat, "", metrics);
        return flat;
    }

    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    private static void flattenInto(Map<String, Object> flat, String prefix, Map<?, ?> map) {
        map.forEach((key, value) -> {
            String name = prefix + key;
            if (value instanceof Map<?, ?> nested) flattenInto(flat, name + ".", nested);
            else if (value instanceof ObjectNode nested && !nested.isEmpty()) {
                Map<String, Object> m = new LinkedHashMap<>();
                nested.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue()));
                flattenInto(flat, name + ".", m);
            } else flat.put(name, value);
        });
    }

    private static void appendTable(StringBuilder html, String heading, Map<String, Object> metrics) {
        if (metrics.isEmpty()) return;
        html.append("<h2>").append(escape(heading)).append("</h2>\n");
        appendRows(html, metrics);
    }

    private static void appendRows(StringBuilder html, Map<String, Object> metrics) {
        html.append("<table>\n<thead><tr><th>metric</th><th>value</th></tr></thead>\n<tbody>\n");
        metrics.forEach((name, value) -> {
            boolean number = value instanceof Number || (value instanceof JsonNode n && n.isNumber());
            html.append("<tr><td>").append(escape(name)).append("</td><td").append(number ? " class=\"num\">" : ">");
            cell(html, value);
            html.append("</td></tr>\n");
        });
        html.append("</tbody>\n</table>\n");
    }

    /** One value, escaped: a list of objects or of lists as a small table, a list of values joined, a number shortened. */
    private static void cell(StringBuilder html, Object value) {
        if (value instanceof JsonNode node) {
            if (node.isArray() && !node.isEmpty() && (node.get(0).isObject() || node.get(0).isArray())) {
                innerTable(html, node);
                return;
            }
            if (node.isArray()) {
                List<String> items = new ArrayList<>();
                node.forEach(x -> items.add(inWords(x)));
                html.append(escape(list(items)));
                return;
            }
            if (node.isObject()) {
                html.append(escape(node.isEmpty() ? Format.DASH : inWords(node)));
                return;
            }
            html.append(escape(inWords(node)));
            return;
        }
        if (value instanceof Collection<?> c) {
            html.append(escape(list(c.stream().map(Format::cell).toList())));
            return;
        }
        html.append(escape(Format.cell(value)));
    }

    private static String list(List<String> items) {
        if (items.isEmpty()) return "none";
        String shown = String.join(", ", items.subList(0, Math.min(items.size(), MAX_LIST_ITEMS)));
        return "[" + shown + (items.size() > MAX_LIST_ITEMS ? ", … (" + items.size() + " in all)" : "") + "]";
    }

    /** Rows of objects (one column per field) or of lists (a matrix), the first {@link #MAX_LIST_ITEMS}. */
    private static void innerTable(StringBuilder html, JsonNode rows) {
        List<String> columns = new ArrayList<>();
        if (rows.get(0).isObject()) rows.forEach(r -> r.fieldNames().forEachRemaining(f -> { if (!columns.contains(f)) columns.add(f); }));
        html.append("<table class=\"inner\">");
        if (!columns.isEmpty()) {
            html.append("<tr>");
            for (String c : columns) html.append("<th>").append(escape(words(c))).append("</th>");
            html.append("</tr>");
        }
        int shown = 0;
        for (JsonNode r : rows) {
            if (shown++ == MAX_LIST_ITEMS) {
                html.append("<tr><td colspan=\"").append(Math.max(1, columns.size())).append("\">… (").append(rows.size())
                        .append(" rows in all)</td></tr>");
                break;
            }
            html.append("<tr>");
            if (r.isObject()) for (String c : columns) html.append("<td>").append(escape(r.has(c) ? inWords(r.get(c)) : Format.DASH)).append("</td>");
            else r.forEach(x -> html.append("<td class=\"num\">").append(escape(inWords(x))).append("</td>"));
            html.append("</tr>");
        }
        html.append("</table>");
    }

    private static void appendImages(StringBuilder html, String heading, List<String> images, Map<String, String> captions) {
        if (images.isEmpty()) return;
        html.append("<h2>").append(escape(heading)).append("</h2>\n");
        for (String image : images) appendFigure(html, image, captions);
    }

    private static void appendFigure(StringBuilder html, String image, Map<String, String> captions) {
        String caption = escape(captions.getOrDefault(image, caption(image)));
        html.append("<figure><img src=\"").append(escape(href(image))).append("\" alt=\"").append(caption)
                .append("\"><figcaption>").append(caption).append("</figcaption></figure>\n");
    }

    private static void appendFiles(StringBuilder html, Path dir) {
        List<String> files = new ArrayList<>(filesEndingIn(dir, ".csv"));
        files.addAll(filesEndingIn(dir, ".json"));
        for (String ext : List.of(".jsonl", ".tsv")) files.addAll(filesEndingIn(dir, ext));   // per-image records (attack.jsonl, certify.jsonl, certify.tsv)
        if (files.isEmpty()) return;
        html.append("<h2>Files</h2>\n<ul>\n");
        for (String file : files) {
            html.append("<li><a href=\"").append(escape(href(file))).append("\">").append(escape(file))
                    .append("</a> (").append(size(dir.resolve(file))).append(")</li>\n");
        }
        html.append("</ul>\n");
    }

    /** Names of the regular files in {@code dir} with this extension, sorted. */
    private static List<String> filesEndingIn(Path dir, String extension) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isRegularFile)
                    .map(p -> p.getFileName().toString())
                    .filter(name -> name.toLowerCase(Locale.ROOT).endsWith(extension))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** "test_distance-hist.png" → "test distance hist". */
    private static String caption(String fileName) {
        String name = Path.of(fileName).getFileName().toString();
        int dot = name.lastIndexOf('.');
        return (dot > 0 ? name.substring(0, dot) : name).replace('_', ' ').replace('-', ' ');
    }

    /** A relative URL for a file name: spaces, '#', ':' and the like are percent-encoded. */
    private static String href(String relativePath) {
        return Stream.of(relativePath.split("/"))
                .map(part -> URLEncoder.encode(part, StandardCharsets.UTF_8).replace("+", "%20"))
                .collect(Collectors.joining("/"));
    }

    private static String size(Path file) {
        try {
            long bytes = Files.size(file);
            if (bytes < 1024) return bytes + " B";
            if (bytes < 1024 * 1024) return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
        } catch (IOException e) {
            return "size unknown";
        }
    }
}
