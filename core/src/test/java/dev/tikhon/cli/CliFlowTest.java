package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.report.Csv;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** flow train / eval / sample and reproduce rnode end to end, small; a resumed run draws exactly what an uninterrupted one does. */
class CliFlowTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static String[] train(Path out, int iterations, String... extra) {
        List<String> a = new ArrayList<>(List.of("flow", "train", "--data", "8gaussians", "--hidden", "16,16", "--iterations",
                String.valueOf(iterations), "--batch-size", "64", "--held-out", "200", "--checkpoint-every", "2", "--threads", "1",
                "--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void trainEvalSampleAndResumeExactly(@TempDir Path dir) throws IOException {
        Path whole = dir.resolve("whole"), split = dir.resolve("split");
        Cli.Run t = Cli.run(train(whole, 6, "--reg-kinetic", "0.01", "--reg-jacobian", "0.01"));
        assertThat(t.exitCode()).as(t.err()).isEqualTo(0);
        assertThat(t.out()).contains("held-out NLL (nats)");
        for (String f : List.of("flow-checkpoint.tkn", "history.csv", "metrics.json", "index.html", "density.png", "samples.png",
                "data.png", "nfe.png", "loss.png")) {
            assertThat(whole.resolve(f)).exists();
        }
        JsonNode m = JSON.readTree(whole.resolve("metrics.json").toFile());
        assertThat(m.at("/held_out/nll").asDouble()).isFinite();
        assertThat(m.at("/held_out/nfePerBatch").asDouble()).isGreaterThan(0);
        assertThat(m.at("/nfe_forward_total").asDouble()).isEqualTo(6 * 16.0);   // rk4, 4 steps

        Cli.Run first = Cli.run(train(split, 4, "--reg-kinetic", "0.01", "--reg-jacobian", "0.01"));
        assertThat(first.exitCode()).as(first.err()).isEqualTo(0);
        Cli.Run resumed = Cli.run(train(split, 6, "--resume"));
        assertThat(resumed.exitCode()).as(resumed.err()).isEqualTo(0);
        Csv.Table a = Csv.read(whole.resolve("history.csv")), b = Csv.read(split.resolve("history.csv"));
        assertThat(b.rows()).hasSize(6);
        for (int i = 0; i < 6; i++) {
            assertThat(b.rows().get(i).get(1)).as("loss of iteration %d", i + 1).isEqualTo(a.rows().get(i).get(1));
        }

        Cli.Run e = Cli.run("flow", "eval", "--checkpoint", whole.toString(), "--held-out", "200", "--threads", "1");
        assertThat(e.exitCode()).as(e.err()).isEqualTo(0);
        assertThat(JSON.readTree(whole.resolve("eval/metrics.json").toFile()).at("/held_out/nll").asDouble())
                .isEqualTo(m.at("/held_out/nll").asDouble());
        Cli.Run s = Cli.run("flow", "sample", "--checkpoint", whole.toString(), "--samples", "300", "--grid", "20", "--threads", "1");
        assertThat(s.exitCode()).as(s.err()).isEqualTo(0);
        assertThat(Files.readAllLines(whole.resolve("samples/samples.csv"))).hasSize(301);
        assertThat(whole.resolve("samples/density.png")).exists();
    }

    @Test
    void adjointAndDopri5Train(@TempDir Path dir) throws IOException {
        Cli.Run t = Cli.run(train(dir, 3, "--gradient", "adjoint", "--solver", "dopri5", "--divergence", "rademacher", "--step", "0.1"));
        assertThat(t.exitCode()).as(t.err()).isEqualTo(0);
        assertThat(t.err()).contains("note:   --step does nothing with --solver dopri5; it is ignored");
        Csv.Table h = Csv.read(dir.resolve("history.csv"));
        int backward = h.header().indexOf("nfe_backward");
        assertThat(Double.parseDouble(h.rows().get(0).get(backward))).isGreaterThan(0);
    }

    @Test
    void badOptionsAreUsageErrors(@TempDir Path dir) {
        Cli.Run data = Cli.run("flow", "train", "--data", "spirals3", "--out", dir.toString());
        assertThat(data.exitCode()).isEqualTo(2);
        assertThat(data.err()).contains("spirals3").contains("checkerboard");
        Cli.Run solver = Cli.run("flow", "train", "--solver", "rk45", "--out", dir.toString());
        assertThat(solver.exitCode()).isEqualTo(2);
        assertThat(solver.err()).contains("unknown ODE solver 'rk45'");
        Cli.Run missing = Cli.run("flow", "eval", "--checkpoint", dir.resolve("nothing").toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).contains("no such checkpoint");
    }

    @Test
    void aStepThatDoesNotDivideTheTimeIsNoted(@TempDir Path dir) {
        Cli.Run t = Cli.run(train(dir, 1, "--step", "0.3", "--atol", "1e-3"));
        assertThat(t.exitCode()).as(t.err()).isEqualTo(0);
        assertThat(t.err()).contains("note:   --step 0.3 does not divide --end-time 1.0: the solver takes 4 equal steps of 0.25")
                .contains("note:   --atol does nothing with --solver rk4; it is ignored");
    }

    @Test
    void reproduceRnodeWritesTheComparison(@TempDir Path dir) throws IOException {
        Cli.Run r = Cli.run("reproduce", "rnode", "--datasets", "8gaussians,fashion-mnist-sample", "--iterations", "3", "--batch-size", "64",
                "--held-out", "200", "--solver", "rk4", "--image-iterations", "2", "--image-batch-size", "4", "--image-channels", "4",
                "--image-held-out", "8", "--threads", "1", "--out", dir.toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        assertThat(r.out()).contains("RNODE/unregularized");
        Csv.Table results = Csv.read(dir.resolve("results.csv"));
        assertThat(results.rows()).hasSize(4);
        assertThat(results.records().get(2).get("unit")).isEqualTo("bits/dim");
        assertThat(dir.resolve("nfe-8gaussians.png")).exists();
        ReportContentTest.checkPage(dir, "Results, one row per");
        assertThat(dir.resolve("8gaussians-rnode/density.png")).exists();
    }
}
