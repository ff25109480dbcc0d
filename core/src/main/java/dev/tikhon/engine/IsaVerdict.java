package dev.tikhon.engine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;

/**
 * Remembers, per host, that oneDNN's kernels at the CPU's own instruction set failed {@link KernelCheck}.
 *
 * <p>oneDNN reads {@code ONEDNN_MAX_CPU_ISA} once, when its first primitive is made, so a process that finds its
 * kernels wrong can only turn oneDNN off (about 3.7× slower convolutions); it cannot step down to AVX. It writes
 * this verdict, and later processes on the same host (same CPU, microcode, kernel and boot, same libtorch) start
 * capped at AVX, where the kernels were right on the hosts where the native ones were wrong (docs/engine.md).
 * Every process still runs the self-check on the kernels it uses. The file lives in {@code $TIKHON_CACHE_DIR}
 * (default {@code ~/.cache/tikhon}); deleting it retries the native kernels.
 */
final class IsaVerdict {
    private IsaVerdict() {}

    /** The verdict file for this host, or null when no cache directory can be named. */
    static Path file() {
        String dir = System.getenv("TIKHON_CACHE_DIR");
        Path base;
        if (dir != null && !dir.isBlank()) {
            base = Path.of(dir);
        } else {
            String home = System.getProperty("user.home");
            if (home == null || home.isBlank()) return null;
            base = Path.of(home, ".cache", "tikhon");
        }
        return file(base);
    }

    /** The verdict file for this host in directory {@code base}. */
    static Path file(Path base) {
        return base.resolve("onednn-native-isa-failed-" + hostKey() + ".txt");
    }

    /** True when a process on this host found the native-ISA kernels wrong. */
    static boolean nativeFailed() {
        Path f = file();
        return f != null && Files.isRegularFile(f);
    }

    /** Records that the native-ISA kernels failed (atomically; a read-only home is not an error). Returns the file or null. */
    static Path recordNativeFailed(String detail) {
        Path f = file();
        return f == null ? null : record(f, detail);
    }

    static Path record(Path f, String detail) {
        try {
            Files.createDirectories(f.getParent());
            Path tmp = Files.createTempFile(f.getParent(), f.getFileName().toString(), ".tmp");
            Files.writeString(tmp, Instant.now() + " " + detail + "\n" + hostFacts(), StandardCharsets.UTF_8);
            Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return f;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The facts the verdict depends on: libtorch, CPU identity and flags, microcode, kernel, boot. */
    static String hostFacts() {
        StringBuilder b = new StringBuilder("libtorch ").append(Engine.bindingVersion()).append('\n');
        b.append("os ").append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.version")).append('\n');
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.isBlank()) break;   // the first processor is enough
                String k = line.split(":", 2)[0].trim();
                if (k.equals("vendor_id") || k.equals("cpu family") || k.equals("model") || k.equals("model name")
                        || k.equals("stepping") || k.equals("microcode") || k.equals("flags")) b.append(line.trim()).append('\n');
            }
        } catch (IOException | RuntimeException e) {
            b.append("cpu ").append(System.getProperty("os.arch")).append('\n');
        }
        try {
            b.append("boot ").append(Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim()).append('\n');
        } catch (IOException | RuntimeException e) {
            // not Linux: the verdict then lasts until the file is deleted
        }
        return b.toString();
    }

    private static String hostKey() {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(hostFacts().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
