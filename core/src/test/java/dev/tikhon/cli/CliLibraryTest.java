package dev.tikhon.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.certify.RandomizedSmoothing;
import dev.tikhon.data.DataSets;
import dev.tikhon.engine.Device;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import dev.tikhon.regularize.NoiseAugmentation;
import dev.tikhon.regularize.Regularizers;
import dev.tikhon.regularize.Tikhonov;
import dev.tikhon.train.Checkpoint;
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
        // the objective is the one source: the config, left plain, records what trains (it said "none", and certify refused)
        Path run = dir.resolve("run");
        TrainConfig plain = TrainConfig.builder().epochs(1).batchSize(64).build();
        Trainer.builder(MLP, plain).objective(new NoiseAugmentation(0.25)).train(data.train().head(256))
                .data(new DataInfo(DataSets.SAMPLE_NAME, null, data.description())).device(Device.CPU).out(run).build().run(false);
        assertThat(Checkpoint.load(run).meta().config().objective().sameAs(ObjectiveSpec.of("noise", new NoiseAugmentation.Settings(0.25))))
                .isTrue();
        Cli.Run c = Cli.run("certify", "--checkpoint", run.toString(), "--method", "cohen", "--images", "2", "--n0", "10",
                "--n", "20", "--noise-batch", "10", "--threads", "1", "--out", dir.resolve("cert").toString());
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(new ObjectMapper().readTree(dir.resolve("cert/metrics.json").toFile()).at("/sigma").asDouble()).isEqualTo(0.25);

        // a config that names another objective cannot be contradicted
        TrainConfig tikhonov = TrainConfig.builder().epochs(1)
                .objective(ObjectiveSpec.of("tikhonov", new Tikhonov.Settings(0.1, 0.01, "linf", false))).build();
        assertThatThrownBy(() -> Trainer.builder(MLP, tikhonov).objective(new NoiseAugmentation(0.25)).train(data.train()).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is not the one its TrainConfig names");
        assertThatThrownBy(() -> Trainer.builder(MLP, tikhonov).train(data.train()).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Regularizers.build(config.objective())");
        // and the registry's objective for it agrees with it (the norm spelled linf included)
        Trainer.builder(MLP, tikhonov).objective(Regularizers.build(tikhonov.objective())).train(data.train()).build();
        assertThatThrownBy(() -> Trainer.builder(MLP, tikhonov).objective(Regularizers.build(
                ObjectiveSpec.of("tikhonov", new Tikhonov.Settings(0.2, 0.01, "linf", false)))).train(data.train()).build())
                .isInstanceOf(IllegalArgumentException.class);
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
