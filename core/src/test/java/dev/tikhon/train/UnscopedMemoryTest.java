package dev.tikhon.train;

import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.EngineException;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import dev.tikhon.optim.Sgd;
import dev.tikhon.regularize.InputGradients;
import dev.tikhon.regularize.Tikhonov;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A hand-written training loop, as a library user writes one: a small CNN with the Tikhonov penalty. Without a
 * {@link Scope} per step it must not grow memory silently: strict mode stops it at the first tensor it leaks,
 * naming the tensor and the line; inside a scope per step it runs 200 steps in flat memory.
 */
class UnscopedMemoryTest {
    private static final int BATCH = 64;

    @AfterEach
    void notStrict() {
        Scope.strict(Boolean.getBoolean("tikhon.strictScopes"));
    }

    private record Loop(Module model, Tikhonov objective, Sgd opt, Dataset data) {
        /** One step, scoped or not; returns the loss. */
        double step(int i) {
            long[] idx = new long[BATCH];
            for (int k = 0; k < BATCH; k++) idx[k] = (i * BATCH + k) % data.size();
            Tensor pick = Tensor.fromLongs(idx, BATCH);
            Tensor x = data.batchInputs(pick), y = data.batchLabels(pick);
            opt.zeroGrad();
            Objective.Result r = objective.evaluate(model, x, y);
            r.loss().backward();
            opt.step();
            return r.loss().item();
        }
    }

    private static Loop loop() {
        Dataset data = DataSets.load(DataSets.SAMPLE_NAME, null, Map.of(), 0).train().head(1024);
        ModelSpec spec = Models.spec("cnn", List.of(1L, 28L, 28L), 10, Map.of());
        Module model = Trainer.initialModel(spec, 0);
        return new Loop(model, new Tikhonov(0.1, 0.01, InputGradients.Dual.L2, false), new Sgd(model.parameters(), 0.01), data);
    }

    @Test
    void strictModeStopsAnUnscopedLoopAtItsFirstLeakedTensor() {
        Loop l = loop();
        Scope.strict(true);
        l.step(0);   // setup and the first step may be unscoped: nothing is counted before a first optimizer step
        assertThatThrownBy(() -> {
            for (int i = 1; i < 200; i++) l.step(i);
        }).isInstanceOf(EngineException.class)
                .hasMessageContaining("outside any Scope after an optimizer step (strict mode)")
                .hasMessageContaining("UnscopedMemoryTest")   // the line of the loop that made it
                .hasMessageStartingWith("Tensor[" + BATCH + "](INT64, cpu) created at");   // the first: the step's batch indices
    }

    @Test
    void theSameLoopRunsInAScopePerStepInStrictMode() {
        Loop l = loop();
        Scope.strict(true);
        for (int i = 0; i < 5; i++) {
            try (Scope s = Scope.open()) {
                assertThat(l.step(i)).isFinite();
            }
        }
    }

    /**
     * The figure in {@link Scope}'s comment: resident-set growth per step of this loop scoped and unscoped,
     * {@code memtest.steps} steps each (200 by default) after 10 warm-up steps ({@code -Dmemtest.unscoped=true};
     * slow: the loop runs three forward-backward passes a step).
     */
    @Test
    @EnabledIfSystemProperty(named = "memtest.unscoped", matches = "true")
    void measureGrowthPerStep() {
        int steps = Integer.getInteger("memtest.steps", 200);
        Loop l = loop();
        for (int i = 0; i < 10; i++) {
            try (Scope s = Scope.open()) {
                l.step(i);
            }
        }
        System.gc();
        long a = MemoryTest.residentKb();
        for (int i = 0; i < steps; i++) {
            try (Scope s = Scope.open()) {
                l.step(i);
            }
        }
        System.gc();
        long b = MemoryTest.residentKb();
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) l.step(i);
        long c = MemoryTest.residentKb();
        System.out.printf("%d steps, batch %d: scoped %+.1f KB/step; unscoped %+.1f KB/step (RSS %d -> %d -> %d KB; "
                        + "unscoped loop %.1f s)%n", steps, BATCH, (b - a) / (double) steps, (c - b) / (double) steps, a, b, c,
                (System.nanoTime() - t0) / 1e9);
        assertThat((double) (b - a) / steps).as("scoped growth KB/step").isLessThan(100);
    }
}
