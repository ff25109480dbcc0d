package dev.tikhon.scaleout;

import dev.tikhon.attack.InputDomain;
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

    /**
     * Runs {@code units} and hands each unit's result to {@code sink} as soon as it is there, in unit order: one unit at a
     * time on this machine; on a cluster in groups of {@link #EACH_GROUP} units, so that a long run keeps its results as
     * it goes (a stopped run loses at most the group in flight) while the executors stay busy.
     */
    default <R extends Serializable> void runEach(List<Unit> units, UnitTask<R> task, Progress progress,
                                                  java.util.function.BiConsumer<Unit, R> sink) {
        int group = distributed() ? EACH_GROUP : 1;
        for (int i = 0; i < units.size(); i += group) {
            List<Unit> g = List.copyOf(units.subList(i, Math.min(units.size(), i + group)));
            List<R> results = run(g, task, progress);
            for (int k = 0; k < g.size(); k++) sink.accept(g.get(k), results.get(k));
        }
    }

    /** Units per cluster job in {@link #runEach}. */
    int EACH_GROUP = 64;

    /** Whether units run elsewhere (then per-unit timings are executors' and include their model loading). */
    boolean distributed();

    /** One unit after the other on this machine, each in its own Scope and in the data's input domain. */
    static Runner local(Module model, Dataset data, Device device) {
        InputDomain domain = InputDomain.of(data.isImages());
        return new Runner() {
            @Override public <R extends Serializable> List<R> run(List<Unit> units, UnitTask<R> plain, Progress progress) {
                UnitTask<R> task = UnitTask.within(domain, plain);
                List<R> out = new ArrayList<>(units.size());
                for (Unit u : units) {
                    try (Scope s = Scope.open()) {
                        Tensor idx = u.indices();
                        // a step's status (a branch-and-bound search's domains) beside the bar
                        out.add(dev.tikhon.report.Status.shownBy(progress,
                                () -> task.run(model, data.batchInputs(idx).to(device), data.batchLabels(idx).to(device), u)));
                    }
                    if (progress != null) progress.step(u.size());
                }
                return out;
            }

            @Override public boolean distributed() { return false; }
        };
    }

    /** On a cluster's executors, each loading the model from shipped copies of its files; in the data's input domain. */
    static Runner on(Cluster cluster, ModelRef model, Dataset data, Device device, int threads) {
        InputDomain domain = InputDomain.of(data.isImages());
        return new Runner() {
            @Override public <R extends Serializable> List<R> run(List<Unit> units, UnitTask<R> task, Progress progress) {
                return cluster.run(model, data, units, UnitTask.within(domain, task), device, threads, progress);
            }

            @Override public boolean distributed() { return true; }
        };
    }
}
