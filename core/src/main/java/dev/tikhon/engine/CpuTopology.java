package dev.tikhon.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The default thread count: one per physical core this process may use, as PyTorch's default (its thread pool counts
 * cores, not SMT siblings). Java's {@code availableProcessors} counts logical CPUs, so on a Xeon with two threads per
 * core it would ask libtorch for twice the threads, and the two siblings of a core then share its vector units in every
 * convolution and matrix product. {@code OMP_NUM_THREADS}, when set, wins, as it does in PyTorch; {@code --threads}
 * wins over both.
 */
final class CpuTopology {
    private CpuTopology() {}

    /** The default count and the reason for it, as {@code tikhon info} prints them. */
    record Threads(int count, String why) {}

    static Threads defaultThreads() {
        return defaultThreads(System.getenv("OMP_NUM_THREADS"), Runtime.getRuntime().availableProcessors(),
                physicalCores(Path.of("/proc/self/status"), Path.of("/sys/devices/system/cpu")));
    }

    static Threads defaultThreads(String ompNumThreads, int logical, OptionalInt cores) {
        if (ompNumThreads != null && !ompNumThreads.isBlank()) {
            try {
                int n = Integer.parseInt(ompNumThreads.trim().split(",")[0]);
                if (n >= 1) return new Threads(n, "OMP_NUM_THREADS=" + ompNumThreads.trim());
            } catch (NumberFormatException e) {
                // not a count: ignored, as libgomp ignores it
            }
        }
        if (cores.isPresent() && cores.getAsInt() >= 1 && cores.getAsInt() < logical) {
            return new Threads(cores.getAsInt(), "one per physical core: " + cores.getAsInt() + " cores for " + logical
                    + " logical CPUs (their SMT siblings share the cores' vector units)");
        }
        return new Threads(logical, cores.isPresent() ? logical + " CPUs, one thread each"
                : logical + " logical CPUs (the core topology could not be read)");
    }

    /**
     * Distinct (package, core) pairs among the CPUs in this process's affinity mask ({@code Cpus_allowed_list} of
     * /proc/self/status), from sysfs topology; empty where either cannot be read (not Linux, a sandbox).
     */
    static OptionalInt physicalCores(Path status, Path cpuRoot) {
        try {
            String allowed = null;
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("Cpus_allowed_list:")) allowed = line.substring(line.indexOf(':') + 1).trim();
            }
            if (allowed == null) return OptionalInt.empty();
            Set<String> cores = new HashSet<>();
            for (int cpu : cpuList(allowed)) {
                Path topology = cpuRoot.resolve("cpu" + cpu).resolve("topology");
                cores.add(Files.readString(topology.resolve("physical_package_id")).trim() + ":"
                        + Files.readString(topology.resolve("core_id")).trim());
            }
            return cores.isEmpty() ? OptionalInt.empty() : OptionalInt.of(cores.size());
        } catch (IOException | RuntimeException e) {
            return OptionalInt.empty();
        }
    }

    /** A kernel CPU list such as "0-3,8,10-11". */
    static List<Integer> cpuList(String s) {
        List<Integer> cpus = new ArrayList<>();
        for (String part : s.split(",")) {
            String p = part.trim();
            if (p.isEmpty()) continue;
            int dash = p.indexOf('-');
            int from = Integer.parseInt(dash < 0 ? p : p.substring(0, dash)), to = dash < 0 ? from : Integer.parseInt(p.substring(dash + 1));
            for (int c = from; c <= to; c++) cpus.add(c);
        }
        return cpus;
    }
}
