package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.verify.BranchAndBound;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * train --reg ibp → verify (both methods, attack on every image, radius bisection) → certify --method crown, through the
 * command line on the bundled Fashion-MNIST sample with tiny budgets. Oracle for the verdicts: no image is both verified
 * and broken by the attack ensemble.
 */
class CliVerifyTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void certifiedTrainingThenVerifyAndCertify(@TempDir Path dir) throws IOException {
        Path base = dir.resolve("ibp"), ver = dir.resolve("verify"), cert = dir.resolve("certify");
        Cli.Run t = Cli.run("train", "--data", "fashion-mnist-sample", "--model", "mlp", "--hidden", "32", "--epochs", "1",
                "--reg", "ibp", "--eps", "0.02", "--eps-warmup", "0.2", "--optimizer", "adam", "--lr", "0.001", "--threads", "1",
                "--out", base.toString());
        assertThat(t.exitCode()).as(t.err()).isEqualTo(0);
        assertThat(t.out()).contains("ibp(linf ε=0.02, warm-up 0.2, ramp 0.4 epochs");
        JsonNode tm = JSON.readTree(base.resolve("metrics.json").toFile());
        assertThat(tm.toString()).contains("rampEpochs");

        Cli.Run v = Cli.run("verify", "--checkpoint", base.toString(), "--method", "ibp,crown,alpha-crown", "--eps", "0.005,0.02", "--images", "12",
                "--attack-all", "--steps", "5", "--targets", "1", "--queries", "20", "--radius", "0.1", "--radius-steps", "5",
                "--threads", "1", "--out", ver.toString());
        assertThat(v.exitCode()).as(v.err()).isEqualTo(0);
        JsonNode vm = JSON.readTree(ver.resolve("metrics.json").toFile());
        assertThat(vm.at("/certificate_kind").asText()).isEqualTo("sound");
        assertThat(vm.at("/results")).hasSize(6);
        java.util.Map<String, Long> verified = new java.util.HashMap<>();
        for (JsonNode r : vm.at("/results")) {
            verified.put(r.at("/method").asText() + "@" + r.at("/eps").asDouble(), r.at("/verified").asLong());
            assertThat(r.at("/violations_verified_but_broken").asLong()).isZero();
            assertThat(r.at("/verified").asLong() + r.at("/falsified").asLong() + r.at("/unknown").asLong()).isEqualTo(12);
        }
        for (double e : new double[]{0.005, 0.02}) {
            assertThat(verified.get("alpha-crown@" + e)).as("α-CROWN verifies whatever CROWN does, at %s", e)
                    .isGreaterThanOrEqualTo(verified.get("crown@" + e));
        }
        List<String> lines = Files.readAllLines(ver.resolve("verify.csv"));
        assertThat(lines).hasSize(13);
        assertThat(lines.get(0)).contains("crown_verdict@0.02").contains("ibp_verified_radius").contains("alpha-crown_verified_radius");
        assertThat(ver.resolve("verified_accuracy.png")).exists();
        assertThat(ver.resolve("verified_radius.png")).exists();
        // the radius median, by method: the two middle radii of verify.csv averaged (12 images), capped radii marked
        dev.tikhon.report.Csv.Table vt = dev.tikhon.report.Csv.read(ver.resolve("verify.csv"));
        for (String method : List.of("ibp", "crown", "alpha-crown")) {
            double[] radii = vt.records().stream().mapToDouble(row -> Double.parseDouble(row.get(method + "_verified_radius"))).sorted().toArray();
            assertThat(vm.at("/verified_radius/by_method/" + method + "/median").asDouble()).as(method + " median")
                    .isEqualTo((radii[5] + radii[6]) / 2);
            long capped = vt.records().stream().filter(row -> Double.parseDouble(row.get(method + "_verified_radius")) >= 0.1).count();
            assertThat(vm.at("/verified_radius/by_method/" + method + "/capped").asLong()).isEqualTo(capped);
            for (java.util.Map<String, String> row : vt.records()) {
                assertThat(Boolean.parseBoolean(row.get(method + "_radius_capped")))
                        .isEqualTo(Double.parseDouble(row.get(method + "_verified_radius")) == 0.1);
            }
            assertThat(v.out()).contains("largest verified radius (" + method + ", linf, sound): median");
        }
        assertThat(vm.at("/verified_radius/max").asDouble()).isEqualTo(0.1);
        for (java.util.Map<String, String> row : vt.records()) {   // the tightest bound: the largest of the methods'
            double best = Math.max(Double.parseDouble(row.get("ibp_margin_lower@0.02")), Math.max(Double.parseDouble(row.get("crown_margin_lower@0.02")),
                    Double.parseDouble(row.get("alpha-crown_margin_lower@0.02"))));
            assertThat(Double.parseDouble(row.get("tightest_margin_lower@0.02"))).isEqualTo(best);
        }
        assertThat(Files.readString(ver.resolve("index.html"))).contains("Largest verified radius");
        assertThat(ver.resolve("index.html")).exists();

        Cli.Run c = Cli.run("certify", "--checkpoint", base.toString(), "--method", "crown", "--images", "6", "--threads", "1",
                "--out", cert.toString());
        assertThat(c.exitCode()).as(c.err()).isEqualTo(0);
        JsonNode cm = JSON.readTree(cert.resolve("metrics.json").toFile());
        assertThat(cm.at("/result/certificates/crown/kind").asText()).isEqualTo("sound");
        // the forward pass is the classification, the bisection of CROWN bounds the certification (it was booked as classification)
        assertThat(cm.at("/result/certify_ms_per_image").asDouble()).isPositive()
                .isGreaterThan(cm.at("/result/classify_ms_per_image").asDouble());
        assertThat(cm.at("/result/classify_ms_per_image").asDouble()).isPositive();
        dev.tikhon.report.Csv.Table crown = dev.tikhon.report.Csv.read(cert.resolve("certify.csv"));
        for (Map<String, String> row : crown.records()) assertThat(Double.parseDouble(row.get("certify_ms"))).isPositive();
        // the same radii with rounding accounted for, to the bisection's resolution (2/2¹²) and float32's precision
        Cli.Run cr = Cli.run("certify", "--checkpoint", base.toString(), "--method", "crown", "--images", "6", "--account-rounding",
                "--threads", "1", "--out", dir.resolve("certify-rounding").toString());
        assertThat(cr.exitCode()).as(cr.err()).isEqualTo(0);
        assertThat(cr.out()).contains("(sound, rounding accounted for)");
        JsonNode crm = JSON.readTree(dir.resolve("certify-rounding/metrics.json").toFile());
        assertThat(crm.at("/rounding").asText()).startsWith("accounted: float64");
        assertThat(cm.at("/rounding").asText()).startsWith("not accounted");
        dev.tikhon.report.Csv.Table crownAccounted = dev.tikhon.report.Csv.read(dir.resolve("certify-rounding/certify.csv"));
        for (int i = 0; i < 6; i++) {
            assertThat(Double.parseDouble(crownAccounted.records().get(i).get("radius_crown")))
                    .isCloseTo(Double.parseDouble(crown.records().get(i).get("radius_crown")), org.assertj.core.data.Offset.offset(2.0 / 4096 + 1e-6));
        }
        Cli.Run cohenRounding = Cli.run("certify", "--checkpoint", base.toString(), "--method", "cohen", "--sigma", "0.25", "--images", "1",
                "--n0", "10", "--n", "50", "--account-rounding", "--threads", "1", "--out", dir.resolve("certify-cohen").toString());
        assertThat(cohenRounding.exitCode()).as(cohenRounding.err()).isEqualTo(0);
        assertThat(cohenRounding.err()).contains("--account-rounding");   // noted: Monte Carlo counts have no rounding to account for here

        Cli.Run ca = Cli.run("certify", "--checkpoint", base.toString(), "--method", "alpha-crown", "--images", "6", "--threads", "1",
                "--out", dir.resolve("certify-alpha").toString());
        assertThat(ca.exitCode()).as(ca.err()).isEqualTo(0);
        assertThat(JSON.readTree(dir.resolve("certify-alpha/metrics.json").toFile()).at("/result/certificates/alpha-crown/kind").asText())
                .isEqualTo("sound");
        Cli.Run cb = Cli.run("certify", "--checkpoint", base.toString(), "--method", "bab", "--bab-domains", "2", "--bab-steps", "4", "--images", "3",
                "--threads", "1", "--out", dir.resolve("certify-bab").toString());
        assertThat(cb.exitCode()).as(cb.err()).isEqualTo(0);
        assertThat(cb.out()).contains("2 domains per image and bound, 4 Adam steps per batch of domains");
        assertThat(JSON.readTree(dir.resolve("certify-bab/metrics.json").toFile()).at("/bab_steps").asInt()).isEqualTo(4);
        assertThat(JSON.readTree(dir.resolve("certify-bab/metrics.json").toFile()).at("/result/certificates/bab/kind").asText()).isEqualTo("sound");
        // beside each radius, the attack's distance: the largest certifiable radius lies between the two
        dev.tikhon.report.Csv.Table bab = dev.tikhon.report.Csv.read(dir.resolve("certify-bab/certify.csv"));
        int radius = bab.header().indexOf("radius_bab"), attack = bab.header().indexOf("attack_distance");
        assertThat(attack).as(bab.header().toString()).isPositive();
        for (List<String> row : bab.rows()) {
            assertThat(Double.parseDouble(row.get(radius))).isLessThanOrEqualTo(Double.parseDouble(row.get(attack)));
        }

        // branch and bound: whatever CROWN verifies, and nothing the attack breaks
        Cli.Run b = Cli.run("verify", "--checkpoint", base.toString(), "--method", "crown,bab", "--eps", "0.05", "--images", "6", "--attack-all",
                "--steps", "5", "--targets", "1", "--queries", "20", "--threads", "1", "--out", dir.resolve("bab").toString());
        assertThat(b.exitCode()).as(b.err()).isEqualTo(0);
        JsonNode bm = JSON.readTree(dir.resolve("bab/metrics.json").toFile());
        assertThat(bm.at("/results/1/method").asText()).isEqualTo("bab");
        assertThat(bm.at("/results/1/violations_verified_but_broken").asLong()).isZero();
        assertThat(bm.at("/results/1/verified").asLong()).isGreaterThanOrEqualTo(bm.at("/results/0/verified").asLong());
        assertThat(bm.at("/bab_domains").asInt()).isEqualTo(BranchAndBound.DEFAULT_DOMAINS);
        // a budget of its own: recorded, and still at least CROWN (the root alone is bounded by CROWN, IBP and α-CROWN)
        Cli.Run small = Cli.run("verify", "--checkpoint", base.toString(), "--method", "crown,bab", "--bab-domains", "2", "--eps", "0.05",
                "--images", "6", "--no-attack", "--threads", "1", "--out", dir.resolve("bab2").toString());
        assertThat(small.exitCode()).as(small.err()).isEqualTo(0);
        JsonNode sm = JSON.readTree(dir.resolve("bab2/metrics.json").toFile());
        assertThat(sm.at("/bab_domains").asInt()).isEqualTo(2);
        assertThat(sm.at("/results/1/verified").asLong()).isGreaterThanOrEqualTo(sm.at("/results/0/verified").asLong());
        // a time limit and a step count of its own: recorded, in the description; a limit spent at once stops every search
        // before its first batch of domains (told as stopped, the root's bound standing: still at least CROWN)
        Cli.Run timed = Cli.run("verify", "--checkpoint", base.toString(), "--method", "crown,bab", "--bab-timeout", "1e-9", "--bab-steps", "3",
                "--eps", "0.05", "--images", "6", "--no-attack", "--threads", "1", "--out", dir.resolve("bab-timed").toString());
        assertThat(timed.exitCode()).as(timed.err()).isEqualTo(0);
        JsonNode timedMetrics = JSON.readTree(dir.resolve("bab-timed/metrics.json").toFile());
        assertThat(timedMetrics.at("/bab_timeout_seconds").asDouble()).isEqualTo(1e-9);
        assertThat(timedMetrics.at("/bab_steps").asInt()).isEqualTo(3);
        JsonNode ends = timedMetrics.at("/results/1/search");
        assertThat(ends.at("/stopped").asLong()).as(ends.toString()).isPositive()
                .isEqualTo(6 - ends.at("/root").asLong() - ends.at("/attacked_first").asLong());
        assertThat(ends.at("/mean_domains_searched").asDouble()).isZero();
        assertThat(timed.out()).contains("stopped by --bab-timeout");
        assertThat(timedMetrics.at("/results/1/verified").asLong()).isGreaterThanOrEqualTo(timedMetrics.at("/results/0/verified").asLong());
        Cli.Run unread = Cli.run("verify", "--checkpoint", base.toString(), "--method", "crown,bab-input", "--bab-steps", "3", "--bab-timeout", "2",
                "--eps", "0.05", "--images", "1", "--no-attack", "--threads", "1", "--out", dir.resolve("bab-input-steps").toString());
        assertThat(unread.err()).contains("--bab-steps").doesNotContain("--bab-timeout");   // bab-input reads the time limit, not the steps
        Cli.Run none = Cli.run("verify", "--checkpoint", base.toString(), "--method", "bab", "--bab-domains", "0", "--out", dir.resolve("z").toString());
        assertThat(none.exitCode()).isEqualTo(2);
        assertThat(none.err()).contains("--bab-domains").contains("≥ 1");

        // rounding accounted for: float64, every bound at most the plain one's, the verdicts the same but where a margin is tiny
        Cli.Run exact = Cli.run("verify", "--checkpoint", base.toString(), "--method", "ibp,crown,alpha-crown", "--eps", "0.005,0.02",
                "--images", "12", "--no-attack", "--account-rounding", "--threads", "1", "--out", dir.resolve("rounding").toString());
        assertThat(exact.exitCode()).as(exact.err()).isEqualTo(0);
        JsonNode em = JSON.readTree(dir.resolve("rounding/metrics.json").toFile());
        assertThat(em.at("/rounding").asText()).startsWith("accounted: float64");
        assertThat(exact.out()).contains("verified: sound for the exact network");
        assertThat(v.out()).contains("verified: sound up to the rounding");
        assertThat(vm.at("/rounding").asText()).startsWith("not accounted: float32");
        dev.tikhon.report.Csv.Table et = dev.tikhon.report.Csv.read(dir.resolve("rounding/verify.csv"));
        for (int i = 0; i < 12; i++) {
            for (String col : List.of("ibp_margin_lower@0.02", "crown_margin_lower@0.005")) {
                double plain = Double.parseDouble(vt.records().get(i).get(col)), accounted = Double.parseDouble(et.records().get(i).get(col));
                assertThat(accounted).as("image %d %s: float64 with rounding accounted, against float32", i, col)
                        .isCloseTo(plain, org.assertj.core.data.Offset.offset(1e-4 * (1 + Math.abs(plain))));
            }
        }

        Cli.Run bad = Cli.run("verify", "--checkpoint", base.toString(), "--method", "zonotope", "--out", dir.resolve("x").toString());
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("tikhon: error:").contains("ibp, crown, alpha-crown, bab or bab-input");
        Cli.Run negative = Cli.run("verify", "--checkpoint", base.toString(), "--eps", "-1", "--out", dir.resolve("y").toString());
        assertThat(negative.exitCode()).isEqualTo(2);
        assertThat(negative.err().strip())
                .isEqualTo("tikhon: error: --eps takes positive radii such as 0.1 or 8/255, separated by commas; got '-1'");
    }
    /**
     * bab-input on a 2-D toy model: it verifies at least what CROWN does (every image CROWN verifies, bab-input's bound is at
     * least CROWN's), nothing it verifies is broken by the attack; without the attack its own counterexamples falsify every
     * image it does not prove (none unknown, some broken_by bab-input), and bab's, ℓ∞ and ℓ2, with rounding accounted, every
     * image it does not prove; ℓ2 is refused for bab-input in one line naming the fix, before any work.
     */
    @Test
    void inputSplittingOnAToyModel(@TempDir Path dir) throws IOException {
        Path model = dir.resolve("moons");
        Cli.Run t = Cli.run("train", "--data", "moons", "--model", "mlp", "--hidden", "16", "--epochs", "2", "--seed", "3", "--threads", "1",
                "--out", model.toString());
        assertThat(t.exitCode()).as(t.err()).isZero();
        Cli.Run v = Cli.run("verify", "--checkpoint", model.toString(), "--method", "crown,bab-input", "--eps", "0.2", "--images", "20",
                "--attack-all", "--steps", "10", "--targets", "1", "--queries", "50", "--threads", "1", "--out", dir.resolve("v").toString());
        assertThat(v.exitCode()).as(v.err()).isZero();
        JsonNode vm = JSON.readTree(dir.resolve("v/metrics.json").toFile());
        assertThat(vm.at("/results/1/method").asText()).isEqualTo("bab-input");
        assertThat(vm.at("/bab_domains").asInt()).isEqualTo(BranchAndBound.DEFAULT_DOMAINS);
        assertThat(vm.at("/results/1/verified").asLong()).isGreaterThanOrEqualTo(vm.at("/results/0/verified").asLong());
        assertThat(vm.at("/results/1/violations_verified_but_broken").asLong()).isZero();
        dev.tikhon.report.Csv.Table table = dev.tikhon.report.Csv.read(dir.resolve("v/verify.csv"));
        for (var row : table.records()) {
            assertThat(Double.parseDouble(row.get("bab-input_margin_lower@0.2")))
                    .isGreaterThanOrEqualTo(Double.parseDouble(row.get("crown_margin_lower@0.2")) - 1e-5);
        }
        // without the attack, bab-input's own counterexamples falsify: the images it does not prove are falsified, not unknown
        Cli.Run own = Cli.run("verify", "--checkpoint", model.toString(), "--method", "bab-input", "--eps", "0.2", "--images", "20",
                "--no-attack", "--threads", "1", "--out", dir.resolve("own").toString());
        assertThat(own.exitCode()).as(own.err()).isZero();
        JsonNode om = JSON.readTree(dir.resolve("own/metrics.json").toFile());
        assertThat(om.at("/results/0/verified").asLong()).isEqualTo(vm.at("/results/1/verified").asLong());
        assertThat(om.at("/results/0/unknown").asLong()).isZero();
        long byInputSplitting = falsifiedBy(dir.resolve("own/verify.csv"), "bab-input", "0.2");
        assertThat(byInputSplitting).as("correctly classified images falsified by bab-input's counterexamples").isPositive();
        assertThat(om.at("/results/0/search/counterexample").asLong()).isEqualTo(byInputSplitting);
        assertThat(own.out()).contains("bab-input at ε 0.2: ").contains(byInputSplitting + " counterexample");
        // bab likewise, ℓ∞ and ℓ2, for the exact network: its domains' lowest points falsify every image it does not prove
        for (String norm : List.of("linf", "l2")) {
            Path out = dir.resolve("bab-" + norm);
            Cli.Run bab = Cli.run("verify", "--checkpoint", model.toString(), "--method", "bab", "--eps", "0.4", "--norm", norm, "--images", "30",
                    "--no-attack", "--account-rounding", "--threads", "1", "--out", out.toString());
            assertThat(bab.exitCode()).as(bab.err()).isZero();
            JsonNode bm = JSON.readTree(out.resolve("metrics.json").toFile());
            assertThat(bm.at("/results/0/unknown").asLong()).as(norm).isZero();
            long byBab = falsifiedBy(out.resolve("verify.csv"), "bab", "0.4");
            assertThat(byBab).as(norm + ": correctly classified images falsified by bab's counterexamples").isPositive();
            assertThat(bm.at("/results/0/search/counterexample").asLong()).isEqualTo(byBab);
        }
        Cli.Run l2 = Cli.run("verify", "--checkpoint", model.toString(), "--method", "bab-input", "--norm", "l2", "--out", dir.resolve("l2").toString());
        assertThat(l2.exitCode()).isEqualTo(2);
        assertThat(l2.err().strip().lines().count()).isEqualTo(1);
        assertThat(l2.err()).contains("ℓ∞ balls only").contains("--norm linf");
        assertThat(l2.out()).as("refused before any work").isEmpty();
    }

    /** verify.csv's rows broken by {@code method}'s own counterexamples at ε {@code eps}, each falsified with a margin bound ≤ 0. */
    private static long falsifiedBy(Path csv, String method, String eps) throws IOException {
        long n = 0;
        for (var row : dev.tikhon.report.Csv.read(csv).records()) {
            if (!row.get("broken_by@" + eps).equals(method)) continue;
            n++;
            assertThat(row.get(method + "_verdict@" + eps)).isEqualTo("falsified");
            assertThat(Double.parseDouble(row.get(method + "_margin_lower@" + eps))).isLessThanOrEqualTo(0);
        }
        return n;
    }
}
