package example;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The consumer's view of dev.tikhon:tikhon. */
class FromJavaTest {

    /** One training run shared by both tests (CI time): the program's run, and the model its snippet attacks. */
    @TempDir
    static Path runs;
    private static double accuracy = Double.NaN;

    private static synchronized double trainedOnce() {
        if (Double.isNaN(accuracy)) accuracy = FromJava.run("fashion-mnist-sample", 1, runs.resolve("cnn"));
        return accuracy;
    }

    @Test
    void theReadmeProgramTrainsAndWritesACheckpoint() {
        double accuracy = trainedOnce();
        assertTrue(accuracy > 0.6, "test accuracy " + accuracy);
        assertTrue(Files.exists(runs.resolve("cnn/checkpoint.tkn")));
    }

    @Test
    void theReadmeAttackSnippetBreaksSomeOfAnUndefendedModelsImages() {
        trainedOnce();
        dev.tikhon.nn.Module model = dev.tikhon.scaleout.ModelRef.checkpoint(runs.resolve("cnn")).load();
        int[] clean = new int[1];
        int broken = FromJava.attack(model, "fashion-mnist-sample", clean);
        assertTrue(clean[0] > 32 && broken > 0 && broken <= 64, "clean " + clean[0] + ", broken " + broken);
    }

    /** Tikhon's test libraries, its command line's and its progress bar's stay off a consumer's compile class path. */
    @Test
    void compileClasspathHoldsNoTestOrCliLibrary() throws IOException {
        String cp = Files.readString(Path.of("target/compile-classpath.txt"));
        List<String> entries = List.of(cp.strip().split(java.io.File.pathSeparator));
        assertTrue(entries.stream().anyMatch(e -> e.contains("pytorch")), "libtorch is there: " + entries);
        for (String e : entries) {
            String name = Path.of(e).getFileName().toString().toLowerCase(Locale.ROOT);
            for (String banned : List.of("junit", "opentest4j", "assertj", "jqwik", "apiguardian", "picocli", "progressbar",
                    "jline", "pdfbox", "vectorgraphics2d", "onnxruntime")) {
                assertTrue(!name.contains(banned), banned + " on the consumer's compile class path: " + e);
            }
        }
    }
}
