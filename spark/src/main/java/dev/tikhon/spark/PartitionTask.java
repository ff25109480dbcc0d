package dev.tikhon.spark;

import dev.tikhon.engine.Device;
import dev.tikhon.engine.Engine;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.scaleout.ModelRef;
import dev.tikhon.scaleout.UnitTask;
import org.apache.spark.SparkFiles;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple2;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * What a Spark task runs on its partition (one element: a slice of units): borrow the model, run the
 * {@link UnitTask} on each unit in its own Scope, give the model back. Results are returned, not written, so a
 * failed attempt leaves nothing behind and its retry's rows are the only ones collected.
 *
 * @param failure test hook: fail the first attempt of this partition after this many units (null: never)
 */
record PartitionTask<R extends Serializable>(ModelRef model, UnitTask<R> task, String device, int threads, LongAccumulator loads,
                                             InjectedFailure failure)
        implements FlatMapFunction<Iterator<List<ShippedUnit>>, Tuple2<Integer, R>> {

    /** Fails attempt 0 of partition {@code partition} after {@code afterUnits} units: for the fault-tolerance test. */
    record InjectedFailure(int partition, int afterUnits) implements Serializable {}

    @Override public Iterator<Tuple2<Integer, R>> call(Iterator<List<ShippedUnit>> slices) {
        Engine.init();
        if (threads > 0) Engine.setThreads(threads);
        Device dev = Device.parse(device);
        java.util.function.Function<String, Path> resolve = name -> Path.of(SparkFiles.get(name));
        String key = ExecutorModels.key(model, resolve, dev);
        Module m = ExecutorModels.borrow(key, model, resolve, dev, () -> loads.add(1));
        List<Tuple2<Integer, R>> out = new ArrayList<>();
        try {
            TaskContext ctx = TaskContext.get();
            int done = 0;
            while (slices.hasNext()) {
                for (ShippedUnit s : slices.next()) {
                    if (failure != null && ctx != null && ctx.partitionId() == failure.partition() && ctx.attemptNumber() == 0
                            && done == failure.afterUnits()) {
                        throw new IllegalStateException("injected failure: partition " + failure.partition() + ", attempt 0, after "
                                + done + " units");
                    }
                    try (Scope scope = Scope.open()) {
                        Map<String, Tensor> xy = s.read();
                        out.add(new Tuple2<>(s.unit().index(), task.run(m, xy.get("x").to(dev), xy.get("y").to(dev), s.unit())));
                    }
                    done++;
                }
            }
        } finally {
            ExecutorModels.giveBack(key, m);
        }
        return out.iterator();
    }
}
