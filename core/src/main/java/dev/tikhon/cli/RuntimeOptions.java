package dev.tikhon.cli;

import dev.tikhon.engine.Device;
import dev.tikhon.engine.Engine;
import picocli.CommandLine.Option;

/** Options every compute command shares: threads and device. */
final class RuntimeOptions {
    @Option(names = "--threads", paramLabel = "N",
            description = "CPU threads for libtorch (OpenBLAS is held to one so the pools do not fight). Default: all cores.")
    Integer threads;

    @Option(names = "--device", paramLabel = "DEV", defaultValue = "cpu",
            description = "cpu, cuda, cuda:N, or auto (CUDA when present). Default: ${DEFAULT-VALUE}.")
    String device;

    /** Applies the thread count and resolves the device (failing clearly when CUDA is unusable). */
    Device apply() {
        Engine.init();
        if (threads != null) Engine.setThreads(threads);
        return Device.parse(device);
    }
}
