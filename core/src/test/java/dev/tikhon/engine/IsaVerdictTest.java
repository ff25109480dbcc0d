package dev.tikhon.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The host verdict that moves later processes to oneDNN's AVX kernels after the native ones failed the self-check
 * (oneDNN reads its ISA cap once per process, so only a later process can use it).
 */
class IsaVerdictTest {

    @Test
    void aRecordedVerdictIsFoundUnderThisHostsKeyAndWrittenWhole(@TempDir Path dir) throws Exception {
        Path f = IsaVerdict.file(dir);
        assertThat(f.getFileName().toString()).startsWith("onednn-native-isa-failed-").endsWith(".txt");
        assertThat(Files.exists(f)).isFalse();
        assertThat(IsaVerdict.record(f, "self-check error 2.7e-01 at 2 threads")).isEqualTo(f);
        assertThat(Files.readString(f)).contains("2.7e-01").contains("libtorch 2.10.0").contains(IsaVerdict.hostFacts());
        try (var files = Files.list(dir)) {
            assertThat(files.toList()).containsExactly(f);   // no temporary file left behind
        }
    }

    /** A fresh process that finds the verdict caps oneDNN at AVX, still self-checks, and says so. */
    @Test
    @Timeout(300)
    void aLaterProcessFindsTheVerdictAndCapsOneDnnAtAvx(@TempDir Path dir) throws Exception {
        IsaVerdict.record(IsaVerdict.file(dir), "planted by IsaVerdictTest");
        ProcessBuilder pb = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.tikhon.cli.Main", "info", "--threads", "1")).redirectErrorStream(true);
        pb.environment().put("TIKHON_CACHE_DIR", dir.toString());
        pb.environment().remove("ONEDNN_MAX_CPU_ISA");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(240, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("ISA cap AVX, the native kernels having failed on this host").contains("self-checked against float64");
    }
}
