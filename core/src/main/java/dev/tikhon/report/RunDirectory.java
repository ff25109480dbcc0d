package dev.tikhon.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The folder a run writes into: metrics, history, charts, checkpoints and the HTML index. It is
 * checked once, when created, so a bad {@code --out} fails before hours of training rather than
 * when the first result is written.
 */
public final class RunDirectory {
    public static final String METRICS_FILE = "metrics.json";

    private final Path path;

    private RunDirectory(Path path) {
        this.path = path;
    }

    /** Creates the directory and any missing parents; an existing directory is reused. */
    public static RunDirectory create(Path path) {
        Path dir = path.toAbsolutePath().normalize();
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new RunDirectoryError("Output directory " + path + " exists and is a file; choose another path");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new RunDirectoryError("Cannot create output directory " + path + ": "
                    + e.getClass().getSimpleName() + " " + e.getMessage() + "; check the path and its permissions", e);
        }
        if (!Files.isWritable(dir)) {
            throw new RunDirectoryError("Output directory " + path + " is not writable; fix its permissions or choose another path");
        }
        return new RunDirectory(dir);
    }

    /** The absolute path of the directory. */
    public Path path() {
        return path;
    }

    /** A file inside the directory; names reaching outside it are rejected. */
    public Path resolve(String name) {
        Path file = path.resolve(name).normalize();
        if (!file.startsWith(path) || file.equals(path)) {
            throw new IllegalArgumentException("'" + name + "' does not name a file inside " + path);
        }
        return file;
    }

    /** Writes {@code metrics.json} atomically. */
    public Path writeMetrics(Map<String, ?> metrics) {
        Path file = resolve(METRICS_FILE);
        Json.write(file, metrics);
        return file;
    }

    /** Writes {@code index.html} showing the metrics, every PNG and links to every CSV/JSON present. */
    public Path writeIndex(String title, String description, Map<String, ?> metrics) {
        return HtmlReport.write(path, title, description, metrics);
    }

    @Override
    public String toString() {
        return path.toString();
    }
}
