package dev.tikhon.train;

import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Engine;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TrainerTest {
    private static final DataSets.Loaded MOONS = DataSets.load("moons", null, Map.of(),
            DataSets.Options.seeded(3).withToySizes(2000, 500));
    private static final ModelSpec SPEC = Models.spec("mlp", List.of(2L), 2, Map.of("hidden", List.of(32, 32)));
    private int threads;

    @BeforeEach void oneThread() {
        threads = Engine.threads();
        Engine.setThreads(1);
    }

    @AfterEach void restoreThreads() {
        Engine.setThreads(threads);
    }

    private static TrainConfig config(int epochs, double lr, int checkpointEvery) {
        return new TrainConfig(epochs, 64, "sgd", lr, 0.9, false, 1e-4, false, "cosine", List.of(0.5, 0.75), 0.1,
                0.5, 11, 0.1, checkpointEvery, 256);
    }

    private static Trainer trainer(TrainConfig c, Path out, Trainer.Listener l) {
        return trainer(c, Objective.crossEntropy(), out, l);
    }

    private static Trainer trainer(TrainConfig c, Objective objective, Path out, Trainer.Listener l) {
        Dataset.Split split = MOONS.train().split(c.valFraction(), c.seed());
        return new Trainer(SPEC, objective, c, split.rest(), split.heldOut(), MOONS.test(),
                new DataInfo("moons", null, MOONS.description()), Device.CPU, out, l);
    }

    @Test
    void learnsTheMoonsAndWritesItsRunDirectory(@TempDir Path out) {
        Trainer.Outcome o = trainer(config(3, 0.1, 0), out, null).run(false);
        assertThat(o.test().accuracy()).isGreaterThan(0.95);
        assertThat(o.history()).hasSize(3);
        assertThat(o.history().get(2)).containsKeys("train_loss", "val_acc", "test_acc", "lr", "seconds");
        assertThat(out.resolve("history.csv")).exists();
        assertThat(out.resolve("loss.png")).exists();
        assertThat(out.resolve(Checkpoint.FILE_NAME)).exists();
        assertThat(Checkpoint.load(out).meta().epoch()).isEqualTo(3);
    }

    /** Oracle: the same seed reproduces every number on CPU with one thread. */
    @Test
    void sameSeedSameNumbers() {
        Trainer.Outcome a = trainer(config(2, 0.1, 0), null, null).run(false);
        Trainer.Outcome b = trainer(config(2, 0.1, 0), null, null).run(false);
        for (int e = 0; e < 2; e++) {
            assertThat(b.history().get(e).get("train_loss")).isEqualTo(a.history().get(e).get("train_loss"));
            assertThat(b.history().get(e).get("test_loss")).isEqualTo(a.history().get(e).get("test_loss"));
        }
    }

    /**
     * Oracle: an uninterrupted run. A crash mid-epoch (simulated by a listener that throws) and a
     * resume from the mid-epoch checkpoint give exactly the same history and test result.
     */
    @Test
    void resumingMidEpochReproducesTheUninterruptedRun(@TempDir Path a, @TempDir Path b) {
        Trainer.Outcome whole = trainer(config(3, 0.1, 7), a, null).run(false);
        Trainer.Listener crash = new Trainer.Listener() {
            @Override public void onStep(int epoch, int batch, double loss, double acc, double lr) {
                if (epoch == 1 && batch == 17) throw new IllegalStateException("simulated crash");
            }
        };
        assertThatThrownBy(() -> trainer(config(3, 0.1, 7), b, crash).run(false)).hasMessage("simulated crash");
        Checkpoint.Meta mid = Checkpoint.load(b).meta();
        assertThat(mid.epoch()).isEqualTo(1);
        assertThat(mid.batch()).isEqualTo(14);
        Trainer.Outcome resumed = trainer(config(3, 0.1, 7), b, null).run(true);
        assertThat(resumed.resumed()).isTrue();
        assertThat(resumed.test().loss()).isEqualTo(whole.test().loss());
        assertThat(resumed.test().accuracy()).isEqualTo(whole.test().accuracy());
        for (int e = 0; e < 3; e++) {
            assertThat(resumed.history().get(e).get("train_loss")).isEqualTo(whole.history().get(e).get("train_loss"));
            assertThat(resumed.history().get(e).get("val_loss")).isEqualTo(whole.history().get(e).get("val_loss"));
        }
    }

    /**
     * A --reg lipschitz checkpoint from before audit 20a kept a partial mean of the zero-weight TV term; resumed mid-epoch,
     * that part is dropped (not averaged with the zeros of the steps that no longer report it), and the resumed run's
     * history equals an uninterrupted run's, which has no train_tv column.
     */
    @Test
    void resumingAnOldCheckpointDropsTheRetiredPartsOfItsObjective(@TempDir Path a, @TempDir Path b) throws Exception {
        java.util.function.Supplier<Objective> lip = () -> dev.tikhon.regularize.Regularizers.build(
                dev.tikhon.regularize.Regularizers.spec("lipschitz", Map.of()));
        Trainer.Outcome whole = trainer(config(2, 0.1, 7), lip.get(), a, null).run(false);
        Trainer.Listener crash = new Trainer.Listener() {
            @Override public void onStep(int epoch, int batch, double loss, double acc, double lr) {
                if (epoch == 1 && batch == 17) throw new IllegalStateException("simulated crash");
            }
        };
        assertThatThrownBy(() -> trainer(config(2, 0.1, 7), lip.get(), b, crash).run(false)).hasMessage("simulated crash");
        Checkpoint.Loaded mid = Checkpoint.load(b);
        Map<String, Double> partial = new java.util.LinkedHashMap<>(mid.meta().partial());
        partial.put("part_mean:tv", 0.5);   // as the old version wrote it
        Checkpoint.Meta m = mid.meta();
        Checkpoint.save(b.resolve(Checkpoint.FILE_NAME), new Checkpoint.Meta(m.model(), m.config(), m.objective(), m.data(), m.epoch(),
                m.batch(), partial, m.history(), m.tikhonVersion()), mid.model(), mid.optimizer());
        Trainer.Outcome resumed = trainer(config(2, 0.1, 7), lip.get(), b, null).run(true);
        for (int e = 0; e < 2; e++) {
            assertThat(whole.history().get(e)).containsKey("train_lip").doesNotContainKey("train_tv");
            assertThat(resumed.history().get(e)).doesNotContainKey("train_tv");
            assertThat(resumed.history().get(e).get("train_lip")).isEqualTo(whole.history().get(e).get("train_lip"));
        }
    }

    @Test
    void everyCheckpointFollowsTheStepsBeforeItAndItsHook(@TempDir Path out) {
        // 1800 training points, batch 64: 29 steps an epoch; checkpoints every 7 steps and at each epoch's end
        List<long[]> seen = new java.util.ArrayList<>();   // epoch, batch, steps reported when the hook ran, checkpoint's batch
        Trainer.Listener l = new Trainer.Listener() {
            long reported;

            @Override public void onStep(int epoch, int batch, double loss, double acc, double lr) {
                reported++;
            }

            @Override public void beforeCheckpoint(int epoch, int batch) {
                long onDisk = Files.exists(out.resolve(Checkpoint.FILE_NAME)) ? Checkpoint.load(out).meta().batch()
                        + 29L * Checkpoint.load(out).meta().epoch() : -1;
                seen.add(new long[]{epoch, batch, reported, onDisk});
            }
        };
        trainer(config(2, 0.1, 7), out, l).run(false);
        List<Long> positions = new java.util.ArrayList<>();
        for (int e = 0; e < 2; e++) {
            for (int b = 7; b < 29; b += 7) positions.add(29L * e + b);
            positions.add(29L * (e + 1));
        }
        assertThat(seen.stream().map(s -> 29 * s[0] + s[1]).toList()).as("every checkpoint's position").isEqualTo(positions);
        for (int i = 0; i < seen.size(); i++) {
            long[] s = seen.get(i);
            assertThat(s[2]).as("steps reported before the checkpoint at %d/%d", s[0], s[1]).isEqualTo(29 * s[0] + s[1]);
            assertThat(s[3]).as("the hook runs before its checkpoint is written").isEqualTo(i == 0 ? -1 : positions.get(i - 1));
        }
    }

    @Test
    void resumeRewritesTheHistoryFilesFromTheCheckpoint(@TempDir Path out) throws Exception {
        trainer(config(2, 0.1, 0), out, null).run(false);
        String whole = Files.readString(out.resolve("history.csv"));
        // a kill between the last checkpoint and the history files: they still hold the first epoch only
        List<String> lines = Files.readAllLines(out.resolve("history.csv"));
        Files.write(out.resolve("history.csv"), lines.subList(0, 2));
        Files.delete(out.resolve("history.json"));
        Trainer.Outcome again = trainer(config(2, 0.1, 0), out, null).run(true);
        assertThat(again.steps()).as("nothing left to train").isZero();
        assertThat(out.resolve("history.csv")).hasContent(whole);
        assertThat(out.resolve("history.json")).exists();
    }

    @Test
    void resumeExtendsAFinishedRun(@TempDir Path out) {
        trainer(config(1, 0.1, 0), out, null).run(false);
        Trainer.Outcome more = trainer(config(2, 0.1, 0), out, null).run(true);
        assertThat(more.history()).hasSize(2);
        assertThat(more.steps()).as("only the second epoch ran: ⌈1800 / 64⌉ steps").isEqualTo(29);
    }

    @Test
    void divergenceStopsWithEpochAndBatchAndKeepsTheLastCheckpoint(@TempDir Path out) {
        // cross-entropy that turns NaN at the 33rd step: epoch 2 (29 steps an epoch), batch 4
        Objective poisoned = new Objective() {
            int calls;

            @Override public Result evaluate(dev.tikhon.nn.Module model, dev.tikhon.engine.Tensor x, dev.tikhon.engine.Tensor y) {
                Result r = Objective.crossEntropy().evaluate(model, x, y);
                return ++calls < 33 ? r : new Result(r.loss().mul(Double.NaN), r.logits(), r.parts());
            }

            @Override public String describe() { return "poisoned"; }
        };
        assertThatThrownBy(() -> trainer(config(3, 0.1, 0), poisoned, out, null).run(false))
                .isInstanceOf(TrainingDivergedException.class)
                .hasMessageContaining("NaN at epoch 2, batch 4")
                .hasMessageContaining("lower --lr");
        assertThat(Checkpoint.load(out).meta().epoch()).as("the checkpoint of epoch 1 survives").isEqualTo(1);
    }

    /**
     * Cross-entropy plus the constant {@code offset} on calls {@code from} to {@code to} (from 1): finite and as large as asked,
     * with the gradients of cross-entropy (so that the weights stay finite and only the rule can stop the run).
     */
    private static Objective scaled(double offset, int from, int to) {
        return new Objective() {
            int calls;

            @Override public Result evaluate(dev.tikhon.nn.Module model, dev.tikhon.engine.Tensor x, dev.tikhon.engine.Tensor y) {
                Result r = Objective.crossEntropy().evaluate(model, x, y);
                calls++;
                return calls >= from && calls <= to ? new Result(r.loss().add(offset), r.logits(), r.parts()) : r;
            }

            @Override public String describe() { return "scaled"; }
        };
    }

    /**
     * A finite loss that stays above 1e10 (audit 20a: a GloRo resnet at 2.8e18 ended with exit 0) is divergence: after
     * RUNAWAY_STEPS such steps in a row the run stops with the epoch and batch, as for NaN.
     */
    @Test
    void aLossThatStaysRunawayIsDivergence(@TempDir Path out) {
        assertThatThrownBy(() -> trainer(config(3, 0.1, 0), scaled(1e12, 1, Integer.MAX_VALUE), out, null).run(false))
                .isInstanceOf(TrainingDivergedException.class)
                .hasMessageContaining("at epoch 1, batch " + Trainer.RUNAWAY_STEPS)
                .hasMessageContaining("stayed above 1e+10 for " + Trainer.RUNAWAY_STEPS + " steps");
    }

    /** Large losses that training comes back from are not divergence: a spike shorter than RUNAWAY_STEPS, twice. */
    @Test
    void aShortSpikeOfLargeLossesIsNotDivergence(@TempDir Path out) {
        Objective spikes = new Objective() {
            final Objective first = scaled(1e12, 1, Trainer.RUNAWAY_STEPS - 1);
            int calls;

            @Override public Result evaluate(dev.tikhon.nn.Module model, dev.tikhon.engine.Tensor x, dev.tikhon.engine.Tensor y) {
                Result r = first.evaluate(model, x, y);
                calls++;   // a second spike after one ordinary step: the count starts again
                return calls > Trainer.RUNAWAY_STEPS && calls < 2 * Trainer.RUNAWAY_STEPS ? new Result(r.loss().add(1e12), r.logits(), r.parts()) : r;
            }

            @Override public String describe() { return "spikes"; }
        };
        Trainer.Outcome o = trainer(config(2, 0.1, 0), spikes, out, null).run(false);
        assertThat(o.history()).hasSize(2);
    }

    /** An objective's check runs before the first step: a model it refuses costs no training. */
    @Test
    void anObjectiveRefusesItsModelBeforeAnyStep(@TempDir Path out) {
        int[] steps = {0};
        Objective refusing = new Objective() {
            @Override public Result evaluate(dev.tikhon.nn.Module model, dev.tikhon.engine.Tensor x, dev.tikhon.engine.Tensor y) {
                steps[0]++;
                return Objective.crossEntropy().evaluate(model, x, y);
            }

            @Override public void check(dev.tikhon.nn.Module model) { throw new dev.tikhon.UserError("not this model"); }

            @Override public String describe() { return "refusing"; }
        };
        assertThatThrownBy(() -> trainer(config(1, 0.1, 0), refusing, out, null).run(false)).hasMessage("not this model");
        assertThat(steps[0]).isZero();
    }

    @Test
    void resumeRefusesADifferentModel(@TempDir Path out) {
        trainer(config(1, 0.1, 0), out, null).run(false);
        ModelSpec other = Models.spec("mlp", List.of(2L), 2, Map.of("hidden", List.of(8)));
        Trainer t = new Trainer(other, Objective.crossEntropy(), config(2, 0.1, 0), MOONS.train(), null, MOONS.test(),
                new DataInfo("moons", null, ""), Device.CPU, out, null);
        assertThatThrownBy(() -> t.run(true)).hasMessageContaining("--resume").hasMessageContaining("model");
    }

    @Test
    void onlySameSettingsReusesARunOfTheSameSettingsAndNamesEveryOtherDifference(@TempDir Path out) {
        trainer(config(1, 0.1, 0), out, null).run(false);
        // the same settings (how often it checkpoints aside): reused, nothing trains
        assertThat(trainer(config(1, 0.1, 7), out, null).onlySameSettings().run(true).steps()).isZero();
        // without the mode the checkpoint's settings win (train --resume); with it, another lr or more epochs are refused
        assertThat(trainer(config(1, 0.05, 0), out, null).run(true).steps()).isZero();
        assertThatThrownBy(() -> trainer(config(1, 0.05, 0), out, null).onlySameSettings().run(true))
                .isInstanceOf(dev.tikhon.UserError.class)
                .hasMessageContaining("holds a model trained with other settings (lr 0.1 recorded, 0.05 asked)")
                .hasMessageContaining("delete this one");
        assertThatThrownBy(() -> trainer(config(2, 0.1, 0), out, null).onlySameSettings().run(true))
                .hasMessageContaining("epochs 1 recorded, 2 asked");
        Dataset.Split split = MOONS.train().split(0.1, 11);
        Trainer otherData = new Trainer(SPEC, Objective.crossEntropy(), config(1, 0.1, 0), split.rest(), split.heldOut(), MOONS.test(),
                new DataInfo("circles", "/elsewhere", "circles from /elsewhere"), Device.CPU, out, null).onlySameSettings();
        assertThatThrownBy(() -> otherData.run(true)).hasMessageContaining("(data name moons recorded, circles asked)");
        // the same data read from elsewhere is the same data
        Trainer moved = new Trainer(SPEC, Objective.crossEntropy(), config(1, 0.1, 0), split.rest(), split.heldOut(), MOONS.test(),
                new DataInfo("moons", "/elsewhere", "moons from /elsewhere"), Device.CPU, out, null).onlySameSettings();
        assertThat(moved.run(true).steps()).isZero();
        Trainer subset = new Trainer(SPEC, Objective.crossEntropy(), config(1, 0.1, 0), split.rest().head(500), split.heldOut(), MOONS.test(),
                new DataInfo("moons", null, MOONS.description()), Device.CPU, out, null).onlySameSettings();
        assertThatThrownBy(() -> subset.run(true)).hasMessageContaining("training examples 1800 recorded, 500 asked");
    }
}
