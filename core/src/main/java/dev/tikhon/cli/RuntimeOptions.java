package dev.tikhon.cli;

import dev.tikhon.engine.Device;
import dev.tikhon.engine.Engine;
import picocli.CommandLine.Option;

/** Options every compute command shares: threads and device. */
final class RuntimeOptions {
    @Option(names = "--threads", paramLabel = "N",
            description = "CPU threads for libtorch, and for OpenBLAS when its idle workers sleep at once (the launcher's "
                    + "OPENBLAS_THREAD_TIMEOUT=4; otherwise one, so that they do not spin on libtorch's cores; "
                    + "TIKHON_BLAS_THREADS overrides). Default: one per physical core (OMP_NUM_THREADS when set), as PyTorch's.")
    Integer threads;

    @Option(names = "--device", paramLabel = "DEV", defaultValue = "cpu",
            description = "cpu, cuda, cuda:N, or auto (CUDA when present). Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--tf32",
            description = "On a GPU, allow TensorFloat-32 in convolutions and matrix products (faster, 10-bit mantissa "
                    + "products; PyTorch allows it in cuDNN by default). Default: float32 kept exact.")
    boolean tf32;

    /** Applies the thread count and resolves the device (failing clearly when CUDA is unusable). */
    Device apply() {
        Engine.init();
        int cores = Runtime.getRuntime().availableProcessors();
        if (threads != null && threads > cores) {
            // more threads than processors only take turns on them (libtorch's parallel loops then run slower)
            System.err.println("note:   --threads " + threads + " is more than the " + cores + " processors here; "
                    + "the extra threads share them, which slows libtorch down: --threads " + cores + " or fewer is faster");
        }
        if (threads != null) Engine.setThreads(threads);
        Device d = Device.parse(device);
        if (d.isCuda()) Engine.configureCuda(tf32);
        else if (tf32) OptionChecks.noteIgnored("--tf32", "--device " + device + (device.strip().equalsIgnoreCase("cpu") ? "" : " (no CUDA here)"));
        return d;
    }
}
