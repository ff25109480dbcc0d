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
 * A fresh process with an empty JavaCPP cache, the situation in which the bundled libtorch stub
 * used to resolve a system-wide libtorch (Debian's python3-torch installs 1.13) and crash.
 * Meaningful on a machine that has such a libtorch; .ci/run installs one.
 */
class ColdStartTest {

    @Test
    @Timeout(300)
    void startsCleanlyOnAnEmptyNativeCacheBesideASystemLibtorch(@TempDir Path cache) throws Exception {
        boolean systemTorch = Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libtorch_cpu.so"));
        System.out.println("system-wide libtorch present: " + systemTorch);
        for (int run = 0; run < 2; run++) {
            Path dir = cache.resolve("run" + run);   // empty each time: a cold start
            Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Dorg.bytedeco.javacpp.cachedir=" + dir, "-cp", System.getProperty("java.class.path"),
                    "dev.tikhon.cli.Main", "info")).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(240, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out).contains("libtorch:         2.10.0").contains("kernels:");
            assertThat(out).contains(dir.toString());
        }
    }
}
