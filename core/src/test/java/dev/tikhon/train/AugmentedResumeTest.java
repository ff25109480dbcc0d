package dev.tikhon.train;

import dev.tikhon.data.Augmentation;
import dev.tikhon.data.CifarWriter;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.OneThread;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Normalize;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Oracle: the uninterrupted run. A run with augmentation and normalization that crashes mid-epoch and resumes from
 * its checkpoint ends with the same model and optimizer state, bit for bit, and the same history; the checkpoint
 * records the augmentation and the normalization.
 */
@ExtendWith(OneThread.class)
class AugmentedResumeTest {
    private static Dataset data(Path dir) throws Exception {
        return DataSets.load("cifar10", CifarWriter.set(dir, 8, 4), Map.of(), 0).train();   // 40 images
    }

    private static Trainer trainer(Dataset train, Augmentation a, Path out, Trainer.Listener l) {
        ModelSpec spec = Models.spec("mlp", List.of(3L, 32L, 32L), 10, Map.of("hidden", List.of(8), Models.NORMALIZE, Normalize.parse("cifar10")));
        TrainConfig c = TrainConfig.builder().epochs(2).batchSize(8).lr(0.01).seed(4).checkpointEvery(2).augment(a).build();
        return Trainer.builder(spec, c).train(train).out(out).listener(l).device(Device.CPU).build();
    }

    private static byte[] tensors(Path run) throws Exception {
        try (ZipFile zip = new ZipFile(run.resolve(Checkpoint.FILE_NAME).toFile())) {
            return zip.getInputStream(zip.getEntry("tensors.bin")).readAllBytes();
        }
    }

    @Test
    void resumedAugmentedRunIsBitExact(@TempDir Path tmp) throws Exception {
        Dataset train = data(tmp.resolve("cifar"));
        assertThat(train.size()).isEqualTo(5 * 8);
        Augmentation a = Augmentation.parse("crop,flip");
        Path whole = tmp.resolve("whole"), killed = tmp.resolve("killed"), plain = tmp.resolve("plain");
        Trainer.Outcome w = trainer(train, a, whole, null).run(false);
        Trainer.Listener crash = new Trainer.Listener() {
            @Override public void onStep(int epoch, int batch, double loss, double acc, double lr) {
                if (epoch == 1 && batch == 2) throw new IllegalStateException("simulated crash");
            }
        };
        assertThatThrownBy(() -> trainer(train, a, killed, crash).run(false)).hasMessage("simulated crash");
        Checkpoint.Meta mid = Checkpoint.load(killed).meta();
        assertThat(mid.epoch()).isEqualTo(1);
        assertThat(mid.batch()).isEqualTo(2);
        assertThat(mid.config().augment()).isEqualTo("crop:4,flip");
        assertThat(Models.normalization(mid.model())).isEqualTo(Normalize.parse("cifar10"));
        // the resumed trainer is told nothing about augmentation: the checkpoint's settings win
        Trainer.Outcome r = trainer(train, Augmentation.NONE, killed, null).run(true);
        assertThat(r.resumed()).isTrue();
        assertThat(tensors(killed)).isEqualTo(tensors(whole));
        for (int e = 0; e < 2; e++) {
            assertThat(r.history().get(e).get("train_loss")).isEqualTo(w.history().get(e).get("train_loss"));
        }
        // and augmentation changes what is trained
        trainer(train, Augmentation.NONE, plain, null).run(false);
        assertThat(tensors(plain)).isNotEqualTo(tensors(whole));
        assertThat(Files.readString(whole.resolve("history.csv"))).isNotEqualTo(Files.readString(plain.resolve("history.csv")));
    }

    /** A checkpoint written before augmentation existed has no "augment": it reads as none. */
    @Test
    void configsWithoutAugmentReadAsNone() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        TrainConfig c = TrainConfig.builder().augment(Augmentation.parse("flip,crop:2")).build();
        com.fasterxml.jackson.databind.node.ObjectNode tree = json.valueToTree(c);
        assertThat(tree.get("augment").asText()).isEqualTo("crop:2,flip");
        assertThat(json.treeToValue(tree, TrainConfig.class)).isEqualTo(c);
        tree.remove("augment");
        TrainConfig old = json.treeToValue(tree, TrainConfig.class);
        assertThat(old.augment()).isEqualTo("none");
        assertThat(old.augmentation().isNone()).isTrue();
    }
}
