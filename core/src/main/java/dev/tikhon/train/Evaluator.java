package dev.tikhon.train;

import dev.tikhon.data.DataLoader;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.Iterator;

/** Loss, accuracy and confusion matrix of a classifier on a data set, without gradients, in evaluation mode. */
public final class Evaluator {

    /** @param confusion confusion[label][prediction] counts */
    public record Result(int n, double loss, double accuracy, long[][] confusion, double seconds) {
        public double[] perClassAccuracy() {
            double[] acc = new double[confusion.length];
            for (int c = 0; c < confusion.length; c++) {
                long total = 0;
                for (long v : confusion[c]) total += v;
                acc[c] = total == 0 ? Double.NaN : (double) confusion[c][c] / total;
            }
            return acc;
        }
    }

    private Evaluator() {}

    public static Result evaluate(Module model, Dataset data, int batchSize, Device device) {
        boolean wasTraining = model.isTraining();
        model.train(false);
        int k = data.numClasses();
        long[][] confusion = new long[k][k];
        double lossSum = 0;
        long start = System.nanoTime();
        DataLoader loader = new DataLoader(data, batchSize, false, 0, device);
        try (Autograd.Guard g = Autograd.noGrad()) {
            Iterator<DataLoader.Batch> it = loader.iterator(0, 0);
            while (it.hasNext()) {
                try (Scope step = Scope.open()) {
                    DataLoader.Batch b = it.next();
                    Tensor logits = model.forward(b.x());
                    lossSum += Ops.crossEntropy(logits, b.y()).item() * b.size();
                    long[] pred = logits.argmax(1).toLongArray();
                    long[] label = b.y().toLongArray();
                    for (int i = 0; i < pred.length; i++) confusion[(int) label[i]][(int) pred[i]]++;
                }
            }
        } finally {
            model.train(wasTraining);
        }
        long correct = 0;
        for (int c = 0; c < k; c++) correct += confusion[c][c];
        int n = data.size();
        return new Result(n, lossSum / n, (double) correct / n, confusion, (System.nanoTime() - start) / 1e9);
    }
}
