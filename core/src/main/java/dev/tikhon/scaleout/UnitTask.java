package dev.tikhon.scaleout;

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
}
