package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
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
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Oracle: an uninterrupted run. Each long command (train, smooth, flow train) is killed with SIGKILL at a random
 * point of its progress in a child JVM, continued with --resume in this one, and must end with exactly the same state (the checkpoint's tensors,
 * model and optimizer, byte for byte) and the same losses as a run that was never interrupted; same seed, one thread.
 * While the victim runs, a reader opens every checkpoint and JSON file in its folder again and again, as a later
 * command would: none may ever be torn. The kill points are drawn from a seed printed with every failure
 * ({@code -Dtikhon.killSeed=S} repeats one).
 */
class KillAndResumeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SEED = Long.getLong("tikhon.killSeed", System.nanoTime());
    private static final Random RANDOM = new Random(SEED);

    @TempDir
    static Path shared;
    static Path moons;

    @BeforeAll
    static void trainABaseModel() throws Exception {
        moons = shared.resolve("moons");
        here(command("train", "--data", "moons", "--model", "mlp", "--hidden", "16", "--epochs", "1", "--seed", "2",
                "--out", moons.toString()));
    }

    private static List<String> command(String... args) {
        // the child only runs until it is killed or stopped: C1 alone and the serial collector start it faster and leave the
        // other core to this JVM's reader (its numbers do not depend on the JIT: the resumed run must match in any case)
        List<String> c = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-Djava.awt.headless=true", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        c.addAll(List.of(args));
        c.addAll(List.of("--threads", "1"));
        return c;
    }

    private static List<String> resumed(List<String> command) {
        List<String> c = new ArrayList<>(command);
        c.add("--resume");
        return c;
    }

    private static Process start(List<String> command) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("TIKHON_PROGRESS", "plain");
        return pb.start();
    }

    /**
     * Runs {@code command} (a child's command line) in this JVM instead: the same code at one thread gives the same
     * numbers, and only the run that is killed or stopped needs a process of its own. Returns what it printed.
     */
    private static String here(List<String> command) {
        List<String> args = command.subList(command.indexOf(Main.class.getName()) + 1, command.size());
        Cli.Run r = Cli.run(args.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
        return r.out() + r.err();
    }

    /** "train mlp epoch 2/3: 95/188 (51%), …" → 2 + 0.505 − 1 = 1.505 epochs done; lines without a count → −1. */
    static double progress(String line) {
        Matcher epoch = Pattern.compile("epoch (\\d+)/\\d+: (\\d+)/(\\d+) \\(").matcher(line);
        if (epoch.find()) return Integer.parseInt(epoch.group(1)) - 1 + Double.parseDouble(epoch.group(2)) / Double.parseDouble(epoch.group(3));
        Matcher plain = Pattern.compile(": (\\d+)/(\\d+) \\(").matcher(line);
        return plain.find() ? Double.parseDouble(plain.group(1)) / Double.parseDouble(plain.group(2)) : -1;
    }

    /**
     * Starts {@code command}, kills it with SIGKILL once its progress passes {@code at} (plus a random delay of up to
     * 50 ms, so the kill can land inside a write), while a reader checks that no file in {@code dir} is ever torn.
     */
    private static void killAt(List<String> command, double at, Path dir) throws Exception {
        killAt(command, at, dir, KillAndResumeTest::progress, false);
    }

    /**
     * {@link #killAt(List, double, Path)} with the victim's progress read from its lines by {@code progressOf}; with
     * {@code csv}, every CSV file in {@code dir} is also checked whole (see {@link #readEverything(Path, List, boolean)}).
     */
    private static void killAt(List<String> command, double at, Path dir, java.util.function.ToDoubleFunction<String> progressOf,
                               boolean csv) throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        List<String> torn = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger reads = new AtomicInteger();
        Thread reader = new Thread(() -> {
            while (running.get()) reads.addAndGet(readEverything(dir, torn, csv));
        });
        Process victim = start(command);
        reader.start();
        String line, seen = "";
        try (BufferedReader r = new BufferedReader(new InputStreamReader(victim.getInputStream(), StandardCharsets.UTF_8))) {
            while ((line = r.readLine()) != null) {
                if (progressOf.applyAsDouble(line) >= 0) seen = line;
                if (progressOf.applyAsDouble(line) >= at) break;
            }
            Thread.sleep(RANDOM.nextInt(50));
            victim.destroyForcibly();   // SIGKILL: no shutdown hooks, no flushing
            assertThat(victim.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            running.set(false);
            reader.join();
        }
        assertThat(progressOf.applyAsDouble(seen)).as("seed %d: the victim reached %.2f before it was killed (last line: %s)", SEED, at, seen)
                .isGreaterThanOrEqualTo(at);
        reads.addAndGet(readEverything(dir, torn, csv));
        assertThat(reads.get()).as("files read while and after the victim ran").isPositive();
        assertThat(torn).as("seed %d: torn files read while %s ran (%d reads)", SEED, command, reads.get()).isEmpty();
    }

    /** Reads every checkpoint (every zip entry, CRC-checked) and JSON file in {@code dir} and below; returns how many. */
    static int readEverything(Path dir, List<String> torn) {
        return readEverything(dir, torn, false);
    }

    /**
     * {@link #readEverything(Path, List)}; with {@code csv} also every CSV file, which must end with a line break and have
     * as many cells in each row as in its header (a file cut short anywhere but at a row's end fails). Not for a CSV that
     * grows a row at a time by design (flow training's history).
     */
    static int readEverything(Path dir, List<String> torn, boolean csv) {
        if (!Files.isDirectory(dir)) return 0;
        int n = 0;
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                String name = f.getFileName().toString();
                try {
                    if (name.endsWith(".tkn")) {
                        try (ZipFile zip = new ZipFile(f.toFile())) {
                            for (var e : Collections.list(zip.entries())) zip.getInputStream(e).readAllBytes();
                            if (zip.getEntry("meta.json") == null || zip.getEntry("tensors.bin") == null) torn.add(f + ": incomplete");
                        }
                        n++;
                    } else if (name.endsWith(".json")) {
                        JSON.readTree(f.toFile());
                        n++;
                    } else if (csv && name.endsWith(".csv")) {
                        String text = Files.readString(f, StandardCharsets.UTF_8);
                        List<String> lines = text.lines().toList();
                        if (!text.endsWith("\n") || lines.isEmpty()) {
                            torn.add(f + ": cut short");
                        } else {
                            int cells = lines.get(0).split(",", -1).length;
                            for (String l : lines) if (l.split(",", -1).length != cells) torn.add(f + ": a row of another width: " + l);
                        }
                        n++;
                    }
                } catch (java.nio.file.NoSuchFileException | java.io.FileNotFoundException e) {
                    // replaced or removed between the listing and the read: not a torn file
                } catch (IOException e) {
                    torn.add(f + ": " + e);
                }
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            // the directory changed while it was listed: try again
        }
        return n;
    }

    /** The tensors (model and optimizer state) of a checkpoint, as bytes. */
    static byte[] tensors(Path checkpoint) throws IOException {
        try (ZipFile zip = new ZipFile(checkpoint.toFile())) {
            return zip.getInputStream(zip.getEntry("tensors.bin")).readAllBytes();
        }
    }

    /** Every history column but the timings, which differ from run to run. */
    private static List<List<String>> withoutTimings(Path csv) throws IOException {
        List<List<String>> out = new ArrayList<>();
        List<String> header = null;
        for (String l : Files.readAllLines(csv)) {
            List<String> cells = List.of(l.split(","));
            if (header == null) header = cells;
            List<String> kept = new ArrayList<>();
            for (int i = 0; i < cells.size(); i++) if (!header.get(i).contains("second")) kept.add(cells.get(i));   // seconds, steps_per_second, clock_seconds
            out.add(kept);
        }
        return out;
    }

    private static void assertSameEnd(Path whole, Path killed, String checkpoint) throws IOException {
        assertThat(tensors(killed.resolve(checkpoint))).as("seed %d: the resumed run's model and optimizer state", SEED)
                .isEqualTo(tensors(whole.resolve(checkpoint)));
        assertThat(withoutTimings(killed.resolve("history.csv"))).as("seed %d: history", SEED).isEqualTo(withoutTimings(whole.resolve("history.csv")));
        assertThat(killed).isDirectoryNotContaining("glob:**.tmp");
    }

    @Test
    @Timeout(600)
    void trainKilledAtARandomPointThenResumedMatchesUninterrupted(@TempDir Path dir) throws Exception {
        Path whole = dir.resolve("whole"), killed = dir.resolve("killed");
        String[] args = {"train", "--data", "fashion-mnist-sample", "--model", "mlp", "--hidden", "64", "--epochs", "3",
                "--batch-size", "32", "--checkpoint-every", "20", "--seed", "17"};
        List<String> w = command(Cli.concat(args, "--out", whole.toString())), k = command(Cli.concat(args, "--out", killed.toString()));
        here(w);
        killAt(k, 0.3 + 2.2 * RANDOM.nextDouble(), killed);   // anywhere from the first epoch's end to late in the third
        assertThat(killed.resolve("checkpoint.tkn")).exists();
        String output = here(resumed(k));
        assertThat(output).contains("resume: ");

        JsonNode a = JSON.readTree(whole.resolve("metrics.json").toFile()), b = JSON.readTree(killed.resolve("metrics.json").toFile());
        for (String m : List.of("/final/test_acc", "/final/test_loss", "/final/train_loss")) {
            assertThat(b.at(m).asDouble()).as("seed %d: %s", SEED, m).isEqualTo(a.at(m).asDouble());
        }
        assertThat(b.at("/resumed").asBoolean()).isTrue();
        assertSameEnd(whole, killed, "checkpoint.tkn");
    }

    /**
     * SIGTERM (Ctrl-C, {@code kill}) in the middle of an epoch, with no --checkpoint-every: training stops between two
     * steps after a checkpoint of the step it reached, so the resumed run loses nothing and ends like an uninterrupted one.
     */
    @Test
    @Timeout(600)
    void trainStoppedBySigtermKeepsTheStepItReachedAndResumesToTheSameEnd(@TempDir Path dir) throws Exception {
        Path whole = dir.resolve("whole"), stopped = dir.resolve("stopped");
        // an MLP of two 1024-wide layers: a quarter of the small CNN's time an epoch (one thread, 188 steps: 10 s against 42 s
        // on a loaded 2-core VM), still far longer than a signal takes to land, so it lands well inside the epoch
        String[] args = {"train", "--data", "fashion-mnist-sample", "--model", "mlp", "--hidden", "1024,1024", "--epochs", "1",
                "--batch-size", "32", "--seed", "23"};
        List<String> w = command(Cli.concat(args, "--out", whole.toString())), k = command(Cli.concat(args, "--out", stopped.toString()));
        here(w);
        String output = stopAt(k, 0.1 + 0.5 * RANDOM.nextDouble());   // inside the epoch, far from its checkpoint at the end
        assertThat(output).as("seed %d", SEED).contains("tikhon: stopped; kept the last checkpoint (checkpoint.tkn)");
        JsonNode meta = meta(stopped.resolve("checkpoint.tkn"));
        assertThat(meta.at("/meta/epoch").isInt()).as("%s", meta).isTrue();
        assertThat(meta.at("/meta/epoch").asInt()).as("seed %d: %s", SEED, meta).isZero();
        assertThat(meta.at("/meta/batch").asInt()).as("seed %d: the step it reached, mid-epoch", SEED).isPositive();

        String resumed = here(resumed(k));
        assertThat(resumed).contains("resume: ", "batch " + meta.at("/meta/batch").asInt());
        JsonNode a = JSON.readTree(whole.resolve("metrics.json").toFile()), b = JSON.readTree(stopped.resolve("metrics.json").toFile());
        for (String m : List.of("/final/test_acc", "/final/test_loss", "/final/train_loss")) {
            assertThat(b.at(m).asDouble()).as("seed %d: %s", SEED, m).isEqualTo(a.at(m).asDouble());
        }
        assertSameEnd(whole, stopped, "checkpoint.tkn");
    }

    /** Starts {@code command}, sends it SIGTERM once its progress passes {@code at}, and returns all it printed. */
    private static String stopAt(List<String> command, double at) throws Exception {
        Process victim = start(command);
        StringBuilder output = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(victim.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                output.append(line).append('\n');
                if (progress(line) >= at) break;
            }
            assertThat(new ProcessBuilder("kill", "-TERM", Long.toString(victim.pid())).start().waitFor()).isZero();
            while ((line = r.readLine()) != null) output.append(line).append('\n');
        }
        assertThat(victim.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(victim.exitValue()).as("seed %d: %s", SEED, output).isEqualTo(143);
        return output.toString();
    }

    private static JsonNode meta(Path checkpoint) throws IOException {
        try (ZipFile zip = new ZipFile(checkpoint.toFile())) {
            return JSON.readTree(zip.getInputStream(zip.getEntry("meta.json")));
        }
    }

    /** The flow-training form of {@link #trainStoppedBySigtermKeepsTheStepItReachedAndResumesToTheSameEnd}. */
    @Test
    @Timeout(600)
    void flowTrainStoppedBySigtermKeepsTheIterationItReachedAndResumesToTheSameEnd(@TempDir Path dir) throws Exception {
        Path whole = dir.resolve("whole"), stopped = dir.resolve("stopped");
        String[] args = {"flow", "train", "--data", "8gaussians", "--hidden", "32,32", "--iterations", "60", "--batch-size", "256",
                "--held-out", "200", "--grid", "10", "--seed", "6"};   // --grid 10: density.png of 10 × 10 cells, not 100 × 100 (none is read)
        List<String> w = command(Cli.concat(args, "--out", whole.toString())), k = command(Cli.concat(args, "--out", stopped.toString()));
        here(w);
        String output = stopAt(k, 0.2 + 0.5 * RANDOM.nextDouble());
        assertThat(output).as("seed %d", SEED).contains("tikhon: stopped; kept the last checkpoint (flow-checkpoint.tkn)");
        int iteration = meta(stopped.resolve("flow-checkpoint.tkn")).at("/meta/iteration").asInt();
        assertThat(iteration).as("seed %d: the iteration it reached", SEED).isBetween(1, 59);
        here(resumed(k));
        JsonNode a = JSON.readTree(whole.resolve("metrics.json").toFile()), b = JSON.readTree(stopped.resolve("metrics.json").toFile());
        assertThat(b.at("/held_out/nll").asDouble()).as("seed %d", SEED).isEqualTo(a.at("/held_out/nll").asDouble());
        assertSameEnd(whole, stopped, "flow-checkpoint.tkn");
    }

    @Test
    @Timeout(600)
    void smoothKilledAtARandomPointThenResumedMatchesUninterrupted(@TempDir Path dir) throws Exception {
        Path whole = dir.resolve("whole"), killed = dir.resolve("killed");
        String[] args = {"smooth", "--checkpoint", moons.toString(), "--subset", "640", "--kappa", "2", "--batch-size", "32",
                "--epochs", "3", "--checkpoint-every", "3", "--seed", "5"};
        List<String> w = command(Cli.concat(args, "--out", whole.toString())), k = command(Cli.concat(args, "--out", killed.toString()));
        here(w);
        killAt(k, 0.3 + 2.2 * RANDOM.nextDouble(), killed);
        here(resumed(k));
        JsonNode a = JSON.readTree(whole.resolve("metrics.json").toFile()), b = JSON.readTree(killed.resolve("metrics.json").toFile());
        assertThat(b.at("/test_accuracy_after").asDouble()).as("seed %d", SEED).isEqualTo(a.at("/test_accuracy_after").asDouble());
        assertSameEnd(whole, killed, "checkpoint.tkn");
    }

    @Test
    @Timeout(600)
    void flowTrainKilledAtARandomPointThenResumedMatchesUninterrupted(@TempDir Path dir) throws Exception {
        Path whole = dir.resolve("whole"), killed = dir.resolve("killed");
        String[] args = {"flow", "train", "--data", "8gaussians", "--hidden", "16,16", "--iterations", "40", "--batch-size", "64",
                "--held-out", "200", "--checkpoint-every", "3", "--grid", "10", "--seed", "4"};
        List<String> w = command(Cli.concat(args, "--out", whole.toString())), k = command(Cli.concat(args, "--out", killed.toString()));
        here(w);
        killAt(k, 0.15 + 0.7 * RANDOM.nextDouble(), killed);
        here(resumed(k));
        JsonNode a = JSON.readTree(whole.resolve("metrics.json").toFile()), b = JSON.readTree(killed.resolve("metrics.json").toFile());
        assertThat(b.at("/held_out/nll").asDouble()).as("seed %d", SEED).isEqualTo(a.at("/held_out/nll").asDouble());
        assertSameEnd(whole, killed, "flow-checkpoint.tkn");
    }

    /**
     * reproduce farkas is resumed by running the same command again: each variant is its own run folder (checkpoint at
     * each epoch's end, steps.csv of every step's loss, truncated back to where a resumed variant restarts). Killed
     * anywhere from the first variant's second epoch to the end of the second variant, the rerun must end with the same
     * checkpoints, per-step losses, histories and results table as an uninterrupted experiment.
     */
    @Test
    @Timeout(600)
    void reproduceKilledAtARandomPointThenRerunMatchesUninterrupted(@TempDir Path dir) throws Exception {
        Path whole = dir.resolve("whole"), killed = dir.resolve("killed");
        List<String> variants = List.of("farkas-8", "plain-bn-8");
        String[] args = {"reproduce", "farkas", "--data", "fashion-mnist-sample", "--depths", "8", "--variants", String.join(",", variants),
                "--train-size", "320", "--test-size", "50", "--width", "2", "--epochs", "2", "--seed", "3"};
        List<String> w = command(Cli.concat(args, "--out", whole.toString())), k = command(Cli.concat(args, "--out", killed.toString()));
        here(w);
        // progress through the experiment in epochs: variant i's epoch e, batch b of n → 2i + e − 1 + b/n
        java.util.function.ToDoubleFunction<String> progressOf = line -> {
            Matcher m = Pattern.compile("^(\\S+) epoch (\\d+)/\\d+: (\\d+)/(\\d+) \\(").matcher(line);
            if (!m.find() || !variants.contains(m.group(1))) return -1;
            return 2 * variants.indexOf(m.group(1)) + Integer.parseInt(m.group(2)) - 1 + Double.parseDouble(m.group(3)) / Double.parseDouble(m.group(4));
        };
        killAt(k, 1.1 + 2.85 * RANDOM.nextDouble(), killed, progressOf, true);
        assertThat(killed.resolve("farkas-8").resolve("checkpoint.tkn")).exists();
        here(k);

        for (String v : variants) {
            Path a = whole.resolve(v), b = killed.resolve(v);
            assertSameEnd(a, b, "checkpoint.tkn");
            assertThat(withoutTimings(b.resolve("steps.csv"))).as("seed %d: %s's loss at every step", SEED, v)
                    .isEqualTo(withoutTimings(a.resolve("steps.csv")));
        }
        assertThat(withoutTimings(killed.resolve("results.csv"))).as("seed %d: results.csv", SEED).isEqualTo(withoutTimings(whole.resolve("results.csv")));
        JsonNode a = JSON.readTree(whole.resolve("metrics.json").toFile()), b = JSON.readTree(killed.resolve("metrics.json").toFile());
        for (String v : variants) {
            assertThat(b.at("/variants/" + v + "/test_acc").isNumber()).as("metrics.json names %s", v).isTrue();
            assertThat(b.at("/variants/" + v + "/test_loss").asDouble()).as("seed %d: %s", SEED, v).isEqualTo(a.at("/variants/" + v + "/test_loss").asDouble());
        }
        assertThat(killed).isDirectoryNotContaining("glob:**.tmp");
    }

    /** certify --method cohen, killed at a random image, resumed: the same rows as an uninterrupted run. */
    @Test
    @Timeout(600)
    void certifyCohenKilledAtARandomImageThenResumedMatchesUninterrupted(@TempDir Path dir) throws Exception {
        killAndResumeRows(dir, new String[]{"certify", "--checkpoint", moons.toString(), "--method", "cohen", "--sigma", "0.25",
                "--images", "40", "--n0", "32", "--n", "4000", "--noise-batch", "1000", "--seed", "3"}, "certify.tsv", "certify.csv");
    }

    /** certify --method heat (a Monte Carlo certificate and two single-pass radii per image), killed and resumed. */
    @Test
    @Timeout(600)
    void certifyHeatKilledAtARandomImageThenResumedMatchesUninterrupted(@TempDir Path dir) throws Exception {
        Path heat = dir.resolve("heat");
        assertThat(Cli.run("smooth", "--checkpoint", moons.toString(), "--subset", "256", "--kappa", "2", "--batch-size", "64",
                "--seed", "1", "--threads", "1", "--out", heat.toString()).exitCode()).isZero();
        killAndResumeRows(dir, new String[]{"certify", "--checkpoint", heat.toString(), "--method", "heat", "--images", "40",
                "--n0", "32", "--n", "4000", "--noise-batch", "1000", "--seed", "4"}, "certify.tsv", "certify.csv");
    }

    /** attack (PGD, batches of 10), killed at a random batch, resumed: the same per-image rows and summary. */
    @Test
    @Timeout(600)
    void attackKilledAtARandomBatchThenResumedMatchesUninterrupted(@TempDir Path dir) throws Exception {
        killAndResumeRows(dir, new String[]{"attack", "--checkpoint", moons.toString(), "--attack", "pgd", "--norm", "l2", "--eps", "0.1,0.3",
                "--steps", "20", "--restarts", "2", "--limit", "160", "--batch-size", "10", "--seed", "6"}, "per_image.csv", "robustbench.json");
    }

    /**
     * Runs {@code args} whole (in this JVM), then again in a child JVM killed (SIGKILL) once its progress passes a random
     * point, and resumes it (in this JVM) with {@code --resume --out} alone (the settings come from the run's folder); the
     * files {@code compared} must be equal but for their time columns. The same code runs in and out of this JVM, at one
     * thread, so the numbers are the same; only the killed run needs a process of its own.
     */
    private static void killAndResumeRows(Path dir, String[] args, String... compared) throws Exception {
        Path whole = dir.resolve("whole"), killed = dir.resolve("killed");
        Cli.Run w = Cli.run(Cli.concat(args, "--out", whole.toString(), "--threads", "1"));
        assertThat(w.exitCode()).as(w.err()).isZero();
        double at = 0.1 + 0.8 * RANDOM.nextDouble();
        killAt(command(Cli.concat(args, "--out", killed.toString())), at, killed);
        assertThat(killed.resolve("run.json")).exists();
        JsonNode settings = JSON.readTree(killed.resolve("run.json").toFile());
        Cli.Run resumed = Cli.run(args[0], "--resume", "--out", killed.toString());
        assertThat(resumed.exitCode()).as(resumed.err()).isZero();
        String output = resumed.out();
        if (settings.at("/finished").isNull() && Files.exists(killed.resolve("certify.jsonl"))
                && Files.readAllLines(killed.resolve("certify.jsonl")).size() > 0) {
            assertThat(output).contains("resume: ");
        }
        for (String f : compared) {
            assertThat(withoutTimes(killed.resolve(f))).as("seed %d, killed at %.2f: %s", SEED, at, f).isEqualTo(withoutTimes(whole.resolve(f)));
        }
        assertThat(killed).isDirectoryNotContaining("glob:**.tmp");
        assertThat(killed.resolve("run.lock")).doesNotExist();
    }

    /** The lines of a CSV, TSV or JSON file with every column or field about time taken out. */
    private static List<String> withoutTimes(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file);
        if (file.toString().endsWith(".json")) return lines;
        String sep = file.toString().endsWith(".tsv") ? "\t" : ",";
        List<String> header = List.of(lines.get(0).split(sep, -1));
        List<String> out = new ArrayList<>();
        for (String l : lines) {
            String[] cells = l.split(sep, -1);
            StringBuilder kept = new StringBuilder();
            for (int i = 0; i < cells.length; i++) {
                String h = header.get(i);
                if (!h.equals("time") && !h.endsWith("_ms")) kept.append(cells[i]).append('|');
            }
            out.add(kept.toString());
        }
        return out;
    }

    @Test
    void progressReadsEpochsAndPlainCounts() {
        assertThat(progress("train mlp epoch 2/3: 95/190 (50%), 3/s")).isEqualTo(1.5);
        assertThat(progress("flow 8gaussians: 10/40 (25%), 3/s")).isEqualTo(0.25);
        assertThat(progress("smooth epoch 1/3: started, 20 to do")).isEqualTo(-1);
    }
}
