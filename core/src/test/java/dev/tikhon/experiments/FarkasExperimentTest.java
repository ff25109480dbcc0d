package dev.tikhon.experiments;

import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.train.DataInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A diverged variant is a result: recorded with its step, reported, and read back on a rerun without training again. */
class FarkasExperimentTest {

    @Test
    void divergedRunIsRecordedAndTheExperimentGoesOnAndResumes(@TempDir Path dir) {
        DataSets.Loaded data = DataSets.load("fashion-mnist-sample", null, Map.of(), 0);
        Dataset train = data.train().head(64), test = data.test().head(32);
        FarkasExperiment.Budget budget = new FarkasExperiment.Budget(64, 32, 1, 2, 16);
        FarkasExperiment e = new FarkasExperiment(train, test, new DataInfo("fashion-mnist-sample", null, "sample"), budget, 0, Device.CPU, dir);
        List<FarkasExperiment.Variant> variants = List.of(
                new FarkasExperiment.Variant("plain-8-huge-lr", "resnet", 8, false, false, 1e6, 0),
                new FarkasExperiment.Variant("farkas-8", "farkas-resnet", 8, false, false, 0.1, 0));
        List<FarkasExperiment.Row> rows = e.run(variants, name -> null);
        assertThat(rows).hasSize(2);
        FarkasExperiment.Row diverged = rows.get(0);
        assertThat(diverged.status()).isEqualTo("diverged");
        assertThat(diverged.divergedAtStep()).isBetween(1L, 4L);
        assertThat(diverged.testAccuracy()).isNaN();
        assertThat(dir.resolve("plain-8-huge-lr/diverged.json")).exists();
        assertThat(dir.resolve("plain-8-huge-lr/steps.csv")).content().contains("NaN");
        assertThat(rows.get(1).status()).isIn("trains", "stalled");
        assertThat(rows.get(1).steps()).isEqualTo(4);
        assertThat(dir.resolve("farkas-8/steps.csv")).exists();

        Map<String, FarkasExperiment.Summary> metrics = e.report(rows);
        assertThat(metrics).containsKeys("plain-8-huge-lr", "farkas-8");
        assertThat(metrics.get("plain-8-huge-lr").divergedAtStep()).isEqualTo(diverged.divergedAtStep());
        assertThat(metrics.get("farkas-8").divergedAtStep()).isNull();
        assertThat(dev.tikhon.report.Json.toMap(metrics.get("farkas-8"))).doesNotContainKey("diverged_at_step").containsKey("test_acc");
        assertThat(dir.resolve("training_loss.png")).exists();
        assertThat(dir.resolve("results.csv")).content().contains("diverged");

        // rerun: both read back (the finished one from its checkpoint, the diverged one from its record), same numbers
        List<FarkasExperiment.Row> again = e.run(variants, name -> null);
        assertThat(again.get(0).divergedAtStep()).isEqualTo(diverged.divergedAtStep());
        assertThat(again.get(0).lastTrainLoss()).isEqualTo(diverged.lastTrainLoss());
        assertThat(again.get(0).trainSeconds()).isEqualTo(diverged.trainSeconds());
        assertThat(again.get(1).testAccuracy()).isEqualTo(rows.get(1).testAccuracy());
        assertThat(FarkasExperiment.StepLog.read(dir.resolve("farkas-8/steps.csv")).smoothed(10)[0]).containsExactly(1, 2, 3, 4);

        // another learning rate for the diverged variant: its record is not reported as the new one's
        List<FarkasExperiment.Variant> otherLr = List.of(new FarkasExperiment.Variant("plain-8-huge-lr", "resnet", 8, false, false, 1e5, 0));
        assertThatThrownBy(() -> e.run(otherLr, name -> null)).isInstanceOf(dev.tikhon.UserError.class)
                .hasMessageContaining("holds a run that diverged with other settings (lr 1000000.0 recorded, 100000.0 asked)");
    }

    /**
     * A run killed just after an epoch's checkpoint, before anything else: the rerun resumes from that checkpoint, so
     * the step log on disk must already hold every step before it (it is written just before the checkpoint).
     */
    @Test
    void aKillJustAfterAnEpochsCheckpointKeepsEveryStepOfTheLog(@TempDir Path whole, @TempDir Path killed) throws Exception {
        DataSets.Loaded data = DataSets.load("fashion-mnist-sample", null, Map.of(), 0);
        Dataset train = data.train().head(64), test = data.test().head(32);
        FarkasExperiment.Budget budget = new FarkasExperiment.Budget(64, 32, 2, 2, 16);   // 4 steps an epoch, 2 epochs
        List<FarkasExperiment.Variant> variants = List.of(new FarkasExperiment.Variant("plain-8", "resnet", 8, false, false, 0.1, 0));
        DataInfo info = new DataInfo("fashion-mnist-sample", null, "sample");
        new FarkasExperiment(train, test, info, budget, 0, Device.CPU, whole).run(variants, name -> null);

        class Killed extends RuntimeException {}
        dev.tikhon.train.Trainer.Listener killer = new dev.tikhon.train.Trainer.Listener() {
            @Override public void onEpochEnd(Map<String, Object> row) {
                throw new Killed();   // the first epoch's checkpoint is on disk; nothing after it ran
            }
        };
        FarkasExperiment k = new FarkasExperiment(train, test, info, budget, 0, Device.CPU, killed);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> k.run(variants, name -> killer)).isInstanceOf(Killed.class);
        assertThat(dev.tikhon.train.Checkpoint.load(killed.resolve("plain-8")).meta().epoch()).isEqualTo(1);
        k.run(variants, name -> null);
        double[][] a = FarkasExperiment.StepLog.read(whole.resolve("plain-8/steps.csv")).smoothed(1);
        double[][] b = FarkasExperiment.StepLog.read(killed.resolve("plain-8/steps.csv")).smoothed(1);
        assertThat(b[0]).as("every step, the first epoch's included").containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
        assertThat(b[1]).as("the same losses").containsExactly(a[1]);
    }
}
