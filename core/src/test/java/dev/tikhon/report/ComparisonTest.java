package dev.tikhon.report;

import dev.tikhon.UserError;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tikhon.certify.Certificate;
import dev.tikhon.certify.CertificationRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * compare's certified accuracy at the radii it names is the step function's exact value there (images certified correct
 * with radius ≥ r), equal to what certify itself writes, also where a named radius falls between two points of the plotted
 * grid; compare.csv holds the named radii, the norm and α.
 */
class ComparisonTest {
    @TempDir
    Path dir;

    /**
     * Radii chosen against the grid: the largest, 2.6, makes the grid 0 … 2.75 in steps of 0.0275, so 0.75 and 1 fall
     * between grid points (0.7425 | 0.77, 0.99 | 1.0175); 0.7499 and 0.995 lie in those gaps, where reading the grid
     * point below gives a value too high; 0.75 and 1.0 sit exactly on named radii (counted: radius ≥ r).
     */
    private static final double[] SOUND_RADII = {0.3, 0.75, 0.7499, 1.0, 0.995, 2.6, 0.51, 0.9 /* wrong */, 0.2};
    private static final boolean[] SOUND_RIGHT = {true, true, true, true, true, true, true, false, true};

    @Test
    void namedRadiiAreExactAndMatchCertify() throws Exception {
        CertificationRun.Result sound = result("crown", SOUND_RADII, SOUND_RIGHT, Certificate.Kind.SOUND, 0);
        double[] cohenRadii = {0.4, 0.0, 0.25, 0.7, 0.24999};
        boolean[] cohenRight = {true, false /* abstains */, true, true, true};
        CertificationRun.Result prob = result("cohen", cohenRadii, cohenRight, Certificate.Kind.PROBABILISTIC, 0.001);
        Path s = certifyRun("s", sound), p = certifyRun("p", prob);

        Comparison c = Comparison.read(List.of(s, p));
        assertThat(c.namedRadii()).containsExactly(0, 0.25, 0.5, 0.75, 1.0);
        Path out = dir.resolve("cmp");
        c.write(RunDirectory.create(out), new LinkedHashMap<>(Map.of("command", "compare")));

        JsonNode m = Json.readTree(out.resolve("metrics.json"));
        assertThat(m.path("norm").asText()).isEqualTo("l2");
        JsonNode crown = m.path("runs").get(0), cohen = m.path("runs").get(1);
        // by hand: 9 images, 8 right; ≥ 0.75: 0.75, 1.0, 0.995, 2.6; ≥ 1: 1.0, 2.6
        double[] expected = {8 / 9.0, 7 / 9.0, 6 / 9.0, 4 / 9.0, 2 / 9.0};
        double[] expectedCohen = {4 / 5.0, 3 / 5.0, 1 / 5.0, 0, 0};   // 0.25 exactly counts, 0.24999 not
        double[] at = {0, 0.25, 0.5, 0.75, 1.0};
        String[] keys = {"r=0", "r=0.25", "r=0.5", "r=0.75", "r=1"};
        for (int k = 0; k < at.length; k++) {
            assertThat(crown.path(keys[k]).asDouble()).as("crown " + keys[k]).isEqualTo(expected[k]);
            assertThat(crown.path(keys[k]).asDouble()).as("as certify counts it").isEqualTo(sound.certifiedAccuracy("crown", at[k]));
            assertThat(cohen.path(keys[k]).asDouble()).as("cohen " + keys[k]).isEqualTo(expectedCohen[k]);
            assertThat(cohen.path(keys[k]).asDouble()).isEqualTo(prob.certifiedAccuracy("cohen", at[k]));
        }
        assertThat(crown.path("kind").asText()).isEqualTo("sound");
        assertThat(crown.path("alpha").isNull()).isTrue();
        assertThat(cohen.path("kind").asText()).isEqualTo("probabilistic");
        assertThat(cohen.path("alpha").asDouble()).isEqualTo(0.001);

        Csv.Table t = Csv.read(out.resolve("compare.csv"));
        assertThat(t.header()).containsExactly("run", "method", "kind", "radius", "value", "norm", "alpha");
        List<Map<String, String>> crownRows = t.records().stream().filter(r -> r.get("run").equals("s")).toList();
        for (int k = 0; k < at.length; k++) {
            double a = at[k];
            Map<String, String> row = crownRows.stream().filter(r -> Double.parseDouble(r.get("radius")) == a).findFirst().orElseThrow();
            assertThat(Double.parseDouble(row.get("value"))).as("compare.csv at " + a).isEqualTo(expected[k]);
        }
        // every grid point as certify counts it; the grid is 101 points to 2.75 plus the named radii not on it
        for (Map<String, String> row : crownRows) {
            double r = Double.parseDouble(row.get("radius"));
            assertThat(Double.parseDouble(row.get("value"))).as("at " + r).isEqualTo(sound.certifiedAccuracy("crown", r));
            assertThat(row.get("norm")).isEqualTo("l2");
            assertThat(row.get("alpha")).isEmpty();
            assertThat(row.get("kind")).isEqualTo("sound");
        }
        assertThat(crownRows).as("0 is a grid point; 0.25, 0.5, 0.75 and 1 are not (2.75·p/100)").hasSize(101 + 4);
        assertThat(crownRows.stream().mapToDouble(r -> Double.parseDouble(r.get("radius"))).max().orElseThrow()).isCloseTo(2.75, within(1e-12));
        assertThat(t.records().stream().filter(r -> r.get("run").equals("p")).map(r -> r.get("alpha")).distinct()).containsExactly("0.001");

        String page = Files.readString(out.resolve("index.html"));
        assertThat(page).contains("<th>alpha</th>", "radius r or more");
    }

    /**
     * A heuristic certificate (heat's single-pass radii) compared beside a probabilistic one: its table row, legend and
     * page say it is not certified, as certify's own outputs do, rather than standing under "certified accuracy" alone.
     */
    @Test
    void heuristicRowsAreSaidNotToBeCertified() throws Exception {
        double[] radii = {0.4, 0.3, 0.1};
        boolean[] right = {true, true, false};
        Path h = certifyRun("h", result("heat-lipschitz", radii, right, Certificate.Kind.HEURISTIC, 0));
        Path p = certifyRun("p", result("cohen", radii, right, Certificate.Kind.PROBABILISTIC, 0.001));
        Comparison c = Comparison.read(List.of(h, p));
        Path out = dir.resolve("cmp-h");
        c.write(RunDirectory.create(out), new LinkedHashMap<>(Map.of("command", "compare")));

        JsonNode m = Json.readTree(out.resolve("metrics.json"));
        assertThat(m.path("runs").get(0).path("kind").asText()).isEqualTo("heuristic");
        assertThat(m.path("runs").get(0).path("r=0.25").asDouble()).isEqualTo(2 / 3.0);
        assertThat(m.path("heuristic_rows").asText()).contains("not certified");
        Comparison.Curve heuristic = c.curves().stream().filter(k -> k.kind().equals("heuristic")).findFirst().orElseThrow();
        Comparison.Curve probabilistic = c.curves().stream().filter(k -> k.kind().equals("probabilistic")).findFirst().orElseThrow();
        assertThat(Comparison.label(heuristic)).endsWith("heuristic (not certified)");
        assertThat(Comparison.label(probabilistic)).endsWith("probabilistic (α 0.001)").doesNotContain("not certified");
        String page = Files.readString(out.resolve("index.html"));
        assertThat(page).contains("Rows of kind heuristic give the accuracy at a heuristic radius ≥ r, not certified");

        // runs without a heuristic certificate say nothing of the kind
        Path out2 = dir.resolve("cmp-p");
        Path p2 = certifyRun("p2", result("cohen", new double[]{0.2, 0.1, 0.5}, right, Certificate.Kind.PROBABILISTIC, 0.001));
        Comparison.read(List.of(p, p2)).write(RunDirectory.create(out2), new LinkedHashMap<>(Map.of("command", "compare")));
        assertThat(Json.readTree(out2.resolve("metrics.json")).has("heuristic_rows")).isFalse();
    }

    /** A run with only certified_accuracy.csv (no per-image file): its own values at its radii, nothing made up elsewhere. */
    @Test
    void aSummaryOnlyRunGivesItsOwnValuesAndNoneBetween() throws Exception {
        Path s = certifyRun("s", result("crown", SOUND_RADII, SOUND_RIGHT, Certificate.Kind.SOUND, 0));
        Path q = dir.resolve("q");
        Files.createDirectories(q);
        Json.write(q.resolve("metrics.json"), Map.of("command", "certify", "model", "m",
                "result", Map.of("method", "ibp", "images", 4, "certificates", Map.of("ibp", Map.of("kind", "sound",
                        "certified_accuracy", Map.of("0.0", 0.75, "0.5", 0.25))))));
        Csv.write(q.resolve("certified_accuracy.csv"), List.of("certificate", "kind", "r=0.0", "r=0.5"), List.of(List.of("ibp", "sound", 0.75, 0.25)));
        Comparison c = Comparison.read(List.of(s, q));
        assertThat(c.namedRadii()).containsExactly(0, 0.25, 0.5, 0.75, 1.0);
        Comparison.Curve ibp = c.curves().stream().filter(k -> k.run().equals("q")).findFirst().orElseThrow();
        assertThat(ibp.certifiedAccuracyAt(0)).isEqualTo(0.75);
        assertThat(ibp.certifiedAccuracyAt(0.5)).isEqualTo(0.25);
        assertThat(ibp.certifiedAccuracyAt(0.25)).as("not in its table: unknown, not the value at 0").isNaN();
        assertThat(ibp.certifiedAccuracyAt(1)).isNaN();
    }

    /** ℓ∞ runs: named radii 1/255 … 8/255, exact there, and a grid drawn to the radii they reach, not to an ℓ2-sized 0.25. */
    @Test
    void linfRunsAreComparedOnTheirOwnRadiiAndScale() throws Exception {
        double[] radii = {0.5 / 255, 1 / 255.0, 3 / 255.0, 8 / 255.0, 0.05};
        boolean[] right = {true, true, true, true, true};
        CertificationRun.Result base = result("lipschitz", radii, right, Certificate.Kind.SOUND, 0);
        CertificationRun.Result linf = new CertificationRun.Result(base.method(), base.images(), base.certificateNames(), Double.NaN, 0,
                Double.NaN, List.of(), Map.of("norm", "linf"));
        Path a = certifyRun("a", linf), b = certifyRun("b", linf);
        Comparison c = Comparison.read(List.of(a, b));
        assertThat(c.namedRadii()).containsExactly(CertificationRun.RADII_LINF);
        Path out = dir.resolve("cmp-linf");
        c.write(RunDirectory.create(out), new LinkedHashMap<>(Map.of("command", "compare")));
        Csv.Table t = Csv.read(out.resolve("compare.csv"));
        double top = t.records().stream().mapToDouble(r -> Double.parseDouble(r.get("radius"))).max().orElseThrow();
        assertThat(top).as("0.05 rounded up to a multiple of 2/255").isCloseTo(7 * 2 / 255.0, within(1e-12));
        JsonNode run = Json.readTree(out.resolve("metrics.json")).path("runs").get(0);
        assertThat(Json.readTree(out.resolve("metrics.json")).path("norm").asText()).isEqualTo("linf");
        assertThat(run.path("r=0.003922").asDouble()).isEqualTo(4 / 5.0);   // 1/255 itself counts
        assertThat(run.path("r=0.03137").asDouble()).isEqualTo(2 / 5.0);
    }

    private static CertificationRun.Result result(String name, double[] radii, boolean[] right, Certificate.Kind kind, double alpha) {
        List<CertificationRun.Image> images = new ArrayList<>();
        for (int i = 0; i < radii.length; i++) {
            int label = i % 3;
            int prediction = right[i] ? label : kind == Certificate.Kind.PROBABILISTIC ? Certificate.ABSTAIN : label + 1;
            Certificate cert = prediction == Certificate.ABSTAIN ? Certificate.abstain(kind, alpha, name)
                    : new Certificate(prediction, radii[i], kind, alpha, name);
            images.add(new CertificationRun.Image(i, label, prediction, Map.of(name, cert), 0.001, 0.001, -1));
        }
        return new CertificationRun.Result(name, images, List.of(name), Double.NaN, 0, Double.NaN);
    }

    // ---------------------------------------------------------------- the runs' data

    private static final double[] RADII = {0.3, 0.6, 0.1};
    private static final boolean[] RIGHT = {true, true, false};

    /** What certify records of its data (DataIdentity.toMap), with the description it writes beside it. */
    private static Map<String, Object> data(String name, String split, int examples, int splitSize, Long seed, List<String> first,
                                            String description) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("name", name);
        d.put("split", split);
        d.put("examples", examples);
        d.put("split_size", splitSize);
        d.put("shape", name.contains("mnist") ? List.of(1, 28, 28) : List.of(2));
        d.put("classes", name.contains("mnist") ? 10 : 2);
        if (seed != null) d.put("seed", seed);
        d.put("first", first);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("data", description);
        m.put("split", split);
        m.put("data_set", d);
        return m;
    }

    private static final List<String> FASHION = List.of("1a2b3c4d", "5e6f7a8b", "9c0d1e2f");
    private static final String FASHION_A = "Fashion-MNIST from /data/a (60000 train / 10000 test) [test]";

    private Path on(String folder, Map<String, Object> data) throws Exception {
        return certifyRun(folder, result("crown", RADII, RIGHT, Certificate.Kind.SOUND, 0), data);
    }

    private static String refusal(List<Path> runs) {
        return org.assertj.core.api.Assertions.catchThrowableOfType(() -> Comparison.read(runs), dev.tikhon.UserError.class).getMessage();
    }

    /** Runs on other data sets, other splits, or other examples under one name are refused, naming both runs and both data. */
    @Test
    void runsOnOtherDataAreRefusedUnlessAllowed() throws Exception {
        Path fashion = on("fashion", data("fashion-mnist", "test", 3, 10000, null, FASHION, FASHION_A));
        Path moons = on("moons", data("moons", "test", 3, 5000, 0L, List.of("00000001", "00000002", "00000003"),
                "toy set moons: 20000 train / 5000 test points generated from seed 0 [test]"));
        String e = refusal(List.of(fashion, moons));
        assertThat(e).doesNotContain("\n").contains(fashion.toString(), moons.toString(), "fashion-mnist (test split)",
                "moons (test split, seed 0)", "--allow-different-data");

        Path train = on("train", data("fashion-mnist", "train", 3, 60000, null, List.of("aaaaaaaa", "bbbbbbbb", "cccccccc"),
                FASHION_A.replace("[test]", "[train]")));
        assertThat(refusal(List.of(fashion, train))).contains("fashion-mnist (test split)", "fashion-mnist (train split)");

        // one name, other examples: a data directory holding other files
        Path other = on("other", data("fashion-mnist", "test", 3, 10000, null, List.of("deadbeef", "5e6f7a8b", "9c0d1e2f"),
                "Fashion-MNIST from /data/b (60000 train / 10000 test) [test]"));
        assertThat(refusal(List.of(fashion, other))).contains("/data/a", "/data/b", "first examples differ");

        // allowed: compared, and the difference noted in metrics.json
        Comparison c = Comparison.read(List.of(fashion, moons), true);
        assertThat(c.dataNotes()).hasSize(1);
        assertThat(c.dataNotes().get(0)).startsWith("--allow-different-data: ").contains("moons");
        Path out = dir.resolve("cmp-allowed");
        c.write(RunDirectory.create(out), new LinkedHashMap<>(Map.of("command", "compare")));
        JsonNode m = Json.readTree(out.resolve("metrics.json"));
        assertThat(m.path("data_notes").get(0).asText()).contains("--allow-different-data");
        assertThat(m.path("runs").get(1).path("data").asText()).isEqualTo("moons (test split, seed 0)");
    }

    /**
     * The same examples read from another folder (or from the bundled sample, whose first test images are the full set's)
     * are the same data; other samples of a generated set (another seed) and other numbers of examples are notes.
     */
    @Test
    void theSameExamplesFromAnotherPathAndOtherSeedsAreCompared() throws Exception {
        Path a = on("a", data("fashion-mnist", "test", 3, 10000, null, FASHION, FASHION_A));
        Path b = on("b", data("fashion-mnist", "test", 3, 10000, null, FASHION, FASHION_A.replace("/data/a", "/mnt/copy")));
        assertThat(Comparison.read(List.of(a, b)).dataNotes()).isEmpty();

        Path sample = on("sample", data("fashion-mnist-sample", "test", 2, 1000, null, FASHION.subList(0, 2),
                "Fashion-MNIST SAMPLE bundled with Tikhon (6000 train / 1000 test) [test]"));
        List<String> notes = Comparison.read(List.of(a, sample)).dataNotes();
        assertThat(notes).singleElement().asString().contains(sample + " used 2 test examples (its test split holds 1000, a's 10000), "
                + a + " 3", "different numbers of examples");

        Path m0 = on("m0", data("moons", "test", 3, 5000, 0L, List.of("00000001", "00000002", "00000003"), "toy set moons [test]"));
        Path m5 = on("m5", data("moons", "test", 3, 5000, 5L, List.of("10000001", "10000002", "10000003"), "toy set moons [test]"));
        assertThat(Comparison.read(List.of(m0, m5)).dataNotes()).singleElement().asString()
                .contains(m5 + " was computed on other points of moons", "seed 5, not 0", "same generated distribution");
        // a folder's held-out split drawn with another seed: other images of the folder, noted
        Path f0 = on("f0", data("folder", "test", 3, 40, 0L, List.of("01", "02", "03"), "image folder /pics: ..."));
        Path f1 = on("f1", data("folder", "test", 3, 40, 1L, List.of("11", "12", "13"), "image folder /pics: ..."));
        assertThat(Comparison.read(List.of(f0, f1)).dataNotes()).singleElement().asString().contains("held-out split", "seed 1");
    }

    /**
     * Runs written before data_set: compared by the data set their description names (another is still refused), with a
     * note that their examples could not be checked.
     */
    @Test
    void runsWithoutAFingerprintFallBackToTheirDescription() throws Exception {
        Map<String, Object> oldFashion = new LinkedHashMap<>(Map.of("data", FASHION_A, "split", "test"));
        Path old = on("old", oldFashion);
        Path fresh = on("fresh", data("fashion-mnist", "test", 3, 10000, null, FASHION, FASHION_A.replace("/data/a", "/elsewhere")));
        List<String> notes = Comparison.read(List.of(fresh, old)).dataNotes();
        assertThat(notes).singleElement().asString().contains(old + " records no fingerprint of its data", FASHION_A);

        Path oldMoons = on("old-moons", new LinkedHashMap<>(Map.of("data", "toy set moons: 20000 train / 5000 test points generated "
                + "from seed 3 [test], first 8")));
        assertThat(refusal(List.of(fresh, oldMoons))).contains("moons (test split, seed 3)", "fashion-mnist (test split)");
        Path oldMoons4 = on("old-moons-4", new LinkedHashMap<>(Map.of("data", "toy set moons: 20000 train / 5000 test points generated "
                + "from seed 4 [test]")));
        assertThat(Comparison.read(List.of(oldMoons, oldMoons4)).dataNotes()).hasSize(3).anySatisfy(n -> assertThat(n).contains("seed 4, not 3"));
        // nothing recorded at all: compared, with a note
        Path bare = certifyRun("bare", result("crown", RADII, RIGHT, Certificate.Kind.SOUND, 0));
        assertThat(Comparison.read(List.of(fresh, bare)).dataNotes()).singleElement().asString().contains("could not be told apart");
    }

    /** DataCheck's own list of generated sets (report does not read the data package) is the data package's. */
    @Test
    void everyToySetIsSeeded() {
        for (String toy : dev.tikhon.data.ToyData.NAMES) assertThat(DataCheck.seeded(toy)).as(toy).isTrue();
        assertThat(DataCheck.seeded("fashion-mnist")).isFalse();
    }

    /** Flow runs written before data_set: their data set and seed are read from their config. */
    @Test
    void flowRunsWithoutAFingerprintAreJudgedByTheirConfig() throws Exception {
        Path g0 = flowRun("g0", "8gaussians", 0), g2 = flowRun("g2", "8gaussians", 2), moons = flowRun("moons", "moons", 0);
        assertThat(refusal(List.of(g0, moons))).contains("8gaussians (seed 0)", "moons (seed 0)");
        assertThat(Comparison.read(List.of(g0, g2)).dataNotes()).hasSize(3).anySatisfy(n -> assertThat(n).contains("seed 2, not 0"));
    }

    /**
     * A cut-short or hand-edited history.csv, certify.csv or certified_accuracy.csv is refused, naming the file, the record
     * and the fix, where the comparison used to drop the record (a curve with a point missing) or stop on a null.
     */
    @Test
    void cutShortOrEditedFilesAreRefusedNotReadInPart() throws Exception {
        Path flow = flowRun("f", "8gaussians", 0), other = flowRun("g", "8gaussians", 1);
        Files.writeString(flow.resolve("history.csv"), "iteration,nll\n1,3.0\n2\n3,2.4\n");
        assertThatThrownBy(() -> Comparison.read(List.of(flow, other))).isInstanceOf(UserError.class)
                .hasMessageContaining(flow.resolve("history.csv").toString()).hasMessageContaining("record 2 after the header has 1 field")
                .hasMessageContaining("cut short or edited").hasMessageContaining("rerun or resume the flow training");
        Files.writeString(flow.resolve("history.csv"), "iteration,nll\n1,3.0\n2,about 2.5\n");
        assertThatThrownBy(() -> Comparison.read(List.of(flow, other))).isInstanceOf(UserError.class)
                .hasMessageContaining("'about 2.5' in column nll, not a number");
        Files.writeString(flow.resolve("history.csv"), "iteration,loss\n1,3.0\n");
        assertThatThrownBy(() -> Comparison.read(List.of(flow, other))).isInstanceOf(UserError.class)
                .hasMessageContaining("neither a bits_per_dim nor an nll column");
        Files.writeString(flow.resolve("history.csv"), "iteration,nll\n1,3.0\n2,\n");   // a value not measured: NaN, read
        assertThat(Comparison.read(List.of(flow, other)).curves()).hasSize(2);

        Path s = certifyRun("s", result("crown", SOUND_RADII, SOUND_RIGHT, Certificate.Kind.SOUND, 0)),
                t = certifyRun("t", result("crown", SOUND_RADII, SOUND_RIGHT, Certificate.Kind.SOUND, 0));
        Path csv = s.resolve("certify.csv");
        List<String> lines = Files.readAllLines(csv);
        String last = lines.get(lines.size() - 1);
        lines.set(lines.size() - 1, last.substring(0, last.lastIndexOf(',')));   // the last record cut short
        Files.write(csv, lines);
        assertThatThrownBy(() -> Comparison.read(List.of(s, t))).isInstanceOf(UserError.class)
                .hasMessageContaining(csv.toString()).hasMessageContaining("record " + (lines.size() - 1) + " after the header")
                .hasMessageContaining("rerun the certification");
        Files.writeString(csv, "");
        assertThatThrownBy(() -> Comparison.read(List.of(s, t))).isInstanceOf(UserError.class).hasMessageContaining("is empty (no header)");
    }

    private Path flowRun(String folder, String data, long seed) throws Exception {
        Path d = dir.resolve(folder);
        Files.createDirectories(d);
        Csv.write(d.resolve("history.csv"), List.of("iteration", "nll"), List.of(List.of(1, 3.0), List.of(2, 2.5)));
        Json.write(d.resolve("metrics.json"), Map.of("command", "flow train", "config", Map.of("method", "cnf", "data", data,
                "training", Map.of("seed", seed)), "held_out", Map.of("nll", 2.4, "unit", "nats")));
        return d;
    }

    /** A certify run folder as certify writes it: certify.csv and metrics.json (result = the summary). */
    private Path certifyRun(String folder, CertificationRun.Result r) throws Exception {
        return certifyRun(folder, r, Map.of());
    }

    /** The same, with {@code more} entries in metrics.json (its data). */
    private Path certifyRun(String folder, CertificationRun.Result r, Map<String, Object> more) throws Exception {
        Path d = dir.resolve(folder);
        Files.createDirectories(d);
        r.writeCsv(d.resolve("certify.csv"));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", "certify");
        m.put("model", "synthetic");
        Map<String, Object> result = new LinkedHashMap<>(r.summary());
        result.put("norm", r.norm());
        m.put("result", result);
        m.putAll(more);
        Json.write(d.resolve("metrics.json"), m);
        return d;
    }
}
