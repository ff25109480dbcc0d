package dev.tikhon.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.certify.RandomizedSmoothing;
import dev.tikhon.data.DataSets;
import dev.tikhon.engine.Device;
import dev.tikhon.nn.models.ModelSpec;
import dev.tikhon.nn.models.Models;
import dev.tikhon.regularize.NoiseAugmentation;
import dev.tikhon.train.DataInfo;
import dev.tikhon.train.ObjectiveSpec;
import dev.tikhon.train.TrainConfig;
import dev.tikhon.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The library and the command line share one source for each default and for what a model was trained with. */
class CliLibraryTest {
    private static final ModelSpec MLP = Models.spec("mlp", List.of(1L, 28L, 28L), 10, Map.of("hidden", List.of(16)));

    @Test
    void aNoiseTrainedCheckpointWrittenFromJavaIsCertifiedWithItsSigma(@TempDir Path dir) throws IOException {
        DataSets.Loaded data = DataSets.load(DataSets.SAMPLE_NAME, null, Map.of(), 0);
        ObjectiveSpec noise = new ObjectiveSpec("noise", 0, 0, "l2", false, 0, 0, 0.25, 0, 0, 0, false);
        TrainConfig plain = TrainConfig.builder().epochs(1).batchSize(64).build();
        // the objective and the config may not disagree: the checkpoint would say "none" and certify would refuse it
        assertThatThrownBy(() -> Trainer.builder(MLP, plain).objective(new NoiseAugmentation(0.25)).train(data.train()).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is not the one its TrainConfig names");

        // the config alone names it, and the trainer builds it
        Path run = dir.resolve("run");
        TrainConfig config = TrainConfig.builder().epochs(1).batchSize(64).objective(noise).build();
        Trainer.builder(MLP, config).train(data.train().head(256))
                .data(new DataInfo(DataSets.SAMPLE_NAME, null, data.description())).device(Device.CPU).out(run).build().run(false);
        Cli.Run c = Cli.run("certify", "--checkpoint", run.toString(), "--method", "cohen", "--images", "2", "--n0", "10",
                "--n", "20", "--noise-batch", "10", "--threads", "1", "--out", dir.resolve("cert").toString());
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(new ObjectMapper().readTree(dir.resolve("cert/metrics.json").toFile()).at("/sigma").asDouble()).isEqualTo(0.25);
        // given explicitly and agreeing, it is accepted too
        Trainer.builder(MLP, config).objective(new NoiseAugmentation(0.25)).train(data.train()).build();
    }

    @Test
    void randomizedSmoothingDefaultsAreTheCommandLines() {
        CommandLine.Model.CommandSpec certify = new CommandLine(new CertifyCommand()).getCommandSpec();
        RandomizedSmoothing.Config d = RandomizedSmoothing.Config.defaults(0.25);
        assertThat(certify.findOption("--noise-batch").defaultValue()).isEqualTo(String.valueOf(d.batchSize())).isEqualTo("200");
        assertThat(certify.findOption("--n0").defaultValue()).isEqualTo(String.valueOf(d.n0()));
        assertThat(certify.findOption("--n").defaultValue()).isEqualTo(String.valueOf(d.n()));
        assertThat(Double.parseDouble(certify.findOption("--alpha").defaultValue())).isEqualTo(d.alpha());
    }
}
