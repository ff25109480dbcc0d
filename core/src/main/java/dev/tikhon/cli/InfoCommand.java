package dev.tikhon.cli;

import dev.tikhon.Version;
import dev.tikhon.data.DataSets;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Engine;
import dev.tikhon.report.RunDirectory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon info}: versions, threads, devices and the data sets found. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show versions, thread counts, devices and which data sets were found where.")
final class InfoCommand implements Callable<Integer> {
    @Option(names = "--data-dir", paramLabel = "DIR", description = "Also look for data here.")
    Path dataDir;

    @Option(names = "--threads", paramLabel = "N", description = "Report as if run with this many threads.")
    Integer threads;

    @Option(names = "--out", paramLabel = "DIR", description = "Also write DIR/metrics.json.")
    Path out;

    /**
     * The fused optimizer updates checked against the one-tensor-at-a-time updates on each device
     * ({@link dev.tikhon.optim.FusedUpdateCheck}): one line per device.
     */
    static List<String> fusedUpdates() {
        List<Device> devices = new java.util.ArrayList<>(List.of(Device.CPU));
        for (int i = 0; i < Engine.cudaDeviceCount(); i++) devices.add(Device.cuda(i));
        List<String> lines = new java.util.ArrayList<>();
        for (Device d : devices) {
            try {
                Map<String, Double> diff = dev.tikhon.optim.FusedUpdateCheck.run(d);
                boolean agree = dev.tikhon.optim.FusedUpdateCheck.agree(diff);
                lines.add(d + ": " + (agree ? "agree" : "DISAGREE (please report this)") + " (" + dev.tikhon.optim.FusedUpdateCheck.describe(diff) + ")");
            } catch (RuntimeException e) {
                lines.add(d + ": failed: " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
            }
        }
        return lines;
    }

    @Override public Integer call() {
        Engine.init();
        if (threads != null) Engine.setThreads(threads);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tikhon", Version.VERSION);
        m.put("java", System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")");
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("libtorch", Engine.libtorchVersion());
        m.putAll(Engine.describe());
        m.put("fused_updates", fusedUpdates());
        List<String> data = DataSets.describeAvailable(dataDir, System.getenv());
        m.put("data", data);
        for (Map.Entry<String, Object> e : m.entrySet()) {
            if (e.getValue() instanceof List) {
                System.out.println(e.getKey() + ":");
                for (Object line : (List<?>) e.getValue()) System.out.println("  " + line);
            } else {
                System.out.printf("%-17s %s%n", e.getKey() + ":", e.getValue());
            }
        }
        System.out.println("parallel backend:");
        Engine.parallelInfo().lines().filter(l -> !l.isBlank()).forEach(l -> System.out.println("  " + l.trim()));
        if (out != null) {
            RunDirectory run = RunDirectory.create(out);
            run.writeMetrics(m);
        }
        return 0;
    }
}
