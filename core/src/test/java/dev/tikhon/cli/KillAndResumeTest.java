package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Oracle: an uninterrupted run. A training process killed with SIGKILL in the middle of an epoch
 * and continued with --resume ends with exactly the same test accuracy and loss, same seed, one thread.
 */
class KillAndResumeTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static List<String> command(Path out, boolean resume) {
        List<String> c = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.awt.headless=true", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "train", "--data", "fashion-mnist-sample", "--model", "mlp", "--hidden", "512,512", "--epochs", "3",
                "--batch-size", "32", "--checkpoint-every", "20", "--seed", "17", "--threads", "1", "--out", out.toString()));
        if (resume) c.add("--resume");
        return c;
    }

    private static Process start(List<String> command) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("TIKHON_PROGRESS", "plain");
        return pb.start();
    }

    private static int finish(Process p) throws Exception {
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isEqualTo(0);
        return p.exitValue();
    }

    /** "train mlp epoch 2/3: 95/188 (51%), …" → 0.505 */
    private static double progress(String line) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(": (\\d+)/(\\d+) \\(").matcher(line);
        return m.find() ? Double.parseDouble(m.group(1)) / Double.parseDouble(m.group(2)) : 0;
    }

    /** Every history column but the timings, which differ from run to run. */
    private static List<List<String>> lossAndAccuracyColumns(Path csv) throws IOException {
        List<List<String>> out = new ArrayList<>();
        List<String> header = null;
        for (String l : Files.readAllLines(csv)) {
            List<String> cells = List.of(l.split(","));
            if (header == null) header = cells;
            List<String> kept = new ArrayList<>();
            for (int i = 0; i < cells.size(); i++) {
                if (!header.get(i).equals("seconds") && !header.get(i).equals("steps_per_second")) kept.add(cells.get(i));
            }
            out.add(kept);
        }
        return out;
    }

    @Test
    @Timeout(600)
    void killedMidEpochThenResumedMatchesUninterrupted(@TempDir Path dir) throws Exception {
        Path whole = dir.resolve("whole"), killed = dir.resolve("killed");
        finish(start(command(whole, false)));

        Process victim = start(command(killed, false));
        String line, seen = "";
        try (BufferedReader r = new BufferedReader(new InputStreamReader(victim.getInputStream(), StandardCharsets.UTF_8))) {
            while ((line = r.readLine()) != null) {
                seen = line;
                if (line.contains("epoch 2/3:") && progress(line) >= 0.5) break;   // half way through the second epoch
            }
            victim.destroyForcibly();   // SIGKILL: no shutdown hooks, no flushing
            assertThat(victim.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(seen).as("the victim reached the middle of epoch 2").contains("epoch 2/3:");
        assertThat(killed.resolve("checkpoint.tkn")).exists();
        assertThat(Files.list(killed).map(Path::getFileName).map(Path::toString)).noneMatch(n -> n.endsWith(".tmp") && n.startsWith("checkpoint"));

        Process resumed = start(command(killed, true));
        String output = new String(resumed.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(resumed.waitFor(300, TimeUnit.SECONDS)).isTrue();
        assertThat(resumed.exitValue()).as(output).isEqualTo(0);
        assertThat(output).contains("resume: ").contains("epoch 2, batch");

        JsonNode a = JSON.readTree(whole.resolve("metrics.json").toFile());
        JsonNode b = JSON.readTree(killed.resolve("metrics.json").toFile());
        assertThat(b.at("/final/test_acc").asDouble()).isEqualTo(a.at("/final/test_acc").asDouble());
        assertThat(b.at("/final/test_loss").asDouble()).isEqualTo(a.at("/final/test_loss").asDouble());
        assertThat(b.at("/final/train_loss").asDouble()).isEqualTo(a.at("/final/train_loss").asDouble());
        assertThat(b.at("/resumed").asBoolean()).isTrue();
        List<List<String>> ha = lossAndAccuracyColumns(whole.resolve("history.csv")), hb = lossAndAccuracyColumns(killed.resolve("history.csv"));
        assertThat(hb).hasSize(4).isEqualTo(ha);
    }
}
