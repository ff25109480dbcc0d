package dev.tikhon.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
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

    /**
     * The verdict is keyed by facts that stay put while the host does (CPU identity, flags, microcode, kernel, boot,
     * libtorch), never by ones that change from read to read (a core's clock, bogomips), else it would never be found.
     */
    @Test
    void theHostKeyRestsOnStableFactsOfTheFirstProcessorOnly() throws Exception {
        String facts = IsaVerdict.hostFacts();
        assertThat(facts).isEqualTo(IsaVerdict.hostFacts());
        assertThat(IsaVerdict.file(Path.of("a"))).isEqualTo(IsaVerdict.file(Path.of("a")));
        List<String> lines = facts.lines().toList();
        assertThat(lines.get(0)).isEqualTo("libtorch " + Engine.bindingVersion());
        assertThat(lines.get(1)).isEqualTo("os " + System.getProperty("os.name") + " " + System.getProperty("os.version"));
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (!Files.isReadable(cpuinfo)) return;   // not Linux: the CPU is named by its architecture
        Set<String> stable = Set.of("vendor_id", "cpu family", "model", "model name", "stepping", "microcode", "flags");
        List<String> cpu = lines.subList(2, lines.size()).stream().filter(l -> !l.startsWith("boot ")).toList();
        List<String> keys = cpu.stream().map(l -> l.split(":", 2)[0].trim()).toList();
        assertThat(keys).doesNotHaveDuplicates().isSubsetOf(stable);
        // every stable fact the first processor lists is there, as the file states it
        List<String> first = Files.readAllLines(cpuinfo).stream().takeWhile(l -> !l.isBlank()).toList();
        List<String> expected = first.stream().filter(l -> stable.contains(l.split(":", 2)[0].trim())).map(String::trim).toList();
        assertThat(cpu).containsExactlyElementsOf(expected);
        Path boot = Path.of("/proc/sys/kernel/random/boot_id");
        if (Files.isReadable(boot)) assertThat(lines).endsWith("boot " + Files.readString(boot).trim());
    }

    /** Whether this process's host has a verdict is whether its file is there; a cache that cannot be written is no error. */
    @Test
    void aVerdictThatCannotBeWrittenIsNoErrorAndNoneIsFoundWhereNoneIs(@TempDir Path dir) throws Exception {
        Path f = IsaVerdict.file();
        assertThat(f).isNotNull();
        String env = System.getenv("TIKHON_CACHE_DIR");
        Path base = env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "tikhon");
        assertThat(f).isEqualTo(IsaVerdict.file(base));
        assertThat(IsaVerdict.nativeFailed()).isEqualTo(Files.isRegularFile(f));

        Path notADirectory = dir.resolve("plain-file");
        Files.writeString(notADirectory, "x");
        assertThat(IsaVerdict.record(IsaVerdict.file(notADirectory), "cannot be written")).isNull();
        assertThat(Files.readString(notADirectory)).isEqualTo("x");
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
