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
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * certify through the real {@code ./tikhon} launcher (the JVM it execs is the process signalled): stopped by SIGTERM at a
 * random image (one line says what was kept and the command that resumes), resumed with that command and killed again by
 * SIGKILL at a later point (leaving a stale lock), resumed to the end: the rows equal an uninterrupted run's. A second run started while the
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
                "--n0", "32", "--n", "20000", "--noise-batch", "2000", "--threads", "1");
        List<String> w = new ArrayList<>(args);
        w.addAll(List.of("--out", whole.toString()));
        assertThat(Cli.run(w.toArray(String[]::new)).exitCode()).isEqualTo(0);

        List<String> first = new ArrayList<>(args);
        first.addAll(List.of("--out", run.toString()));
        double stopAt = 0.1 + 0.4 * RANDOM.nextDouble();
        Launched p = launch(root, first);
        waitFor(p, stopAt);
        Cli.Run second = Cli.run(first.toArray(String[]::new));   // while the first holds the folder
        assertThat(second.exitCode()).isEqualTo(2);
        assertThat(second.err().strip().lines()).singleElement().asString().startsWith("tikhon: error: ")
                .contains("is in use by another run", "pid " + p.process().pid(), "tikhon certify");
        // SIGTERM by kill(1): Process.destroy would also close this end of the pipes, and the run's last line would be lost
        assertThat(new ProcessBuilder("kill", "-TERM", Long.toString(p.process().pid())).start().waitFor()).isZero();
        String resume = "tikhon certify --resume --out " + run.toAbsolutePath();
        assertThat(p.finish()).as("seed %d", SEED).containsPattern("tikhon: stopped; kept \\d+ of 30 images \\(certify.jsonl, certify.tsv\\) in ")
                .contains("resume with: " + resume);
        assertThat(run.resolve("run.lock")).doesNotExist();

        List<String> again = List.of("certify", "--resume", "--out", run.toAbsolutePath().toString());
        Launched q = launch(root, again);
        waitFor(q, stopAt + (0.9 - stopAt) * RANDOM.nextDouble());   // not at the last image: the run could end before the kill
        q.process().destroyForcibly();   // SIGKILL: no hook, a stale lock
        q.finish();

        Cli.Run last = Cli.run(again.toArray(String[]::new));   // the same code as the launcher's, in this JVM (one JVM start less)
        assertThat(last.exitCode()).as(last.err()).isZero();
        assertThat(last.out()).contains("note:   took over the stale lock");
        for (String f : List.of("certify.tsv", "certify.csv")) {
            String sep = f.endsWith(".tsv") ? "\t" : ",";
            int n = f.endsWith(".tsv") ? 5 : 6;   // idx label predict radius correct | index label prediction correct prediction_cohen radius_cohen
            assertThat(columns(run.resolve(f), sep, n)).as("seed %d: %s", SEED, f).isEqualTo(columns(whole.resolve(f), sep, n));
        }
        assertThat(run).isDirectoryNotContaining("glob:**.tmp");
    }

    /** A launched process with its output (stdout and stderr together, as a person would see it) read as it comes. */
    record Launched(Process process, StringBuffer output, java.util.concurrent.atomic.AtomicReference<Double> progress, Thread reader) {
        String finish() throws Exception {
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            reader.join(60_000);   // to the end of the output
            return output.toString();
        }
    }

    static Launched launch(Path root, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(root.resolve("tikhon").toString()));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).directory(root.toFile()).redirectErrorStream(true);
        pb.environment().put("TIKHON_PROGRESS", "plain");
        Process p = pb.start();
        p.getOutputStream().close();
        StringBuffer output = new StringBuffer();
        java.util.concurrent.atomic.AtomicReference<Double> progress = new java.util.concurrent.atomic.AtomicReference<>(-1.0);
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    output.append(line).append('\n');
                    progress.accumulateAndGet(KillAndResumeTest.progress(line), Math::max);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        });
        reader.setDaemon(true);
        reader.start();
        return new Launched(p, output, progress, reader);
    }

    /** Waits until the process has done {@code at} of its images. */
    private static void waitFor(Launched l, double at) throws Exception {
        while (l.progress().get() < at) {
            if (!l.process().isAlive()) {
                throw new AssertionError("seed " + SEED + ": the run ended (exit " + l.process().exitValue() + ") before " + at + ": " + l.output());
            }
            Thread.sleep(20);
        }
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
