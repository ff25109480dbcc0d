package dev.tikhon.train;

import dev.tikhon.data.DataSets;
import dev.tikhon.engine.Device;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Oracle: resident memory stays flat. Native tensors are invisible to the Java GC, so a missing
 * scope anywhere on the training path shows up as steady growth of the process's resident set.
 * Runs the real trainer (checkpoints, history and plots included) for 5,000 steps after a warm-up, in long epochs
 * (500 steps each) so that the time goes to steps rather than to writing plots.
 */
public class MemoryTest {

    @Test
    void residentMemoryIsFlatOver5000TrainingSteps(@TempDir Path out) {
        DataSets.Loaded moons = DataSets.load("moons", null, Map.of(), DataSets.Options.seeded(1).withToySizes(8000, 200));
        ModelSpec spec = Models.spec("mlp", List.of(2L), 2, Map.of("hidden", List.of(64, 64)));
        TrainConfig config = new TrainConfig(Integer.getInteger("memtest.epochs", 19), 16, "adam", 1e-3, 0, false, 0, false, "constant", List.of(), 0.1, 0,
                5, 0, 0, 200);
        List<Long> rss = new ArrayList<>();
        List<Integer> steps = new ArrayList<>();
        Trainer.Listener sampler = new Trainer.Listener() {
            int step;

            @Override public void onStep(int epoch, int batch, double loss, double acc, double lr) {
                step++;
            }

            @Override public void onEpochEnd(Map<String, Object> row) {
                System.gc();   // so that Java garbage does not mask or mimic native growth
                rss.add(residentKb());
                steps.add(step);
            }
        };
        new Trainer(spec, Objective.crossEntropy(), config, moons.train(), null, moons.test(),
                new DataInfo("moons", null, ""), Device.CPU, out, sampler).run(false);

        int total = steps.get(steps.size() - 1);
        // Warm-up: the JIT, glibc's malloc arenas and the heap settle during the first few thousand steps
        // (seen: steps of +10–20 MB up to ~3,500 steps, then a plateau).
        int warmup = 4000;
        assertThat(total - warmup).isGreaterThanOrEqualTo(5000);
        List<Long> afterWarmup = new ArrayList<>();
        for (int i = 0; i < rss.size(); i++) if (steps.get(i) > warmup) afterWarmup.add(rss.get(i));
        long min = afterWarmup.stream().mapToLong(Long::longValue).min().orElseThrow();
        long max = afterWarmup.stream().mapToLong(Long::longValue).max().orElseThrow();
        System.out.println("RSS samples (KB): " + rss + " at steps " + steps);
        System.out.printf("RSS after warm-up over %d steps: min %d KB, max %d KB (%.1f%%)%n", total - warmup, min, max,
                100.0 * (max - min) / min);
        assertThat((double) max / min).as("RSS samples %s", afterWarmup).isLessThanOrEqualTo(1.10);
        // and no trend: the last samples are not above the early ones
        long early = afterWarmup.get(0), late = afterWarmup.get(afterWarmup.size() - 1);
        assertThat((double) late / early).isLessThanOrEqualTo(1.05);
    }

    /** The process's resident set size (VmRSS), in KB. */
    public static long residentKb() {
        return statusKb("VmRSS");
    }

    /** A field of /proc/self/status given in KB (VmRSS, VmHWM: the peak resident set), in KB. */
    public static long statusKb(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalStateException("no " + field + " in /proc/self/status");
    }
}
