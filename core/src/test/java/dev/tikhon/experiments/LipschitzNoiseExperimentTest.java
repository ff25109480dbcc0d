package dev.tikhon.experiments;

import dev.tikhon.engine.Device;
import dev.tikhon.train.ObjectiveSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class LipschitzNoiseExperimentTest {

    @Test
    void sampleFlipsExactlyTheAskedFractionAndIsAPureFunctionOfTheSeed() {
        LipschitzNoiseExperiment.Sample a = LipschitzNoiseExperiment.sample(1000, 0.1, 7), b = LipschitzNoiseExperiment.sample(1000, 0.1, 7);
        int flips = 0;
        float[] x = a.x().toFloatArray();
        for (int i = 0; i < 1000; i++) {
            assertThat(a.clean()[i]).isEqualTo(LipschitzNoiseExperiment.cleanLabel(x[2 * i], x[2 * i + 1]));
            assertThat(a.noisy()[i] != a.clean()[i]).isEqualTo(a.flipped()[i]);
            if (a.flipped()[i]) flips++;
        }
        assertThat(flips).isEqualTo(100);
        assertThat(b.noisy()).containsExactly(a.noisy());
        assertThat(b.x().toFloatArray()).containsExactly(x);
    }

    @Test
    void smallRunWritesItsTablesAndResumesFromSavedRuns(@TempDir Path dir) {
        LipschitzNoiseExperiment.Settings s = new LipschitzNoiseExperiment.Settings(List.of(60, 120), 0.1, List.of(16, 16), 30, 64,
                0.01, 1, 500, List.of(120), List.of(new LipschitzNoiseExperiment.Variant("unregularized", ObjectiveSpec.plain()),
                new LipschitzNoiseExperiment.Variant("lipschitz-0.01",
                        LipschitzNoiseExperiment.lipschitz(0.01))));
        LipschitzNoiseExperiment e = new LipschitzNoiseExperiment(s, Device.CPU, dir);
        List<LipschitzNoiseExperiment.Row> rows = e.run(line -> {});
        assertThat(rows).hasSize(4);
        for (LipschitzNoiseExperiment.Row r : rows) {
            assertThat(r.cleanTestError()).isBetween(0.0, 1.0);
            assertThat(r.dataLipschitzNoisy()).as("flips bring differently labelled points closer").isGreaterThan(r.dataLipschitzClean());
            assertThat(r.modelLipschitz()).isPositive();
        }
        e.report(rows);
        assertThat(dir.resolve("results.csv")).exists();
        assertThat(dir.resolve("clean_error_vs_n.png")).exists();
        assertThat(dir.resolve("map-lipschitz-0.01-n120.png")).exists();
        List<LipschitzNoiseExperiment.Row> again = new LipschitzNoiseExperiment(s, Device.CPU, dir).run(line -> {});
        assertThat(again).isEqualTo(rows);
        // the same folder with other settings (--steps 31): its saved rows are not reused
        LipschitzNoiseExperiment.Settings other = new LipschitzNoiseExperiment.Settings(List.of(60), 0.1, List.of(16, 16), 31, 64,
                0.01, 1, 500, List.of(60), List.of(s.variants().get(0)));
        List<String> lines = new java.util.ArrayList<>();
        List<LipschitzNoiseExperiment.Row> changed = new LipschitzNoiseExperiment(other, Device.CPU, dir).run(lines::add);
        assertThat(changed.get(0)).isNotEqualTo(rows.get(0));
        assertThat(dir.resolve("runs/unregularized-n60-seed0.json")).content().contains("steps 31");
    }
}
