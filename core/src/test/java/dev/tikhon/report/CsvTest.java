package dev.tikhon.report;

import dev.tikhon.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CsvTest {
    @TempDir
    Path dir;

    @Test
    void quotedFieldsRoundTrip() {
        Path file = dir.resolve("t.csv");
        List<String> header = List.of("name", "note, with comma", "value");
        List<List<?>> rows = List.of(
                List.of("plain", "say \"hi\"", 1),
                List.of("multi\nline", "a,b,c", 2),
                List.of("crlf\r\ninside", "", 3),
                Arrays.asList("null next", null, 4));

        Csv.write(file, header, rows);
        Csv.Table table = Csv.read(file);

        assertThat(table.header()).isEqualTo(header);
        assertThat(table.rows()).containsExactly(
                List.of("plain", "say \"hi\"", "1"),
                List.of("multi\nline", "a,b,c", "2"),
                List.of("crlf\r\ninside", "", "3"),
                List.of("null next", "", "4"));
    }

    @Test
    void quotesOnlyWhereNeeded() throws Exception {
        Path file = dir.resolve("q.csv");
        Csv.write(file, List.of("a", "b"), List.of(List.of("x,y", "say \"hi\"")));

        assertThat(Files.readString(file)).isEqualTo("a,b\n\"x,y\",\"say \"\"hi\"\"\"\n");
    }

    @Test
    void numbersKeepFullPrecision() throws Exception {
        Path file = dir.resolve("n.csv");
        Csv.write(file, List.of("d", "tiny", "f", "nan", "inf", "long"),
                List.of(List.of(0.1 + 0.2, 1e-5, 0.1f, Double.NaN, Double.NEGATIVE_INFINITY, 1L << 40)));

        List<String> row = Csv.read(file).rows().get(0);
        assertThat(row).containsExactly("0.30000000000000004", "1.0E-5", "0.1", "NaN", "-Infinity", "1099511627776");
        assertThat(Double.parseDouble(row.get(0))).isEqualTo(0.1 + 0.2);
    }

    @Test
    void readsCrlfFilesWithBomAndBlankLines() throws Exception {
        Path file = dir.resolve("excel.csv");
        Files.writeString(file, "\uFEFFepoch,loss\r\n1,0.5\r\n\r\n2,\"0.25\"\r\n");

        Csv.Table table = Csv.read(file);

        assertThat(table.header()).containsExactly("epoch", "loss");
        assertThat(table.records()).containsExactly(Map.of("epoch", "1", "loss", "0.5"), Map.of("epoch", "2", "loss", "0.25"));
    }

    @Test
    void lastLineWithoutNewlineAndEmptyFile() throws Exception {
        Path file = dir.resolve("x.csv");
        Files.writeString(file, "a,b\n1,");
        assertThat(Csv.read(file).rows()).containsExactly(List.of("1", ""));

        Files.writeString(file, "");
        assertThat(Csv.read(file).header()).isEmpty();
    }

    @Test
    void rejectsRowsOfTheWrongWidthAndTruncatedFiles() throws Exception {
        assertThatThrownBy(() -> Csv.write(dir.resolve("w.csv"), List.of("a", "b"), List.of(List.of(1))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 values");
        assertThat(dir.resolve("w.csv")).doesNotExist();

        Path torn = dir.resolve("torn.csv");
        Files.writeString(torn, "a,b\n1,\"unfinished");
        assertThatThrownBy(() -> Csv.read(torn)).isInstanceOf(UserError.class).hasMessageContaining("torn.csv");
        assertThatThrownBy(() -> Csv.read(dir.resolve("none.csv"))).isInstanceOf(UserError.class);
    }

    @Test
    void writeLeavesNoTemporaryFile() throws Exception {
        Path file = dir.resolve("t.csv");
        Csv.write(file, List.of("a"), List.of(List.of(1)));
        Csv.write(file, List.of("a"), List.of(List.of(2)));

        assertThat(Csv.read(file).rows()).containsExactly(List.of("2"));
        try (var files = Files.list(dir)) {
            assertThat(files).extracting(p -> p.getFileName().toString()).containsExactly("t.csv");
        }
    }
}
