package dev.tikhon.report;

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

class CsvWriterTest {
    private static final List<String> HEADER = List.of("epoch", "train_loss", "note");

    @TempDir
    Path dir;

    @Test
    void eachRowIsReadableWhileTheWriterIsOpen() {
        Path file = dir.resolve("runs/history.csv");
        try (CsvWriter writer = CsvWriter.open(file, HEADER)) {
            assertThat(Csv.read(file).header()).isEqualTo(HEADER);

            writer.writeRow(List.of(1, 0.5, "warm, up"));
            assertThat(Csv.read(file).rows()).containsExactly(List.of("1", "0.5", "warm, up"));

            writer.writeRow(List.of(2, Double.NaN, "diverged"));
            assertThat(Csv.read(file).rows()).hasSize(2).last().isEqualTo(List.of("2", "NaN", "diverged"));
        }
    }

    @Test
    void reopeningAppendsAfterTheExistingRows() {
        Path file = dir.resolve("history.csv");
        try (CsvWriter writer = CsvWriter.open(file, HEADER)) {
            writer.writeRow(List.of(1, 0.5, ""));
        }
        try (CsvWriter writer = CsvWriter.open(file, HEADER)) {
            writer.writeRow(List.of(2, 0.25, ""));
        }

        Csv.Table table = Csv.read(file);
        assertThat(table.header()).isEqualTo(HEADER);
        assertThat(table.rows()).extracting(row -> row.get(0)).containsExactly("1", "2");
    }

    @Test
    void aTornLastLineIsNotGluedToTheNextRow() throws Exception {
        Path file = dir.resolve("history.csv");
        Files.writeString(file, "epoch,train_loss,note\n1,0.5,ok\n2,0.4");

        try (CsvWriter writer = CsvWriter.open(file, HEADER)) {
            writer.writeRow(List.of(3, 0.3, "resumed"));
        }

        assertThat(Csv.read(file).rows()).containsExactly(
                List.of("1", "0.5", "ok"), List.of("2", "0.4"), List.of("3", "0.3", "resumed"));
    }

    @Test
    void rowsByColumnNameLeaveMissingColumnsEmptyAndRejectUnknownOnes() {
        Path file = dir.resolve("history.csv");
        try (CsvWriter writer = CsvWriter.open(file, HEADER)) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("train_loss", 0.125);
            row.put("epoch", 7);
            writer.writeRow(row);

            assertThatThrownBy(() -> writer.writeRow(Map.of("val_loss", 1.0)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("val_loss");
            assertThatThrownBy(() -> writer.writeRow(List.of(1, 2)))
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(Csv.read(file).rows()).containsExactly(List.of("7", "0.125", ""));
    }

    @Test
    void aDifferentHeaderIsAUserError() {
        Path file = dir.resolve("history.csv");
        CsvWriter.open(file, HEADER).close();

        assertThatThrownBy(() -> CsvWriter.open(file, List.of("epoch", "val_loss")))
                .isInstanceOf(UserError.class).hasMessageContaining("history.csv").hasMessageContaining("val_loss");
    }
}
