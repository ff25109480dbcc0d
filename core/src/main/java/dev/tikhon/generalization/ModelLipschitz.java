package dev.tikhon.generalization;

import dev.tikhon.data.DataLoader;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * A trained classifier's Lipschitz constant measured on data: the maximum over the points of the
 * spectral norm of the Jacobian of its probabilities, ‖∇ₓ softmax(f(x))‖₂ (K vector–Jacobian
 * products per batch, evaluation mode). It is a lower bound of the true constant (a maximum over
 * the points seen, not over all inputs), and it is the quantity comparable with the data set's
 * constant with one-hot labels: a model whose probabilities equal the one-hot labels on the data
 * must have a constant of at least {@link DataLipschitz.Result#lipschitzOneHot()}.
 */
public record ModelLipschitz(int n, double max, double mean, double seconds) {

    public static ModelLipschitz measure(Module model, Dataset data, int batchSize, Device device) {
        boolean wasTraining = model.isTraining();
        model.train(false);
        long start = System.nanoTime();
        double max = 0, sum = 0;
        int k = data.numClasses();
        try {
            Iterator<DataLoader.Batch> it = new DataLoader(data, batchSize, false, 0, device).iterator(0, 0);
            while (it.hasNext()) {
                try (Scope s = Scope.open()) {
                    DataLoader.Batch b = it.next();
                    Tensor norms = jacobianNorms(model, b.x(), k);
                    sum += norms.sum().item();
                    max = Math.max(max, norms.max().item());
                }
            }
        } finally {
            model.train(wasTraining);
        }
        int n = data.size();
        return new ModelLipschitz(n, max, sum / n, (System.nanoTime() - start) / 1e9);
    }

    /** ‖∂ softmax(f(x))/∂x‖₂ per example, [N]: the Jacobian [N, K, d] from K vector–Jacobian products. */
    public static Tensor jacobianNorms(Module model, Tensor x, int numClasses) {
        Tensor input = x.detach().requiresGrad(true);
        Tensor p = model.forward(input).softmax(1);
        List<Tensor> rows = new ArrayList<>();
        for (int c = 0; c < numClasses; c++) {
            Tensor g = Autograd.grad(List.of(p.select(1, c).sum()), List.of(input), null, false, true).get(0);
            rows.add(g.flatten(1, -1));
        }
        return Tensor.stack(rows, 1).spectralNorm().detach();
    }
}
