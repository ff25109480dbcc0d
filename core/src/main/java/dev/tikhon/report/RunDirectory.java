package dev.tikhon.report;

import dev.tikhon.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

    /** Directories this process created for runs (the directory, the topmost parent it had to create). */
    private static final List<Path[]> CREATED = new ArrayList<>();

    /**
     * Creates the directory and any missing parents; an existing directory is reused, and the temporary files a
     * killed writer left there are removed. A file is written and deleted to prove the directory writable
     * (permission bits do not tell for root, a read-only mount or an immutable directory).
     */
    public static RunDirectory create(Path path) {
        Path dir = path.toAbsolutePath().normalize();
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new RunDirectoryError("Output directory " + path + " exists and is a file; choose another path");
        }
        Path top = dir;
        while (top.getParent() != null && !Files.exists(top.getParent())) top = top.getParent();
        boolean existed = Files.exists(dir);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new RunDirectoryError("Cannot create output directory " + path + ": "
                    + e.getClass().getSimpleName() + " " + e.getMessage() + "; check the path and its permissions", e);
        }
        if (!existed) {
            synchronized (CREATED) {
                CREATED.add(new Path[]{dir, top});
            }
        }
        try {
            Files.delete(Files.createTempFile(dir, ".tikhon-probe-", AtomicFiles.TMP_SUFFIX));
        } catch (IOException e) {
            removeIfEmpty(dir, top);
            throw new RunDirectoryError("Output directory " + path + " is not writable (" + e.getClass().getSimpleName()
                    + "); fix its permissions or choose another path", e);
        }
        AtomicFiles.cleanStale(dir);
        return new RunDirectory(dir);
    }

    /**
     * Removes the run directories this process created that are still empty (with the parents created for them),
     * so that a run which failed before writing anything leaves no empty {@code --out} behind. The CLI calls it
     * when a command fails; returns how many directories were removed.
     */
    public static int removeEmptyCreated() {
        int removed = 0;
        synchronized (CREATED) {
            for (Path[] c : CREATED) removed += removeIfEmpty(c[0], c[1]);
            CREATED.clear();
        }
        return removed;
    }

    /** Forgets the directories created so far (a command that succeeded keeps them). */
    public static void forgetCreated() {
        synchronized (CREATED) {
            CREATED.clear();
        }
    }

    private static int removeIfEmpty(Path dir, Path top) {
        int removed = 0;
        for (Path d = dir; d != null && d.startsWith(top); d = d.getParent()) {
            try {
                Files.delete(d);   // fails, and stops the walk, when the directory is not empty
                removed++;
            } catch (IOException e) {
                break;
            }
        }
        return removed;
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
    public Path writeMetrics(Map<String, Object> metrics) {
        Path file = resolve(METRICS_FILE);
        // a header's "finished" is a placeholder (its "started" is the command's start); metrics are written when the work is done: the end time,
        // set in the caller's map so that the page written from it next says the same
        if (metrics.containsKey("finished")) metrics.put("finished", java.time.Instant.now().toString());
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
