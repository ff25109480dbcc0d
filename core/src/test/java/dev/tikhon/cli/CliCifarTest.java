package dev.tikhon.cli;

import dev.tikhon.data.CifarReader;
import dev.tikhon.data.CifarWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static dev.tikhon.cli.CliBadInputTest.oneErrorLine;
import static org.assertj.core.api.Assertions.assertThat;

/** CIFAR-10 from the command line, on tiny sets written in its binary format. */
class CliCifarTest {
    private static Cli.Run train(Path data, Path out, String... more) {
        return Cli.run(Cli.concat(new String[]{"train", "--data", "cifar10", "--data-dir", data.toString(), "--model", "mlp", "--hidden", "8",
                "--epochs", "1", "--batch-size", "8", "--threads", "1", "--out", out.toString()}, more));
    }

    /**
     * A ResNet-20 trains end to end on a CIFAR-format sample with augmentation and normalization (one short epoch,
     * one thread); the checkpoint records both, and evaluation, attack and verification read it from a directory that
     * holds only test_batch.bin, the attack and verifier working in [0, 1] pixels through the normalization layer.
     */
    @Test
    void resnet20TrainsWithAugmentationAndNormalizationThenEvaluatesOnTheTestSplitOnly(@TempDir Path tmp) throws IOException {
        Path dir = CifarWriter.set(tmp.resolve("cifar"), 2, 4);
        Path run = tmp.resolve("resnet");
        Cli.Run t = Cli.run("train", "--data", "cifar10", "--data-dir", dir.toString(), "--model", "resnet", "--depth", "20",
                "--augment", "crop,flip", "--normalize", "0.4914,0.4822,0.4465/0.2470,0.2435,0.2616", "--epochs", "1",
                "--batch-size", "5", "--threads", "1", "--out", run.toString());
        assertThat(t.exitCode()).as(t.err()).isZero();
        assertThat(t.out()).contains("CIFAR-10 from " + dir + " (10 train / 4 test)").contains("augment: crop:4,flip")
                .contains("depth=20").contains("normalize={mean=[0.4914, 0.4822, 0.4465], std=[0.247, 0.2435, 0.2616]}");
        JsonNode metrics = new ObjectMapper().readTree(run.resolve("metrics.json").toFile());
        assertThat(metrics.at("/config/augment").asText()).isEqualTo("crop:4,flip");
        assertThat(metrics.at("/model/options/normalize/std/2").asDouble()).isEqualTo(0.2616);
        assertThat(metrics.at("/final/train_loss").asDouble()).isFinite().isPositive();

        Path testOnly = Files.createDirectories(tmp.resolve("test-only"));
        Files.copy(dir.resolve("test_batch.bin"), testOnly.resolve("test_batch.bin"));
        Cli.Run e = Cli.run("eval", "--checkpoint", run.toString(), "--data-dir", testOnly.toString(), "--threads", "1",
                "--out", tmp.resolve("eval").toString());
        assertThat(e.exitCode()).as(e.err()).isZero();
        assertThat(e.out()).contains("test split only: 4 test").contains("on 4 examples");
        Cli.Run a = Cli.run("attack", "--checkpoint", run.toString(), "--data-dir", testOnly.toString(), "--attack", "pgd",
                "--eps", "2/255", "--steps", "2", "--limit", "2", "--no-min-distance", "--no-bounds", "--threads", "1",
                "--out", tmp.resolve("attack").toString());
        assertThat(a.exitCode()).as(a.err()).isZero();
        Cli.Run v = Cli.run("verify", "--checkpoint", run.toString(), "--data-dir", testOnly.toString(), "--method", "ibp",
                "--eps", "0.001", "--images", "2", "--no-attack", "--threads", "1", "--out", tmp.resolve("verify").toString());
        assertThat(v.exitCode()).as(v.err()).isZero();

        // a checkpoint records its normalization: --normalize is for imported models
        oneErrorLine(Cli.run("eval", "--checkpoint", run.toString(), "--normalize", "cifar10", "--data-dir", testOnly.toString(),
                "--out", tmp.resolve("e2").toString()), "--normalize applies to an imported model");
    }

    @Test
    void badAugmentationAndNormalizationAreOneLineErrors(@TempDir Path tmp) {
        String[] moons = {"train", "--data", "moons", "--model", "mlp", "--epochs", "1", "--threads", "1"};
        oneErrorLine(Cli.run(Cli.concat(moons, "--augment", "flip", "--out", tmp.resolve("a").toString())),
                "--augment flip needs image data [C, H, W], but moons has examples of shape [2]");
        oneErrorLine(Cli.run(Cli.concat(moons, "--augment", "crop,rotate", "--out", tmp.resolve("b").toString())), "unknown augmentation 'rotate'");
        oneErrorLine(Cli.run(Cli.concat(moons, "--normalize", "0.5/-1", "--out", tmp.resolve("c").toString())), "std must be positive");
        oneErrorLine(Cli.run(Cli.concat(moons, "--normalize", "cifar10", "--out", tmp.resolve("d").toString())),
                "--normalize cifar10 is cifar10's pixel mean and std, but moons holds points of shape [2], not images in [0, 1]");
        oneErrorLine(Cli.run(Cli.concat(moons, "--normalize", "0.5,0.5,0.5/1,1,1", "--out", tmp.resolve("e").toString())),
                "--normalize gives 3 channel(s) but the data has 2");
        for (String r : new String[]{"a", "b", "c", "d", "e"}) assertThat(tmp.resolve(r)).doesNotExist();
    }

    @Test
    void badFilesAreOneLineErrorsNamingTheFile(@TempDir Path tmp) throws IOException {
        Path dir = CifarWriter.set(tmp.resolve("cifar"), 2, 3);
        Path third = dir.resolve("data_batch_3.bin");
        Files.write(third, Arrays.copyOf(CifarWriter.records(2, 3), 2 * CifarReader.RECORD + 1));
        oneErrorLine(train(dir, tmp.resolve("r1")), third.toString(), "not a whole number of CIFAR-10 records");

        CifarWriter.set(dir, 2, 3);
        Path test = dir.resolve("test_batch.bin");
        byte[] b = CifarWriter.records(3, 1);
        b[CifarReader.RECORD] = (byte) 200;
        Files.write(test, b);
        oneErrorLine(train(dir, tmp.resolve("r2")), test.toString(), "label 200 of record 1");

        CifarWriter.set(dir, 2, 3);
        Files.delete(dir.resolve("data_batch_5.bin"));
        oneErrorLine(train(dir, tmp.resolve("r3")), dir.resolve("data_batch_5.bin").toString(), "no such file");

        Path empty = Files.createDirectories(tmp.resolve("empty"));
        oneErrorLine(train(empty, tmp.resolve("r4")), empty.resolve("test_batch.bin").toString(), "no such file");
        for (String r : new String[]{"r1", "r2", "r3", "r4"}) assertThat(tmp.resolve(r)).doesNotExist();
    }
}
