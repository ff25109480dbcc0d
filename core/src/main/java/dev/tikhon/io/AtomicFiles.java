package dev.tikhon.io;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The one way Tikhon writes a file that a later command reads (checkpoints, smoothed models, kernel models,
 * metrics.json, CSV tables, PNG charts, HTML pages): atomically and durably.
 *
 * <ol>
 *   <li>write {@code <name>.tmp} in the same directory (same file system, so the rename below is atomic);</li>
 *   <li>force its bytes to disk ({@code fsync});</li>
 *   <li>rename it over {@code <name>};</li>
 *   <li>force the directory, so the rename itself survives a power cut.</li>
 * </ol>
 * A process killed at any moment (SIGKILL, a pre-empted job, a power cut after step 4) leaves either the previous
 * version of the file or the new one, never a torn one; at worst a stale {@code <name>.tmp} remains, which
 * {@link #cleanStale} removes when the next run opens the directory. The temporary file is deleted when the
 * write fails (a full disk keeps no half-file).
 *
 * <p>Two writers of the same file at once would share the temporary file, so each file has one writer at a
 * time. Files that belong together (a model's metadata and its tensors) are written one after the other with
 * the one a reader opens first written last, and that one records a checksum of the other (see
 * {@link #sha256}), so a kill between the two writes is detected on reading rather than silently mixed.
 */
public final class AtomicFiles {
    /** The suffix of the temporary file written beside each target. */
    public static final String TMP_SUFFIX = ".tmp";

    /** Writes the content of a file to a stream; may throw, which aborts the write. */
    @FunctionalInterface
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Writes the content of a file to the path it is given (for writers that only take a path, such as libtorch's save). */
    @FunctionalInterface
    public interface PathWriter {
        void writeTo(Path tmp) throws IOException;
    }

    private AtomicFiles() {}

    /** The temporary file a write of {@code file} goes through. */
    public static Path tmpOf(Path file) {
        Path target = file.toAbsolutePath();
        return target.resolveSibling(target.getFileName() + TMP_SUFFIX);
    }

    /** Writes {@code file} from a stream, atomically and durably; creates missing parent directories. */
    public static void write(Path file, Content content) {
        writeVia(file, tmp -> {
            try (OutputStream out = Files.newOutputStream(tmp)) {
                content.writeTo(out);
            }
        });
    }

    /** Writes {@code file} as UTF-8 text, atomically and durably. */
    public static void writeString(Path file, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        write(file, out -> out.write(bytes));
    }

    /**
     * Writes {@code file} by letting {@code writer} write its temporary file, then forces, renames and forces the
     * directory. Whatever {@code writer} throws aborts the write: the temporary file is deleted and the previous
     * {@code file}, if any, is kept.
     */
    public static void writeVia(Path file, PathWriter writer) {
        Path target = file.toAbsolutePath();
        Path tmp = tmpOf(target);
        try {
            Files.createDirectories(target.getParent());
            Files.deleteIfExists(tmp);
            writer.writeTo(tmp);
            if (!Files.isRegularFile(tmp)) throw new IOException("the writer produced no file");
            force(tmp);
            move(tmp, target);
            forceDirectory(target.getParent());
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new UncheckedIOException("Cannot write " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            deleteQuietly(tmp);
            throw e;
        }
    }

    /**
     * Deletes the temporary files ({@code *.tmp}) that a killed writer left in {@code dir}; returns how many. Call
     * it when a run opens its directory, before anything writes there (a live writer's temporary file would go too).
     */
    public static int cleanStale(Path dir) {
        if (!Files.isDirectory(dir)) return 0;
        int removed = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + TMP_SUFFIX)) {
            for (Path f : files) {
                if (Files.isRegularFile(f) && Files.deleteIfExists(f)) removed++;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot clean stale temporary files in " + dir + ": " + e.getMessage(), e);
        }
        return removed;
    }

    /** The SHA-256 of a file's bytes, in hex: what a file written second records of the file written first. */
    public static String sha256(Path file) {
        try (var in = Files.newInputStream(file)) {
            java.security.MessageDigest md = sha256();
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** A fresh SHA-256 digest (fingerprints of files, data and models). */
    public static java.security.MessageDigest sha256() {
        try {
            return java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    private static void force(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    /** Forces a directory's entries to disk; platforms that cannot open a directory (Windows) skip it. */
    static void forceDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // the rename is still atomic; only its durability across a power cut is left to the file system
        }
    }

    private static void move(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            // Some network and FUSE file systems lack atomic rename; a plain replace is the best left.
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void deleteQuietly(Path tmp) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
            // The original failure is the one worth reporting.
        }
    }
}
