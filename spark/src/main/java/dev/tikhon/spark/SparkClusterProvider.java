package dev.tikhon.spark;

import dev.tikhon.scaleout.Cluster;
import dev.tikhon.scaleout.ClusterProvider;

import java.util.Map;

/** Registered in META-INF/services: how the core's {@code --spark} finds Spark. */
public final class SparkClusterProvider implements ClusterProvider {
    @Override public Cluster connect(String master, int partitions, Map<String, String> conf) {
        return SparkCluster.connect(master, partitions, conf);
    }
}
