package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.report.Csv;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code tikhon attack} and {@code tikhon bounds} end to end, on the TorchScript fixture and the bundled sample. */
class CliAttackTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void attackWritesPerImageCsvMetricsPlotsAndReport(@TempDir Path dir) throws IOException {
        Cli.Run a = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample",
                "--limit", "24", "--eps", "1/255,0.1", "--steps", "10", "--targets", "2", "--queries", "50", "--ddn-steps", "30",
                "--threads", "1", "--out", dir.toString());
        assertThat(a.exitCode()).as(a.err()).isZero();
        assertThat(a.out()).contains("robust accuracy").contains("ms per image");
        JsonNode m = JSON.readTree(dir.resolve("metrics.json").toFile());
        assertThat(m.at("/n").asInt()).isEqualTo(24);
        double clean = m.at("/clean_accuracy").asDouble();
        double small = m.at("/robust_accuracy/0.00392157").asDouble(), large = m.at("/robust_accuracy/0.1").asDouble();
        assertThat(small).isLessThanOrEqualTo(clean);
        assertThat(large).isLessThanOrEqualTo(small);
        assertThat(m.at("/attacks/members").toString()).isEqualTo("[\"apgd-ce\",\"apgd-t-dlr\",\"fab-t\",\"square\"]");
        assertThat(m.at("/attacks/points_first_broken_by_member").size()).isEqualTo(4);
        assertThat(m.at("/attacks/points_whose_smallest_distance_was_found_by").isObject()).isTrue();
        assertThat(m.at("/bounds/l_bound_violations").asInt()).isZero();
        Csv.Table t = Csv.read(dir.resolve("per_image.csv"));
        assertThat(t.rows()).hasSize(24);
        assertThat(t.header()).contains("label", "prediction", "margin", "grad_norm_dual", "l_bound", "min_distance", "found_by", "robust_at_0.1",
                "verdict");
        for (String f : new String[]{"robust_accuracy.png", "index.html"}) assertThat(dir.resolve(f)).exists();

        // the verdict is at the largest ε, and says so; robust_at_<ε> has each
        assertThat(t.header()).contains("robust_at_0.00392157", "verdict_eps");
        for (java.util.Map<String, String> row : t.records()) {
            assertThat(Double.parseDouble(row.get("verdict_eps"))).isEqualTo(0.1);
            if (row.get("correct").equals("1")) assertThat(row.get("verdict").equals("robust")).isEqualTo(row.get("robust_at_0.1").equals("1"));
        }
        // what decided robust accuracy, named alike on stdout, in metrics.json and in the page's table header
        String by = m.at("/attacks/robust_accuracy_label").asText();
        assertThat(by).isEqualTo("ensemble + minimum-distance search (ddn, fab-t)");
        assertThat(a.out()).contains("(" + by + ")");
        assertThat(m.at("/robust_accuracy_kind").asText()).isEqualTo("empirical");
        String page = java.nio.file.Files.readString(dir.resolve("index.html"));
        assertThat(page).contains("<th>robust accuracy (" + by + ")</th>").doesNotContain("checked against every attack");
        // every file of the run is listed, robustbench.json (written before the page) and attack.jsonl among them
        assertThat(page).contains(">robustbench.json</a>", ">attack.jsonl</a>", ">per_image.csv</a>");
        assertThat(JSON.readTree(dir.resolve("robustbench.json").toFile()).at("/kind").asText()).isEqualTo("empirical");
        // the fractions robust_accuracy.png plots beside robust accuracy, counted from per_image.csv
        for (String eps : new String[]{"0.00392157", "0.1"}) {
            double e = Double.parseDouble(eps);
            long n = t.records().stream().filter(row -> row.get("correct").equals("1") && Double.parseDouble(row.get("l_bound")) >= e).count();
            assertThat(m.at("/bounds/fraction_l_bound_at_least_eps/" + eps).asDouble())
                    .isEqualTo(n / 24.0);
        }
    }

    @Test
    void memberListsContributionsAndTimeBudget(@TempDir Path dir) throws IOException {
        Cli.Run a = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample",
                "--limit", "16", "--norm", "l2", "--eps", "0.3,1", "--attack", "apgd-ce,fab-t,square", "--member-contributions",
                "--steps", "10", "--targets", "2", "--queries", "50", "--ddn-steps", "20", "--threads", "1", "--out", dir.resolve("all").toString());
        assertThat(a.exitCode()).as(a.err()).isZero();
        JsonNode m = JSON.readTree(dir.resolve("all/metrics.json").toFile());
        assertThat(m.at("/attacks/members").toString()).isEqualTo("[\"apgd-ce\",\"fab-t\",\"square\"]");
        int first = 0, any = 0, only = 0;
        for (String member : new String[]{"apgd-ce", "fab-t", "square"}) {
            first += m.at("/attacks/points_first_broken_by_member/" + member).asInt();
            any += m.at("/attacks/points_broken_by_member/" + member).asInt();
            only += m.at("/attacks/points_broken_only_by_member/" + member).asInt();
        }
        assertThat(only).isLessThanOrEqualTo(first).isLessThanOrEqualTo(any);

        // A budget far too small to finish: every image still standing is marked, none is called robust.
        Cli.Run b = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample",
                "--limit", "40", "--eps", "0.0001", "--no-min-distance", "--time-budget", "0.000001", "--threads", "1",
                "--out", dir.resolve("budget").toString());
        assertThat(b.exitCode()).as(b.err()).isZero();
        Csv.Table t = Csv.read(dir.resolve("budget/per_image.csv"));
        int verdict = t.header().indexOf("verdict"), robust = t.header().indexOf("robust_at_0.0001");
        assertThat(t.rows()).allSatisfy(r -> assertThat(r.get(verdict)).isIn("misclassified", "broken", "timeout"));
        assertThat(t.rows()).anySatisfy(r -> assertThat(r.get(verdict)).isEqualTo("timeout"));
        assertThat(t.rows()).allSatisfy(r -> assertThat(r.get(robust).equals("timeout")).isEqualTo(r.get(verdict).equals("timeout")));
        assertThat(b.out()).contains("time budget");
    }

    @Test
    void boundsReportsEstimatesAndChecksThem(@TempDir Path dir) throws IOException {
        Cli.Run b = Cli.run("bounds", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample",
                "--limit", "16", "--norm", "l2", "--lanczos", "4", "--ddn-steps", "30", "--threads", "1", "--out", dir.toString());
        assertThat(b.exitCode()).as(b.err()).isZero();
        assertThat(b.out()).contains("L-bound (estimate").contains("C-bound (estimate");
        JsonNode m = JSON.readTree(dir.resolve("metrics.json").toFile());
        assertThat(m.at("/bounds/kind").asText()).contains("estimate");
        assertThat(m.at("/bounds/lipschitz_estimate").asDouble()).isPositive();
        assertThat(m.at("/bounds/curvature_estimate").isMissingNode()).isFalse();
        // bounds attacks at no ε: no RobustBench entry (it was an empty one), and its page says what the bounds were checked against
        assertThat(dir.resolve("robustbench.json")).doesNotExist();
        assertThat(m.at("/bounds/checked_against").asText()).contains("minimum-distance search");
        String page = java.nio.file.Files.readString(dir.resolve("index.html"));
        assertThat(page).contains("checked against the smallest adversarial distances found (the minimum-distance search)", ">attack.jsonl</a>")
                .doesNotContain("every attack").doesNotContain("(dotted line)").doesNotContain("(solid line)");
    }

    /**
     * Carlini–Wagner in the minimum-distance search (its own distances in their own column and median, never below the
     * search's best, which includes them) and as an attack at a radius, on the linear fixture trained by PyTorch.
     */
    @Test
    void carliniWagnerJoinsTheMinimumDistanceSearchAndRunsAsAnAttack(@TempDir Path dir) throws IOException {
        Cli.Run a = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/linear_fmnist.pt", "--data", "fashion-mnist-sample",
                "--limit", "12", "--norm", "l2", "--eps", "1", "--attack", "none", "--steps", "10", "--targets", "2", "--ddn-steps", "20",
                "--cw-steps", "50", "--no-bounds", "--threads", "1", "--out", dir.resolve("search").toString());
        assertThat(a.exitCode()).as(a.err()).isZero();
        JsonNode m = JSON.readTree(dir.resolve("search/metrics.json").toFile());
        assertThat(m.at("/attacks/cw_steps").asInt()).isEqualTo(50);
        assertThat(m.at("/min_adversarial_distance/median_l2_cw").isNumber()).as(m.toString()).isTrue();
        assertThat(m.at("/warnings").toString()).contains("Carlini–Wagner ran 50 Adam steps per search step");
        assertThat(a.out()).contains("WARNING: Carlini–Wagner ran 50");
        Csv.Table t = Csv.read(dir.resolve("search/per_image.csv"));
        int cwColumn = t.header().indexOf("l2_distance_cw"), best = t.header().indexOf("min_distance");
        assertThat(cwColumn).isPositive();
        int found = 0;
        for (java.util.List<String> row : t.rows()) {
            if (row.get(cwColumn).isEmpty() || row.get(best).isEmpty()) continue;
            double cw = Double.parseDouble(row.get(cwColumn)), min = Double.parseDouble(row.get(best));
            if (!Double.isFinite(cw)) continue;
            found++;
            assertThat(min).as("the search's best includes Carlini–Wagner's point (then refined)").isLessThanOrEqualTo(cw * (1 + 1e-6));
        }
        assertThat(found).isPositive();

        Cli.Run b = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/linear_fmnist.pt", "--data", "fashion-mnist-sample",
                "--limit", "12", "--norm", "l2", "--eps", "3", "--attack", "cw,cw-t", "--targets", "2", "--steps", "50", "--no-min-distance", "--no-bounds",
                "--threads", "1", "--out", dir.resolve("attack").toString());
        assertThat(b.exitCode()).as(b.err()).isZero();
        JsonNode n = JSON.readTree(dir.resolve("attack/metrics.json").toFile());
        assertThat(n.at("/attacks/members").toString()).isEqualTo("[\"cw\",\"cw-t\"]");
        assertThat(n.at("/warnings").toString()).contains("Carlini–Wagner ran 50 Adam steps per search step");
        assertThat(n.at("/robust_accuracy/3").asDouble()).isLessThan(n.at("/clean_accuracy").asDouble());
        // without --cw-steps the per-image columns are the usual ones
        assertThat(Csv.read(dir.resolve("attack/per_image.csv")).header()).doesNotContain("l2_distance_cw");
    }

    /** Transfer attacks from a TorchScript and an ONNX source run after the white-box member and are reported as members. */
    @Test
    void transferAttacksFromOtherModelsJoinTheMembers(@TempDir Path dir) throws IOException {
        Cli.Run a = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample",
                "--limit", "16", "--eps", "0.1", "--attack", "apgd-ce", "--steps", "10", "--member-contributions", "--no-min-distance",
                "--no-bounds", "--transfer-from", "src/test/resources/torchscript/linear_fmnist.pt,src/test/resources/onnx/fmnist_cnn.onnx",
                "--threads", "1", "--out", dir.resolve("transfer").toString());
        assertThat(a.exitCode()).as(a.err()).isZero();
        assertThat(a.out()).contains("transfer source linear_fmnist.pt").contains("transfer source fmnist_cnn.onnx")
                .contains("(apgd-ce + 2 transfer attack(s))").doesNotContain("null").doesNotContain("NaN");
        JsonNode m = JSON.readTree(dir.resolve("transfer/metrics.json").toFile());
        assertThat(m.at("/attacks/members").toString())
                .isEqualTo("[\"apgd-ce\",\"transfer-pgd:linear_fmnist.pt\",\"transfer-pgd:fmnist_cnn.onnx\"]");
        assertThat(m.at("/transfer/attack").asText()).isEqualTo("pgd");
        // recorded absolute, so that --resume from another directory finds the same sources
        assertThat(JSON.readTree(dir.resolve("transfer/run.json").toFile()).at("/args").toString()).contains(
                Path.of("src/test/resources/torchscript/linear_fmnist.pt").toAbsolutePath() + "," + Path.of("src/test/resources/onnx/fmnist_cnn.onnx").toAbsolutePath());
        JsonNode rb = JSON.readTree(dir.resolve("transfer/robustbench.json").toFile());
        assertThat(rb.at("/attack").asText()).isEqualTo("apgd-ce, transfer-pgd:linear_fmnist.pt, transfer-pgd:fmnist_cnn.onnx");
        assertThat(rb.has("robust_acc")).isTrue();
        assertThat(m.at("/transfer/sources/fmnist_cnn.onnx").asText()).contains("ONNX");
        int correct = (int) Math.round(m.at("/clean_accuracy").asDouble() * 16);
        for (String member : new String[]{"transfer-pgd:linear_fmnist.pt", "transfer-pgd:fmnist_cnn.onnx"}) {
            assertThat(m.at("/attacks/points_broken_by_member/" + member).isInt()).as(member).isTrue();
            assertThat(m.at("/attacks/points_broken_by_member/" + member).asInt()).as(member).isBetween(0, correct);
        }

        // Fused: one member crafted on both sources at once, with FGSM.
        Cli.Run f = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample",
                "--limit", "16", "--eps", "0.1", "--attack", "none", "--no-min-distance", "--no-bounds", "--transfer-fused", "--transfer-attack", "fgsm",
                "--transfer-from", "src/test/resources/torchscript/linear_fmnist.pt,src/test/resources/onnx/fmnist_cnn.onnx",
                "--threads", "1", "--out", dir.resolve("fused").toString());
        assertThat(f.exitCode()).as(f.err()).isZero();
        JsonNode fm = JSON.readTree(dir.resolve("fused/metrics.json").toFile());
        assertThat(fm.at("/attacks/members").toString()).isEqualTo("[\"transfer-fgsm:linear_fmnist.pt+fmnist_cnn.onnx\"]");
        assertThat(fm.at("/transfer/fused").asBoolean()).isTrue();
    }

    @Test
    void badTransferOptionsAreClearErrors(@TempDir Path dir) {
        String[] base = {"attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample", "--limit", "4",
                "--out", dir.toString()};
        String source = "src/test/resources/torchscript/linear_fmnist.pt";
        Cli.Run r = Cli.run(Cli.concat(base, "--transfer-attack", "cw"));
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("configure --transfer-from MODEL");
        r = Cli.run(Cli.concat(base, "--transfer-from", "no/such/run"));
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("--transfer-from no/such/run: no such file");
        r = Cli.run(Cli.concat(base, "--transfer-from", source, "--transfer-attack", "cw"));
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("--transfer-attack: cw is an ℓ2 attack");
        r = Cli.run(Cli.concat(base, "--transfer-from", source, "--transfer-confidence", "3"));
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("a confidence κ applies to Carlini–Wagner");
        r = Cli.run(Cli.concat(base, "--transfer-from", source, "--transfer-fused"));
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("--transfer-fused crafts on several --transfer-from models at once");
        r = Cli.run(Cli.concat(base, "--transfer-from", source, "--spark", "local[1]"));
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("--transfer-from runs on this machine only");
    }

    @Test
    void badAttackOptionsAreClearErrors(@TempDir Path dir) {
        Cli.Run r = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample",
                "--attack", "deepfool", "--out", dir.toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("unknown attack 'deepfool'").contains("ensemble").contains("cw");
        r = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample",
                "--cw-steps", "10", "--out", dir.toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("--cw-steps adds Carlini–Wagner, an ℓ2 attack").contains("use --norm l2");
        r = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample",
                "--norm", "l2", "--cw-steps", "10", "--no-min-distance", "--out", dir.toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("--no-min-distance turns off");
        r = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample",
                "--norm", "l2", "--cw-steps", "-1", "--out", dir.toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("--cw-steps must be ≥ 0");
        // the C-bound of --lanczos beside bounds that are not computed: it was silently left out
        r = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample",
                "--limit", "2", "--attack", "fgsm", "--no-min-distance", "--lanczos", "5", "--no-bounds", "--threads", "1", "--out",
                dir.resolve("c").toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("--lanczos adds the C-bound to the L-bounds, which --no-bounds turns off: drop one of them");
        r = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample",
                "--limit", "2", "--attack", "fgsm", "--lanczos", "5", "--smoothed", "4", "--sigma", "0.25", "--threads", "1", "--out",
                dir.resolve("s").toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("which --smoothed does not compute");
        r = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample",
                "--norm", "linf", "--attack", "cw", "--out", dir.toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("cw is an ℓ2 attack: use --norm l2");
        r = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--eps", "8/0x", "--out", dir.toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("--eps takes positive radii");
        r = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--norm", "l3", "--out", dir.toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("Invalid value for option '--norm': unknown attack norm 'l3': use linf or l2")
                .doesNotContain("cannot convert").doesNotContain("Exception");
        r = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--norm", "l2", "--attack", "apgd-ce,fgsm", "--out", dir.toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("fgsm is an ℓ∞ attack");
        r = Cli.run("attack", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--time-budget", "-1", "--out", dir.toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("--time-budget must be ≥ 0");
    }
}
