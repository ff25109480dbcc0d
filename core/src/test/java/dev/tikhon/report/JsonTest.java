package dev.tikhon.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tikhon.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JsonTest {
    @TempDir
    Path dir;

    record Result(String name, double loss, double acc, List<Integer> shape) {}

    record Scores(double loss, double acc) {}

    @Test
    void recordRoundTripKeepsNaNAndInfinity() {
        Path file = dir.resolve("result.json");
        Json.write(file, new Result("cnn", Double.NaN, Double.NEGATIVE_INFINITY, List.of(3, 32, 32)));

        Result back = Json.read(file, Result.class);

        assertThat(back.name()).isEqualTo("cnn");
        assertThat(back.loss()).isNaN();
        assertThat(back.acc()).isEqualTo(Double.NEGATIVE_INFINITY);
        assertThat(back.shape()).containsExactly(3, 32, 32);
    }

    @Test
    void nonFiniteNumbersAreWrittenAsStringsSoTheFileIsStrictJson() throws Exception {
        Path file = dir.resolve("m.json");
        Json.write(file, Map.of("loss", Double.NaN, "bound", Float.POSITIVE_INFINITY));

        String text = Files.readString(file);
        assertThat(text).contains("\"NaN\"").contains("\"Infinity\"").endsWith("\n");
        assertThat(Json.readMap(file)).containsEntry("loss", "NaN").containsEntry("bound", "Infinity");
    }

    @Test
    void nestedMapsRoundTripInOrderAndPrettyPrinted() throws Exception {
        Map<String, Object> test = new LinkedHashMap<>();
        test.put("acc", 0.875);
        test.put("loss", Double.NaN);
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("epochs", 10);
        metrics.put("test", test);
        metrics.put("classes", List.of("cat", "dog"));
        Path file = dir.resolve("metrics.json");

        Json.write(file, metrics);
        Map<String, Object> back = Json.readMap(file);

        assertThat(back.keySet()).containsExactly("epochs", "test", "classes");
        assertThat(back.get("epochs")).isEqualTo(10);
        assertThat(back.get("test")).isEqualTo(Map.of("acc", 0.875, "loss", "NaN"));
        assertThat(back.get("classes")).isEqualTo(List.of("cat", "dog"));
        assertThat(Files.readAllLines(file)).hasSizeGreaterThan(5);
        JsonNode tree = Json.readTree(file);
        assertThat(tree.at("/test/acc").asDouble()).isEqualTo(0.875);
    }

    @Test
    void acceptsBareNaNAsPythonWritesIt() throws Exception {
        Path file = dir.resolve("py.json");
        Files.writeString(file, "{\"loss\": NaN, \"acc\": 0.5}");

        assertThat(Json.readMap(file).get("loss")).isEqualTo(Double.NaN);
        Scores scores = Json.read(file, Scores.class);
        assertThat(scores.loss()).isNaN();
        assertThat(scores.acc()).isEqualTo(0.5);
    }

    @Test
    void overwritesAtomicallyWithoutLeavingTemporaryFiles() throws Exception {
        Path file = dir.resolve("sub/state.json");
        Json.write(file, Map.of("epoch", 1));
        Json.write(file, Map.of("epoch", 2));

        assertThat(Json.readMap(file)).containsEntry("epoch", 2);
        try (var files = Files.list(file.getParent())) {
            assertThat(files).extracting(p -> p.getFileName().toString()).containsExactly("state.json");
        }
    }

    @Test
    void badFilesAreUserErrorsNamingTheFile() throws Exception {
        Path missing = dir.resolve("missing.json");
        Path broken = dir.resolve("broken.json");
        Path array = dir.resolve("array.json");
        Files.writeString(broken, "{\n  \"a\": 1,\n  oops\n}");
        Files.writeString(array, "[1, 2]");

        assertThatThrownBy(() -> Json.readMap(missing)).isInstanceOf(UserError.class).hasMessageContaining("missing.json");
        assertThatThrownBy(() -> Json.readMap(broken)).isInstanceOf(UserError.class)
                .hasMessageContaining("broken.json").hasMessageContaining("line 3");
        assertThatThrownBy(() -> Json.readMap(array)).isInstanceOf(UserError.class).hasMessageContaining("JSON object");
        assertThatThrownBy(() -> Json.read(array, Result.class)).isInstanceOf(UserError.class);
    }

    /** A file cut short: the message was Jackson's, on about "[Source: REDACTED ...]" start markers, and named no fix. */
    @Test
    void aTruncatedFileNamesTheFaultAndTheFixWithoutJacksonsInternals() throws Exception {
        Path cut = dir.resolve("metrics.json");
        Files.writeString(cut, "{\n  \"command\": \"certify\",\n");
        assertThatThrownBy(() -> Json.readMap(cut)).isInstanceOf(UserError.class)
                .hasMessageContaining(cut + " (line 3, column 1) is not valid JSON (Unexpected end-of-input")
                .hasMessageContaining("restore it from a copy, or rerun the command that wrote it")
                .hasMessageNotContaining("Source").hasMessageNotContaining("marker at");
    }
}
