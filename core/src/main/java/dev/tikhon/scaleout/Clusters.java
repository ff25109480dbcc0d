package dev.tikhon.scaleout;

import dev.tikhon.UserError;

import java.util.Map;
import java.util.ServiceLoader;

/** Finds the cluster implementation on the class path. */
public final class Clusters {
    private Clusters() {}

    /** Connects through the first {@link ClusterProvider} on the class path; see there for the arguments. */
    public static Cluster connect(String master, int partitions, Map<String, String> conf) {
        for (ClusterProvider p : ServiceLoader.load(ClusterProvider.class)) return p.connect(master, partitions, conf);
        throw missing(master);
    }

    /** Refuses {@code master} when no {@link ClusterProvider} is on the class path, without connecting. */
    public static void requireAvailable(String master) {
        if (ServiceLoader.load(ClusterProvider.class).findFirst().isEmpty()) throw missing(master);
    }

    private static UserError missing(String master) {
        return new UserError("--spark " + master + ": Spark support is not on the class path. Run ./tikhon (it adds the tikhon-spark "
                + "module when --spark is given), or put spark/target/tikhon-spark.jar and spark/target/lib/* on the class path "
                + "(see docs/spark.md)");
    }
}
