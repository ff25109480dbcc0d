package dev.tikhon.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A diverged run says what its folder really keeps and the way out that works: --resume repeats the recorded settings (and
 * a recorded --lr given anew is refused), so the way out is --force with a smaller --lr. A checkpoint --resume cannot read
 * names its fix too.
 */
class CliDivergedTest {
    private static String[] train(Path out, String... more) {
        String[] base = {"train", "--data", "moons", "--model", "mlp", "--hidden", "8", "--epochs", "1", "--threads", "1"};
        return Cli.concat(Cli.concat(base, more), new String[]{"--out", out.toString()});
    }

    @Test
    void aRunThatDivergesBeforeItsFirstCheckpointDoesNotClaimOne(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("fresh");
        Cli.Run r = Cli.run(train(out, "--lr", "1e30"));
        assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.EXIT_DIVERGED);
        assertThat(r.err()).contains("it diverged before its first checkpoint in " + out + ", so there is none to resume; rerun with a "
                + "smaller --lr (or --warmup EPOCHS), or check the data").doesNotContain("is kept").doesNotContain("--force");
        assertThat(out).as("a new run that wrote nothing leaves nothing").doesNotExist();

        // beside files of its own the folder keeps the run's settings: --resume would start it over, so --force is named
        Path busy = dir.resolve("busy");
        Files.createDirectories(busy);
        Files.writeString(busy.resolve("notes.txt"), "mine");
        Cli.Run k = Cli.run(train(busy, "--lr", "1e30"));
        assertThat(k.exitCode()).isEqualTo(Main.EXIT_DIVERGED);
        assertThat(k.err()).contains("rerun with a smaller --lr (or --warmup EPOCHS) and --force (its run.json is kept, and --resume "
                + "would start it over with the same settings)");
        Cli.Run again = Cli.run("train", "--resume", "--out", busy.toString());
        assertThat(again.exitCode()).isEqualTo(Main.EXIT_DIVERGED);
        assertThat(again.out()).contains("resume: no checkpoint in " + busy + " yet; starting over with the settings recorded in its run.json");
    }

    @Test
    void aRunWithACheckpointNamesItAndTheWayOut(@TempDir Path dir) {
        Path out = dir.resolve("run");
        Cli.Run r = Cli.run(train(out, "--lr", "1e30", "--checkpoint-every", "1"));
        assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.EXIT_DIVERGED);
        String way = "the last good checkpoint (epoch 1, batch 1) is kept in " + out + ", but --resume would repeat the same steps "
                + "with the same settings and diverge again: start over with --force and a smaller --lr (or --warmup EPOCHS), or check the data";
        assertThat(r.err()).contains(way);
        Cli.Run resumed = Cli.run("train", "--resume", "--out", out.toString());
        assertThat(resumed.exitCode()).isEqualTo(Main.EXIT_DIVERGED);
        assertThat(resumed.err()).as("it does what the message said").contains(way);
        Cli.Run lower = Cli.run("train", "--resume", "--lr", "0.01", "--out", out.toString());
        assertThat(lower.exitCode()).isEqualTo(Main.EXIT_USER);
        // the way out named works
        Cli.Run forced = Cli.run(train(out, "--lr", "0.01", "--force", "--batch-size", "2000"));
        assertThat(forced.exitCode()).as(forced.err()).isEqualTo(0);
    }

    @Test
    void smoothDoesNotSuggestAWarmUpItHasNot(@TempDir Path dir) {
        Path base = dir.resolve("base");
        assertThat(Cli.run(train(base, "--batch-size", "2000")).exitCode()).isEqualTo(0);
        Cli.Run s = Cli.run("smooth", "--checkpoint", base.toString(), "--lr", "1e30", "--subset", "500", "--threads", "1",
                "--out", dir.resolve("s").toString());
        assertThat(s.exitCode()).as(s.err()).isEqualTo(Main.EXIT_DIVERGED);
        assertThat(s.err()).contains("rerun with a smaller --lr, or check the data").doesNotContain("--warmup");
    }

    /**
     * A divergence in an epoch's last step has no next step to see its loss: the broken model was checkpointed and the run
     * ended with exit 0 and a test loss of NaN (train with one batch per epoch; smooth on a subset of one batch).
     */
    @Test
    void aDivergenceInTheLastStepIsCaught(@TempDir Path dir) {
        Path out = dir.resolve("run");
        Cli.Run r = Cli.run(train(out, "--lr", "1e30", "--batch-size", "20000"));
        assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.EXIT_DIVERGED);
        assertThat(r.err()).contains("training diverged: the loss became NaN at epoch 1, batch 1")
                .contains("rerun with a smaller --lr (or --warmup EPOCHS)");
        assertThat(out).as("no broken checkpoint left").doesNotExist();
        Path base = dir.resolve("base");
        assertThat(Cli.run(train(base, "--batch-size", "2000")).exitCode()).isEqualTo(0);
        Cli.Run s = Cli.run("smooth", "--checkpoint", base.toString(), "--lr", "1e30", "--subset", "8", "--threads", "1",
                "--out", dir.resolve("s").toString());
        assertThat(s.exitCode()).as(s.err()).isEqualTo(Main.EXIT_DIVERGED);
        assertThat(s.err()).contains("training diverged").contains("rerun with a smaller --lr");
    }

    @Test
    void aTruncatedCheckpointNamesTheFix(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("run");
        assertThat(Cli.run(train(out, "--batch-size", "2000")).exitCode()).isEqualTo(0);
        Path ck = out.resolve("checkpoint.tkn");
        try (RandomAccessFile f = new RandomAccessFile(ck.toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
        Cli.Run r = Cli.run("train", "--resume", "--epochs", "2", "--out", out.toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains(ck + ": corrupt or truncated checkpoint").contains("so --resume cannot continue from it: restore the "
                + "file from a copy, or start the run over with --force");
        Cli.Run e = Cli.run("eval", "--checkpoint", ck.toString(), "--out", dir.resolve("e").toString());
        assertThat(e.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(e.err()).contains("corrupt or truncated checkpoint").contains("restore it from a copy, or train it again");
    }
}
