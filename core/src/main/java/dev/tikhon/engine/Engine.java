package dev.tikhon.engine;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas;
import org.bytedeco.pytorch.global.torch;

import java.io.File;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Process-wide engine state: native loading, thread counts, CUDA availability, version facts.
 *
 * <p>Every entry point of the facade calls {@link #init()} first, so natives are always
 * extracted before any torch class is touched (see {@link NativeLoader}).
 */
public final class Engine {
    /**
     * oneDNN's instruction-set cap on hosts where its native-ISA kernels failed {@link KernelCheck} (see
     * {@link IsaVerdict}); elsewhere oneDNN runs at the CPU's own ISA. {@code ONEDNN_MAX_CPU_ISA} in the environment wins.
     */
    static final String ONEDNN_FALLBACK_ISA_CAP = "AVX";

    /** Where the ISA cap came from: "native" (none set), "environment" or "fallback". */
    private static String isaSource = "native";

    private static volatile boolean initialized;
    private static int threads;
    /** The thread count a process starts with, and why: one per physical core ({@link CpuTopology}). */
    private static final CpuTopology.Threads defaultThreads = CpuTopology.defaultThreads();
    private static String kernels = "not checked";
    /**
     * Pad float32 convolution inputs of more than 8 channels to a multiple of 8: set while oneDNN is
     * on and {@link KernelCheck#worstOddChannelError} finds the padded convolutions right. Read by {@link Ops#conv2d}.
     */
    static volatile boolean padConvChannels;
    /**
     * Convolve float32 CPU tensors channels-last (see {@link Ops#conv2d}): set while oneDNN is on and its channels-last
     * kernels pass {@link KernelCheck}, unless {@code TIKHON_CHANNELS_LAST=0}.
     */
    static volatile boolean channelsLast;

    private Engine() {}

    /**
     * Loads natives (idempotent) with the default thread policy: one ATen thread per physical core ({@link CpuTopology}),
     * OpenBLAS by {@link #blasThreads(int)}.
     */
    public static void init() {
        if (initialized) return;
        synchronized (Engine.class) {
            if (initialized) return;
            blasThreads(1);   // a bad TIKHON_BLAS_THREADS fails here, before anything is loaded
            channelsLastWanted();   // and a bad TIKHON_CHANNELS_LAST
            relaxPointerAccounting();
            NativeLoader.extract();
            Loader.load(torch.class);
            // Must precede the first oneDNN primitive (oneDNN reads the cap once); an ONEDNN_MAX_CPU_ISA set by the user wins.
            if (torch.get_env("ONEDNN_MAX_CPU_ISA").has_value()) {
                isaSource = "environment";
            } else if (IsaVerdict.nativeFailed()) {
                torch.set_env("ONEDNN_MAX_CPU_ISA", ONEDNN_FALLBACK_ISA_CAP, false);
                isaSource = "fallback";
            }
            // NNPACK only serves some no-grad convolutions, and on CPUs it does not support it warns on every process.
            torch.globalContext().setUserEnabledNNPACK(false);
            initialized = true;
            Runtime.getRuntime().addShutdownHook(new Thread(Engine::stopNativeWork, "tikhon-engine-stop"));
            setThreads(defaultThreads.count());
        }
    }

    /**
     * The most intra-op threads {@link #setThreads} starts: far above any processor count, far below the counts at which
     * libtorch's thread pool crashed the JVM (--threads 100000: SIGSEGV, no message; 5000 ran, slowly; audit 20b).
     */
    public static final int MAX_THREADS = 1024;

    /** How long a stopping process waits for a step under way (a CROWN-IBP step on two cores takes a few seconds). */
    static final long STOP_WAIT_MILLIS = 30_000;
    private static final java.util.concurrent.atomic.AtomicBoolean STOP_ANNOUNCED = new java.util.concurrent.atomic.AtomicBoolean();
    private static final java.util.concurrent.atomic.AtomicBoolean STOP_LATE = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * The shutdown hook: lets each thread finish the libtorch call it is in before the C library's {@code exit} destroys
     * libtorch's static state under it ({@link Scope#stopWork}); says so (once) when that takes more than a moment. Other
     * shutdown hooks that write what a run kept call it first, so that they write after the last step.
     */
    public static void stopNativeWork() {
        if (!initialized || Scope.stopWork(2_000)) return;   // natives never loaded: nothing runs in them
        if (!STOP_ANNOUNCED.getAndSet(true)) {
            System.err.println("tikhon: stopping after the step under way ...");
            System.err.flush();
        }
        if (!Scope.stopWork(STOP_WAIT_MILLIS - 2_000) && !STOP_LATE.getAndSet(true)) {
            System.err.println("tikhon: a step did not end within " + STOP_WAIT_MILLIS / 1000 + " s; exiting anyway");
        }
    }

    /**
     * JavaCPP reads /proc/self/statm under a process-wide lock for every native object it registers, to decide
     * whether to call the GC, unless {@code maxPhysicalBytes} is 0. Tikhon frees native memory by {@link Scope}s, not
     * by the GC, so the check buys nothing and costs 2–4 µs per object, and a training step makes about 40 of them
     * (measured in the overhead audit of issue 25; docs/benchmarks.md). A value the user sets wins. Must run before
     * {@link Pointer}'s class is initialized, which reads the property once.
     */
    private static void relaxPointerAccounting() {
        if (System.getProperty("org.bytedeco.javacpp.maxPhysicalBytes") == null
                && System.getProperty("org.bytedeco.javacpp.maxphysicalbytes") == null) {
            System.setProperty("org.bytedeco.javacpp.maxPhysicalBytes", "0");
        }
    }

    /**
     * Native objects JavaCPP holds now (tensors, scalars, options, …): the difference across a step, taken before the
     * step's scope closes, is how many it made (bench/harness/NativeObjects).
     */
    public static long liveNativeObjects() { return Pointer.totalCount(); }

    /** JavaCPP's physical-memory limit in bytes (0: not checked), for {@code tikhon info}. */
    static long pointerPhysicalLimit() { return Pointer.maxPhysicalBytes(); }

    /**
     * Sets ATen's intra-op thread count and OpenBLAS's ({@link #blasThreads(int, String, String)}: one, unless OpenBLAS's
     * workers spin briefly enough to share the cores with ATen's), and self-checks the kernels at that count the first
     * time it is set in the process ({@link #checkKernels}).
     */
    public static void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("--threads must be at least 1, got " + n);
        if (n > MAX_THREADS) {
            throw new IllegalArgumentException("--threads must be at most " + MAX_THREADS + ", got " + n + " (libtorch's thread pool "
                    + "crashes the process with tens of thousands)");
        }
        init();
        torch.set_num_threads(n);
        try {
            openblas.blas_set_num_threads(blasThreads(n).count());
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            // OpenBLAS natives absent (a custom build): nothing to oversubscribe.
        }
        threads = n;
        checkKernels();
    }

    /** What a passed self-check set: the layout, the padding and the report, as they were when it passed. */
    private record Passed(boolean channelsLast, boolean padConvChannels, String kernels) {}

    /**
     * The self-checks that passed in this process, by thread count: a later {@link #setThreads} to a count already
     * checked takes the verdict found then instead of checking again (0.1–0.4 s each time on two cores, and every
     * in-process command and test class with its own thread count set it). Failures are not kept: a failed check turns
     * oneDNN off for the process, and where something turns it back on ({@link ConvSweep}) the next check runs in full.
     */
    static final Map<Integer, Passed> PASSED = new java.util.concurrent.ConcurrentHashMap<>();

    /** Self-checks run in full in this process (a test's count of them). */
    static final java.util.concurrent.atomic.AtomicInteger SELF_CHECKS = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * Runs {@link KernelCheck} at the current thread count, once per thread count in a process (the first time it is
     * set; see {@link #PASSED}); turns oneDNN off if its float32 results are wrong, and when they were wrong at the
     * CPU's own ISA, records it so that later processes on this host cap oneDNN at AVX.
     */
    private static void checkKernels() {
        channelsLast = false;
        if (!torch.globalContext().userEnabledMkldnn()) return;
        Passed before = PASSED.get(threads);
        if (before != null) {
            channelsLast = before.channelsLast();
            padConvChannels = before.padConvChannels();
            kernels = before.kernels();
            return;
        }
        SELF_CHECKS.incrementAndGet();
        String isa = isaCap();
        padConvChannels = false;
        String layout = "NCHW (TIKHON_CHANNELS_LAST=0)";
        channelsLast = channelsLastWanted();
        double err = KernelCheck.worstError();
        if (channelsLast) {
            layout = "channels-last";
            if (!(err < 1e-4)) {   // the NCHW kernels are other kernels: try them before giving oneDNN up
                layout = "NCHW (channels-last failed the self-check: " + String.format("%.1e", err) + ")";
                channelsLast = false;
                err = KernelCheck.worstError();
            }
        }
        String padded = "";
        if (err < 1e-4) {
            // oneDNN's float32 convolutions were found wrong (NaN at times) for input-channel counts above 8 that are
            // not multiples of 8, in the forward pass and both gradients, at the AVX cap too, but not for every shape
            // and thread count, so a probe that passes proves little: always pad such inputs with zero channels to the
            // next multiple of 8, and check that the padded convolutions are right.
            double unpadded = KernelCheck.worstOddChannelError();
            padConvChannels = true;
            double paddedErr = KernelCheck.worstOddChannelError();
            if (paddedErr < 1e-4) {
                padded = "; inputs of >8 channels padded to a multiple of 8 (unpadded probe error " + String.format("%.1e", unpadded) + ")";
            } else {
                padConvChannels = false;
                err = paddedErr;
            }
        }
        if (err < 1e-4) {
            kernels = "oneDNN (ISA cap " + isa + "), " + layout + ", float32 conv outputs and gradients self-checked against float64" + padded;
            PASSED.put(threads, new Passed(channelsLast, padConvChannels, kernels));
        } else {
            channelsLast = false;
            torch.globalContext().setUserEnabledMkldnn(false);
            String fallback = "";
            if (isaSource.equals("native")) {
                java.nio.file.Path f = IsaVerdict.recordNativeFailed(String.format("self-check error %.1e at %d threads", err, threads));
                fallback = f == null ? " Set ONEDNN_MAX_CPU_ISA=AVX for later runs (the kernels were right there on hosts seen so far)."
                        : " Later runs on this host will cap oneDNN at AVX (recorded in " + f + "; delete it to retry).";
            }
            kernels = "reference (oneDNN off: its float32 convolutions were wrong by " + String.format("%.1e", err)
                    + " relative at ISA cap " + isa + ")";
            System.err.println("tikhon: warning: oneDNN's float32 convolutions failed the self-check on this CPU ("
                    + String.format("%.1e", err) + " relative error at ISA cap " + isa + "); using libtorch's reference kernels "
                    + "in this process (slower, correct)." + fallback);
        }
    }

    /** {@code TIKHON_CHANNELS_LAST}: "1" (the default) or "0"; anything else is an error naming the choices. */
    static boolean channelsLastWanted() {
        return channelsLastWanted(System.getenv("TIKHON_CHANNELS_LAST"));
    }

    static boolean channelsLastWanted(String v) {
        if (v == null || v.isBlank() || v.equals("1")) return true;
        if (v.equals("0")) return false;
        throw new dev.tikhon.UserError("TIKHON_CHANNELS_LAST=" + v + ": use 1 (channels-last float32 convolutions on the CPU, the default) or 0 (NCHW)");
    }

    /** Whether float32 CPU convolutions run channels-last in this process (after the self-check). */
    public static boolean channelsLast() {
        init();
        return channelsLast;
    }

    /** oneDNN's ISA cap as this process set it: the environment's value, or "native (CPU's own)". */
    private static String isaCap() {
        return switch (isaSource) {
            case "environment" -> torch.get_env("ONEDNN_MAX_CPU_ISA").get().getString() + " from the environment";
            case "fallback" -> ONEDNN_FALLBACK_ISA_CAP + ", the native kernels having failed on this host (" + IsaVerdict.file() + ")";
            default -> "none, the CPU's own (ATen dispatch " + torch.get_cpu_capability().getString() + ")";
        };
    }

    /** Which convolution kernels are in use and why (for {@code tikhon info} and metrics). */
    public static String kernels() {
        init();
        return kernels;
    }

    public static int threads() {
        init();
        return threads;
    }

    /** The thread count now, or 0 while the natives are not loaded (which this does not do). For {@link #restoreThreads}. */
    public static int threadsIfLoaded() {
        return initialized ? threads : 0;
    }

    /**
     * Sets the thread count back to {@code before}, a {@link #threadsIfLoaded} taken earlier (0: the default count);
     * nothing while the natives are not loaded. Always through {@link #setThreads}, so that a libtorch count changed
     * behind the engine's back ({@link ConvSweep}) is set back too; the self-check's verdict for a count already checked
     * is kept, so this costs next to nothing.
     */
    public static void restoreThreads(int before) {
        if (!initialized) return;
        setThreads(before > 0 ? before : defaultThreads.count());
    }

    public static boolean cudaAvailable() {
        init();
        return torch.cuda_is_available();
    }

    /**
     * Whether a failure is libtorch refusing tensors on different devices (a model's weights on one device and its
     * input on another), anywhere in the cause chain: bad placement, reported as an input error rather than a crash.
     */
    public static boolean isDeviceMismatch(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            String m = String.valueOf(c.getMessage());
            if (m.contains("Expected all tensors to be on the same device")
                    || (m.contains("should be the same") && (m.contains("CUDA") || m.contains("CPU")) && m.contains("Type"))) {
                return true;
            }
        }
        return false;
    }

    public static int cudaDeviceCount() {
        init();
        return torch.cuda_is_available() ? torch.cuda_device_count() : 0;
    }

    /** Throws a message that says why CUDA cannot be used and what to do about it. */
    static void requireCuda(int index) {
        init();
        if (!NativeLoader.gpuFlavour()) {
            throw new IllegalArgumentException("--device cuda: this build carries CPU-only libtorch natives. "
                    + "Rebuild with the CUDA flavour (mvn -Pcuda package; needs a system CUDA 13.1 and cuDNN 9.19), "
                    + "or use --device cpu");
        }
        if (!torch.cuda_is_available()) {
            throw new IllegalArgumentException("--device cuda: no usable CUDA device (driver missing, no GPU visible, "
                    + "or CUDA 13.1 / cuDNN 9.19 libraries not found); use --device cpu");
        }
        int n = torch.cuda_device_count();
        if (index >= n) {
            throw new IllegalArgumentException("--device cuda:" + index + ": only " + n + " CUDA device(s) visible");
        }
    }

    private static String cudaMath;   // null until a run on CUDA configures it

    /**
     * GPU kernel policy for a run on CUDA. cuDNN's benchmark mode is on: Tikhon's loops run fixed shapes, so timing
     * the candidate convolution algorithms once per shape pays for itself within a few steps (results may then vary
     * in the last bits between runs on a GPU; CPU runs stay bit-reproducible). TensorFloat-32 (10-bit mantissa
     * products in convolutions and matrix products) only with {@code tf32}: by default float32 stays float32, so
     * gradients and certificates mean what they say; PyTorch's own default allows TF32 in cuDNN convolutions, so
     * compare speeds with the same setting on both sides.
     */
    public static void configureCuda(boolean tf32) {
        init();
        torch.globalContext().setBenchmarkCuDNN(true);
        torch.globalContext().setAllowTF32CuDNN(tf32);
        torch.globalContext().setAllowTF32CuBLAS(tf32);
        cudaMath = "cuDNN benchmark mode on; TF32 " + (tf32 ? "allowed (--tf32)" : "off (float32 kept exact)");
    }

    /** libtorch's version, e.g. "2.10.0" (the binding's version is libtorch's, then JavaCPP's). */
    public static String libtorchVersion() {
        return bindingVersion().split("-")[0];
    }

    /** Facts for {@code tikhon info} and metrics.json. */
    public static Map<String, Object> describe() {
        init();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("binding", "org.bytedeco:pytorch " + bindingVersion());
        m.put("platform", Loader.getPlatform() + (NativeLoader.gpuFlavour() ? "-gpu" : ""));
        m.put("intraop_threads", torch.get_num_threads());
        m.put("default_threads", defaultThreads.count());
        m.put("default_threads_why", defaultThreads.why());
        m.put("openblas_threads", openblasThreads());
        m.put("openblas_threads_why", blasThreads(threads).why());
        m.put("kernels", kernels);
        m.put("javacpp_max_physical_bytes", Pointer.maxPhysicalBytes());
        m.put("cuda_available", torch.cuda_is_available());
        if (cudaMath != null) m.put("cuda_math", cudaMath);
        m.put("cuda_devices", cudaDeviceCount());
        List<File> libs = NativeLoader.extract();
        m.put("native_cache", libs.isEmpty() ? "(none)" : libs.get(0).getParent());
        return m;
    }

    /** The parallel backend report libtorch prints (OpenMP version, thread counts, MKL/OpenBLAS). */
    public static String parallelInfo() {
        init();
        return torch.get_parallel_info().getString();
    }

    /**
     * Runs {@code work} with OpenBLAS at {@code n} threads, then sets it back: for measuring the machine's
     * matrix-product ceiling at a step's thread count, when ATen's own pool is idle and the two cannot fight.
     */
    public static <T> T withBlasThreads(int n, java.util.function.Supplier<T> work) {
        init();
        try {
            openblas.blas_set_num_threads(n);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            return work.get();
        }
        try {
            return work.get();
        } finally {
            openblas.blas_set_num_threads(blasThreads(threads).count());
        }
    }

    /** The variable that overrides OpenBLAS's thread count: a count, or {@code threads} for ATen's. */
    static final String BLAS_THREADS_VARIABLE = "TIKHON_BLAS_THREADS";

    /**
     * OpenBLAS's spin before its idle workers sleep, as a power of two of CPU cycles, read once when OpenBLAS loads (the
     * launcher sets 4); a short spin is what lets OpenBLAS's workers share the cores with ATen's.
     */
    static final String BLAS_SPIN_VARIABLE = "OPENBLAS_THREAD_TIMEOUT";

    /** The longest spin (2^10 cycles, well under a microsecond) under which OpenBLAS's workers follow ATen's thread count. */
    static final int SHORT_BLAS_SPIN = 10;

    /** OpenBLAS's thread count and the reason for it, as {@code tikhon info} prints them. */
    record BlasThreads(int count, String why) {}

    /** OpenBLAS's thread count beside {@code n} ATen threads in this process: see {@link #blasThreads(int, String, String)}. */
    static BlasThreads blasThreads(int n) {
        return blasThreads(n, System.getenv(BLAS_THREADS_VARIABLE), System.getenv(BLAS_SPIN_VARIABLE));
    }

    /**
     * OpenBLAS's thread count beside {@code n} ATen threads. {@value #BLAS_THREADS_VARIABLE} wins when set. Otherwise
     * {@code n} when OpenBLAS's idle workers spin only briefly ({@value #BLAS_SPIN_VARIABLE} ≤ {@value #SHORT_BLAS_SPIN}),
     * else 1: with OpenBLAS's default spin (2^28 cycles, about 0.1 s after every product) its workers keep the cores
     * ATen's threads need next (CNN step on 2 cores: 6.2 steps/s at 2 OpenBLAS threads against 11.5 at 1), and with a
     * short spin the products get the cores and nothing is lost (12.2 against 11.9; docs/benchmarks.md).
     */
    static BlasThreads blasThreads(int n, String setting, String spin) {
        if (setting == null || setting.isBlank()) {
            Integer cycles = spinExponent(spin);
            if (cycles != null && cycles <= SHORT_BLAS_SPIN) {
                return new BlasThreads(n, "as many as ATen's: idle workers spin 2^" + cycles + " cycles (" + BLAS_SPIN_VARIABLE + ")");
            }
            return new BlasThreads(1, "one: idle workers spin " + (cycles == null ? "OpenBLAS's default 2^28 cycles" : "2^" + cycles + " cycles")
                    + " and would hold ATen's cores (the launcher sets " + BLAS_SPIN_VARIABLE + "=4)");
        }
        String why = BLAS_THREADS_VARIABLE + "=" + setting.strip();
        if (setting.strip().equals("threads")) return new BlasThreads(n, why);
        try {
            int b = Integer.parseInt(setting.strip());
            if (b >= 1) return new BlasThreads(b, why);
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(BLAS_THREADS_VARIABLE + " must be a thread count ≥ 1 or 'threads' (as many as --threads), got '"
                + setting + "'");
    }

    /** The spin's exponent, or null when unset or not a number (OpenBLAS ignores it then and keeps its default). */
    private static Integer spinExponent(String spin) {
        if (spin == null) return null;
        try {
            return Integer.parseInt(spin.strip());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static int openblasThreads() {
        try {
            return openblas.blas_get_num_threads();
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            return -1;
        }
    }

    static String bindingVersion() {
        Package p = torch.class.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        return v == null ? "2.10.0-1.5.13" : v;
    }

    /** Native bytes held by JavaCPP-tracked pointers and the process's resident set, for memory tests. */
    public static long physicalBytes() {
        return Pointer.physicalBytes();
    }
}
