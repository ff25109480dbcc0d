package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.report.Csv;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * reproduce tikhonov puts robust accuracy beside clean accuracy on the same attacked images (never below it), says how
 * many, and keeps "estimate" in the L-bound's name; its help names every default variant (TRADES included).
 */
class CliReproduceTikhonovTest {
    @Test
    void robustAccuracyStandsBesideCleanAccuracyOnTheSameImages(@TempDir Path dir) throws Exception {
        Cli.Run r = Cli.run("reproduce", "tikhonov", "--data", "fashion-mnist-sample", "--train-images", "2000", "--epochs", "1", "--variants", "undefended",
                "--robust-images", "4", "--threads", "1", "--out", dir.toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        assertThat(r.out()).contains("test acc: on all 1000 test images; clean, rob: on the first 4").contains("med L-bd est")
                .doesNotContainPattern("med L-bd(?! est)");
        JsonNode rb = new ObjectMapper().readTree(dir.resolve("metrics.json").toFile()).at("/variants/undefended/robustness");
        assertThat(rb.get("images").asInt()).isEqualTo(4);
        double clean = rb.get("clean_accuracy_same_images").asDouble();
        rb.get("linf_robust_accuracy").forEach(a -> assertThat(a.asDouble()).isLessThanOrEqualTo(clean));
        assertThat(rb.has("median_l2_lbound_estimate")).isTrue();
        Map<String, String> row = Csv.read(dir.resolve("results.csv")).records().get(0);
        assertThat(row).containsEntry("robust_images", "4").containsKey("median_l2_lbound_estimate").doesNotContainKey("median_l2_lbound");
        assertThat(Double.parseDouble(row.get("clean_acc_robust_images"))).isEqualTo(clean);
        assertThat(Double.parseDouble(row.get("robust_acc_linf_8/255"))).isLessThanOrEqualTo(clean);
    }

    @Test
    void theHelpNamesTrades() {
        Cli.Run h = Cli.run("reproduce", "tikhonov", "--help");
        assertThat(h.out().replaceAll("\\s+", " ")).contains("TRADES (β 6)").contains("clean and ℓ∞ robust accuracy");
    }
}
