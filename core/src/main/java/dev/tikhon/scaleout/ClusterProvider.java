package dev.tikhon.scaleout;

import java.util.Map;

/** A way to reach a cluster, registered as a {@link java.util.ServiceLoader} service (tikhon-spark provides one). */
public interface ClusterProvider {
    /**
     * Connects to {@code master} ({@code local[N]}, {@code spark://host:7077}, {@code yarn}, … or {@code submit}: the
     * master spark-submit set).
     *
     * @param partitions how many pieces to cut the units into (0: the implementation's default)
     * @param conf       further settings passed to the cluster (Spark configuration keys)
     */
    Cluster connect(String master, int partitions, Map<String, String> conf);
}
