package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code tikhon vnnlib}: the result file in VNN-COMP's format, the run folder, and one-line errors for bad input. */
class CliVnnlibTest {
    static final String MLP = "src/test/resources/onnx/mlp.onnx";   // [1, 8, 8] → 5 logits behind a Softmax the import drops

    /** 64 inputs in [lo, hi] each, 5 outputs, and the unsafe set given. */
    static String property(double lo, double hi, String unsafe) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 64; i++) s.append("(declare-const X_").append(i).append(" Real)\n");
        for (int j = 0; j < 5; j++) s.append("(declare-const Y_").append(j).append(" Real)\n");
        for (int i = 0; i < 64; i++) s.append("(assert (>= X_").append(i).append(' ').append(lo).append(")) (assert (<= X_").append(i).append(' ').append(hi).append("))\n");
        return s.append("(assert ").append(unsafe).append(")\n").toString();
    }

    static Path write(Path dir, String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    @Test
    void unsatAndSatWriteTheResultFileAndMetrics(@TempDir Path dir) throws Exception {
        // the fixture scores class 0 highest around its test input; over a tiny box nothing beats it (unsat) …
        Path unsat = write(dir, "unsat.vnnlib", property(0.49, 0.5, "(or (and (>= Y_1 Y_0)) (and (>= Y_2 Y_0)) (and (>= Y_3 Y_0)) (and (>= Y_4 Y_0)))"));
        Cli.Run a = Cli.run("vnnlib", "--onnx", MLP, "--property", unsat.toString(), "--method", "ibp,crown", "--result", dir.resolve("a.txt").toString(),
                "--out", dir.resolve("a").toString());
        assertThat(a.exitCode()).as(a.err()).isZero();
        assertThat(a.out()).contains("result: unsat").containsPattern("ibp          (refuted \\d/4 cases given|not run)");
        assertThat(Files.readString(dir.resolve("a.txt"))).isEqualTo("unsat\n");
        JsonNode m = new ObjectMapper().readTree(dir.resolve("a/metrics.json").toFile());
        assertThat(m.get("result").asText()).isEqualTo("unsat");
        assertThat(m.get("certificate_kind").asText()).isEqualTo("sound");
        assertThat(m.get("cases")).hasSize(4);
        // a cascade: crown is given what ibp left; the case is refuted by the one atom it has, by one of them
        JsonNode first = m.get("cases").get(0).get("by_method");
        JsonNode by = first.has("crown") ? first.get("crown") : first.get("ibp");
        assertThat(by.get("refuted_by").asText()).isEqualTo("(>= Y_1 Y_0)");
        assertThat(m.get("per_method").get("ibp").get("given").asInt()).isEqualTo(4);
        assertThat(m.get("per_method").get("ibp").get("refuted").asInt() + m.get("per_method").get("crown").get("refuted").asInt()).isEqualTo(4);
        assertThat(m.get("per_method").get("crown").get("given").asInt()).isEqualTo(4 - m.get("per_method").get("ibp").get("refuted").asInt());
        assertThat(m.get("cases_refuted").asInt()).isEqualTo(4);
        assertThat(dir.resolve("a/index.html")).exists();
        // … and class 0 beats class 4 at every point of it: "Y_0 >= Y_4" is satisfiable, at the centre already (sat)
        Path sat = write(dir, "sat.vnnlib", property(0.49, 0.5, "(>= Y_0 Y_4)"));
        Cli.Run b = Cli.run("vnnlib", "--onnx", MLP, "--property", sat.toString(), "--result", dir.resolve("b.txt").toString(), "--out", dir.resolve("b").toString());
        assertThat(b.exitCode()).as(b.err()).isZero();
        assertThat(b.out()).contains("result: sat");
        List<String> lines = Files.readAllLines(dir.resolve("b.txt"));
        assertThat(lines).hasSize(1 + 64 + 5);
        assertThat(lines.get(0)).isEqualTo("sat");
        assertThat(lines.get(1)).matches("\\(\\(X_0 [-0-9.eE]+\\)");
        assertThat(lines.get(64)).matches(" \\(X_63 [-0-9.eE]+\\)");
        assertThat(lines.get(65)).matches(" \\(Y_0 [-0-9.eE]+\\)");
        assertThat(lines.get(69)).matches(" \\(Y_4 [-0-9.eE]+\\)\\)");
        for (int i = 1; i <= 64; i++) {
            double v = Double.parseDouble(lines.get(i).replaceAll(".* ([^ )]+)\\)+$", "$1"));
            assertThat(v).isBetween(0.49, 0.5);
        }
        double y0 = Double.parseDouble(lines.get(65).replaceAll(".* ([^ )]+)\\)+$", "$1"));
        double y4 = Double.parseDouble(lines.get(69).replaceAll(".* ([^ )]+)\\)+$", "$1"));
        assertThat(y0).isGreaterThanOrEqualTo(y4);
        // Y as the ONNX file computes it, behind its Softmax: probabilities summing to 1
        double sum = 0;
        for (int j = 65; j <= 69; j++) sum += Double.parseDouble(lines.get(j).replaceAll(".* ([^ )]+)\\)+$", "$1"));
        assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
    }

    @Test
    void aTimeoutWritesTimeoutAndWhatWasRefuted(@TempDir Path dir) throws Exception {
        // a box wide enough that nothing is decided at once: a nanosecond's limit stops the check before its first bound
        Path prop = write(dir, "wide.vnnlib", property(0.3, 0.7, "(or (and (>= Y_1 Y_0)) (and (>= Y_2 Y_0)))"));
        Cli.Run t = Cli.run("vnnlib", "--onnx", MLP, "--property", prop.toString(), "--method", "ibp,crown,alpha-crown,bab", "--timeout", "1e-9",
                "--result", dir.resolve("t.txt").toString(), "--out", dir.resolve("t").toString());
        assertThat(t.exitCode()).as(t.err()).isZero();
        assertThat(t.out()).contains("result: timeout");
        assertThat(Files.readAllLines(dir.resolve("t.txt")).get(0)).isEqualTo("timeout");
        JsonNode m = new ObjectMapper().readTree(dir.resolve("t/metrics.json").toFile());
        assertThat(m.get("result").asText()).isEqualTo("timeout");
        assertThat(m.get("timeout_seconds").asDouble()).isEqualTo(1e-9);
        assertThat(m.get("cases_refuted").asInt()).isZero();
        // a generous limit: the result without one
        Cli.Run none = Cli.run("vnnlib", "--onnx", MLP, "--property", prop.toString(), "--method", "ibp,crown", "--out", dir.resolve("n").toString());
        Cli.Run big = Cli.run("vnnlib", "--onnx", MLP, "--property", prop.toString(), "--method", "ibp,crown", "--timeout", "1000", "--out", dir.resolve("b").toString());
        String word = new ObjectMapper().readTree(dir.resolve("n/metrics.json").toFile()).get("result").asText();
        assertThat(word).isNotEqualTo("timeout");
        assertThat(new ObjectMapper().readTree(dir.resolve("b/metrics.json").toFile()).get("result").asText()).isEqualTo(word);
        assertThat(none.exitCode() + big.exitCode()).isZero();
        // a bab budget without bab: noted, as verify does
        Cli.Run unread = Cli.run("vnnlib", "--onnx", MLP, "--property", prop.toString(), "--method", "crown", "--bab-domains", "8",
                "--out", dir.resolve("u").toString());
        assertThat(unread.exitCode()).isZero();
        assertThat(unread.err()).contains("--bab-domains");

        // bab through the command line: its budget in metrics, and no case refuted by crown left unrefuted
        Cli.Run bab = Cli.run("vnnlib", "--onnx", MLP, "--property", prop.toString(), "--method", "crown,bab", "--bab-domains", "8", "--no-cascade",
                "--attack-steps", "0", "--out", dir.resolve("bab").toString());
        assertThat(bab.exitCode()).as(bab.err()).isZero();
        JsonNode bm = new ObjectMapper().readTree(dir.resolve("bab/metrics.json").toFile());
        assertThat(bm.get("bab_domains").asInt()).isEqualTo(8);
        assertThat(bm.get("cascade").asBoolean()).isFalse();
        assertThat(bm.get("per_method").get("bab").get("given").asInt()).isEqualTo(2);
        assertThat(bm.get("per_method").get("bab").get("refuted").asInt()).isGreaterThanOrEqualTo(bm.get("per_method").get("crown").get("refuted").asInt());
        Cli.Run zero = Cli.run("vnnlib", "--onnx", MLP, "--property", prop.toString(), "--method", "bab", "--bab-domains", "0", "--out", dir.resolve("z").toString());
        assertThat(zero.err().strip()).doesNotContain("\n").contains("--bab-domains must be ≥ 1");

        Cli.Run bad = Cli.run("vnnlib", "--onnx", MLP, "--property", prop.toString(), "--timeout", "-1", "--out", dir.resolve("x").toString());
        assertThat(bad.exitCode()).isNotZero();
        assertThat(bad.err().strip()).doesNotContain("\n").contains("--timeout must be > 0");
    }

    @Test
    void badInputIsOneLineNamingTheProblem(@TempDir Path dir) throws Exception {
        Cli.Run missing = Cli.run("vnnlib", "--onnx", MLP, "--property", dir.resolve("nope.vnnlib").toString(), "--out", dir.resolve("r1").toString());
        assertThat(missing.exitCode()).isNotZero();
        assertThat(missing.err().strip()).doesNotContain("\n").contains("no such property file").contains("nope.vnnlib");

        Cli.Run noNet = Cli.run("vnnlib", "--onnx", dir.resolve("nope.onnx").toString(), "--property", "x.vnnlib", "--out", dir.resolve("r0").toString());
        assertThat(noNet.err().strip()).doesNotContain("\n").contains("no such ONNX file");

        Path malformed = write(dir, "bad.vnnlib", "(declare-const X_0 Real)\n(assert (>= X_0 0)\n");
        Cli.Run m = Cli.run("vnnlib", "--onnx", MLP, "--property", malformed.toString(), "--out", dir.resolve("r2").toString());
        assertThat(m.exitCode()).isNotZero();
        assertThat(m.err().strip()).doesNotContain("\n").contains("bad.vnnlib:2:1").contains("never closed");

        Path two = write(dir, "two.vnnlib", "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)\n"
                + "(assert (>= X_0 0))(assert (<= X_0 1))(assert (>= X_1 0))(assert (<= X_1 1))(assert (>= Y_0 0))\n");
        Cli.Run c = Cli.run("vnnlib", "--onnx", MLP, "--property", two.toString(), "--out", dir.resolve("r3").toString());
        assertThat(c.exitCode()).isNotZero();
        assertThat(c.err().strip()).doesNotContain("\n").contains("declares 2 inputs").contains("takes 64");

        // the import drops the fixture's Softmax: a threshold on an output would be read of the logits, so it is refused
        Path threshold = write(dir, "threshold.vnnlib", property(0, 1, "(>= Y_0 0.5)"));
        Cli.Run t = Cli.run("vnnlib", "--onnx", MLP, "--property", threshold.toString(), "--out", dir.resolve("r4").toString());
        assertThat(t.exitCode()).isNotZero();
        assertThat(t.err().strip()).doesNotContain("\n").contains("(>= Y_0 0.5)").contains("Softmax");
        assertThat(dir.resolve("r4")).doesNotExist();
    }
    /**
     * A network of 2 inputs: the methods default to crown,bab-input (with a note). Y = (X_0, −X_0, 0) on [−1, 1]² makes
     * "Y_0 − Y_1 ≤ −0.5 and Y_1 − Y_0 ≤ −0.5" impossible though neither atom is refuted on the whole box: crown leaves it,
     * bab-input refutes each half of the box by one atom. A false property is sat, the counterexample in the box, found by
     * bab-input's points, and through ReLUs by bab's domains' lowest points.
     */
    @Test
    void inputSplittingIsTheDefaultForFewInputs(@TempDir Path dir) throws Exception {
        dev.tikhon.nn.Linear layer = new dev.tikhon.nn.Linear(2, 3);
        try (dev.tikhon.engine.Autograd.Guard g = dev.tikhon.engine.Autograd.noGrad()) {
            layer.weight().value().copy_(dev.tikhon.engine.Tensor.fromDoubles(new double[]{1, 0, -1, 0, 0, 0}, 3, 2));
            layer.bias().value().copy_(dev.tikhon.engine.Tensor.zeros(3));
        }
        Path onnx = dir.resolve("two.onnx");
        dev.tikhon.onnx.OnnxExport.write(new dev.tikhon.nn.Sequential(layer), List.of(2L), onnx);
        String head = "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)(declare-const Y_1 Real)(declare-const Y_2 Real)\n"
                + "(assert (>= X_0 -1))(assert (<= X_0 1))(assert (>= X_1 -1))(assert (<= X_1 1))\n";
        Path both = write(dir, "both.vnnlib", head + "(assert (<= (- Y_0 Y_1) -0.5))(assert (<= (- Y_1 Y_0) -0.5))\n");
        Cli.Run crown = Cli.run("vnnlib", "--onnx", onnx.toString(), "--property", both.toString(), "--method", "crown", "--out", dir.resolve("c").toString());
        assertThat(crown.exitCode()).as(crown.err()).isZero();
        assertThat(crown.out()).contains("result: unknown").doesNotContain("bab-input");
        Cli.Run split = Cli.run("vnnlib", "--onnx", onnx.toString(), "--property", both.toString(), "--result", dir.resolve("s.txt").toString(),
                "--out", dir.resolve("s").toString());
        assertThat(split.exitCode()).as(split.err()).isZero();
        assertThat(split.out()).contains("methods default to crown,bab-input").contains("result: unsat").contains("bab-input    refuted 1/1");
        assertThat(Files.readString(dir.resolve("s.txt"))).isEqualTo("unsat\n");
        JsonNode m = new ObjectMapper().readTree(dir.resolve("s/metrics.json").toFile());
        assertThat(m.get("methods").toString()).isEqualTo("[\"crown\",\"bab-input\"]");
        assertThat(m.get("bab_domains").asInt()).isEqualTo(1024);
        assertThat(m.at("/cases/0/by_method/bab-input/refuted_by").asText()).startsWith("several");
        Path sat = write(dir, "sat.vnnlib", head + "(assert (<= (- Y_0 Y_1) -1.5))\n");
        Cli.Run s = Cli.run("vnnlib", "--onnx", onnx.toString(), "--property", sat.toString(), "--method", "bab-input", "--no-cascade",
                "--bab-domains", "64", "--out", dir.resolve("f").toString());
        assertThat(s.exitCode()).as(s.err()).isZero();
        assertThat(s.out()).contains("result: sat");
        JsonNode f = new ObjectMapper().readTree(dir.resolve("f/metrics.json").toFile());
        double x0 = f.get("counterexample_x").get(0).asDouble();
        assertThat(x0).isBetween(-1.0, -0.75);   // Y_0 − Y_1 = 2·X_0 ≤ −1.5

        // the same through ReLUs, Y_0 = relu(X_0) − relu(−X_0) = −Y_1: bab's search ends at its domains' lowest point, sat
        dev.tikhon.nn.Linear in = new dev.tikhon.nn.Linear(2, 2), out = new dev.tikhon.nn.Linear(2, 3);
        try (dev.tikhon.engine.Autograd.Guard g = dev.tikhon.engine.Autograd.noGrad()) {
            in.weight().value().copy_(dev.tikhon.engine.Tensor.fromDoubles(new double[]{1, 0, -1, 0}, 2, 2));
            in.bias().value().copy_(dev.tikhon.engine.Tensor.zeros(2));
            out.weight().value().copy_(dev.tikhon.engine.Tensor.fromDoubles(new double[]{1, -1, -1, 1, 0, 0}, 3, 2));
            out.bias().value().copy_(dev.tikhon.engine.Tensor.zeros(3));
        }
        Path relu = dir.resolve("relu.onnx");
        dev.tikhon.onnx.OnnxExport.write(new dev.tikhon.nn.Sequential(in, dev.tikhon.nn.Activation.relu(), out), List.of(2L), relu);
        Cli.Run b = Cli.run("vnnlib", "--onnx", relu.toString(), "--property", sat.toString(), "--method", "bab", "--no-cascade",
                "--bab-domains", "64", "--out", dir.resolve("b").toString());
        assertThat(b.exitCode()).as(b.err()).isZero();
        assertThat(b.out()).contains("result: sat");
        JsonNode bm = new ObjectMapper().readTree(dir.resolve("b/metrics.json").toFile());
        assertThat(bm.get("counterexample_x").get(0).asDouble()).isBetween(-1.0, -0.75);
        assertThat(bm.get("attack_seconds").asDouble()).as("found by bab, before the attack that follows the methods").isZero();
    }
}
