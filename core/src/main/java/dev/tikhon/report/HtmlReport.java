package dev.tikhon.report;

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
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The {@code index.html} of a run directory: what a person opens first after a run. One
 * self-contained page (inline CSS, no scripts, nothing fetched from the network) that shows the
 * metrics, the charts and links to the data files; images and links are relative, so the page
 * keeps working when the directory is copied or archived as a whole. All text is HTML-escaped.
 */
public final class HtmlReport {
    public static final String FILE_NAME = "index.html";
    /** Longer lists in a metric cell are cut, so a per-class vector cannot swamp the table. */
    private static final int MAX_LIST_ITEMS = 20;
    private static final String CSS = """
            body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1000px;\
            margin:2em auto;padding:0 1em;color:#222}
            h1{margin-bottom:.2em}.desc{color:#555;margin-top:0}
            table{border-collapse:collapse;margin:1em 0}
            th,td{border:1px solid #ddd;padding:.3em .8em;text-align:left;vertical-align:top}
            th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
            tbody tr:nth-child(even){background:#fafafa}
            figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}
            figcaption{color:#555;font-size:.9em}footer{color:#888;font-size:.8em;margin-top:3em}
            """;

    private HtmlReport() {}

    /** Writes {@code dir/index.html} showing every PNG present in {@code dir}, by name. */
    public static Path write(Path dir, String title, String description, Map<String, ?> metrics) {
        return write(dir, title, description, metrics, filesEndingIn(dir, ".png"));
    }

    /**
     * Writes {@code dir/index.html} showing the given images (file names relative to {@code dir},
     * in this order) and linking the CSV and JSON files present.
     *
     * @param description one line under the title; may be null
     */
    public static Path write(Path dir, String title, String description, Map<String, ?> metrics, List<String> images) {
        StringBuilder html = new StringBuilder(4096)
                .append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(escape(title)).append("</title>\n<style>\n").append(CSS).append("</style>\n")
                .append("</head>\n<body>\n<h1>").append(escape(title)).append("</h1>\n");
        if (description != null && !description.isBlank()) {
            html.append("<p class=\"desc\">").append(escape(description)).append("</p>\n");
        }
        appendMetrics(html, flatten(metrics));
        appendImages(html, images);
        appendFiles(html, dir);
        html.append("<footer>Written by Tikhon on ")
                .append(escape(OffsetDateTime.now().truncatedTo(ChronoUnit.SECONDS).toString()))
                .append("</footer>\n</body>\n</html>\n");
        Path index = dir.resolve(FILE_NAME);
        AtomicFiles.write(index, out -> out.write(html.toString().getBytes(StandardCharsets.UTF_8)));
        return index;
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
            else flat.put(name, value);
        });
    }

    private static void appendMetrics(StringBuilder html, Map<String, Object> metrics) {
        if (metrics.isEmpty()) return;
        html.append("<h2>Metrics</h2>\n<table>\n<thead><tr><th>metric</th><th>value</th></tr></thead>\n<tbody>\n");
        metrics.forEach((name, value) -> html.append("<tr><td>").append(escape(name)).append("</td><td")
                .append(value instanceof Number ? " class=\"num\">" : ">")
                .append(escape(cell(value))).append("</td></tr>\n"));
        html.append("</tbody>\n</table>\n");
    }

    private static String cell(Object value) {
        if (!(value instanceof Collection<?> list)) return Format.value(value);
        String shown = list.stream().limit(MAX_LIST_ITEMS).map(Format::value).collect(Collectors.joining(", "));
        return "[" + shown + (list.size() > MAX_LIST_ITEMS ? ", … (" + list.size() + " in all)" : "") + "]";
    }

    private static void appendImages(StringBuilder html, List<String> images) {
        if (images.isEmpty()) return;
        html.append("<h2>Charts</h2>\n");
        for (String image : images) {
            String caption = escape(caption(image));
            html.append("<figure><img src=\"").append(escape(href(image))).append("\" alt=\"").append(caption)
                    .append("\"><figcaption>").append(caption).append("</figcaption></figure>\n");
        }
    }

    private static void appendFiles(StringBuilder html, Path dir) {
        List<String> files = new ArrayList<>(filesEndingIn(dir, ".csv"));
        files.addAll(filesEndingIn(dir, ".json"));
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
