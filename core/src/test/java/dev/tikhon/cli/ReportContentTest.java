package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tikhon.report.Csv;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every report page Tikhon writes, produced by small commands run in-process on the bundled Fashion-MNIST sample, read
 * as a person would: the result comes first (before the settings, the details and the folded provenance), each
 * certificate kind on the page is explained, and no Java internals ({@code [D@}, {@code [I@}, {@code Record[},
 * {@code Config[}), NaN or null appear. Also {@code tikhon compare} on three certify runs.
 */
class ReportContentTest {
    private static final List<String> FORBIDDEN = List.of("[D@", "[I@", "[J@", "Record[", "Config[", "Row[", "Spec[", "Info[", "NaN", "null");

    @TempDir
    static Path dir;
    /** Run folder → what its headline must show. */
    private static final Map<Path, String> pages = new LinkedHashMap<>();

    @BeforeAll
    static void runEveryCommand() {
        Path train = dir.resolve("train"), smooth = dir.resolve("smooth");
        run("train", "--data", "fashion-mnist-sample", "--model", "mlp", "--hidden", "16", "--epochs", "1", "--reg", "noise",
                "--sigma", "0.25", "--threads", "1", "--out", train.toString());
        pages.put(train, "Final test accuracy");
        run("smooth", "--checkpoint", train.toString(), "--subset", "128", "--kappa", "1", "--batch-size", "64", "--threads", "1",
                "--out", smooth.toString());
        pages.put(smooth, "after");
        certify(smooth, "heat", "heat", "--n", "100", "--noise-batch", "100");
        certify(train, "cohen", "cohen", "--n", "100", "--noise-batch", "100");
        certify(train, "cohen-0.5", "cohen", "--n", "100", "--noise-batch", "100", "--sigma", "0.5");
        certify(train, "lipschitz", "lipschitz");
        Path attack = dir.resolve("attack"), bounds = dir.resolve("bounds"), verify = dir.resolve("verify"), eval = dir.resolve("eval");
        run("attack", "--checkpoint", train.toString(), "--attack", "pgd", "--steps", "3", "--limit", "8", "--no-min-distance",
                "--threads", "1", "--out", attack.toString());
        pages.put(attack, "Robust accuracy under pgd");
        run("bounds", "--checkpoint", train.toString(), "--limit", "6", "--ddn-steps", "5", "--lanczos", "3", "--threads", "1",
                "--out", bounds.toString());
        pages.put(bounds, "Sound ℓ2 certified accuracy");
        run("verify", "--checkpoint", train.toString(), "--images", "6", "--eps", "0.01,0.02", "--no-attack", "--threads", "1",
                "--out", verify.toString());
        pages.put(verify, "Verified accuracy");
        run("eval", "--checkpoint", train.toString(), "--threads", "1", "--out", eval.toString());
        pages.put(eval, "Accuracy");
        Path flow = dir.resolve("flow");
        run("flow", "train", "--data", "8gaussians", "--hidden", "16,16", "--iterations", "4", "--batch-size", "64", "--held-out", "100",
                "--threads", "1", "--out", flow.toString());
        pages.put(flow, "Held-out NLL");
    }

    private static void certify(Path model, String name, String method, String... more) {
        Path out = dir.resolve(name);
        List<String> args = new java.util.ArrayList<>(List.of("certify", "--checkpoint", model.toString(), "--method", method,
                "--images", "6", "--threads", "1", "--out", out.toString()));
        args.addAll(List.of(more));
        run(args.toArray(String[]::new));
        pages.put(out, "Certified accuracy");
    }

    private static void run(String... args) {
        Cli.Run r = Cli.run(args);
        assertThat(r.exitCode()).as(String.join(" ", args) + "\n" + r.err()).isEqualTo(0);
    }

    @Test
    void everyPageLeadsWithTheResultAndShowsNoJavaInternals() throws IOException {
        assertThat(pages).hasSize(11);
        for (Map.Entry<Path, String> p : pages.entrySet()) checkPage(p.getKey(), p.getValue());
    }

    static void checkPage(Path run, String headline) throws IOException {
        String html = Files.readString(run.resolve("index.html"));
        String name = run.getFileName().toString();
        for (String bad : FORBIDDEN) assertThat(html).as(name + " shows " + bad).doesNotContain(bad);
        int result = html.indexOf("id=\"headline\"");
        assertThat(result).as(name + ": a headline section").isPositive();
        int end = html.indexOf("</section>", result);
        assertThat(html.indexOf(headline, result)).as(name + ": the headline says " + headline).isPositive().isLessThan(end);
        int provenance = html.indexOf("<details class=\"provenance\">");
        assertThat(provenance).as(name + ": provenance folded at the end").isGreaterThan(result);
        for (String later : List.of("<h2>Settings", "<h2>Details", "<h2>Files", "<h2>Charts")) {
            int at = html.indexOf(later);
            if (at >= 0) assertThat(at).as(name + ": " + later + " after the result").isGreaterThan(result);
        }
        // the engine and machine paths only inside the folded provenance
        for (String engine : List.of("engine.binding", "native_cache", "tikhon_version")) {
            int at = html.indexOf(engine);
            if (at >= 0) assertThat(at).as(name + ": " + engine + " in the provenance").isGreaterThan(provenance);
        }
        // every certificate kind the result table shows is explained in one sentence
        String head = html.substring(result, end);
        for (String kind : List.of("sound", "probabilistic", "heuristic")) {
            if (head.contains("<td>" + kind)) assertThat(head).as(name + ": " + kind + " explained").contains("<b>" + kind + "</b>");
        }
    }

    @Test
    void attackMetricsListOnlyTheBudgetsTheRunRead() throws IOException {
        com.fasterxml.jackson.databind.JsonNode pgd = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(dir.resolve("attack/metrics.json").toFile()).get("attacks");
        assertThat(pgd.get("steps").asInt()).isEqualTo(3);
        assertThat(pgd.has("restarts")).isTrue();
        assertThat(pgd.has("schedule")).isTrue();
        assertThat(pgd.has("square_queries")).as(pgd.toString()).isFalse();
        assertThat(pgd.has("ddn_steps")).as("--no-min-distance: no DDN").isFalse();
        // bounds runs no attack: only its check's minimum-distance search (DDN, FAB-T) read any budget
        com.fasterxml.jackson.databind.JsonNode bounds = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(dir.resolve("bounds/metrics.json").toFile()).get("attacks");
        assertThat(bounds.get("ddn_steps").asInt()).isEqualTo(5);
        assertThat(bounds.has("steps")).isTrue();
        assertThat(bounds.has("targets")).isTrue();
        for (String unread : List.of("restarts", "square_queries", "schedule", "eot")) {
            assertThat(bounds.has(unread)).as(unread + " in " + bounds).isFalse();
        }
    }

    @Test
    void certifyPagesDrawAndExplainTheirKinds() throws IOException {
        String heat = Files.readString(dir.resolve("heat/index.html"));
        // each row with its kind, α beside a probabilistic one, a heuristic one not certified
        assertThat(heat).contains("<th>certificate</th><th>kind</th><th>alpha</th><th>norm</th>")
                .contains("<td>a</td><td>probabilistic</td><td class=\"num\">0.001</td><td>l2</td>",
                        "<td>b</td><td>heuristic (not certified)</td>", "<td>c</td><td>heuristic (not certified)</td>")
                .contains("<b>probabilistic</b> (dashed line): holds with probability ≥ 1 − α", "<b>heuristic</b> (dotted line)")
                .contains("<th>r = 0.5</th>");
        assertThat(heat.indexOf("<img src=\"certified_accuracy.png\"")).as("the curve inside the headline")
                .isLessThan(heat.indexOf("</section>"));
        assertThat(Files.readString(dir.resolve("lipschitz/index.html"))).contains("<b>sound</b> (solid line): a proof");
        assertThat(Files.readString(dir.resolve("cohen/index.html"))).contains("σ 0.25, N₀ 100, N 100, α 0.001");
    }

    @Test
    void compareOverlaysThreeCertifyRuns() throws IOException {
        Path out = dir.resolve("compare");
        Cli.Run c = Cli.run("compare", dir.resolve("cohen").toString(), dir.resolve("cohen-0.5").toString(),
                dir.resolve("lipschitz").toString(), "--out", out.toString());
        assertThat(c.exitCode()).as(c.err()).isEqualTo(0);
        try (Stream<Path> files = Files.list(out)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted())
                    .containsExactly("compare.csv", "compare.png", "index.html", "metrics.json");
        }
        Csv.Table t = Csv.read(out.resolve("compare.csv"));
        assertThat(t.header()).containsExactly("run", "method", "kind", "radius", "value", "norm", "alpha");
        assertThat(t.records().stream().map(r -> r.get("run") + "/" + r.get("method") + "/" + r.get("kind")).distinct())
                .containsExactly("cohen/cohen/probabilistic", "cohen-0.5/cohen/probabilistic", "lipschitz/lipschitz/sound");
        // 101 grid points per curve plus those of the named radii (0, 0.25, 0.5, 0.75, 1) not on the grid
        assertThat(t.rows().size()).isBetween(3 * 101, 3 * 105);
        JsonNode cm = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve("metrics.json").toFile());
        // each curve equals its run's own certified_accuracy.csv at every named radius (exactly, in compare.csv, metrics.json)
        // and never grows
        for (String run : List.of("cohen", "cohen-0.5", "lipschitz")) {
            List<Map<String, String>> rows = t.records().stream().filter(r -> r.get("run").equals(run)).toList();
            List<Double> v = rows.stream().map(r -> Double.parseDouble(r.get("value"))).toList();
            Map<String, String> own = Csv.read(dir.resolve(run + "/certified_accuracy.csv")).records().get(0);
            JsonNode summary = null;
            for (JsonNode r : cm.path("runs")) if (r.path("run").asText().equals(run)) summary = r;
            for (String key : List.of("0.0", "0.25", "0.5", "0.75", "1.0")) {
                double expected = Double.parseDouble(own.get("r=" + key));
                assertThat(rows.stream().filter(r -> Double.parseDouble(r.get("radius")) == Double.parseDouble(key))
                        .map(r -> Double.parseDouble(r.get("value")))).as(run + " at r = " + key).containsExactly(expected);
                assertThat(summary.path("r=" + dev.tikhon.report.Format.number(Double.parseDouble(key))).asDouble())
                        .as(run + " metrics.json at r = " + key).isEqualTo(expected);
            }
            for (int i = 1; i < v.size(); i++) assertThat(v.get(i)).as(run + " is non-increasing").isLessThanOrEqualTo(v.get(i - 1));
        }
        checkPage(out, "Certified accuracy");
        assertThat(Files.readString(out.resolve("index.html"))).contains("<b>probabilistic</b>", "<b>sound</b>", "cohen-0.5 — cohen");
    }

    @Test
    void compareOverlaysAttackRunsByEpsAndFlowRunsByIteration() throws IOException {
        Path fgsm = dir.resolve("attack-fgsm"), flow2 = dir.resolve("flow-2"), out = dir.resolve("compare-attack");
        run("attack", "--checkpoint", dir.resolve("train").toString(), "--attack", "fgsm", "--limit", "8", "--no-min-distance",
                "--no-bounds", "--threads", "1", "--out", fgsm.toString());
        Cli.Run c = Cli.run("compare", dir.resolve("attack").toString(), fgsm.toString(), "--out", out.toString());
        assertThat(c.exitCode()).as(c.err()).isEqualTo(0);
        Csv.Table t = Csv.read(out.resolve("compare.csv"));
        assertThat(t.header()).containsExactly("run", "method", "kind", "eps", "value", "norm", "alpha");
        assertThat(t.records().stream().map(r -> r.get("run") + "/" + r.get("method") + "/" + r.get("eps")))
                .containsExactly("attack/pgd/0.0", "attack/pgd/0.00784314", "attack/pgd/0.0313725",
                        "attack-fgsm/fgsm/0.0", "attack-fgsm/fgsm/0.00784314", "attack-fgsm/fgsm/0.0313725");
        checkPage(out, "Robust accuracy of each run");

        run("flow", "train", "--data", "8gaussians", "--hidden", "16,16", "--iterations", "3", "--batch-size", "64", "--held-out", "100",
                "--seed", "1", "--threads", "1", "--out", flow2.toString());
        Path flows = dir.resolve("compare-flow");
        Cli.Run f = Cli.run("compare", dir.resolve("flow").toString(), flow2.toString(), "--out", flows.toString());
        assertThat(f.exitCode()).as(f.err()).isEqualTo(0);
        Csv.Table ft = Csv.read(flows.resolve("compare.csv"));
        assertThat(ft.header()).containsExactly("run", "method", "kind", "iteration", "value", "norm", "alpha");
        assertThat(ft.rows()).hasSize(4 + 3);
        // seeds 0 and 1: other points of the same generated distribution, compared with a note
        assertThat(f.err()).contains("note:", "was computed on other points of 8gaussians", "seed 1, not 0");
        checkPage(flows, "held-out");
        assertThat(Files.readString(flows.resolve("index.html"))).contains("<th>held-out NLL (nats)</th>");
    }

    /**
     * certify records the data it certified (metrics.json data_set: name, split, examples, a hash of each of the first);
     * compare refuses runs on other data (the training split beside the test split) in one line naming both runs and both
     * data, unless --allow-different-data, and takes the same test images read by two paths, or the full Fashion-MNIST's
     * beside the bundled sample's (whose first test images are the same), for the same data.
     */
    @Test
    void compareRefusesRunsOnOtherDataAndKnowsTheSameData() throws IOException {
        String model = dir.resolve("train").toString(), lipschitz = dir.resolve("lipschitz").toString();
        JsonNode d = new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir.resolve("lipschitz/metrics.json").toFile()).path("data_set");
        assertThat(d.path("name").asText()).isEqualTo("fashion-mnist-sample");
        assertThat(d.path("split").asText()).isEqualTo("test");
        assertThat(d.path("examples").asInt()).isEqualTo(6);
        assertThat(d.path("split_size").asInt()).isEqualTo(1000);
        assertThat(d.path("first")).hasSize(6);
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        JsonNode attacked = json.readTree(dir.resolve("attack/metrics.json").toFile()).path("data_set");
        assertThat(attacked.path("examples").asInt()).as("--limit 8").isEqualTo(8);
        assertThat(attacked.path("first").get(0)).as("the same first test image").isEqualTo(d.path("first").get(0));
        JsonNode flow = json.readTree(dir.resolve("flow/metrics.json").toFile()).path("data_set");
        assertThat(flow.path("name").asText()).isEqualTo("8gaussians");
        assertThat(flow.path("seed").asLong()).isEqualTo(0);
        assertThat(flow.path("examples").asInt()).as("--held-out 100").isEqualTo(100);

        Path onTrain = dir.resolve("lipschitz-train");
        run("certify", "--checkpoint", model, "--method", "lipschitz", "--split", "train", "--images", "6", "--threads", "1",
                "--out", onTrain.toString());
        Cli.Run refused = Cli.run("compare", lipschitz, onTrain.toString(), "--out", dir.resolve("compare-splits").toString());
        assertThat(refused.exitCode()).isEqualTo(2);
        assertThat(refused.err().strip()).doesNotContain("\n").startsWith("tikhon: error: ")
                .contains(lipschitz, onTrain.toString(), "fashion-mnist-sample (test split)", "fashion-mnist-sample (train split)",
                        "--allow-different-data");
        assertThat(dir.resolve("compare-splits")).doesNotExist();
        Cli.Run allowed = Cli.run("compare", lipschitz, onTrain.toString(), "--allow-different-data", "--out",
                dir.resolve("compare-splits").toString());
        assertThat(allowed.exitCode()).as(allowed.err()).isEqualTo(0);
        assertThat(allowed.err()).contains("note:   --allow-different-data: ");
        checkPage(dir.resolve("compare-splits"), "Certified accuracy");
        assertThat(Files.readString(dir.resolve("compare-splits/index.html"))).as("the note in the headline")
                .contains("Note on the data: --allow-different-data: ");

        Path full = Path.of("/usr/share/datasets/fashion-mnist");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(full.resolve("t10k-images-idx3-ubyte.gz")), "no " + full);
        Path copy = dir.resolve("fashion-copy");   // the same files by another path
        Files.createDirectories(copy);
        for (String f : List.of("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")) Files.createSymbolicLink(copy.resolve(f), full.resolve(f));
        for (Path dataDir : List.of(full, copy)) {
            run("certify", "--checkpoint", model, "--data", "fashion-mnist", "--data-dir", dataDir.toString(), "--method", "lipschitz",
                    "--images", "6", "--threads", "1", "--out", dir.resolve("lipschitz-" + dataDir.getFileName()).toString());
        }
        Cli.Run same = Cli.run("compare", lipschitz, dir.resolve("lipschitz-fashion-mnist").toString(),
                dir.resolve("lipschitz-fashion-copy").toString(), "--out", dir.resolve("compare-same").toString());
        assertThat(same.exitCode()).as(same.err()).isEqualTo(0);
        assertThat(same.err()).doesNotContain("note:");
    }

    @Test
    void compareRefusesWhatItCannotOverlay() {
        String cohen = dir.resolve("cohen").toString();
        for (String[] args : new String[][]{
                {"compare", cohen, dir.resolve("missing").toString()},
                {"compare", cohen, dir.resolve("attack").toString()},
                {"compare", cohen, dir.resolve("train").toString()},
                {"compare", cohen}}) {
            Cli.Run r = Cli.run(args);
            assertThat(r.exitCode()).as(String.join(" ", args)).isEqualTo(2);
            assertThat(r.err().strip()).doesNotContain("\n").startsWith("tikhon: error: ");
        }
        assertThat(Cli.run("compare", cohen, dir.resolve("attack").toString()).err())
                .contains("is an attack run but").contains("is a certify run");
    }
}
