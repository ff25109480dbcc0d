package dev.tikhon.scaleout;

import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.report.Progress;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the units of an evaluation run: on this machine with a loaded model ({@link #local}) or on a cluster
 * ({@link #on}). Both run the same {@link UnitTask}s and return results in unit order, so an evaluation is
 * written once and its results do not depend on where it ran.
 */
public interface Runner {
    <R extends Serializable> List<R> run(List<Unit> units, UnitTask<R> task, Progress progress);

    /** Whether units run elsewhere (then per-unit timings are executors' and include their model loading). */
    boolean distributed();

    /** One unit after the other on this machine, each in its own Scope. */
    static Runner local(Module model, Dataset data, Device device) {
        return new Runner() {
            @Override public <R extends Serializable> List<R> run(List<Unit> units, UnitTask<R> task, Progress progress) {
                List<R> out = new ArrayList<>(units.size());
                for (Unit u : units) {
                    try (Scope s = Scope.open()) {
                        Tensor idx = u.indices();
                        out.add(task.run(model, data.batchInputs(idx).to(device), data.batchLabels(idx).to(device), u));
                    }
                    if (progress != null) progress.step(u.size());
                }
                return out;
            }

            @Override public boolean distributed() { return false; }
        };
    }

    /** On a cluster's executors, each loading the model from shipped copies of its files. */
    static Runner on(Cluster cluster, ModelRef model, Dataset data, Device device, int threads) {
        return new Runner() {
            @Override public <R extends Serializable> List<R> run(List<Unit> units, UnitTask<R> task, Progress progress) {
                return cluster.run(model, data, units, task, device, threads, progress);
            }

            @Override public boolean distributed() { return true; }
        };
    }
}
