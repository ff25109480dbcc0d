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
        assertThat(resumed.err()).contains("flow 8gaussians: resuming at iteration 4 of 6, 2 to do");
        // a finished run resumed again trains nothing, and says so rather than "started, 6 to do"
        Cli.Run again = Cli.run(train(split, 6, "--resume"));
        assertThat(again.exitCode()).as(again.err()).isEqualTo(0);
        assertThat(again.err()).contains("already trained (6 iterations in its checkpoint): nothing to do").doesNotContain("started");
        assertThat(Csv.read(split.resolve("history.csv")).rows()).hasSize(6);

        Cli.Run e = Cli.run("flow", "eval", "--checkpoint", whole.toString(), "--held-out", "200", "--threads", "1");
        assertThat(e.exitCode()).as(e.err()).isEqualTo(0);
        assertThat(JSON.readTree(whole.resolve("eval/metrics.json").toFile()).at("/held_out/nll").asDouble())
                .isEqualTo(m.at("/held_out/nll").asDouble());
        // without --held-out, eval takes as many as training evaluated on (200 here, not its own default 5000)
        Cli.Run e2 = Cli.run("flow", "eval", "--checkpoint", whole.toString(), "--threads", "1", "--out", dir.resolve("eval2").toString());
        assertThat(e2.exitCode()).as(e2.err()).isEqualTo(0);
        JsonNode h2 = JSON.readTree(dir.resolve("eval2/metrics.json").toFile()).at("/held_out");
        assertThat(h2.at("/examples").asInt()).isEqualTo(200);
        assertThat(h2.at("/nll").asDouble()).isEqualTo(m.at("/held_out/nll").asDouble());
        Cli.Run s = Cli.run("flow", "sample", "--checkpoint", whole.toString(), "--samples", "300", "--grid", "20", "--threads", "1");
        assertThat(s.exitCode()).as(s.err()).isEqualTo(0);
        assertThat(Files.readAllLines(whole.resolve("samples/samples.csv"))).hasSize(301);
        assertThat(whole.resolve("samples/density.png")).exists();
    }

    @Test
    void sampleAndEvalReplaceTheirOwnOutputButNoOtherRun(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run");
        assertThat(Cli.run(train(run, 1)).exitCode()).isEqualTo(0);
        String[] sample = {"flow", "sample", "--checkpoint", run.toString(), "--samples", "10", "--grid", "4", "--threads", "1"};
        for (int i = 0; i < 2; i++) {   // rerun into its default folder: replaced, not appended to
            Cli.Run s = Cli.run(sample);
            assertThat(s.exitCode()).as(s.err()).isEqualTo(0);
            assertThat(Files.readAllLines(run.resolve("samples/samples.csv"))).as("run %d", i + 1).hasSize(11);
        }
        Path out = dir.resolve("s");
        String[] into = {"flow", "sample", "--checkpoint", run.toString(), "--samples", "10", "--grid", "4", "--threads", "1", "--out", out.toString()};
        assertThat(Cli.run(into).exitCode()).isEqualTo(0);
        Cli.Run again = Cli.run(into);   // a named folder holding a run: refused without --force, as eval does
        assertThat(again.exitCode()).isEqualTo(2);
        assertThat(again.err()).contains(out.toString()).contains("'tikhon flow sample' run").contains("--force");
        String[] forced = java.util.Arrays.copyOf(into, into.length + 1);
        forced[into.length] = "--force";
        Cli.Run f = Cli.run(forced);
        assertThat(f.exitCode()).as(f.err()).isEqualTo(0);
        assertThat(Files.readAllLines(out.resolve("samples.csv"))).hasSize(11);
        Cli.Run intoTraining = Cli.run("flow", "eval", "--checkpoint", run.toString(), "--held-out", "20", "--threads", "1", "--out", run.toString());
        assertThat(intoTraining.exitCode()).isEqualTo(2);
        assertThat(intoTraining.err()).contains("holds a finished run").contains("flow train");
        Cli.Run evalIntoSamples = Cli.run("flow", "eval", "--checkpoint", run.toString(), "--held-out", "20", "--threads", "1",
                "--out", run.resolve("samples").toString());
        assertThat(evalIntoSamples.exitCode()).isEqualTo(2);
        assertThat(evalIntoSamples.err()).contains("'tikhon flow sample' run");
    }

    /** The bundled sample reads no folder: a --data-dir meant for the full set passed unseen (train notes it). */
    @Test
    void aDataDirWithTheBundledSampleIsNoted(@TempDir Path dir) {
        Cli.Run t = Cli.run("flow", "train", "--data", "fashion-mnist-sample", "--model", "mlp", "--data-dir", dir.toString(),
                "--threads", "1", "--out", dir.resolve("f").toString());
        assertThat(t.exitCode()).isEqualTo(Main.EXIT_USER);   // the mlp field takes no images: refused once the note is out
        assertThat(t.err()).contains("note:   --data-dir does nothing with --data fashion-mnist-sample (bundled with Tikhon; for the "
                + "full set from a folder, give --data fashion-mnist); it is ignored");
    }

    @Test
    void optionsThatDoNothingAreNotedAndNotRecorded(@TempDir Path dir) throws IOException {
        Cli.Run t = Cli.run(train(dir, 1, "--epsilon", "5", "--alpha", "0.1", "--channels", "4", "--scales", "1", "--data-dir", dir.toString()));
        assertThat(t.exitCode()).as(t.err()).isEqualTo(0);
        for (String o : List.of("--epsilon", "--alpha")) assertThat(t.err()).contains("note:   " + o + " does nothing with --method cnf");
        for (String o : List.of("--channels", "--scales")) assertThat(t.err()).contains("note:   " + o + " does nothing with --model mlp");
        assertThat(t.err()).contains("note:   --data-dir does nothing with --data 8gaussians");
        JsonNode c = JSON.readTree(dir.resolve("metrics.json").toFile()).path("config");
        assertThat(c.has("hidden")).isTrue();
        for (String k : List.of("channels", "scales", "atol", "rtol", "ek")) assertThat(c.has(k)).as(k).isFalse();   // mlp, rk4, cnf
        assertThat(c.path("step").asDouble()).isEqualTo(0.25);
        assertThat(t.out()).contains("mean 16.0 forward NFE per iteration").contains("backward: backprop through the solver (no NFE counted)")
                .contains("exact divergence").contains("NFE for its one batch of 200");
        JsonNode m = JSON.readTree(dir.resolve("metrics.json").toFile());
        assertThat(m.has("nfe_backward_total")).as("backprop counts no backward NFE: no 0 total").isFalse();
        // nor a 0 per iteration in history.csv, which read as "no backward evaluations": the cell is empty
        Csv.Table h = Csv.read(dir.resolve("history.csv"));
        assertThat(h.records()).isNotEmpty().allSatisfy(r -> assertThat(r.get("nfe_backward")).as("nfe_backward under backprop").isEmpty());
        assertThat(m.path("final_train_nll").asDouble()).isFinite();

        Cli.Run both = Cli.run(train(dir.resolve("both"), 1, "--flow-reg", "kinetic=0.5", "--reg-kinetic", "0.1"));
        assertThat(both.exitCode()).isEqualTo(2);
        assertThat(both.err()).contains("tikhon: error: --flow-reg kinetic=0.5 and --reg-kinetic 0.1");
        Cli.Run relu = Cli.run(train(dir.resolve("relu"), 1, "--activation", "relu"));
        assertThat(relu.exitCode()).isEqualTo(2);
        assertThat(relu.err()).contains("--activation relu").contains("softplus or tanh");
        Cli.Run resume = Cli.run(train(dir.resolve("new"), 1, "--resume"));
        assertThat(resume.exitCode()).as(resume.err()).isEqualTo(0);
        assertThat(resume.err()).contains("--resume: ").contains("does not exist").contains("starting a new one");
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

    /**
     * A flow checkpoint whose weights hold NaN is refused by eval and sample with one line naming the tensor (audit 21: Dopri5
     * spent its 10000 steps at t = 0, some 40 s, then blamed stiff dynamics and suggested training options), and nothing is written.
     */
    @Test
    void evalAndSampleRefuseACheckpointWithNonFiniteWeights(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run"), bad = dir.resolve("nanrun");
        assertThat(Cli.run(train(run, 1)).exitCode()).isEqualTo(0);
        dev.tikhon.flow.FlowTraining.Loaded l = dev.tikhon.flow.FlowTraining.load(run);
        java.util.Map<String, dev.tikhon.engine.Tensor> m = new java.util.LinkedHashMap<>(l.model());
        String name = m.keySet().stream().skip(2).findFirst().orElseThrow();
        m.put(name, m.get(name).copy().fill_(Double.NaN));
        Files.createDirectories(bad);
        dev.tikhon.train.Checkpoint.saveArchive(bad.resolve(dev.tikhon.flow.FlowTraining.CHECKPOINT), dev.tikhon.flow.FlowTraining.FORMAT,
                dev.tikhon.flow.FlowTraining.VERSION, l.meta(), m, l.optimizer());
        Path ck = bad.resolve(dev.tikhon.flow.FlowTraining.CHECKPOINT);
        for (String[] c : List.of(new String[]{"flow", "eval", "--checkpoint", bad.toString(), "--held-out", "50", "--threads", "1"},
                new String[]{"flow", "sample", "--checkpoint", ck.toString(), "--samples", "10", "--grid", "4", "--threads", "1"})) {
            String line = CliBadInputTest.oneErrorLine(Cli.run(c), "checkpoint " + ck + ": parameter " + name + " holds NaN", "diverged",
                    "--reg-kinetic");
            assertThat(line).as(c[1]).doesNotContain("dopri5");
        }
        assertThat(bad.resolve("eval")).doesNotExist();
        assertThat(bad.resolve("samples")).doesNotExist();
    }

    /**
     * A flow that diverges says so in iterations (it read "at epoch 1, batch 2") and names the way out: --resume repeats the
     * recorded settings and another --lr is refused, so it had advised a resume that could only diverge again.
     */
    @Test
    void aDivergedFlowNamesItsIterationAndTheWayOut(@TempDir Path dir) {
        Cli.Run none = Cli.run(train(dir.resolve("none"), 6, "--lr", "5"));
        assertThat(none.exitCode()).as(none.err()).isEqualTo(Main.EXIT_DIVERGED);
        String line = none.err().lines().filter(l -> l.startsWith("tikhon: ")).findFirst().orElseThrow();
        assertThat(line).contains("at iteration 2;").contains("before its first checkpoint").contains("a smaller --lr").contains("--force")
                .doesNotContain("epoch").doesNotContain("resume from the last checkpoint");
        String[] a = train(dir.resolve("kept"), 6, "--lr", "5");
        a[java.util.Arrays.asList(a).indexOf("--checkpoint-every") + 1] = "1";
        Cli.Run kept = Cli.run(a);
        assertThat(kept.exitCode()).as(kept.err()).isEqualTo(Main.EXIT_DIVERGED);
        assertThat(kept.err()).contains("at iteration 2;").contains("the last good checkpoint (after iteration 1) is kept in " + dir.resolve("kept"))
                .contains("--resume would repeat the same steps").doesNotContain("epoch");
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
        // the NFE columns are forward counts under backprop, and say so; nfe_total is the forward sum of the run's history
        assertThat(JSON.readTree(dir.resolve("metrics.json").toFile()).path("nfe_note").asText()).contains("forward function evaluations");
        double forward = 0;
        for (var row : Csv.read(dir.resolve("8gaussians-rnode/history.csv")).records()) {
            assertThat(row.get("nfe_backward")).isEmpty();
            forward += Double.parseDouble(row.get("nfe_forward"));
        }
        assertThat(Double.parseDouble(results.records().get(1).get("nfe_total"))).isEqualTo(forward);
        assertThat(dir.resolve("nfe-8gaussians.png")).exists();
        ReportContentTest.checkPage(dir, "Results, one row per");
        assertThat(dir.resolve("8gaussians-rnode/density.png")).exists();
    }
}
