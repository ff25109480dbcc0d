package dev.tikhon.train;

import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.optim.Optimizer;

import java.util.LinkedHashMap;
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

    public Result run(Tensor x, Tensor y) {
        optimizer.zeroGrad();
        Objective.Result r = objective.evaluate(model, x, y);
        double loss = r.loss().item();
        if (!Double.isFinite(loss)) return new Result(loss, 0, (int) x.size(0), Map.of());
        r.loss().backward();
        optimizer.step();
        long correct = r.logits().argmax(1).eq(y).sum().itemLong();
        Map<String, Double> parts = new LinkedHashMap<>();
        r.parts().forEach((k, v) -> parts.put(k, v.item()));
        return new Result(loss, correct, (int) x.size(0), parts);
    }
}
