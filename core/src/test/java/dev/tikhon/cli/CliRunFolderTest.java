package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One run per folder, and a run's settings live in the run (docs/runs.md): each case either keeps the recorded settings
 * or ends with exit 2 and one line naming what is wrong and how to go on. Tiny runs on the generated moons set.
 */
class CliRunFolderTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path shared;
    static Path base;

    @BeforeAll
    static void trainABaseModel() {
        base = shared.resolve("base");
        Cli.Run t = Cli.run(train(base, "--epochs", "1"));
        assertThat(t.exitCode()).as(t.err()).isEqualTo(0);
    }

    private static String[] train(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--data", "moons", "--model", "mlp", "--hidden", "8", "--seed", "7",
                "--threads", "1", "--out", out.toString()));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    private static String[] certify(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("certify", "--checkpoint", base.toString(), "--method", "cohen", "--sigma", "0.25",
                "--images", "3", "--n0", "16", "--n", "200", "--threads", "1", "--out", out.toString()));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    /** Exit 2 and exactly one line, {@code tikhon: error: ...}. */
    private static String oneLineError(Cli.Run r) {
        assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(2);
        assertThat(r.err().strip().lines()).singleElement().asString().startsWith("tikhon: error: ");
        return r.err().strip();
    }

    @Test
    void aFinishedRunIsNotOverwrittenWithoutForce(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("c");
        assertThat(Cli.run(certify(out)).exitCode()).isEqualTo(0);
        JsonNode settings = JSON.readTree(out.resolve("run.json").toFile());
        assertThat(settings.at("/command").asText()).isEqualTo("certify");
        assertThat(settings.at("/finished").asText()).isNotEmpty();
        String before = Files.readString(out.resolve("certify.tsv"));

        String e = oneLineError(Cli.run(certify(out, "--seed", "5")));
        assertThat(e).contains(out.toString(), "holds a finished run", "--force");
        assertThat(Files.readString(out.resolve("certify.tsv"))).isEqualTo(before);

        Cli.Run forced = Cli.run(certify(out, "--seed", "5", "--force"));
        assertThat(forced.exitCode()).as(forced.err()).isEqualTo(0);
        assertThat(JSON.readTree(out.resolve("run.json").toFile()).at("/args").toString()).contains("\"--seed\",\"5\"");
        assertThat(out.resolve("run.lock")).doesNotExist();
        // finished is the end time, after the start
        JsonNode m = JSON.readTree(out.resolve("metrics.json").toFile());
        assertThat(Instant.parse(m.at("/finished").asText())).isAfter(Instant.parse(m.at("/started").asText()));
    }

    @Test
    void resumeTakesEverySettingFromTheRunAndAConflictingOptionIsAnError(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("t");
        assertThat(Cli.run(train(out, "--epochs", "2")).exitCode()).isEqualTo(0);
        // without --epochs the recorded 2 stand (the default, 3, would have extended the run)
        Cli.Run again = Cli.run("train", "--resume", "--out", out.toString());
        assertThat(again.exitCode()).as(again.err()).isEqualTo(0);
        assertThat(JSON.readTree(out.resolve("history.json").toFile()).size()).isEqualTo(2);
        assertThat(JSON.readTree(out.resolve("metrics.json").toFile()).at("/config/seed").asLong()).isEqualTo(7);

        // a folder with nothing to resume (a misspelt --out) starts a new run, and says so; a real resume says nothing of it
        assertThat(again.err()).doesNotContain("no run to continue");
        Cli.Run typo = Cli.run(Cli.concat(train(dir.resolve("typo"), "--epochs", "1"), "--resume"));
        assertThat(typo.exitCode()).as(typo.err()).isEqualTo(0);
        assertThat(typo.err()).contains("note:   --resume: " + dir.resolve("typo") + " does not exist, so there is no run to continue; "
                + "starting a new one with the options given");

        String e = oneLineError(Cli.run("train", "--resume", "--seed", "8", "--out", out.toString()));
        assertThat(e).contains("--seed 8", "recorded --seed 7", "run.json");
        // the same value again is no conflict; --threads may change
        assertThat(Cli.run("train", "--resume", "--seed", "7", "--threads", "1", "--out", out.toString()).exitCode()).isEqualTo(0);
        // --force beside a recorded run does nothing (it continues): said, not dropped silently
        Cli.Run forced = Cli.run("train", "--resume", "--force", "--out", out.toString());
        assertThat(forced.exitCode()).as(forced.err()).isEqualTo(0);
        assertThat(forced.err()).contains("note:   --force does nothing with --resume of the run recorded in " + out);
        assertThat(again.err()).doesNotContain("--force");
        // more epochs extend the run
        assertThat(Cli.run("train", "--resume", "--epochs", "3", "--out", out.toString()).exitCode()).isEqualTo(0);
        assertThat(JSON.readTree(out.resolve("history.json").toFile()).size()).isEqualTo(3);
        assertThat(JSON.readTree(out.resolve("run.json").toFile()).at("/args").toString()).contains("\"--epochs\",\"3\"");

        Path c = dir.resolve("c");
        assertThat(Cli.run(certify(c)).exitCode()).isEqualTo(0);
        e = oneLineError(Cli.run("certify", "--resume", "--sigma", "0.5", "--out", c.toString()));
        assertThat(e).contains("--sigma 0.5", "recorded --sigma 0.25");
        e = oneLineError(Cli.run("attack", "--resume", "--out", c.toString()));
        assertThat(e).contains("'tikhon certify", "not 'attack'");
    }

    /** eval, verify, kernel and compare keep no run.json, but a folder with any run in it is theirs only with --force. */
    @Test
    void theShortCommandsDoNotOverwriteARunWithoutForce(@TempDir Path dir) throws IOException {
        Path t = dir.resolve("t");
        assertThat(Cli.run(train(t, "--epochs", "1")).exitCode()).isEqualTo(0);
        String metrics = Files.readString(t.resolve("metrics.json"));
        String e = oneLineError(Cli.run("verify", "--checkpoint", t.toString(), "--data", "moons", "--method", "ibp", "--images", "2", "--no-attack",
                "--threads", "1", "--out", t.toString()));
        assertThat(e).contains(t.toString(), "holds a finished run ('tikhon train", "--force");
        assertThat(Files.readString(t.resolve("metrics.json"))).isEqualTo(metrics);
        Path ev = dir.resolve("eval");
        assertThat(Cli.run("eval", "--checkpoint", t.toString(), "--threads", "1", "--out", ev.toString()).exitCode()).isEqualTo(0);
        assertThat(oneLineError(Cli.run("eval", "--checkpoint", t.toString(), "--threads", "1", "--out", ev.toString())))
                .contains("holds a 'tikhon eval' run (metrics.json)", "--force");
        Cli.Run again = Cli.run("eval", "--checkpoint", t.toString(), "--threads", "1", "--force", "--out", ev.toString());
        assertThat(again.exitCode()).as(again.err()).isEqualTo(0);
        assertThat(oneLineError(Cli.run("eval", "--checkpoint", t.toString(), "--out", ""))).contains("--out is empty");
        // bounds keeps its run like attack: run.json, refused again, --resume
        Path b = dir.resolve("b");
        String[] bounds = {"bounds", "--checkpoint", t.toString(), "--data", "moons", "--limit", "4", "--lanczos", "0", "--threads", "1", "--out", b.toString()};
        assertThat(Cli.run(bounds).exitCode()).isEqualTo(0);
        assertThat(b.resolve("run.json")).exists();
        assertThat(oneLineError(Cli.run(bounds))).contains("holds a finished run ('tikhon bounds");
        Cli.Run resumed = Cli.run("bounds", "--resume", "--out", b.toString());
        assertThat(resumed.exitCode()).as(resumed.err()).isEqualTo(0);

        Path c1 = dir.resolve("c1"), c2 = dir.resolve("c2");
        assertThat(Cli.run(certify(c1)).exitCode()).isEqualTo(0);
        assertThat(Cli.run(certify(c2, "--seed", "5")).exitCode()).isEqualTo(0);
        assertThat(oneLineError(Cli.run("compare", c1.toString(), c1.toString(), "--out", dir.resolve("cmp").toString()))).contains("given twice");
        String into = oneLineError(Cli.run("compare", c1.toString(), c2.toString(), "--out", c1.toString()));
        assertThat(into).contains("is one of the runs compared");
        assertThat(Cli.run("compare", c1.toString(), c2.toString(), "--out", dir.resolve("cmp").toString()).exitCode()).isEqualTo(0);
        assertThat(oneLineError(Cli.run("compare", c1.toString(), c2.toString(), "--out", dir.resolve("cmp").toString())))
                .contains("holds a 'tikhon compare' run", "--force");
    }

    /**
     * --resume does not bypass "a folder that holds a run is written only with --force" (audit 20b, F5): a run of another
     * command without run.json is refused like a plain run, and a --resume that fails before doing anything leaves the folder
     * as it was (no run.json relabelling it, no folder created).
     */
    @Test
    void resumeDoesNotOverwriteAnotherCommandsRunAndAFailedResumeLeavesTheFolderAsItWas(@TempDir Path dir) throws IOException {
        Path v = dir.resolve("v");
        Cli.Run verify = Cli.run("verify", "--checkpoint", base.toString(), "--data", "moons", "--method", "ibp", "--images", "2",
                "--eps", "0.05", "--no-attack", "--threads", "1", "--out", v.toString());
        assertThat(verify.exitCode()).as(verify.err()).isEqualTo(0);
        assertThat(v.resolve("run.json")).doesNotExist();
        String metrics = Files.readString(v.resolve("metrics.json"));
        String e = oneLineError(Cli.run("attack", "--resume", "--checkpoint", base.toString(), "--data", "moons", "--limit", "4",
                "--eps", "0.1", "--steps", "2", "--no-bounds", "--no-min-distance", "--threads", "1", "--out", v.toString()));
        assertThat(e).contains(v.toString(), "holds a 'tikhon verify' run (metrics.json", "--force");
        // without its options the command line is no valid attack either: still the folder's run is named first, and nothing written
        assertThat(oneLineError(Cli.run("attack", "--resume", "--out", v.toString()))).contains("holds a 'tikhon verify' run");
        assertThat(Files.readString(v.resolve("metrics.json"))).isEqualTo(metrics);
        assertThat(v.resolve("run.json")).doesNotExist();
        assertThat(v.resolve("run.lock")).doesNotExist();
        Path ev = dir.resolve("eval");
        assertThat(Cli.run("eval", "--checkpoint", base.toString(), "--threads", "1", "--out", ev.toString()).exitCode()).isEqualTo(0);
        assertThat(oneLineError(Cli.run(Cli.concat(train(ev, "--epochs", "1"), "--resume")))).contains("holds a 'tikhon eval' run", "--force");

        // a --resume into a new folder that fails on its command line leaves no folder (it had been left holding run.json)
        Path fresh = dir.resolve("fresh");
        String usage = oneLineError(Cli.run("attack", "--resume", "--out", fresh.toString()));
        assertThat(usage).contains("Missing required").doesNotContain("Error:");
        assertThat(fresh).doesNotExist();

        // a finished run whose --resume fails before doing anything keeps its run.json as it was (it had become unfinished)
        Path c = dir.resolve("c");
        assertThat(Cli.run(certify(c)).exitCode()).isEqualTo(0);
        byte[] settings = Files.readAllBytes(c.resolve("run.json"));
        assertThat(oneLineError(Cli.run("certify", "--resume", "--threads", "0", "--out", c.toString()))).contains("--threads must be");
        assertThat(Files.readAllBytes(c.resolve("run.json"))).isEqualTo(settings);
        // and so when it fails inside the command, after its settings were written
        assertThat(oneLineError(Cli.run("certify", "--resume", "--device", "tpu", "--out", c.toString()))).contains("unknown device 'tpu'");
        assertThat(Files.readAllBytes(c.resolve("run.json"))).isEqualTo(settings);
        assertThat(Cli.run("certify", "--resume", "--out", c.toString()).exitCode()).isEqualTo(0);
    }

    /** A run resumed after its model file was replaced would hold images certified by two models: refused, naming the file. */
    @Test
    void resumeRefusesAModelFileThatChanged(@TempDir Path dir) throws IOException {
        Path model = dir.resolve("model");
        assertThat(Cli.run(train(model, "--epochs", "1")).exitCode()).isEqualTo(0);
        Path c = dir.resolve("c");
        List<String> a = new ArrayList<>(List.of(certify(c)));
        a.set(a.indexOf(base.toString()), model.toString());
        assertThat(Cli.run(a.toArray(String[]::new)).exitCode()).isEqualTo(0);
        JsonNode inputs = JSON.readTree(c.resolve("run.json").toFile()).at("/inputs");
        assertThat(inputs.size()).isEqualTo(1);
        assertThat(inputs.get(model.toString()).asText()).hasSize(64);
        assertThat(Cli.run("certify", "--resume", "--out", c.toString()).exitCode()).as("unchanged: resumes").isEqualTo(0);

        Files.copy(base.resolve("checkpoint.tkn"), model.resolve("checkpoint.tkn"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        String e = oneLineError(Cli.run("certify", "--resume", "--out", c.toString()));
        assertThat(e).contains(model.toString(), "changed since the run", "mix results of two models", "--force");
        Files.delete(model.resolve("checkpoint.tkn"));
        assertThat(oneLineError(Cli.run("certify", "--resume", "--out", c.toString()))).contains("is gone since the run");
    }

    @Test
    void aRunKilledBeforeItsFirstCheckpointResumesWithItsRecordedSettingsAndItsStaleLockIsTakenOver(@TempDir Path dir) throws Exception {
        // what a run killed (SIGKILL) before its first checkpoint leaves: its settings, and the lock of a process that is gone
        Path out = Files.createDirectories(dir.resolve("t"));
        Files.writeString(out.resolve("run.json"), JSON.writeValueAsString(Map.of("command", "train", "args",
                List.of(train(out, "--epochs", "1")).subList(1, 15), "started", Instant.now().toString())));
        long dead = deadPid();
        writeLock(out, dead, "");

        Cli.Run r = Cli.run("train", "--resume", "--epochs", "1", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        assertThat(r.out()).contains("took over the stale lock", "pid " + dead);
        JsonNode m = JSON.readTree(out.resolve("metrics.json").toFile());
        assertThat(m.at("/data/name").asText()).isEqualTo("moons");
        assertThat(m.at("/config/seed").asLong()).isEqualTo(7);
        assertThat(m.at("/model/options/hidden").toString()).isEqualTo("[8]");
        assertThat(out.resolve("run.lock")).doesNotExist();
    }

    @Test
    void anUnfinishedRunIsContinuedOrReplacedOnlyWhenAsked(@TempDir Path dir) throws Exception {
        Path out = Files.createDirectories(dir.resolve("t"));
        Files.writeString(out.resolve("run.json"), JSON.writeValueAsString(Map.of("command", "train", "args",
                List.of(train(out, "--epochs", "1")).subList(1, 15), "started", "2026-01-02T03:04:05Z")));
        String e = oneLineError(Cli.run(train(out, "--epochs", "1")));
        assertThat(e).contains("holds an unfinished run", "started 2026-01-02T03:04:05Z", "--resume", "--force");
        assertThat(Cli.run(train(out, "--epochs", "1", "--force")).exitCode()).isEqualTo(0);
    }

    @Test
    void aLiveLockRefusesASecondRunNamingItsHolder(@TempDir Path dir) throws Exception {
        Path out = Files.createDirectories(dir.resolve("c"));
        ProcessHandle self = ProcessHandle.current();
        writeLock(out, self.pid(), self.info().startInstant().map(Instant::toString).orElse(""));
        String e = oneLineError(Cli.run(certify(out)));
        assertThat(e).contains("is in use by another run", "pid " + self.pid(), "'tikhon certify --other-run'", "started 2026-01-02T03:04:05Z");
        assertThat(out.resolve("run.lock")).exists();   // the holder's lock is left alone
        assertThat(out.resolve("run.json")).doesNotExist();
    }

    @Test
    void smoothResumeKeepsItsSubset(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("s");
        String[] smooth = {"smooth", "--checkpoint", base.toString(), "--subset", "64", "--kappa", "2", "--batch-size", "32",
                "--threads", "1", "--out", out.toString()};
        assertThat(Cli.run(smooth).exitCode()).isEqualTo(0);
        Cli.Run r = Cli.run("smooth", "--resume", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        assertThat(JSON.readTree(out.resolve("metrics.json").toFile()).at("/training_images").asInt()).isEqualTo(64);
        assertThat(oneLineError(Cli.run("smooth", "--resume", "--subset", "128", "--out", out.toString())))
                .contains("--subset 128", "recorded --subset 64");
    }

    private static long deadPid() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        return p.pid();
    }

    private static void writeLock(Path dir, long pid, String processStart) throws IOException {
        Files.writeString(dir.resolve("run.lock"), JSON.writeValueAsString(Map.of("pid", pid, "host", InetAddress.getLocalHost().getHostName(),
                "command", "tikhon certify --other-run", "started", "2026-01-02T03:04:05Z", "process_start", processStart)));
    }
}
