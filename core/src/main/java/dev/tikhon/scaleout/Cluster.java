package dev.tikhon.scaleout;

import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.report.Progress;

import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * Runs {@link UnitTask}s over a data set on many machines. The implementation lives in the tikhon-spark module
 * and is found with {@link java.util.ServiceLoader} (see {@link Clusters}), so the core does not depend on Spark.
 */
public interface Cluster extends AutoCloseable {
    /**
     * Runs {@code task} on every unit, each exactly once in the result (a retried unit is not counted twice),
     * and returns the results in unit order.
     *
     * @param model    loaded once per executor slot from shipped copies of its files
     * @param device   where executors put the model and the inputs
     * @param threads  libtorch threads per executor (0: leave as it is)
     * @param progress stepped by each unit's size as units complete (may be null)
     */
    <R extends Serializable> List<R> run(ModelRef model, Dataset data, List<Unit> units, UnitTask<R> task, Device device,
                                         int threads, Progress progress);

    /** For reports: master, executors, partitions, task attempts, model loads. */
    Map<String, Object> describe();

    @Override void close();
}
