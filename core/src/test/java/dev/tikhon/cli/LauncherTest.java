package dev.tikhon.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real launcher, {@code ./tikhon}, started as a user starts it, once per case: every other CLI test runs
 * {@link Main#execute} in-process, so none sees the script, its class path, its environment or the exit status of a
 * real JVM ({@code System.exit}). The script builds the jar with Maven when it is missing or older than the sources;
 * a Maven build inside a test run would rebuild the classes under the running tests, so the test lays out a copy of
 * the launcher beside a jar made from this build's classes and links to its libraries (newer than the sources, so
 * the script builds nothing), and skips only when those classes or bash are not there.
 */
class LauncherTest {
    @TempDir
    static Path root;

    @BeforeAll
    static void layOut() throws IOException {
        layOut(root);
    }

    /** Lays out the launcher in {@code root} beside a jar of this build's classes (skips the test when they are not there). */
    static void layOut(Path root) throws IOException {
        Path script = Path.of("..", "tikhon").toAbsolutePath().normalize(), classes = Path.of("target", "classes").toAbsolutePath();
        assumeTrue(Files.isRegularFile(script) && Files.isDirectory(classes.resolve("dev/tikhon/cli")) && Files.isExecutable(Path.of("/bin/bash")),
                "the launcher, this build's classes and bash");
        Files.copy(script, root.resolve("tikhon"));
        root.resolve("tikhon").toFile().setExecutable(true);
        // the sources the script compares against, older than the jar
        FileTime old = FileTime.fromMillis(System.currentTimeMillis() - 3_600_000);
        for (Path p : List.of(Files.createDirectories(root.resolve("core/src/main")), Files.writeString(root.resolve("core/pom.xml"), ""),
                Files.writeString(root.resolve("pom.xml"), ""))) {
            Files.setLastModifiedTime(p, old);
        }
        Path target = Files.createDirectories(root.resolve("core/target/lib"));
        try (OutputStream out = Files.newOutputStream(root.resolve("core/target/tikhon.jar")); JarOutputStream jar = new JarOutputStream(out);
             Stream<Path> files = Files.walk(classes)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                jar.putNextEntry(new JarEntry(classes.relativize(f).toString().replace(File.separatorChar, '/')));
                Files.copy(f, jar);
                jar.closeEntry();
            }
        }
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry);
            if (entry.endsWith(".jar") && Files.isRegularFile(p)) Files.createSymbolicLink(target.getParent().resolve("lib").resolve(p.getFileName()), p.toAbsolutePath());
        }
    }

    record Run(int exit, String out, String err) {}

    static Run launch(String... args) throws Exception {
        return launchIn(root, args);
    }

    /** {@link #launch} on a thread of its own. */
    private static java.util.concurrent.FutureTask<Run> launchAsync(String... args) {
        java.util.concurrent.FutureTask<Run> t = new java.util.concurrent.FutureTask<>(() -> launch(args));
        new Thread(t, "launch " + args[0]).start();
        return t;
    }

    /** Runs the launcher laid out in {@code root} to its end. */
    static Run launchIn(Path root, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(root.resolve("tikhon").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(root.toFile());
        pb.environment().put("TIKHON_PROGRESS", "plain");
        pb.environment().remove("TIKHON_DEBUG");
        Process p = pb.start();
        p.getOutputStream().close();
        var err = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), out, err.get());
    }

    @Test
    @Timeout(300)
    void infoEvalAndABadInputThroughTheRealLauncher() throws Exception {
        Path model = Path.of("src/test/resources/torchscript/tiny_cnn.pt").toAbsolutePath(), out = root.resolve("eval");
        // the three runs are independent (own folders, nothing shared but the laid-out launcher): started at once, their
        // JVMs' start-ups (mostly one core's work each) overlap
        var infoRun = launchAsync("info");
        var evalRun = launchAsync("eval", "--torchscript", model.toString(), "--data", "fashion-mnist-sample", "--no-grad-stats", "--threads", "1",
                "--out", out.toString());
        var badRun = launchAsync("certify", "--torchscript", model.toString(), "--method", "cohen", "--sigma", "Infinity", "--out",
                root.resolve("c").toString());
        Run info = infoRun.get(), eval = evalRun.get(), bad = badRun.get();
        assertThat(info.exit()).as(info.err()).isZero();
        assertThat(info.err()).as("nothing was built").doesNotContain("building");
        assertThat(info.out()).contains("libtorch");

        assertThat(eval.exit()).as(eval.err()).isZero();
        assertThat(eval.out()).contains("test accuracy");
        assertThat(out.resolve("metrics.json")).isNotEmptyFile();

        assertThat(bad.exit()).as("the JVM's exit status").isEqualTo(2);
        assertThat(bad.err().strip().lines()).singleElement().asString().startsWith("tikhon: error: ").contains("--sigma", "not a finite number");
        assertThat(root.resolve("c")).doesNotExist();
    }
}
