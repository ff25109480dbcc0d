package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * reproduce rnode's measurement and messages, tiny: both variants warm up (untimed) before the timed runs, so the first
 * timed run does not carry the process's warm-up; a finished rerun trains nothing and says so, one with other settings is
 * refused; the claim stays the
 * paper's (λ 0.01) whatever --lambda is; the NLL difference names its unit; metrics.json's "started" is the command's start.
 */
class CliReproduceRnodeTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Cli.Run rnode(Path dir, String... more) {
        String[] base = {"reproduce", "rnode", "--datasets", "8gaussians", "--iterations", "3", "--batch-size", "16", "--held-out", "20",
                "--solver", "rk4", "--threads", "1", "--out", dir.toString()};
        String[] args = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, args, base.length, more.length);
        return Cli.run(args);
    }

    @Test
    void bothVariantsWarmUpBeforeTheTimedRunsAndAFinishedRerunTrainsNothing(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rn");
        Cli.Run r = rnode(dir, "--lambda", "0.1");
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        String err = r.err();
        int wu = err.indexOf("8gaussians warm-up unregularized"), wr = err.indexOf("8gaussians warm-up rnode");
        int tu = err.indexOf("8gaussians unregularized"), tr = err.indexOf("8gaussians rnode");
        assertThat(wu).as(err).isGreaterThanOrEqualTo(0);
        assertThat(wr).as(err).isGreaterThan(wu);
        assertThat(tu).as("the timed runs come after both warm-ups: " + err).isGreaterThan(wr);
        assertThat(tr).as(err).isGreaterThan(tu);
        assertThat(dir.resolve(".warm-up")).doesNotExist();
        assertThat(Files.list(dir).map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("warm"));

        JsonNode m = JSON.readTree(dir.resolve("metrics.json").toFile());
        assertThat(m.get("claim").asText()).contains("0.01 in the paper").doesNotContain("0.1 ");
        assertThat(m.get("lambda_note").asText()).contains("0.1").contains("not the paper's 0.01");
        assertThat(m.get("wall_time_note").asText()).contains("warm-up").contains("noisy");
        assertThat(m.at("/ratios/0/unit").asText()).isEqualTo("NLL (nats)");
        assertThat(r.out()).contains("after warm-up").contains("NLL difference (nats)").doesNotContain("; NLL ")
                .contains("RNODE/unregularized: forward NFE");   // backprop counts no backward NFE: the ratio is of forward ones
        // "started" is when the command began: before the first timed run's checkpoint was written, not when metrics.json was
        Instant started = Instant.parse(m.get("started").asText());
        Instant checkpointWritten = Files.getLastModifiedTime(dir.resolve("8gaussians-unregularized/flow-checkpoint.tkn")).toInstant();
        assertThat(started).isBefore(checkpointWritten);
        assertThat(Instant.parse(m.get("finished").asText())).isAfter(checkpointWritten);

        String csv = Files.readString(dir.resolve("results.csv"));
        Cli.Run again = rnode(dir, "--lambda", "0.1");
        assertThat(again.exitCode()).as(again.err()).isEqualTo(0);
        assertThat(again.err()).contains("8gaussians unregularized: already trained (3 iterations in its checkpoint): nothing to do")
                .contains("8gaussians rnode: already trained").doesNotContain("warm-up").doesNotContain("started").doesNotContain("3 to do");
        assertThat(Files.readString(dir.resolve("results.csv"))).isEqualTo(csv);

        // another λ into the same folder: refused before anything trains (it had reported the λ 0.1 flows as λ 0.5)
        Cli.Run other = rnode(dir, "--lambda", "0.5");
        assertThat(other.exitCode()).isEqualTo(2);
        assertThat(other.err()).contains("8gaussians-rnode holds a flow trained with other settings")
                .contains("regularizers.kinetic 0.1 recorded, 0.5 asked").contains("another folder").doesNotContain("warm-up");
        assertThat(Files.readString(dir.resolve("results.csv"))).isEqualTo(csv);
        assertThat(rnode(dir, "--lambda", "0.1", "--seed", "4").err()).contains("seed 0 recorded, 4 asked");

        Cli.Run paper = rnode(tmp.resolve("paper"));
        assertThat(paper.exitCode()).as(paper.err()).isEqualTo(0);
        assertThat(JSON.readTree(tmp.resolve("paper/metrics.json").toFile()).has("lambda_note")).isFalse();
    }

    @Test
    void theHelpNamesTheLambdaOptionAndTheEstimates() {
        Cli.Run h = Cli.run("reproduce", "rnode", "--help");
        assertThat(h.out().replaceAll("\\s+", " ")).contains("λ_K = λ_J = --lambda").contains("Hutchinson estimate with Rademacher noise")
                .contains("untimed warm-up").doesNotContain("λ 0.01)");
    }

    @Test
    void theDifferenceNamesItsUnit() {
        assertThat(ReproduceRnode.differenceLabel("bits/dim")).isEqualTo("bits/dim difference (Hutchinson estimate)");
        assertThat(ReproduceRnode.differenceLabel("NLL (nats)")).isEqualTo("NLL difference (nats)");
    }

    /** A diverged reproduction names its own options (it has no --lr or --reg-kinetic) and what to delete before a rerun. */
    @Test
    void aDivergedRunsHintNamesTheReproductionsOwnOptions(@TempDir Path tmp) {
        Path run = tmp.resolve("8gaussians-rnode");
        dev.tikhon.train.TrainingDivergedException e = dev.tikhon.train.TrainingDivergedException
                .atIteration(6, Double.NaN, "lower --lr, use the regularizers (--reg-kinetic, --reg-jacobian) or a smaller --step")
                .keptIn(run, 5);
        String m = ReproduceOptions.diverged(e, "a smaller --step").getMessage();
        assertThat(m).startsWith("training diverged: the loss became NaN at iteration 7; ")
                .contains("the last good checkpoint (after iteration 5) is kept in " + run)
                .contains("rerun with a smaller --step, after deleting " + run + " (or into another --out)")
                .doesNotContain("--lr").doesNotContain("--reg-kinetic");
    }
}
