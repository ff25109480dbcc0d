package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.train.Checkpoint;
import dev.tikhon.train.DataInfo;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.tikhon.cli.CliBadInputTest.oneErrorLine;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --image-size} on a folder of PNGs of mixed sizes: without it the folder is refused naming the option; with it a
 * run trains, its checkpoint records the size, and the commands on that checkpoint resize its data alike with no option.
 */
class CliImageFolderSizeTest {
    @TempDir
    static Path shared;
    /** Two classes of five gray PNGs each, 6 to 10 pixels wide and 8 or 11 high. */
    static Path images;
    /** One epoch of a small MLP on {@link #images} resized to 8x8. */
    static Path run;
    static Cli.Run trained;

    @BeforeAll
    static void trainOnResizedImages() throws IOException {
        images = shared.resolve("images");
        for (String c : List.of("circles", "squares")) {
            Path dir = Files.createDirectories(images.resolve(c));
            for (int i = 0; i < 5; i++) {
                int w = 6 + (i % 3) * 2, h = 8 + (i % 2) * 3;
                BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
                for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.getRaster().setSample(x, y, 0, c.equals("circles") ? 20 * x : 20 * y);
                ImageIO.write(img, "png", dir.resolve(i + ".png").toFile());
            }
        }
        run = shared.resolve("run");
        trained = Cli.run(train(run, "--image-size", "8x8"));
    }

    /**
     * A kernel model recorded its data by the data set's own name (a folder's: the folder's, not "folder"), so kernel
     * eval without --data could not find a folder-fitted model's data; it now records the name, folder and size asked for.
     */
    @Test
    void kernelEvalFindsAFolderFittedModelsDataAndSize() throws IOException {
        Path fit = shared.resolve("kernel-fit");
        Cli.Run f = Cli.run("kernel", "fit", "--data", "folder", "--data-dir", images.toString(), "--image-size", "8x8", "--method", "krr",
                "--threads", "1", "--out", fit.toString());
        assertThat(f.exitCode()).as(f.err()).isZero();
        Cli.Run e = Cli.run("kernel", "eval", "--model", fit.toString(), "--threads", "1", "--out", shared.resolve("kernel-eval").toString());
        assertThat(e.exitCode()).as(e.err()).isZero();
        ObjectMapper json = new ObjectMapper();
        assertThat(json.readTree(shared.resolve("kernel-eval/metrics.json").toFile()).at("/evaluation/accuracy").asDouble())
                .as("the fit's own test split").isEqualTo(json.readTree(fit.resolve("metrics.json").toFile()).at("/test_acc").asDouble());
        assertThat(e.out()).doesNotContain("error");
    }

    private static String[] train(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--data", "folder", "--data-dir", images.toString(), "--model", "mlp", "--hidden",
                "8", "--epochs", "1", "--batch-size", "4", "--threads", "1", "--out", out.toString()));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void mixedSizesWithoutTheOptionAreRefusedNamingIt(@TempDir Path dir) {
        oneErrorLine(Cli.run(train(dir.resolve("out"))), images.toString(), "a folder data set needs images of one size",
                "--image-size HxW (height x width, e.g. --image-size 8x6, the first image's)");
        assertThat(dir.resolve("out")).doesNotExist();
    }

    @Test
    void aResizedRunTrainsAndRecordsTheSize() throws IOException {
        assertThat(trained.exitCode()).as(trained.err()).isZero();
        assertThat(trained.out()).contains("8 train / 2 test images", "2 classes, 1x8x8 (resized to 8x8)");
        DataInfo data = Checkpoint.load(run).meta().data();
        assertThat(data.name()).isEqualTo("folder");
        assertThat(data.imageHeight()).isEqualTo(8);
        assertThat(data.imageWidth()).isEqualTo(8);
        assertThat(Checkpoint.load(run).meta().model().inputShape()).containsExactly(1L, 8L, 8L);
        JsonNode metrics = new ObjectMapper().readTree(run.resolve("metrics.json").toFile());
        assertThat(metrics.path("data").path("imageHeight").asInt()).isEqualTo(8);
        assertThat(metrics.path("data").path("imageWidth").asInt()).isEqualTo(8);
    }

    @Test
    void theCommandsOnTheCheckpointResizeItsDataAlikeWithoutTheOption(@TempDir Path dir) {
        Cli.Run eval = Cli.run("eval", "--checkpoint", run.toString(), "--threads", "1", "--out", dir.resolve("eval").toString());
        assertThat(eval.exitCode()).as(eval.err()).isZero();
        assertThat(eval.out()).contains("image folder " + images, "1x8x8 (resized to 8x8) [test, 2 examples]", "test accuracy");

        Cli.Run general = Cli.run("generalization", "--checkpoint", run.toString(), "--max-points", "0", "--threads", "1", "--out",
                dir.resolve("general").toString());
        assertThat(general.exitCode()).as(general.err()).isZero();
        assertThat(general.out()).contains("1x8x8 (resized to 8x8); measuring 8 train and 2 test points");

        Path smoothed = dir.resolve("smooth");
        Cli.Run smooth = Cli.run("smooth", "--checkpoint", run.toString(), "--subset", "4", "--epochs", "1", "--threads", "1", "--out",
                smoothed.toString());
        assertThat(smooth.exitCode()).as(smooth.err()).isZero();
        assertThat(smooth.out()).contains("1x8x8 (resized to 8x8)");
        DataInfo data = Checkpoint.load(smoothed).meta().data();
        assertThat(data.imageHeight()).as("the smoothed model records the size it was smoothed at").isEqualTo(8);
        assertThat(data.imageWidth()).isEqualTo(8);
    }

    @Test
    void anotherSizeThanTheModelsIsHonouredAndRefusedByTheInputCheck(@TempDir Path dir) {
        String line = oneErrorLine(Cli.run("eval", "--checkpoint", run.toString(), "--image-size", "6x6", "--threads", "1", "--out",
                dir.resolve("out").toString()), "takes inputs of shape [1, 8, 8]", "has examples of shape [1, 6, 6]");
        assertThat(line).endsWith("--image-size 6x6 resizes the folder's images to another size than the model's: give --image-size 8x8, "
                + "or drop --image-size to use the size its checkpoint records");
        assertThat(dir.resolve("out")).doesNotExist();
    }

    @ParameterizedTest(name = "--image-size {0}")
    @ValueSource(strings = {"28by28", "0x5", "-3", "5000x5000", "8x"})
    void aMalformedSizeIsAUsageErrorNamingTheValue(String value, @TempDir Path dir) {
        oneErrorLine(Cli.run(train(dir.resolve("out"), "--image-size", value)), "Invalid value for option '--image-size'",
                "'" + value + "'", "HxW (height x width in pixels, e.g. 28x28) or N for NxN", "(try 'tikhon train --help')");
        assertThat(dir.resolve("out")).doesNotExist();
    }

    @Test
    void aSizeForAnotherDataSetThanAFolderIsRefused(@TempDir Path dir) {
        oneErrorLine(Cli.run("train", "--data", "moons", "--image-size", "8", "--model", "mlp", "--epochs", "1", "--threads", "1", "--out",
                dir.resolve("moons").toString()), "--image-size 8x8 applies only to --data folder", "not to --data moons", "drop --image-size");
        assertThat(dir.resolve("moons")).doesNotExist();
        oneErrorLine(Cli.run("eval", "--checkpoint", run.toString(), "--data", "fashion-mnist-sample", "--image-size", "28", "--threads", "1",
                "--out", dir.resolve("eval").toString()), "--image-size 28x28 applies only to --data folder", "not to --data fashion-mnist-sample");
        oneErrorLine(Cli.run("data-lipschitz", "--data", "moons", "--image-size", "8", "--out", dir.resolve("dl").toString()),
                "applies only to --data folder");
    }

    @Test
    void aResumeWithAnotherSizeIsRefusedLikeAnyChangedSetting() {
        oneErrorLine(Cli.run("train", "--resume", "--out", run.toString(), "--image-size", "6x6"),
                "--image-size 6x6 conflicts with the run's recorded --image-size 8x8", "drop it to resume that run");
    }
}
