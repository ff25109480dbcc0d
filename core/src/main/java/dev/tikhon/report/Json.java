package dev.tikhon.report;

import dev.tikhon.io.AtomicFiles;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.tikhon.UserError;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/**
 * JSON files for metrics, configs and run metadata.
 *
 * <p>NaN and infinities (a diverged loss, an undefined metric) are written as the strings
 * {@code "NaN"}, {@code "Infinity"} and {@code "-Infinity"}: the file stays strict JSON that any
 * tool parses, and unlike {@code null} it still says what happened. Reading them into a
 * {@code double} field gives the number back; reading into a map gives the string. Bare
 * {@code NaN} tokens, as Python's {@code json} writes them, are accepted on read.
 */
public final class Json {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

    private Json() {}

    /** The shared, configured mapper; treat it as read-only, other callers share it. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /** Writes {@code value} pretty-printed, with a final newline, atomically. */
    public static void write(Path file, Object value) {
        AtomicFiles.write(file, out -> {
            out.write(MAPPER.writeValueAsBytes(value));
            out.write('\n');
        });
    }

    /** Reads a whole file as {@code type}; a missing or malformed file is a {@link UserError}. */
    public static <T> T read(Path file, Class<T> type) {
        return parse(file, in -> MAPPER.readValue(in, type));
    }

    /**
     * A value (a record with its Jackson annotations) as the insertion-ordered map metrics.json would hold, so that
     * reports nest and flatten it like any other map; results are typed records, never hand-written maps.
     */
    public static Map<String, Object> toMap(Object value) {
        return MAPPER.convertValue(value, MAP);
    }

    /** Reads a JSON object into insertion-ordered maps, lists, strings, numbers and booleans. */
    public static Map<String, Object> readMap(Path file) {
        JsonNode tree = readTree(file);
        if (!tree.isObject()) throw new UserError(file + " does not hold a JSON object");
        return MAPPER.convertValue(tree, MAP);
    }

    /** Reads any JSON document as Jackson's tree ({@code MissingNode} for an empty file). */
    public static JsonNode readTree(Path file) {
        return parse(file, MAPPER::readTree);
    }

    private interface Parser<T> {
        T parse(InputStream in) throws IOException;
    }

    private static <T> T parse(Path file, Parser<T> parser) {
        try (InputStream in = Files.newInputStream(file)) {
            return parser.parse(in);
        } catch (NoSuchFileException e) {
            throw new UserError("File not found: " + file, e);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
            // Jackson's message goes on about its source and start markers: keep what went wrong, and say what to do
            String what = e.getOriginalMessage().replaceFirst("\\s*\\(?(start marker at )?\\[Source:.*$", "").strip();
            throw new UserError(file + where + " is not valid JSON (" + what + "): the file was cut short or edited; restore it from "
                    + "a copy, or rerun the command that wrote it", e);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
