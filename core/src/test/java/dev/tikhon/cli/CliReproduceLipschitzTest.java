package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.report.Csv;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * reproduce lipschitz's report: settings in words (no Java record dump), the sd over one seed said to be n/a (no NaN),
 * the model's constant named a lower grid estimate everywhere, and a results caption that says rows are per (variant, n).
 */
class CliReproduceLipschitzTest {
    @Test
    void theReportSaysWhatEachNumberIs(@TempDir Path dir) throws Exception {
        Cli.Run r = Cli.run("reproduce", "lipschitz", "--sizes", "60,120", "--steps", "10", "--seeds", "1", "--test-points", "100",
                "--plot-sizes", "60", "--threads", "1", "--out", dir.toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        assertThat(r.out()).contains("model Lip grid estimate (lower)");
        String html = Files.readString(dir.resolve("index.html"));
        assertThat(html).doesNotContain("Settings[").doesNotContain("ObjectiveSpec[").doesNotContain("Variant[")
                .contains("sizes [60, 120]").contains("(name unregularized, objective (")
                .contains("Results, one row per (variant, n) (summary.csv).").doesNotContain("NaN")
                .contains("n/a (one seed)").contains("model lipschitz grid lower estimate mean");
        JsonNode m = new ObjectMapper().readTree(dir.resolve("metrics.json").toFile());
        assertThat(m.get("settings").isObject()).isTrue();
        JsonNode s = m.at("/summary/unregularized/60");
        assertThat(s.has("clean_test_error_sd")).isFalse();
        assertThat(s.get("clean_test_error_sd_note").asText()).isEqualTo("n/a (one seed)");
        assertThat(s.has("model_lipschitz_grid_lower_estimate_mean")).isTrue();
        assertThat(Files.readString(dir.resolve("metrics.json"))).doesNotContain("NaN");
        assertThat(Csv.read(dir.resolve("summary.csv")).records().get(0)).containsEntry("clean_test_error_sd", "n/a (one seed)");
        assertThat(Csv.read(dir.resolve("results.csv")).header()).contains("model_lipschitz_grid_lower_estimate");
    }

    /** A --plot-sizes that --sizes does not train drew no map, silently, while the outputs line named map-*.png. */
    @Test
    void plotSizesThatAreNotTrainedAreRefusedOrNoted(@TempDir Path dir) {
        Cli.Run r = Cli.run("reproduce", "lipschitz", "--sizes", "60", "--plot-sizes", "60,120", "--threads", "1",
                "--out", dir.resolve("a").toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err().strip()).isEqualTo("tikhon: error: --plot-sizes 120 is not a size that --sizes 60 trains, so no decision map "
                + "would be drawn there: give --plot-sizes from --sizes");
        assertThat(dir.resolve("a")).doesNotExist();
        Cli.Run one = Cli.run("reproduce", "lipschitz", "--sizes", "1,60", "--plot-sizes", "60", "--out", dir.resolve("one").toString());
        assertThat(one.exitCode()).as(one.err()).isEqualTo(Main.EXIT_USER);
        assertThat(one.err()).contains("--sizes 1,60: a training set of 1 point has no pair").contains("give sizes of 2 or more");
        Cli.Run n = Cli.run("reproduce", "lipschitz", "--sizes", "60", "--steps", "1", "--seeds", "1", "--test-points", "10",
                "--lip-weights", "0.1", "--threads", "1", "--out", dir.resolve("b").toString());
        assertThat(n.exitCode()).as(n.err()).isZero();
        assertThat(n.err()).contains("note:   no decision maps: the default --plot-sizes 300,10000 are not among --sizes 60");
        assertThat(n.out()).doesNotContain("map-*.png");
    }
}
