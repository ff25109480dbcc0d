package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.nn.Module;
import dev.tikhon.scaleout.Cluster;
import dev.tikhon.scaleout.Clusters;
import dev.tikhon.scaleout.ModelRef;
import dev.tikhon.scaleout.Runner;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code --spark}: run an evaluation's per-image work on Apache Spark instead of this process. */
final class ClusterOptions {
    @Option(names = "--spark", paramLabel = "MASTER",
            description = "Run on Apache Spark: local[N], spark://host:port, yarn, k8s://…, or 'submit' for the master spark-submit set. "
                    + "Results are the same as without it, for the same seed. Needs the tikhon-spark module (./tikhon adds it; docs/spark.md).")
    String master;

    @Option(names = "--partitions", paramLabel = "N", defaultValue = "0",
            description = "--spark: pieces to cut the images into (results do not depend on it). Default: 4 × Spark's default parallelism.")
    int partitions;

    @Option(names = "--spark-conf", paramLabel = "KEY=VALUE",
            description = "--spark: a Spark setting, e.g. spark.executor.memory=4g (repeatable).")
    List<String> conf;

    boolean enabled() { return master != null; }

    /**
     * Refuses bad cluster options, and --spark without the tikhon-spark module on the class path, before the command loads
     * its model and data (the missing module had been reported only after them).
     */
    void check() {
        settings();
        if (master != null) Clusters.requireAvailable(master);
    }

    /** Connects to the cluster, or null without --spark. */
    Cluster connect() {
        Map<String, String> settings = settings();
        if (master == null) return null;
        Cluster cluster = Clusters.connect(master, partitions, settings);
        Map<String, Object> about = cluster.describe();
        System.out.println("spark:  " + about.get("master") + " (" + about.get("default_parallelism") + " task slots)");
        return cluster;
    }

    /** The --spark-conf settings, the options checked. */
    private Map<String, String> settings() {
        if (master == null) {
            if (partitions != 0 || conf != null) throw new UserError("--partitions and --spark-conf need --spark MASTER");
            return Map.of();
        }
        if (partitions < 0) throw new UserError("--partitions must be positive (or 0 for the default), got " + partitions);
        Map<String, String> settings = new LinkedHashMap<>();
        if (conf != null) {
            for (String kv : conf) {
                int eq = kv.indexOf('=');
                if (eq < 1) throw new UserError("--spark-conf " + kv + ": expected KEY=VALUE, e.g. spark.executor.memory=4g");
                settings.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
        }
        return settings;
    }

    /** Where to run: the cluster (with libtorch threads per task: --threads, else 1) or this process. */
    static Runner runner(Cluster cluster, ModelRef ref, Module model, Dataset data, Device device, Integer threads) {
        return cluster == null ? Runner.local(model, data, device) : Runner.on(cluster, ref, data, device, threads != null ? threads : 1);
    }
}
