package dev.tikhon.cli;

import dev.tikhon.report.Csv;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** reproduce ek's page says which picture is the EK flow's and which the CNF's, and its NLL names its unit (nats). */
class CliReproduceEkTest {
    @Test
    void captionsNameTheMethodAndTheNllItsUnit(@TempDir Path dir) throws Exception {
        Cli.Run r = Cli.run("reproduce", "ek", "--datasets", "moons", "--iterations", "2", "--batch-size", "32", "--mc-samples", "4",
                "--flow-samples", "4", "--held-out", "20", "--grid", "12", "--threads", "1", "--out", dir.toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        String html = Files.readString(dir.resolve("index.html"));
        assertThat(html).contains("<figcaption>moons — EK flow: model density</figcaption>")
                .contains("<figcaption>moons — CNF: model density</figcaption>")
                .contains("alt=\"moons — CNF: samples\"").contains("moons — 20 held-out data points")
                .doesNotContain("<figcaption>density</figcaption>").doesNotContain("<figcaption>samples</figcaption>");
        Csv.Table results = Csv.read(dir.resolve("results.csv"));
        assertThat(results.records()).allSatisfy(row -> assertThat(row.get("unit")).isEqualTo("NLL (nats)"));
        assertThat(r.out()).contains("held-out NLL (nats)");
        assertThat(html).contains("NLL (nats)");
    }
}
