package dev.tikhon.spark;

import dev.tikhon.UserError;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.report.Progress;
import dev.tikhon.scaleout.Cluster;
import dev.tikhon.scaleout.ModelRef;
import dev.tikhon.scaleout.Unit;
import dev.tikhon.scaleout.UnitTask;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple2;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Tikhon's evaluations on Apache Spark. The units (images or batches) are cut into slices, one slice per
 * partition, shipped with their inputs; the model's files go with Spark's file distribution, and each executor
 * loads the model once per task slot ({@link ExecutorModels}) and runs the very {@link UnitTask} the
 * single-machine path runs. Results come back to the driver with {@code collect}: a failed or killed task attempt
 * contributes nothing, its retry everything, so the gathered rows are complete and each unit appears once, which
 * is checked. The caller writes the outputs at the end (atomically, as on one machine).
 */
public final class SparkCluster implements Cluster {
    /** Test hook: "PARTITION:UNITS" fails attempt 0 of that partition after that many units. */
    public static final String INJECT_FAILURE = "spark.tikhon.test.injectFailure";

    private final JavaSparkContext sc;
    private final int partitions;
    private final LongAccumulator modelLoads;
    private final Set<String> shipped = new HashSet<>();
    private long attempts, failedAttempts;
    private int lastPartitions;

    private SparkCluster(JavaSparkContext sc, int partitions) {
        this.sc = sc;
        this.partitions = partitions;
        this.modelLoads = sc.sc().longAccumulator("tikhon model loads");
    }

    /** Starts a Spark context on {@code master} ("submit": the one spark-submit set). */
    public static SparkCluster connect(String master, int partitions, Map<String, String> settings) {
        SparkConf conf = new SparkConf().setAppName("tikhon");
        if (!master.equals("submit")) conf.setMaster(master);
        else if (!conf.contains("spark.master")) {
            throw new UserError("--spark submit: no master was set; run under spark-submit --master …, or name the master: --spark local[2]");
        }
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");   // Tikhon's own progress bar
        settings.forEach(conf::set);
        try {
            JavaSparkContext sc = new JavaSparkContext(conf);
            sc.setLogLevel(conf.get("spark.tikhon.logLevel", "WARN"));
            return new SparkCluster(sc, partitions);
        } catch (Exception e) {   // a bad master URL is a SparkException, which Scala throws unchecked: it was an "internal error"
            throw new UserError("--spark " + master + ": could not start Spark (" + e.getMessage() + ")", e);
        }
    }

    @Override public <R extends Serializable> List<R> run(ModelRef model, Dataset data, List<Unit> units, UnitTask<R> task, Device device,
                                                        int threads, Progress progress) {
        if (units.isEmpty()) return List.of();
        for (Path f : model.files()) {
            if (shipped.add(f.toAbsolutePath().toString())) sc.addFile(f.toAbsolutePath().toString());
        }
        int p = partitions > 0 ? partitions : 4 * sc.defaultParallelism();
        List<List<ShippedUnit>> slices = slices(data, units, Math.min(p, units.size()));
        lastPartitions = slices.size();
        PartitionTask<R> fn = new PartitionTask<>(model, task, device.toString(), threads, modelLoads, injectedFailure());

        TaskProgress listener = new TaskProgress(slices, progress);
        sc.sc().addSparkListener(listener);
        List<Tuple2<Integer, R>> collected;
        try {
            collected = sc.parallelize(slices, slices.size()).mapPartitions(fn).collect();
        } finally {
            waitForListeners();
            sc.sc().removeSparkListener(listener);
            listener.finish();
            attempts += listener.attempts;
            failedAttempts += listener.failed;
        }
        // results come back keyed by unit index; a resumed run's units are a subset (indices kept for seeding), so by position
        Map<Integer, Integer> position = new HashMap<>();
        for (int i = 0; i < units.size(); i++) position.put(units.get(i).index(), i);
        List<Tuple2<Integer, R>> byPosition = new ArrayList<>(collected.size());
        for (Tuple2<Integer, R> t : collected) byPosition.add(new Tuple2<>(position.getOrDefault(t._1(), -1), t._2()));
        return inUnitOrder(byPosition, units.size());
    }

    /** Consecutive slices of about equal size; slice i becomes partition i. */
    private static List<List<ShippedUnit>> slices(Dataset data, List<Unit> units, int count) {
        List<List<ShippedUnit>> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int from = (int) ((long) i * units.size() / count), to = (int) ((long) (i + 1) * units.size() / count);
            List<ShippedUnit> slice = new ArrayList<>(to - from);
            for (Unit u : units.subList(from, to)) {
                try (Scope s = Scope.open()) {
                    Tensor idx = u.indices();
                    slice.add(ShippedUnit.of(u, data.batchInputs(idx), data.batchLabels(idx)));
                }
            }
            out.add(slice);
        }
        return out;
    }

    /** The results by unit index, each exactly once: a duplicate or a gap is a bug, never silently written. */
    static <R> List<R> inUnitOrder(List<Tuple2<Integer, R>> collected, int units) {
        List<R> out = new ArrayList<>(units);
        for (int i = 0; i < units; i++) out.add(null);
        boolean[] seen = new boolean[units];
        for (Tuple2<Integer, R> t : collected) {
            int i = t._1();
            if (i < 0 || i >= units) throw new IllegalStateException("result for unknown unit " + i);
            if (seen[i]) throw new IllegalStateException("unit " + i + " came back twice");
            seen[i] = true;
            out.set(i, t._2());
        }
        for (int i = 0; i < units; i++) if (!seen[i]) throw new IllegalStateException("unit " + i + " came back with no result");
        return out;
    }

    private PartitionTask.InjectedFailure injectedFailure() {
        String spec = sc.getConf().get(INJECT_FAILURE, null);
        if (spec == null) return null;
        String[] pu = spec.split(":");
        return new PartitionTask.InjectedFailure(Integer.parseInt(pu[0].trim()), Integer.parseInt(pu[1].trim()));
    }

    /** Listener events are delivered asynchronously: let them catch up before reading the counts. */
    private void waitForListeners() {
        try {
            sc.sc().listenerBus().waitUntilEmpty(10_000);
        } catch (RuntimeException | java.util.concurrent.TimeoutException e) {
            // counts for the report only; the results do not depend on them
        }
    }

    @Override public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("master", sc.master());
        m.put("spark_version", sc.version());
        m.put("application_id", sc.sc().applicationId());
        m.put("default_parallelism", sc.defaultParallelism());
        m.put("executors", Math.max(1, sc.sc().getExecutorMemoryStatus().size() - (sc.isLocal() ? 0 : 1)));
        m.put("partitions", lastPartitions);
        m.put("task_attempts", attempts);
        m.put("failed_task_attempts", failedAttempts);
        m.put("model_loads", modelLoads.value());
        return m;
    }

    @Override public void close() {
        sc.stop();
        ExecutorModels.clear();
    }

    /** Steps the progress bar by a partition's images when its task succeeds; counts attempts. */
    private static final class TaskProgress extends SparkListener {
        private final long[] images;
        private final Progress progress;
        private final boolean[] done;
        private long stepped, attempts, failed;
        private boolean finished;

        TaskProgress(List<List<ShippedUnit>> slices, Progress progress) {
            this.images = slices.stream().mapToLong(s -> s.stream().mapToLong(u -> u.unit().size()).sum()).toArray();
            this.done = new boolean[slices.size()];
            this.progress = progress;
        }

        @Override public synchronized void onTaskEnd(SparkListenerTaskEnd end) {
            if (finished) return;
            attempts++;
            if (!end.taskInfo().successful()) {
                failed++;
                return;
            }
            int i = end.taskInfo().index();
            if (i < 0 || i >= done.length || done[i]) return;
            done[i] = true;
            stepped += images[i];
            if (progress != null) progress.step(images[i]);
        }

        synchronized void finish() {
            finished = true;
            long total = java.util.Arrays.stream(images).sum();
            if (progress != null && stepped < total) progress.step(total - stepped);
        }
    }
}
