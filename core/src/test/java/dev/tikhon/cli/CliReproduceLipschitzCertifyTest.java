package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.report.Csv;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * reproduce lipschitz-certify end to end at a tiny budget: the four variants side by side with their kinds, sound
 * rows attacked inside their radii with no violation, certified accuracy never rising with the radius, the report.
 */
class CliReproduceLipschitzCertifyTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The experiment at a tiny budget in {@code dir}: {@code mcImages} Monte Carlo images at CERTIFY's N = {@code n}. */
    private static Cli.Run tiny(Path dir, int mcImages, int n) {
        return Cli.run("reproduce", "lipschitz-certify", "--data", "fashion-mnist-sample", "--train-images", "512", "--epochs", "1", "--lip-epochs", "1",
                "--images", "20", "--mc-images", String.valueOf(mcImages), "--n", String.valueOf(n), "--predict-images", "1",
                "--smooth-subset", "128", "--kappa", "1", "--ddn-images", "5", "--ddn-steps", "5", "--ensemble-images", "2",
                "--attack-steps", "3", "--threads", "1", "--out", dir.toString());
    }

    @Test
    void reproduceLipschitzCertifyWritesTheSideBySideTable(@TempDir Path dir) throws IOException {
        Cli.Run r = tiny(dir, 2, 100);
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        assertThat(r.out()).contains("faster per image than CERTIFY");
        Csv.Table t = Csv.read(dir.resolve("results.csv"));
        assertThat(t.rows()).hasSize(4);   // (i) undefended, (ii) Lipschitz-margin, (iii) Cohen, (iv) heat (a)
        int sound = 0;
        for (Map<String, String> row : t.records()) {
            double previous = Double.parseDouble(row.get("clean_acc"));
            for (String radius : new String[]{"r=0.0", "r=0.25", "r=0.5", "r=0.75", "r=1.0"}) {
                double a = Double.parseDouble(row.get(radius));
                assertThat(a).as(row.get("variant") + " " + radius + ": certified ≤ clean, never rising").isLessThanOrEqualTo(previous);
                previous = a;
            }
            if (row.get("kind").equals("sound")) {
                sound++;
                assertThat(row.get("violations")).as("no attack beats a sound radius").startsWith("0 of ").contains(", 0 of ");
            } else {
                assertThat(row.get("kind")).startsWith("probabilistic");
            }
        }
        assertThat(sound).isEqualTo(2);
        JsonNode m = JSON.readTree(dir.resolve("metrics.json").toFile());
        assertThat(m.at("/certification_speedup_over_cohen").asDouble()).isGreaterThan(1);
        assertThat(dir.resolve("certified_accuracy.png")).exists();
        ReportContentTest.checkPage(dir, "Certified accuracy");

        // Rerun with one more Monte Carlo image: the two certified ones are kept (same checkpoint, same plan) and equal a
        // fresh certification's, the third is certified; the soundness checks (same models, certificates, attacks) are kept
        // and reported as before. With another N nothing Monte Carlo kept is trusted, and the checks, which N does not
        // enter, are kept again (LipschitzCertifyExperimentKeyTest: what their key holds, and that another key attacks again).
        Csv.Table cohen = Csv.read(dir.resolve("noise-0.25").resolve("certify.csv"));
        Csv.Table heat = Csv.read(dir.resolve("heat-revision").resolve("certify.csv"));
        JsonNode checks = JSON.readTree(dir.resolve("metrics.json").toFile()).at("/variants");
        Cli.Run more = tiny(dir, 3, 100);
        assertThat(more.exitCode()).as(more.err()).isEqualTo(0);
        assertThat(more.out()).contains("resume: 2 image(s) of noise-0.25 already certified", "resume: 2 image(s) of heat-revision already certified",
                "resume: soundness check of undefended kept", "resume: soundness check of lipschitz-margin kept");
        JsonNode checksAgain = JSON.readTree(dir.resolve("metrics.json").toFile()).at("/variants");
        for (String v : new String[]{"undefended CNN, sound", "gloro mlp ε 0.5, sound"}) {
            assertThat(checks.get(v).get("soundness_check")).as(v).isNotNull().isEqualTo(checksAgain.get(v).get("soundness_check"));
            assertThat(checks.get(v).get("soundness_check").get("tested").asInt()).as(v).isPositive();
        }
        Csv.Table cohen3 = Csv.read(dir.resolve("noise-0.25").resolve("certify.csv"));
        Csv.Table heat3 = Csv.read(dir.resolve("heat-revision").resolve("certify.csv"));
        assertThat(cohen3.rows()).hasSize(3);
        for (int i = 0; i < 2; i++) {
            for (String c : new String[]{"prediction_cohen", "radius_cohen", "monte_carlo_prediction"}) {
                assertThat(cohen3.records().get(i).get(c)).as(c + " of image " + i).isEqualTo(cohen.records().get(i).get(c));
            }
            for (String c : new String[]{"prediction_a", "radius_a", "radius_b", "radius_c"}) {
                assertThat(heat3.records().get(i).get(c)).as(c + " of image " + i).isEqualTo(heat.records().get(i).get(c));
            }
        }
        Cli.Run otherN = tiny(dir, 3, 120);
        assertThat(otherN.exitCode()).as(otherN.err()).isEqualTo(0);
        assertThat(otherN.out()).doesNotContain("already certified")
                .contains("resume: soundness check of undefended kept", "resume: soundness check of lipschitz-margin kept");
        assertThat(Files.readString(dir.resolve("noise-0.25").resolve("certify.key"))).contains("n=120");
    }
}
