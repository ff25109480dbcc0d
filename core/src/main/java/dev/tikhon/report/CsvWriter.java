package dev.tikhon.report;

import dev.tikhon.UserError;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A CSV file that grows one row at a time, such as the per-epoch history of a training run.
 * Each row is flushed as soon as it is written, so a crash loses at most the row being written
 * and the file can be read (plotted, tailed) while training goes on. Formatting and quoting are
 * those of {@link Csv}.
 */
public final class CsvWriter implements AutoCloseable {
    private final Path file;
    private final List<String> header;
    private final Writer out;

    private CsvWriter(Path file, List<String> header, Writer out) {
        this.file = file;
        this.header = header;
        this.out = out;
    }

    /**
     * Opens {@code file} for appending. A missing or empty file is started with {@code header};
     * an existing file (a resumed run) is continued if its header is the same, and is a
     * {@link UserError} otherwise, since mixing columns would corrupt the history.
     */
    public static CsvWriter open(Path file, List<String> header) {
        List<String> columns = List.copyOf(header);
        try {
            boolean continuing = Files.exists(file) && Files.size(file) > 0;
            if (continuing) {
                List<String> existing = Csv.read(file).header();
                if (!existing.equals(columns)) {
                    throw new UserError(file + " already has columns " + existing + ", not " + columns
                            + "; move it away or choose another output directory");
                }
            } else {
                Files.createDirectories(file.toAbsolutePath().getParent());
            }
            boolean needsNewline = continuing && !endsWithNewline(file);
            Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            CsvWriter writer = new CsvWriter(file, columns, out);
            try {
                if (needsNewline) writer.append("\n");
                if (!continuing) writer.append(Csv.line(columns));
            } catch (UncheckedIOException e) {
                out.close();
                throw e;
            }
            return writer;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot open " + file + " for appending: " + e.getMessage(), e);
        }
    }

    public List<String> header() {
        return header;
    }

    /** Appends one row of values in header order, then flushes. */
    public synchronized void writeRow(List<?> values) {
        Csv.checkWidth(header, values);
        append(Csv.line(values));
    }

    /**
     * Appends one row given by column name, then flushes; absent columns are left empty. A key that
     * is not a column is an error rather than silently dropped data.
     */
    public synchronized void writeRow(Map<String, ?> row) {
        Set<String> unknown = new HashSet<>(row.keySet());
        header.forEach(unknown::remove);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("Columns " + unknown + " are not in the header " + header + " of " + file);
        }
        List<Object> values = new ArrayList<>(header.size());
        for (String column : header) values.add(row.get(column));
        append(Csv.line(values));
    }

    @Override
    public synchronized void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot close " + file + ": " + e.getMessage(), e);
        }
    }

    private void append(String text) {
        try {
            out.write(text);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write to " + file + ": " + e.getMessage(), e);
        }
    }

    /** A run killed mid-row leaves a torn last line; the next row must not be glued onto it. */
    private static boolean endsWithNewline(Path file) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            raf.seek(raf.length() - 1);
            return raf.read() == '\n';
        }
    }
}
