package dev.tikhon.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SIGTERM (what Ctrl-C and {@code kill} send) in the middle of libtorch work ends the run cleanly: one line saying what
 * was kept and how to resume, never a native crash. Before the engine's shutdown hook waited for the step under way,
 * a CROWN-IBP training step on two threads stopped this way crashed the JVM in 3 of 6 tries (SIGSEGV in libtorch, an
 * {@code hs_err} file in the working directory), because the C library's exit destroyed libtorch's static state under
 * it. A CROWN-IBP step of the small CNN lasts seconds, so a signal almost always lands inside native code. Two tries run
 * at once, each in its own folder; the delay after each one's epoch started comes from a seed printed with every failure
 * ({@code -Dtikhon.killSeed=S} repeats one).
 */
class LauncherStopTest {
    private static final long SEED = Long.getLong("tikhon.killSeed", System.nanoTime());
    private static final Random RANDOM = new Random(SEED);

    @Test
    @Timeout(300)
    void sigtermDuringANativeStepStopsCleanly(@TempDir Path root) throws Exception {
        LauncherTest.layOut(root);
        // two tries, at once (each start-up, loading libtorch, is mostly one core's work): each is stopped at its own delay
        List<java.util.concurrent.FutureTask<Void>> tries = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Path run = root.resolve("run" + i);
            int delayMs = 500 + RANDOM.nextInt(2500);
            java.util.concurrent.FutureTask<Void> t = new java.util.concurrent.FutureTask<>(() -> {
                stopOnce(root, run, delayMs);
                return null;
            });
            new Thread(t, "try " + i).start();
            tries.add(t);
        }
        for (java.util.concurrent.FutureTask<Void> t : tries) {
            try {
                t.get();
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof Exception x) throw x;
                if (e.getCause() instanceof Error x) throw x;
                throw e;
            }
        }
        assertThat(root).isDirectoryNotContaining("glob:**hs_err*");
    }

    /** Starts a CROWN-IBP training through the launcher, sends it SIGTERM {@code delayMs} after its epoch started, checks the stop. */
    private static void stopOnce(Path root, Path run, int delayMs) throws Exception {
        LauncherResumeTest.Launched p = LauncherResumeTest.launch(root, List.of("train", "--model", "cnn", "--reg", "crown-ibp",
                "--eps", "0.1", "--eps-warmup", "0", "--eps-ramp", "1", "--epochs", "1", "--data", "fashion-mnist-sample",
                "--batch-size", "64", "--threads", "2", "--out", run.toString()));
        while (!p.output().toString().contains("started, ")) {
            assertThat(p.process().isAlive()).as("seed %d: %s", SEED, p.output()).isTrue();
            Thread.sleep(20);
        }
        Thread.sleep(delayMs);
        assertThat(p.process().isAlive()).as("seed %d: still training", SEED).isTrue();
        assertThat(new ProcessBuilder("kill", "-TERM", Long.toString(p.process().pid())).start().waitFor()).isZero();
        String out = p.finish();
        assertThat(out).as("seed %d", SEED).doesNotContain("fatal error", "SIGSEGV")
                .contains("tikhon: stopped; kept ", "resume with: tikhon train --resume --out " + run.toAbsolutePath());
        assertThat(p.process().exitValue()).as("seed %d: killed by SIGTERM, not aborted", SEED).isEqualTo(143);
        assertThat(root).isDirectoryNotContaining("glob:**hs_err*");
        assertThat(run.resolve("run.lock")).doesNotExist();
    }
}
