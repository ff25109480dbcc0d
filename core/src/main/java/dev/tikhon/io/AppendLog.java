package dev.tikhon.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A file of lines that a long run appends to as it goes (one line per certified image or attacked batch), so that a
 * stopped run keeps what it did: each line is handed to the operating system in one write as soon as it is appended
 * (a killed process loses nothing appended), and forced to disk at most every {@link #FORCE_EVERY_MS} ms and on
 * {@link #close} (a power cut loses at most that last second). A kill in the middle of a write leaves at most one
 * torn last line, without its newline: {@link #readComplete} drops it, and {@link #start} rewrites the file with the
 * lines to keep (atomically, through {@link AtomicFiles}) before appending again.
 */
public final class AppendLog implements AutoCloseable {
    static final long FORCE_EVERY_MS = 1000;

    private final Path file;
    private final FileChannel channel;
    private long lastForce = System.currentTimeMillis();

    private AppendLog(Path file, FileChannel channel) {
        this.file = file;
        this.channel = channel;
    }

    /** The complete lines of {@code file} (each ended by a newline; a torn last line is left out); none if it is missing. */
    public static List<String> readComplete(Path file) {
        if (!Files.isRegularFile(file)) return List.of();
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            List<String> out = new ArrayList<>();
            int from = 0;
            for (int nl; (nl = text.indexOf('\n', from)) >= 0; from = nl + 1) out.add(text.substring(from, nl));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Parses one line of a log. */
    @FunctionalInterface
    public interface Parser<T> {
        T parse(String line) throws IOException;
    }

    /** What a stopped run's log holds: its rows, and the lines they were read from. */
    public record Kept<T>(List<T> rows, List<String> lines) {}

    /**
     * The rows of {@code file}'s complete lines, in order, up to the first line that does not parse (that line and those
     * after it are dropped: their work is done again); none if the file is missing.
     */
    public static <T> Kept<T> readRows(Path file, Parser<T> parser) {
        List<T> rows = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        for (String line : readComplete(file)) {
            try {
                rows.add(parser.parse(line));
                lines.add(line);
            } catch (IOException | RuntimeException e) {
                break;
            }
        }
        return new Kept<>(rows, lines);
    }

    /** Writes {@code lines} as the whole of {@code file} (atomically), then opens it for appending. */
    public static AppendLog start(Path file, List<String> lines) {
        StringBuilder text = new StringBuilder();
        for (String l : lines) text.append(l).append('\n');
        AtomicFiles.writeString(file, text.toString());
        try {
            return new AppendLog(file, FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot append to " + file + ": " + e.getMessage(), e);
        }
    }

    /** Appends lines (each must hold no newline) in one write. */
    public synchronized void append(List<String> lines) {
        StringBuilder text = new StringBuilder();
        for (String l : lines) {
            if (l.indexOf('\n') >= 0) throw new IllegalArgumentException("a line of " + file + " holds a newline: " + l);
            text.append(l).append('\n');
        }
        ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
        try {
            while (bytes.hasRemaining()) channel.write(bytes);
            long now = System.currentTimeMillis();
            if (now - lastForce >= FORCE_EVERY_MS) {
                channel.force(false);
                lastForce = now;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot append to " + file + ": " + e.getMessage(), e);
        }
    }

    public Path file() { return file; }

    @Override public synchronized void close() {
        if (!channel.isOpen()) return;
        try {
            channel.force(false);
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot close " + file + ": " + e.getMessage(), e);
        }
    }
}
