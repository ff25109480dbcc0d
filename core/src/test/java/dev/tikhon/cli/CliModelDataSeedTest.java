package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A model's own data is drawn with the seed it was trained with. eval of a toy-set model trained with --seed 5 generated
 * the set from eval's --seed 0, and a folder model's held-out fifth was redrawn with seed 0: its "test" split then held
 * images the model was trained on.
 */
class CliModelDataSeedTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void evalOfAToySetModelUsesItsTrainingSeed(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run");
        Cli.Run t = Cli.run("train", "--data", "moons", "--model", "mlp", "--hidden", "8", "--epochs", "1", "--seed", "5", "--threads", "1",
                "--out", run.toString());
        assertThat(t.exitCode()).as(t.err()).isZero();
        assertThat(Checkpoint.load(run).meta().data().seed()).isEqualTo(5L);
        JsonNode trained = JSON.readTree(run.resolve("metrics.json").toFile()).at("/test");

        Cli.Run e = Cli.run("eval", "--checkpoint", run.toString(), "--threads", "1", "--out", dir.resolve("e").toString());
        assertThat(e.exitCode()).as(e.err()).isZero();
        assertThat(e.out()).contains("generated from seed 5");
        JsonNode evaluated = JSON.readTree(dir.resolve("e/metrics.json").toFile()).at("/evaluation");
        assertThat(evaluated.at("/loss").asDouble()).isEqualTo(trained.at("/loss").asDouble());
        assertThat(evaluated.at("/accuracy").asDouble()).isEqualTo(trained.at("/accuracy").asDouble());

        // another toy set is not the model's own: the command's seed draws it
        Cli.Run other = Cli.run("eval", "--checkpoint", run.toString(), "--data", "circles", "--seed", "3", "--threads", "1",
                "--out", dir.resolve("o").toString());
        assertThat(other.exitCode()).as(other.err()).isZero();
        assertThat(other.out()).contains("generated from seed 3");
    }

    @Test
    void aFolderModelsTestSplitIsTheOneItWasTrainedBeside(@TempDir Path dir) throws IOException {
        Path images = dir.resolve("images");
        for (String c : new String[]{"dark", "light"}) {
            Path d = Files.createDirectories(images.resolve(c));
            for (int i = 0; i < 20; i++) {
                BufferedImage img = new BufferedImage(6, 6, BufferedImage.TYPE_BYTE_GRAY);
                for (int y = 0; y < 6; y++) for (int x = 0; x < 6; x++) {
                    img.getRaster().setSample(x, y, 0, (c.equals("dark") ? 40 : 180) + (i * 7 + x * 3 + y) % 60);
                }
                ImageIO.write(img, "png", d.resolve(i + ".png").toFile());
            }
        }
        Path run = dir.resolve("run");
        Cli.Run t = Cli.run("train", "--data", "folder", "--data-dir", images.toString(), "--model", "mlp", "--hidden", "8", "--epochs", "1",
                "--batch-size", "8", "--seed", "3", "--threads", "1", "--out", run.toString());
        assertThat(t.exitCode()).as(t.err()).isZero();
        JsonNode trained = JSON.readTree(run.resolve("metrics.json").toFile()).at("/test");
        Cli.Run e = Cli.run("eval", "--checkpoint", run.toString(), "--threads", "1", "--out", dir.resolve("e").toString());
        assertThat(e.exitCode()).as(e.err()).isZero();
        assertThat(e.out()).contains("held out, seed 3");
        JsonNode evaluated = JSON.readTree(dir.resolve("e/metrics.json").toFile()).at("/evaluation");
        assertThat(evaluated.at("/loss").asDouble()).isEqualTo(trained.at("/loss").asDouble());
    }
}
