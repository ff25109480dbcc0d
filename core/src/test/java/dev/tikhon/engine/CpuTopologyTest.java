package dev.tikhon.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;

import static org.assertj.core.api.Assertions.assertThat;

class CpuTopologyTest {

    /** A sysfs tree of {@code cores} cores with two SMT siblings each, numbered as Linux does: cpu c and cpu c + cores. */
    private static Path smtMachine(Path root, int cores) throws IOException {
        for (int cpu = 0; cpu < 2 * cores; cpu++) {
            Path t = Files.createDirectories(root.resolve("cpu" + cpu).resolve("topology"));
            Files.writeString(t.resolve("physical_package_id"), "0\n");
            Files.writeString(t.resolve("core_id"), (cpu % cores) + "\n");
        }
        return root;
    }

    private static Path status(Path dir, String allowed) throws IOException {
        return Files.writeString(dir.resolve("status"), "Name:\tjava\nCpus_allowed:\tff\nCpus_allowed_list:\t" + allowed + "\nMems_allowed:\t1\n");
    }

    @Test
    void countsPhysicalCoresAmongTheAllowedCpus(@TempDir Path dir) throws IOException {
        Path sys = smtMachine(dir.resolve("cpu"), 4);
        assertThat(CpuTopology.physicalCores(status(dir, "0-7"), sys)).hasValue(4);
        assertThat(CpuTopology.physicalCores(status(dir, "0,4"), sys)).as("two siblings of one core").hasValue(1);
        assertThat(CpuTopology.physicalCores(status(dir, "0-1"), sys)).hasValue(2);
        assertThat(CpuTopology.physicalCores(status(dir, "0-9"), sys)).as("a CPU without topology").isEmpty();
        assertThat(CpuTopology.physicalCores(dir.resolve("missing"), sys)).isEmpty();
        assertThat(CpuTopology.cpuList("0-3,8, 10-11")).containsExactly(0, 1, 2, 3, 8, 10, 11);
    }

    @Test
    void theDefaultIsOneThreadPerCoreUnlessOmpNumThreadsSaysOtherwise() {
        assertThat(CpuTopology.defaultThreads(null, 32, OptionalInt.of(16)).count()).isEqualTo(16);
        assertThat(CpuTopology.defaultThreads(null, 32, OptionalInt.of(16)).why()).contains("physical core", "32 logical");
        assertThat(CpuTopology.defaultThreads(null, 2, OptionalInt.of(2)).count()).isEqualTo(2);
        // a CPU quota below the core count (a container): Java's count is the smaller one
        assertThat(CpuTopology.defaultThreads(null, 4, OptionalInt.of(16)).count()).isEqualTo(4);
        assertThat(CpuTopology.defaultThreads(null, 8, OptionalInt.empty())).isEqualTo(
                new CpuTopology.Threads(8, "8 logical CPUs (the core topology could not be read)"));
        assertThat(CpuTopology.defaultThreads("3", 32, OptionalInt.of(16))).isEqualTo(new CpuTopology.Threads(3, "OMP_NUM_THREADS=3"));
        assertThat(CpuTopology.defaultThreads("4,2", 32, OptionalInt.of(16)).count()).isEqualTo(4);   // the outer level
        assertThat(CpuTopology.defaultThreads("many", 32, OptionalInt.of(16)).count()).isEqualTo(16);
        assertThat(CpuTopology.defaultThreads("0", 32, OptionalInt.of(16)).count()).isEqualTo(16);
    }

    @Test
    void thisMachineReportsItsChoice() {
        CpuTopology.Threads t = CpuTopology.defaultThreads();
        assertThat(t.count()).isBetween(1, Runtime.getRuntime().availableProcessors() * 4);
        assertThat(Engine.describe()).containsEntry("default_threads", t.count()).containsKey("default_threads_why");
    }
}
