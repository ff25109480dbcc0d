package dev.tikhon.report;

import dev.tikhon.io.AtomicFiles;

import dev.tikhon.UserError;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * CSV files in RFC 4180 form: fields holding a comma, a double quote or a line break are quoted,
 * with quotes doubled. Records end in {@code \n} (as Unix tools expect); the reader also accepts
 * {@code \r\n}. UTF-8 throughout.
 *
 * <p>Numbers keep full precision: a {@code double} is written by {@link Double#toString(double)}
 * (the shortest text that parses back to the same value, e.g. {@code 0.1}, {@code 1.0E-5}), a
 * {@code float} by {@link Float#toString(float)} so it is not widened into noise digits. NaN and
 * infinities appear as {@code NaN}, {@code Infinity}, {@code -Infinity}, which pandas and numpy
 * read. {@code null} is an empty field.
 */
public final class Csv {
    /** A parsed file: the first record as the header, the remaining records as rows. */
    public record Table(List<String> header, List<List<String>> rows) {
        public Table {
            header = List.copyOf(header);
            rows = rows.stream().map(List::copyOf).toList();
        }

        /** The rows keyed by column name, in header order; a short row simply lacks the tail keys. */
        public List<Map<String, String>> records() {
            List<Map<String, String>> out = new ArrayList<>(rows.size());
            for (List<String> row : rows) {
                Map<String, String> record = new LinkedHashMap<>();
                for (int c = 0; c < Math.min(header.size(), row.size()); c++) record.put(header.get(c), row.get(c));
                out.add(record);
            }
            return out;
        }
    }

    private Csv() {}

    /** Writes a whole table atomically; every row must have as many values as the header. */
    public static void write(Path file, List<String> header, List<? extends List<?>> rows) {
        StringBuilder text = new StringBuilder(line(header));
        for (List<?> row : rows) {
            checkWidth(header, row);
            text.append(line(row));
        }
        AtomicFiles.write(file, out -> out.write(text.toString().getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * Writes a whole table of records atomically, the first record's keys as the header, as
     * {@link CsvWriter#writeRow(Map)} does row by row: a missing column is empty, an unknown one an error.
     */
    public static void writeRecords(Path file, List<? extends Map<String, ?>> records) {
        if (records.isEmpty()) throw new IllegalArgumentException("no records to write to " + file);
        List<String> header = new ArrayList<>(records.get(0).keySet());
        List<List<Object>> rows = new ArrayList<>(records.size());
        for (Map<String, ?> r : records) {
            if (!header.containsAll(r.keySet())) {
                throw new IllegalArgumentException("Columns " + r.keySet() + " are not all in the header " + header + " of " + file);
            }
            List<Object> values = new ArrayList<>(header.size());
            for (String column : header) values.add(r.get(column));
            rows.add(values);
        }
        write(file, header, rows);
    }

    /** Reads a file written by this class or by common tools; blank lines are skipped. */
    public static Table read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UserError("File not found: " + file, e);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + file + ": " + e.getMessage(), e);
        }
        List<List<String>> records = parse(text, file);
        if (records.isEmpty()) return new Table(List.of(), List.of());
        return new Table(records.get(0), records.subList(1, records.size()));
    }

    /**
     * {@link #read}, for a file Tikhon wrote whole (every record as wide as the header): a record of another width, or a
     * file with no header, is a {@link UserError} naming the file and the record and ending in {@code remedy}, where the
     * lenient reader would let a cut-short or hand-edited file lose values silently.
     */
    public static Table readWhole(Path file, String remedy) {
        Table t = read(file);
        if (t.header().isEmpty()) throw new UserError(file + " is empty (no header): " + remedy);
        for (int i = 0; i < t.rows().size(); i++) {
            int width = t.rows().get(i).size();
            if (width != t.header().size()) {
                throw new UserError(file + ": record " + (i + 1) + " after the header has " + width + " field" + (width == 1 ? "" : "s")
                        + " where the header has " + t.header().size() + " (the file was cut short or edited): " + remedy);
            }
        }
        return t;
    }

    /**
     * A number of a file {@link #readWhole} read: blank is NaN (a value not measured), {@code NaN} and {@code ±Infinity}
     * as written; any other text a {@link UserError} naming the file, record and column.
     */
    public static double number(String text, Path file, int record, String column, String remedy) {
        if (text == null || text.isBlank()) return Double.NaN;
        try {
            return Double.parseDouble(text.strip());
        } catch (NumberFormatException e) {
            throw new UserError(file + ": record " + record + " after the header has '" + text + "' in column " + column
                    + ", not a number: " + remedy);
        }
    }

    /** One record, quoted as needed, with its terminating newline. */
    static String line(List<?> values) {
        return values.stream().map(v -> quote(format(v))).collect(Collectors.joining(",", "", "\n"));
    }

    static void checkWidth(List<String> header, List<?> row) {
        if (row.size() != header.size()) {
            throw new IllegalArgumentException("CSV row has " + row.size() + " values but the header has "
                    + header.size() + " columns " + header + ": " + row);
        }
    }

    static String format(Object value) {
        if (value == null) return "";
        if (value instanceof Float f) return Float.toString(f);
        if (value instanceof Double d) return Double.toString(d);
        return value.toString();
    }

    static String quote(String field) {
        boolean needsQuotes = field.indexOf(',') >= 0 || field.indexOf('"') >= 0
                || field.indexOf('\n') >= 0 || field.indexOf('\r') >= 0;
        return needsQuotes ? '"' + field.replace("\"", "\"\"") + '"' : field;
    }

    private static List<List<String>> parse(String text, Path file) {
        List<List<String>> records = new ArrayList<>();
        List<String> record = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean inQuotes = false;
        boolean inRecord = false;
        int i = text.startsWith("\uFEFF") ? 1 : 0; // byte-order mark from spreadsheet exports
        while (i < text.length()) {
            char c = text.charAt(i++);
            if (inQuotes) {
                if (c != '"') {
                    field.append(c);
                } else if (i < text.length() && text.charAt(i) == '"') {
                    field.append('"');
                    i++;
                } else {
                    inQuotes = false;
                }
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && i < text.length() && text.charAt(i) == '\n') i++;
                if (inRecord) {
                    record.add(field.toString());
                    records.add(record);
                }
                record = new ArrayList<>();
                field.setLength(0);
                inRecord = false;
            } else {
                inRecord = true;
                if (c == '"') inQuotes = true;
                else if (c == ',') {
                    record.add(field.toString());
                    field.setLength(0);
                } else field.append(c);
            }
        }
        if (inQuotes) throw new UserError(file + " ends inside a quoted field: the file is truncated or not CSV");
        if (inRecord) {
            record.add(field.toString());
            records.add(record);
        }
        return records;
    }
}
