package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.report.Csv;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** reproduce certify end to end at a tiny budget: every variant and certificate in the table, the speed-up, the report. */
class CliReproduceCertifyTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void reproduceCertifyWritesTheComparison(@TempDir Path dir) throws IOException {
        Cli.Run r = Cli.run("reproduce", "certify", "--data", "fashion-mnist-sample", "--train-images", "512", "--epochs", "1", "--images", "3", "--n", "60",
                "--predict-n", "100", "--predict-images", "1", "--smooth-subset", "256", "--v1-subset", "128", "--v1-steps", "2",
                "--kappa", "1", "--threads", "1", "--out", dir.toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        assertThat(r.out()).contains("faster");
        assertThat(r.out()).contains("training on its first 512 images");
        Csv.Table t = Csv.read(dir.resolve("results.csv"));
        // 3 Cohen models + 2 heat models × certificates (a), (b), (c)
        assertThat(t.rows()).hasSize(9);
        assertThat(t.records().get(3).get("certificate")).isEqualTo("a");
        assertThat(t.records().get(4).get("kind")).isEqualTo("heuristic");
        for (var row : t.records()) {
            double r0 = Double.parseDouble(row.get("r=0.0")), r1 = Double.parseDouble(row.get("r=1.0"));
            assertThat(r0).isBetween(0.0, 1.0);
            assertThat(r1).as("certified accuracy cannot grow with the radius").isLessThanOrEqualTo(r0);
        }
        JsonNode m = JSON.readTree(dir.resolve("metrics.json").toFile());
        assertThat(m.at("/classification_speedup/speedup").asDouble()).isPositive();
        assertThat(dir.resolve("certified_accuracy.png")).exists();
        assertThat(dir.resolve("index.html")).exists();
        ReportContentTest.checkPage(dir, "Certified accuracy by ℓ2 radius");   // the page leads with the table, no Java internals
    }
}
