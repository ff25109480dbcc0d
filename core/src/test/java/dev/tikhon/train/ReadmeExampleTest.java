package dev.tikhon.train;

import dev.tikhon.data.DataSets;
import dev.tikhon.engine.Device;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's "from Java" example, kept compiling and working (on the sample, one epoch). */
class ReadmeExampleTest {

    @Test
    void readmeExampleRuns(@TempDir Path runs) {
        // --- as in README.md, with fashion-mnist-sample and 1 epoch to stay quick ---
        DataSets.Loaded data = DataSets.load("fashion-mnist-sample", null, System.getenv(), 0);
        ModelSpec spec = Models.spec("cnn", List.of(1L, 28L, 28L), 10, Map.of());
        TrainConfig config = TrainConfig.builder().epochs(1).lr(0.05).seed(0).build();
        Trainer trainer = new Trainer(spec, Objective.crossEntropy(), config, data.train(), null, data.test(),
                new DataInfo("fashion-mnist-sample", null, data.description()), Device.CPU, runs.resolve("cnn"), null);
        Trainer.Outcome outcome = trainer.run(false);
        System.out.println("test accuracy " + outcome.test().accuracy());
        // ---
        assertThat(outcome.test().accuracy()).isGreaterThan(0.6);
        assertThat(runs.resolve("cnn/checkpoint.tkn")).exists();
    }
}
