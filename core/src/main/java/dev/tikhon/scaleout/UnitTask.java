package dev.tikhon.scaleout;

import dev.tikhon.attack.InputDomain;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.io.Serializable;

/**
 * What to compute for one {@link Unit}, shipped to wherever the unit runs. The same code runs on one machine
 * and in a cluster's executors: the runner hands it the model (evaluation mode, on the run's device), the
 * unit's inputs x (FLOAT32 [B, ...], as {@code Dataset.batchInputs} gives them) and labels y (INT64 [B]), both on
 * that device, inside a Scope. The result must hold no tensors.
 */
@FunctionalInterface
public interface UnitTask<R extends Serializable> extends Serializable {
    R run(Module model, Tensor x, Tensor y, Unit unit);

    /**
     * {@code task} run within the input domain of the data its units come from ({@link InputDomain}: [0, 1] for images,
     * unbounded otherwise), wherever it runs: every attack and bound inside keeps its points in the data's own domain.
     */
    static <R extends Serializable> UnitTask<R> within(InputDomain domain, UnitTask<R> task) {
        return new InDomain<>(domain, task);
    }

    /** A task and the domain it runs in. */
    record InDomain<R extends Serializable>(InputDomain domain, UnitTask<R> task) implements UnitTask<R> {
        @Override public R run(Module model, Tensor x, Tensor y, Unit unit) {
            return InputDomain.within(domain, () -> task.run(model, x, y, unit));
        }
    }
}
