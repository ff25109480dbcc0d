package dev.tikhon.verify;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.OneThread;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Module;
import dev.tikhon.optim.Adam;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Certified training of a network with batch norm bounds the function the training step computes: batch norm with the
 * statistics of the clean batch (Zhang et al., CROWN-IBP, ICLR 2020; auto_LiRPA's training mode), while evaluation-mode
 * bounds keep the running statistics. Before, the training bounds used the running statistics, and a resnet trained with
 * IBP ended at chance in evaluation mode (audit 20a, finding 1).
 */
@ExtendWith(OneThread.class)
class BatchNormCertifiedTrainingTest {

    /** 3 classes of 8×8 images, each a fixed random pattern plus noise: separable, and learnable in a few dozen steps. */
    private static Tensor[] clusters(int n, long seed) {
        Rng.seed(seed);
        Tensor centres = Tensor.rand(DType.FLOAT32, Device.CPU, 3, 1, 8, 8);
        Rng.seed(seed + 100);
        Tensor y = Tensor.randint(3, Device.CPU, n);
        Tensor x = centres.indexSelect(0, y).add(Tensor.randn(n, 1, 8, 8).mul(0.1)).clamp(0, 1);
        return new Tensor[]{x, y};
    }

    private static Module resnet() {
        return Models.build(Models.spec("resnet", List.of(1L, 8L, 8L), 3, Map.of("depth", 8, "width", 8)));
    }

    private static void ibpSteps(Module m, Tensor x, Tensor y, int steps, double eps) {
        // the usual schedule in thirds of the run: clean warm-up, then ε and κ ramp, then ε at its target and κ 0.5
        CertifiedTraining objective = new CertifiedTraining(CertifiedTraining.Bound.IBP, Norm.LINF, eps, 1, 1, 0.5);
        Adam opt = new Adam(m.parameters(), 0.01, 0.9, 0.999, 1e-8, 0, false, false);
        m.train(true);
        long n = x.size(0), batch = 32;
        for (int step = 0; step < steps; step++) {
            try (Scope s = Scope.open()) {
                objective.progress(3.0 * step / steps);
                long start = (step * batch) % n;
                opt.zeroGrad();
                objective.evaluate(m, x.narrow(0, start, batch), y.narrow(0, start, batch)).loss().backward();
                opt.step();
            }
        }
    }

    private static double maxAbsDiff(Tensor a, Tensor b) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            return a.sub(b).abs().max().item();
        }
    }

    /**
     * After a few IBP steps (running statistics and batch statistics now differ), IBP at ε = 0 of the network the
     * training step bounds is the training-mode forward pass's logits; in evaluation mode it is the evaluation-mode
     * forward pass's, and the two differ, so the test tells them apart.
     */
    @Test
    void trainingBoundsAreTheTrainingModeFunctionAndEvalBoundsTheRunningStatistics() {
        Tensor[] d = clusters(96, 1);
        Module m = resnet();
        ibpSteps(m, d[0], d[1], 9, 0.02);   // the last 3 with ε > 0
        Tensor x = d[0].narrow(0, 0, 32);
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            m.train(true);
            Interval trainBound = CertifiedTraining.bounded(m, x).ibpLogits(InputRegion.images(x, 0, Norm.LINF));
            Tensor trainLogits = m.forward(x);   // training mode: batch statistics
            m.train(false);
            Tensor evalLogits = m.forward(x);
            Interval evalBound = CertifiedTraining.bounded(m, x).ibpLogits(InputRegion.images(x, 0, Norm.LINF));
            double scale = trainLogits.abs().max().item();
            assertThat(maxAbsDiff(trainLogits, evalLogits)).as("running and batch statistics differ").isGreaterThan(1e-2 * scale);
            assertThat(maxAbsDiff(trainBound.lo(), trainLogits)).as("training bound = training-mode logits").isLessThan(1e-5 * scale);
            assertThat(maxAbsDiff(trainBound.hi(), trainLogits)).isLessThan(1e-5 * scale);
            assertThat(maxAbsDiff(evalBound.lo(), evalLogits)).as("eval bound = eval-mode logits").isLessThan(1e-5 * scale);
            assertThat(maxAbsDiff(evalBound.hi(), evalLogits)).isLessThan(1e-5 * scale);
        }
    }

    /** The training bound is computed without touching the running statistics: only the clean pass updates them. */
    @Test
    void theTrainingBoundLeavesTheRunningStatisticsAlone() {
        Tensor[] d = clusters(32, 2);
        Module m = resnet();
        m.train(true);
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            Map<String, Tensor> before = m.stateDict();
            Map<String, Tensor> copy = new java.util.HashMap<>();
            before.forEach((k, v) -> copy.put(k, v.copy()));
            CertifiedTraining.bounded(m, d[0]).ibpLogits(InputRegion.images(d[0], 0.01, Norm.LINF));
            for (Map.Entry<String, Tensor> e : m.stateDict().entrySet()) {
                assertThat(maxAbsDiff(e.getValue(), copy.get(e.getKey()))).as(e.getKey()).isEqualTo(0.0);
            }
        }
    }

    /**
     * A resnet (depth 8, width 8, batch norm) trained with IBP on 192 images (90 steps, ε > 0 from the 31st) ends well above chance
     * (1/3) in evaluation mode, on its own training images and on those images perturbed; with the running-statistics bounds it ended
     * at 0.375 in evaluation mode while its training-mode accuracy on the batches was 1.0.
     */
    @Test
    void ibpTrainedResnetWorksInEvaluationMode() {
        Tensor[] train = clusters(192, 3);
        Tensor[] fresh = {train[0].add(Tensor.randn(192, 1, 8, 8).mul(0.02)).clamp(0, 1), train[1]};
        Module m = resnet();
        ibpSteps(m, train[0], train[1], 90, 0.03);
        m.train(false);
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            double trainAcc = m.forward(train[0]).argmax(1).eq(train[1]).to(DType.FLOAT32).mean().item();
            double freshAcc = m.forward(fresh[0]).argmax(1).eq(fresh[1]).to(DType.FLOAT32).mean().item();
            assertThat(trainAcc).as("eval-mode accuracy on the training images").isGreaterThan(0.8);
            assertThat(freshAcc).as("eval-mode accuracy on perturbed images").isGreaterThan(0.8);
        }
    }
}
