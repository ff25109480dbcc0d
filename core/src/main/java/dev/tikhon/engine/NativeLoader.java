package dev.tikhon.engine;

import org.bytedeco.javacpp.Loader;

import java.io.File;
import java.util.ArrayList;
import java.util.List;

/**
 * Extracts libtorch's shared libraries into the JavaCPP cache <em>before</em> any torch class loads.
 *
 * <p>Why: on an empty cache JavaCPP loads the small {@code libtorch.so} stub before
 * {@code libtorch_cpu.so} sits beside it, so the dynamic linker resolves the stub's dependency
 * to whatever libtorch is installed system-wide (Debian's {@code python3-torch} installs 1.13).
 * Two libtorch versions in one process crash it. Extracting everything first makes the stub's
 * {@code $ORIGIN} RUNPATH find the bundled copies.
 */
final class NativeLoader {
    private static final String[] CPU_LIBS = {"libgomp.so.1", "libc10.so", "libtorch_cpu.so", "libtorch.so"};
    private static final String[] GPU_EXTRA_LIBS = {"libc10_cuda.so", "libtorch_cuda.so"};

    private static volatile List<File> extracted;

    private NativeLoader() {}

    /** Idempotent; returns the files extracted (for {@code tikhon info}). */
    static synchronized List<File> extract() {
        if (extracted != null) return extracted;
        List<File> files = new ArrayList<>();
        String platform = Loader.getPlatform();
        // The GPU flavour ships its natives under <platform>-gpu; prefer it when present.
        String gpuDir = "/org/bytedeco/pytorch/" + platform + "-gpu/";
        boolean gpu = NativeLoader.class.getResource(gpuDir + "libtorch.so") != null;
        String dir = gpu ? gpuDir : "/org/bytedeco/pytorch/" + platform + "/";
        List<String> libs = new ArrayList<>(List.of(CPU_LIBS));
        if (gpu) libs.addAll(List.of(GPU_EXTRA_LIBS));
        for (String lib : libs) {
            if (NativeLoader.class.getResource(dir + lib) == null) continue;
            try {
                files.add(Loader.cacheResource(dir + lib));
            } catch (Exception e) {
                throw new EngineException("could not extract native library " + lib + " to the JavaCPP cache ("
                        + e.getMessage() + "); set -Dorg.bytedeco.javacpp.cachedir=<writable dir>", e);
            }
        }
        if (gpu) checkCudaLibraries(files);
        extracted = List.copyOf(files);
        return extracted;
    }

    /**
     * Loads libtorch_cuda.so by its path before JavaCPP does. Why: when a CUDA library it needs is missing,
     * JavaCPP falls back to loading "libtorch.so" by name, which can find another libtorch installed
     * system-wide (Debian's 1.13) and crash the process. Failing here says what is missing instead.
     */
    private static void checkCudaLibraries(List<File> files) {
        for (File f : files) {
            if (!f.getName().equals("libtorch_cuda.so")) continue;
            try {
                System.load(f.getAbsolutePath());
            } catch (UnsatisfiedLinkError e) {
                throw new EngineException("the CUDA build of Tikhon cannot load libtorch_cuda.so: " + e.getMessage()
                        + ". It needs CUDA 13 (cudart, cuBLAS, cuSPARSE, cuFFT, cuRAND, cuSOLVER, NVRTC, nvJitLink) and cuDNN 9 "
                        + "on the library path: install them, or point LD_LIBRARY_PATH at a CUDA 13 toolkit's lib64 (or the "
                        + "nvidia-*-cu13 Python wheels' lib folders); or build the CPU flavour (without -Pcuda)", e);
            }
        }
    }

    static boolean gpuFlavour() {
        return NativeLoader.class.getResource("/org/bytedeco/pytorch/" + Loader.getPlatform() + "-gpu/libtorch.so") != null;
    }
}
