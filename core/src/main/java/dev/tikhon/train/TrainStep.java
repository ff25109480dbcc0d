package dev.tikhon.train;

import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.optim.Optimizer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One optimization step: clear gradients, evaluate the objective, backpropagate, update. The
 * trainer and the {@code bench train-step} command run exactly this, so the benchmark times what
 * training does. Call it inside a {@link dev.tikhon.engine.Scope}.
 */
public final class TrainStep {
    /** Loss, correct predictions and logged parts of one step, as plain numbers. */
    public record Result(double loss, long correct, int size, Map<String, Double> parts) {}

    private final Module model;
    private final Objective objective;
    private final Optimizer optimizer;

    public TrainStep(Module model, Objective objective, Optimizer optimizer) {
        this.model = model;
        this.objective = objective;
        this.optimizer = optimizer;
    }

    /**
     * One step. The loss, the number of correct predictions and the logged parts are read back in one transfer,
     * after the backward pass and before the update (one host synchronisation per step, as PyTorch's loop has): a
     * non-finite loss is returned without updating, so the parameters stay as they were.
     */
    public Result run(Tensor x, Tensor y) {
        optimizer.zeroGrad();
        Objective.Result r = objective.evaluate(model, x, y);
        r.loss().backward();
        // Joined in the loss's floating type (the count, at most the batch size, is exact in it) and read as one array.
        List<Tensor> read = new ArrayList<>(2 + r.parts().size());
        read.add(r.loss().detach().reshape(1));
        read.add(r.logits().detach().argmax(1).eq(y).sum().reshape(1));
        for (Tensor part : r.parts().values()) read.add(part.detach().reshape(1));
        double[] values = Tensor.cat(read, 0).toDoubleArray();
        double loss = values[0];
        int size = (int) x.size(0);
        if (!Double.isFinite(loss)) return new Result(loss, 0, size, Map.of());
        optimizer.step();
        Map<String, Double> parts = new LinkedHashMap<>();
        int i = 2;
        for (String name : r.parts().keySet()) parts.put(name, values[i++]);
        return new Result(loss, (long) values[1], size, parts);
    }
}
