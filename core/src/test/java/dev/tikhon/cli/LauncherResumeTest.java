package dev.tikhon.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * certify through the real {@code ./tikhon} launcher (the JVM it execs is the process signalled): stopped by SIGTERM at a
 * random image (one line says what was kept and the command that resumes), resumed with that command and killed again by
 * SIGKILL at a later point, resumed to the end: the rows equal an uninterrupted run's. A second run started while the
 * first holds the folder is refused (exit 2, one line naming the holder). Kill points come from a seed printed with
 * every failure ({@code -Dtikhon.killSeed=S} repeats one).
 */
class LauncherResumeTest {
    private static final long SEED = Long.getLong("tikhon.killSeed", System.nanoTime());
    private static final Random RANDOM = new Random(SEED);

    @Test
    @Timeout(600)
    void certifyStoppedAndKilledThroughTheLauncherResumesToTheSameRows(@TempDir Path root) throws Exception {
        LauncherTest.layOut(root);
        Path base = root.resolve("base"), whole = root.resolve("whole"), run = root.resolve("run");
        assertThat(Cli.run("train", "--data", "moons", "--model", "mlp", "--hidden", "8", "--epochs", "1", "--seed", "2", "--threads", "1",
                "--out", base.toString()).exitCode()).isEqualTo(0);
        List<String> args = List.of("certify", "--checkpoint", base.toString(), "--method", "cohen", "--sigma", "0.25", "--images", "30",
                "--n0", "32", "--n", "4000", "--noise-batch", "1000", "--threads", "1");
        List<String> w = new ArrayList<>(args);
        w.addAll(List.of("--out", whole.toString()));
        assertThat(Cli.run(w.toArray(String[]::new)).exitCode()).isEqualTo(0);

        List<String> first = new ArrayList<>(args);
        first.addAll(List.of("--out", run.toString()));
        double stopAt = 0.1 + 0.4 * RANDOM.nextDouble();
        Process p = launch(root, first);
        CompletableFuture<String> err = drain(p);
        waitFor(p, stopAt);
        LauncherTest.Run second = LauncherTest.launchIn(root, first.toArray(String[]::new));   // while the first holds the folder
        assertThat(second.exit()).isEqualTo(2);
        assertThat(second.err().strip().lines()).singleElement().asString().startsWith("tikhon: error: ")
                .contains("is in use by another run", "pid " + p.pid(), "tikhon certify");
        p.destroy();   // SIGTERM
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String resume = "tikhon certify --resume --out " + run.toAbsolutePath();
        assertThat(err.get()).as("seed %d", SEED).containsPattern("tikhon: stopped; kept \\d+ of 30 images \\(certify.jsonl, certify.tsv\\) in ")
                .contains("resume with: " + resume);
        assertThat(run.resolve("run.lock")).doesNotExist();

        List<String> again = List.of("certify", "--resume", "--out", run.toAbsolutePath().toString());
        Process q = launch(root, again);
        drain(q);
        waitFor(q, stopAt + (1 - stopAt) * RANDOM.nextDouble());
        q.destroyForcibly();   // SIGKILL: no hook, a stale lock
        assertThat(q.waitFor(60, TimeUnit.SECONDS)).isTrue();

        LauncherTest.Run last = LauncherTest.launchIn(root, again.toArray(String[]::new));
        assertThat(last.exit()).as(last.err()).isZero();
        for (String f : List.of("certify.tsv", "certify.csv")) {
            String sep = f.endsWith(".tsv") ? "\t" : ",";
            int n = f.endsWith(".tsv") ? 5 : 6;   // idx label predict radius correct | index label prediction correct prediction_cohen radius_cohen
            assertThat(columns(run.resolve(f), sep, n)).as("seed %d: %s", SEED, f).isEqualTo(columns(whole.resolve(f), sep, n));
        }
        assertThat(run).isDirectoryNotContaining("glob:**.tmp");
    }

    private static Process launch(Path root, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(root.resolve("tikhon").toString()));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).directory(root.toFile());
        pb.environment().put("TIKHON_PROGRESS", "plain");
        Process p = pb.start();
        p.getOutputStream().close();
        return p;
    }

    private static CompletableFuture<String> drain(Process p) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    /** Reads the process's progress lines until it has done {@code at} of its images. */
    private static void waitFor(Process p, double at) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = r.readLine()) != null && KillAndResumeTest.progress(line) < at) {
            // the lines before the point
        }
        assertThat(line).as("seed %d: the run reached %.2f", SEED, at).isNotNull();
        CompletableFuture.runAsync(() -> {   // keep the pipe drained
            try {
                r.transferTo(java.io.Writer.nullWriter());
            } catch (IOException ignored) {
                // the process ended
            }
        });
    }

    /** The first {@code n} columns of each line (the rest hold times). */
    private static List<String> columns(Path file, String sep, int n) throws IOException {
        List<String> out = new ArrayList<>();
        for (String l : Files.readAllLines(file)) {
            String[] c = l.split(sep, -1);
            out.add(String.join(sep, java.util.Arrays.copyOf(c, Math.min(n, c.length))));
        }
        return out;
    }
}
