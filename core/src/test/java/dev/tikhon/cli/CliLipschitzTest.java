package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** train --reg gloro → certify --method lipschitz (ℓ2, ℓ∞) → bounds, on the bundled Fashion-MNIST sample, tiny budgets. */
class CliLipschitzTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void trainGloroAndCertifySoundly(@TempDir Path dir) throws IOException {
        Path base = dir.resolve("base"), l2 = dir.resolve("l2"), linf = dir.resolve("linf");
        Cli.Run t = Cli.run("train", "--data", "fashion-mnist-sample", "--model", "mlp", "--hidden", "32", "--epochs", "1",
                "--reg", "gloro", "--eps", "0.3", "--optimizer", "adam", "--lr", "0.003", "--threads", "1", "--out", base.toString());
        assertThat(t.exitCode()).as(t.err()).isEqualTo(0);
        assertThat(t.out()).contains("GloRo");
        // the objective is recorded in the checkpoint: --resume rebuilds it (power-iteration vectors re-warmed) and extends the run
        Cli.Run more = Cli.run("train", "--resume", "--epochs", "2", "--threads", "1", "--out", base.toString());
        assertThat(more.exitCode()).as(more.err()).isEqualTo(0);
        assertThat(JSON.readTree(base.resolve("history.json").toFile()).size()).isEqualTo(2);

        Cli.Run c = Cli.run("certify", "--checkpoint", base.toString(), "--method", "lipschitz", "--images", "40", "--batch-size", "16",
                "--threads", "1", "--out", l2.toString());
        assertThat(c.exitCode()).as(c.err()).isEqualTo(0);
        List<String> csv = Files.readAllLines(l2.resolve("certify.csv"));
        assertThat(csv).hasSize(41);
        // an ordinary certification step: its certificate with its kind, the norm, then its extra columns (the class j the radius
        // is attained at, that pair's margin and bound L, the margin's gradient; the runner-up and its margin)
        assertThat(csv.get(0)).startsWith("index,label,prediction,correct,prediction_lipschitz,radius_lipschitz,kind_lipschitz,norm,"
                + "binding_class,margin,L,gradient_norm,runner_up_class,runner_up_margin,");
        dev.tikhon.report.Csv.Table table = dev.tikhon.report.Csv.read(l2.resolve("certify.csv"));
        for (java.util.Map<String, String> row : table.records()) {
            assertThat(row.get("kind_lipschitz")).isEqualTo("sound");
            assertThat(row.get("norm")).isEqualTo("l2");
            double radius = Double.parseDouble(row.get("radius_lipschitz")), margin = Double.parseDouble(row.get("margin")),
                    l = Double.parseDouble(row.get("L"));
            // the columns reproduce the radius: r = margin / L for the class j written beside them
            assertThat(radius).as("row %s", row.get("index")).isCloseTo(Math.max(0, margin) / l, org.assertj.core.api.Assertions.within(1e-12 * (1 + radius)));
            assertThat(Double.parseDouble(row.get("gradient_norm"))).isLessThanOrEqualTo(l);
            // the runner-up has the smallest logit margin of all classes, the binding pair's included
            assertThat(Double.parseDouble(row.get("runner_up_margin"))).isLessThanOrEqualTo(margin + 1e-12);
            assertThat(row.get("binding_class")).matches("\\d+");
        }
        assertThat(l2.resolve("certify.tsv")).exists();
        JsonNode m = JSON.readTree(l2.resolve("metrics.json").toFile());
        assertThat(m.at("/result/certificates/lipschitz/kind").asText()).isEqualTo("sound");
        assertThat(c.out()).contains("bound: body");
        assertThat(m.at("/result/certificates/lipschitz/certified_accuracy/0.25").asDouble()).isPositive();
        assertThat(m.at("/result/certificates/lipschitz/norm").asText()).isEqualTo("l2");
        assertThat(c.out()).contains("certified accuracy by ℓ2 radius r:").contains("r=0.25").contains("(sound)");
        // a gradient of a margin can never exceed the margin's bound
        assertThat(m.at("/result/max_gradient_over_bound").asDouble()).isBetween(0.0, 1.0);
        assertThat(m.at("/result/layers").size()).isEqualTo(2);
        assertThat(l2.resolve("certified_accuracy.png")).exists();
        assertThat(l2.resolve("index.html")).exists();
        assertThat(l2.resolve("layers.csv")).exists();

        Cli.Run i = Cli.run("certify", "--checkpoint", base.toString(), "--method", "lipschitz", "--norm", "linf", "--images", "40",
                "--threads", "1", "--out", linf.toString());
        assertThat(i.exitCode()).as(i.err()).isEqualTo(0);
        List<String> rows = Files.readAllLines(linf.resolve("certify.csv"));
        for (int k = 1; k < rows.size(); k++) {
            double r2 = Double.parseDouble(csv.get(k).split(",")[5]), rinf = Double.parseDouble(rows.get(k).split(",")[5]);
            assertThat(rinf).isCloseTo(r2 / 28, org.assertj.core.api.Assertions.within(1e-12));
            assertThat(rows.get(k).split(",")[7]).isEqualTo("linf");
        }
        // ℓ∞ radii on the ℓ∞ grid (0, 1/255, 2/255, 4/255, 8/255), named so everywhere; no Cohen-format file (it means ℓ2)
        assertThat(i.out()).contains("certified accuracy by ℓ∞ radius r:").contains("r=1/255").contains("r=8/255").doesNotContain("r=0.25");
        assertThat(linf.resolve("certify.tsv")).doesNotExist();
        assertThat(i.out()).contains("no certify.tsv");
        List<String> acc = Files.readAllLines(linf.resolve("certified_accuracy.csv"));
        assertThat(acc.get(0)).isEqualTo("certificate,kind,alpha,norm,r=0.0,r=" + 1 / 255.0 + ",r=" + 2 / 255.0 + ",r=" + 4 / 255.0
                + ",r=" + 8 / 255.0);
        assertThat(acc.get(1)).startsWith("lipschitz,sound,,linf,");
        JsonNode mi = JSON.readTree(linf.resolve("metrics.json").toFile());
        assertThat(mi.at("/result/norm").asText()).isEqualTo("linf");
        assertThat(mi.at("/result/certificates/lipschitz/norm").asText()).isEqualTo("linf");
        JsonNode grid = mi.at("/result/certificates/lipschitz/certified_accuracy");
        assertThat(grid.has(String.valueOf(8 / 255.0))).as(grid.toString()).isTrue();
        assertThat(grid.has("0.25")).isFalse();
        // the certified accuracy at 8/255 counted from the per-image radii
        long at8 = Files.readAllLines(linf.resolve("certify.csv")).stream().skip(1).map(l -> l.split(","))
                .filter(f -> f[3].equals("1") && Double.parseDouble(f[5]) >= 8 / 255.0).count();
        assertThat(grid.get(String.valueOf(8 / 255.0)).asDouble()).isEqualTo(at8 / 40.0);
        String html = Files.readString(linf.resolve("index.html"));
        assertThat(html).contains("ℓ∞ radius r").contains("r = 8/255").doesNotContain("ℓ2 radius");

        Path bounds = dir.resolve("bounds");
        Cli.Run b = Cli.run("bounds", "--checkpoint", base.toString(), "--limit", "8", "--lanczos", "0", "--no-check", "--threads", "1",
                "--out", bounds.toString());
        assertThat(b.exitCode()).as(b.err()).isEqualTo(0);
        assertThat(b.out()).contains("sound Lipschitz bound");
        JsonNode bm = JSON.readTree(bounds.resolve("metrics.json").toFile());
        assertThat(bm.at("/sound_lipschitz/kind").asText()).isEqualTo("sound");
        assertThat(bm.at("/sound_lipschitz/logits").asDouble()).isCloseTo(m.at("/result/lipschitz_bound_logits").asDouble(),
                org.assertj.core.api.Assertions.within(1e-9));
        // ℓ2 in an ℓ∞ run (bounds' default norm), and named so; the median of certify's ℓ2 radii of the same 8 images
        // (correct ones), the two middle values averaged; and the ℓ∞ radius it implies, r₂/√784
        assertThat(bm.at("/norm").asText()).isEqualTo("linf");
        assertThat(bm.at("/sound_lipschitz/norm").asText()).isEqualTo("l2");
        dev.tikhon.report.Csv.Table lt = dev.tikhon.report.Csv.read(l2.resolve("certify.csv"));
        double[] radii = lt.records().stream().limit(8).filter(row -> row.get("correct").equals("1"))
                .mapToDouble(row -> Double.parseDouble(row.get("radius_lipschitz"))).sorted().toArray();
        int n = radii.length;
        double median = n % 2 == 1 ? radii[n / 2] : (radii[n / 2 - 1] + radii[n / 2]) / 2;
        assertThat(bm.at("/sound_lipschitz/radius_median_correct").asDouble()).isCloseTo(median, org.assertj.core.api.Assertions.within(1e-9));
        assertThat(bm.at("/sound_lipschitz/linf_radius_median_correct").asDouble()).isCloseTo(median / 28,
                org.assertj.core.api.Assertions.within(1e-9));
        assertThat(b.out()).contains("sound ℓ2 radius median").contains("(as ℓ∞: ");
        assertThat(bounds.resolve("robustbench.json")).doesNotExist();
    }

    @Test
    void torchScriptModelCannotBeBounded(@TempDir Path dir) {
        Cli.Run r = Cli.run("certify", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample",
                "--method", "lipschitz", "--images", "2", "--out", dir.toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        assertThat(r.err().strip().split("\n")).hasSize(1);
        assertThat(r.err()).startsWith("tikhon: error: ").contains("TorchScript").contains("Lipschitz");
    }
}
