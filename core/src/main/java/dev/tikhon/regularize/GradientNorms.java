package dev.tikhon.regularize;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tikhon.data.DataLoader;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Scope;
import dev.tikhon.loss.Loss;
import dev.tikhon.nn.Module;

import java.util.Iterator;

/**
 * Statistics of ‖∇ₓℓ‖ over a data set for a trained model (evaluation mode, cross-entropy unless told):
 * mean and max of the ℓ2 and ℓ1 norms. The smaller they are, the less a small perturbation can
 * change the loss — the quantity the regularizers here act on.
 */
public record GradientNorms(int n, @JsonProperty("l2_mean") double l2Mean, @JsonProperty("l2_max") double l2Max,
                            @JsonProperty("l1_mean") double l1Mean, @JsonProperty("l1_max") double l1Max, double seconds) {

    public static GradientNorms measure(Module model, Dataset data, int batchSize, Device device) {
        return measure(model, data, batchSize, device, Loss.CROSS_ENTROPY);
    }

    /** The same statistics of ‖∇ₓℓ‖ for another per-example loss. */
    public static GradientNorms measure(Module model, Dataset data, int batchSize, Device device, Loss loss) {
        boolean wasTraining = model.isTraining();
        model.train(false);
        double l2Sum = 0, l2Max = 0, l1Sum = 0, l1Max = 0;
        long start = System.nanoTime();
        try {
            Iterator<DataLoader.Batch> it = new DataLoader(data, batchSize, false, 0, device).iterator(0, 0);
            while (it.hasNext()) {
                try (Scope s = Scope.open()) {
                    DataLoader.Batch b = it.next();
                    InputGradients.Evaluated at = InputGradients.evaluate(model, loss, b.x(), b.y());
                    var g = at.gradient();
                    var l2 = InputGradients.norm(g, InputGradients.Dual.L2);
                    var l1 = InputGradients.norm(g, InputGradients.Dual.L1);
                    l2Sum += l2.sum().item();
                    l1Sum += l1.sum().item();
                    l2Max = Math.max(l2Max, l2.max().item());
                    l1Max = Math.max(l1Max, l1.max().item());
                }
            }
        } finally {
            model.train(wasTraining);
        }
        int n = data.size();
        return new GradientNorms(n, l2Sum / n, l2Max, l1Sum / n, l1Max, (System.nanoTime() - start) / 1e9);
    }
}
