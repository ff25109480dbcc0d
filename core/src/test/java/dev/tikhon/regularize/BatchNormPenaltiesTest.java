package dev.tikhon.regularize;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.loss.Loss;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.BatchNorm2d;
import dev.tikhon.nn.Conv2d;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Pool;
import dev.tikhon.nn.Sequential;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the input-gradient penalties mean for a network with batch norm in training mode (docs/regularization.md, "Batch
 * norm"): the batch statistics make every example's loss a function of the whole batch, so ∇ₓ Σℓ of example i carries the
 * other examples' losses and each extra forward pass of a penalty updates the running statistics once more. Oracles: the
 * same quantities in evaluation mode, where each example's loss is its own; the running mean after a step against the
 * batch means of the passes the step made.
 */
class BatchNormPenaltiesTest {

    private static Sequential model() {
        Rng.seed(3);
        Sequential m = new Sequential(new Conv2d(1, 3, 3, 1, 1, true), new BatchNorm2d(3, 1.0, 1e-5), Activation.relu(), Pool.flatten(),
                new Linear(3 * 4 * 4, 3));
        m.to(DType.FLOAT64);
        return m;
    }

    private static final Tensor LABELS = Tensor.fromLongs(new long[]{0, 1, 2, 0}, 4);

    /** Row 0 of ∇ₓ Σℓ before and after example 1 alone changes. */
    private static double rowZeroShift(Module m, Tensor x) {
        Tensor moved = x.copy();
        try (Autograd.Guard g = Autograd.noGrad()) {
            moved.narrow(0, 1, 1).add_(Tensor.randn(DType.FLOAT64, Device.CPU, 1, 1, 4, 4));
        }
        Tensor a = InputGradients.evaluate(m, Loss.CROSS_ENTROPY, x, LABELS).gradient().select(0, 0);
        Tensor b = InputGradients.evaluate(m, Loss.CROSS_ENTROPY, moved, LABELS).gradient().select(0, 0);
        return a.sub(b).abs().max().item();
    }

    @Test
    void inTrainingModeAnExamplesInputGradientDependsOnTheOtherExamples() {
        Sequential m = model();
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 4, 1, 4, 4);
        m.train(false);
        assertThat(rowZeroShift(m, x)).isLessThan(1e-15);
        m.train(true);
        assertThat(rowZeroShift(m, x)).isGreaterThan(1e-4);
    }

    @Test
    void eachForwardPassOfAPenaltyUpdatesTheRunningStatistics() {
        Sequential m = model();
        m.train(true);
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 4, 1, 4, 4);
        Tikhonov t = new Tikhonov(0.1, 0.5, InputGradients.Dual.L2, false);
        InputGradients.Evaluated at = InputGradients.evaluate(m, Loss.CROSS_ENTROPY, x, LABELS);
        Tensor d = t.direction(at, x);
        t.evaluate(m, x, LABELS);
        // momentum 1: the running mean is the batch mean of the last pass, the perturbed batch x + h d
        Tensor conv;
        try (Autograd.Guard g = Autograd.noGrad()) {
            conv = m.layers().get(0).forward(x.add(d, 0.5));
        }
        Tensor expected = conv.transpose(0, 1).flatten(1, -1).mean(1, false);
        Tensor clean;
        try (Autograd.Guard g = Autograd.noGrad()) {
            clean = m.layers().get(0).forward(x).transpose(0, 1).flatten(1, -1).mean(1, false);
        }
        Tensor running = m.stateDict().get("1.running_mean");
        assertThat(running.sub(expected).abs().max().item()).isLessThan(1e-12);
        assertThat(running.sub(clean).abs().max().item()).isGreaterThan(1e-6);
    }
}
