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

/** flow train --method ek / eval / sample, exact resume, and reproduce ek, all tiny. */
class CliEkTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static String[] train(Path out, int iterations, String... extra) {
        List<String> a = new ArrayList<>(List.of("flow", "train", "--method", "ek", "--data", "rings", "--hidden", "8,8",
                "--iterations", String.valueOf(iterations), "--batch-size", "32", "--mc-samples", "4", "--flow-samples", "4",
                "--held-out", "20", "--checkpoint-every", "2", "--threads", "1", "--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void trainResumeEvalSampleAndReproduce(@TempDir Path dir) throws IOException {
        Path whole = dir.resolve("whole"), split = dir.resolve("split");
        Cli.Run t = Cli.run(train(whole, 4));
        assertThat(t.exitCode()).as(t.err()).isEqualTo(0);
        assertThat(t.out()).contains("held-out NLL (nats)").contains("final dual");
        for (String f : List.of("flow-checkpoint.tkn", "history.csv", "metrics.json", "index.html", "density.png", "samples.png",
                "data.png", "dual.png", "mass.png")) {
            assertThat(whole.resolve(f)).exists();
        }
        JsonNode m = JSON.readTree(whole.resolve("metrics.json").toFile());
        assertThat(m.at("/held_out/nll").asDouble()).isFinite();
        assertThat(m.at("/config/method").asText()).isEqualTo("ek");
        assertThat(m.at("/config/ek/mcSamples").asInt()).isEqualTo(4);

        Cli.Run first = Cli.run(train(split, 2));
        assertThat(first.exitCode()).as(first.err()).isEqualTo(0);
        Cli.Run resumed = Cli.run(train(split, 4, "--resume"));
        assertThat(resumed.exitCode()).as(resumed.err()).isEqualTo(0);
        Csv.Table a = Csv.read(whole.resolve("history.csv")), b = Csv.read(split.resolve("history.csv"));
        assertThat(b.rows()).hasSize(4);
        for (int i = 0; i < 4; i++) {
            assertThat(b.rows().get(i).subList(1, 5)).as("iteration %d", i + 1).isEqualTo(a.rows().get(i).subList(1, 5));
        }

        Cli.Run e = Cli.run("flow", "eval", "--checkpoint", whole.toString(), "--held-out", "20", "--threads", "1");
        assertThat(e.exitCode()).as(e.err()).isEqualTo(0);
        assertThat(JSON.readTree(whole.resolve("eval/metrics.json").toFile()).at("/held_out/nll").asDouble())
                .isEqualTo(m.at("/held_out/nll").asDouble());
        Cli.Run s = Cli.run("flow", "sample", "--checkpoint", whole.toString(), "--samples", "30", "--grid", "8", "--threads", "1");
        assertThat(s.exitCode()).as(s.err()).isEqualTo(0);
        assertThat(Files.readAllLines(whole.resolve("samples/samples.csv"))).hasSize(31);

        Path rep = dir.resolve("reproduce");
        Cli.Run r = Cli.run("reproduce", "ek", "--datasets", "moons", "--iterations", "2", "--batch-size", "32", "--mc-samples", "4",
                "--flow-samples", "4", "--held-out", "20", "--grid", "20", "--threads", "1", "--out", rep.toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        assertThat(r.out()).contains("moons").contains("ek").contains("cnf");
        assertThat(Csv.read(rep.resolve("results.csv")).rows()).hasSize(2);
        ReportContentTest.checkPage(rep, "Results, one row per");
        for (String f : List.of("index.html", "metrics.json", "moons-ek/density.png", "moons-ek/samples.png", "moons-ek/data.png",
                "moons-cnf/density.png")) {
            assertThat(rep.resolve(f)).exists();
        }

        Cli.Run bad = Cli.run("flow", "train", "--method", "ek", "--data", "fashion-mnist", "--model", "multiscale", "--out",
                dir.resolve("bad").toString());
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("--method ek takes the 2-D toy sets");
        // a misspelt toy set is named, with the sets to choose from
        CliBadInputTest.oneErrorLine(Cli.run("flow", "train", "--method", "ek", "--data", "moonz", "--out", dir.resolve("bad2").toString()),
                "--data moonz", "checkerboard", "8gaussians");
        assertThat(dir.resolve("bad2")).doesNotExist();
        Cli.Run form = Cli.run("flow", "train", "--method", "ek", "--data", "moons", "--dual-form", "exp", "--out",
                dir.resolve("bad-form").toString());
        assertThat(form.exitCode()).isEqualTo(2);
        assertThat(form.err()).contains("--dual-form 'exp'").contains("profiled");
    }

    /**
     * flow train takes --grid (an EK flow's 100 × 100 density.png cost some 15 minutes with the default --flow-samples, with
     * no way to shrink it) and an --alpha of 0, the twin penalty off (it had been refused as "not in (0, 1)", a probability).
     */
    @Test
    void theDensityGridAndAZeroTwinPenaltyAreTaken(@TempDir Path dir) throws IOException {
        Cli.Run t = Cli.run(train(dir, 1, "--grid", "6", "--alpha", "0"));
        assertThat(t.exitCode()).as(t.err()).isEqualTo(0);
        assertThat(t.err()).doesNotContain("note:");
        assertThat(dir.resolve("density.png")).exists();
        assertThat(JSON.readTree(dir.resolve("metrics.json").toFile()).at("/config/ek/alpha").asDouble()).isZero();
    }

    @Test
    void cnfOptionsDoNothingWithEkAndAreNeitherRecordedNorShown(@TempDir Path dir) throws IOException {
        Cli.Run t = Cli.run(train(dir, 1, "--reg-kinetic", "0.5", "--end-time", "2", "--solver", "euler", "--gradient", "adjoint",
                "--step", "0.5", "--channels", "4"));
        assertThat(t.exitCode()).as(t.err()).isEqualTo(0);
        for (String o : List.of("--reg-kinetic", "--end-time", "--solver", "--gradient", "--step", "--channels")) {
            assertThat(t.err()).contains("note:   " + o + " does nothing with --method ek");
        }
        JsonNode c = JSON.readTree(dir.resolve("metrics.json").toFile()).path("config");
        for (String k : List.of("regularizers", "endTime", "solver", "step", "gradient", "divergence", "channels", "scales", "atol")) {
            assertThat(c.has(k)).as(k).isFalse();
        }
        assertThat(c.path("hidden").size()).isEqualTo(2);
        String page = Files.readString(dir.resolve("index.html"));
        assertThat(page).doesNotContain("kinetic").doesNotContain("endTime").doesNotContain("euler");
        // the checkpoint keeps loadable defaults, not the ignored values: eval repeats the figure
        Cli.Run e = Cli.run("flow", "eval", "--checkpoint", dir.toString(), "--held-out", "20", "--threads", "1");
        assertThat(e.exitCode()).as(e.err()).isEqualTo(0);
        assertThat(JSON.readTree(dir.resolve("eval/metrics.json").toFile()).at("/held_out/nll").asDouble())
                .isEqualTo(JSON.readTree(dir.resolve("metrics.json").toFile()).at("/held_out/nll").asDouble());
        Cli.Run relu = Cli.run(train(dir.resolve("relu"), 1, "--activation", "relu"));
        assertThat(relu.exitCode()).isEqualTo(2);
        assertThat(relu.err()).contains("--activation relu").contains("not be a likelihood");
    }
}
