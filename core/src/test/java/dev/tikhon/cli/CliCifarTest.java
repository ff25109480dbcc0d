package dev.tikhon.cli;

import dev.tikhon.data.CifarReader;
import dev.tikhon.data.CifarWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static dev.tikhon.cli.CliBadInputTest.oneErrorLine;
import static org.assertj.core.api.Assertions.assertThat;

/** CIFAR-10 from the command line, on tiny sets written in its binary format. */
class CliCifarTest {
    private static Cli.Run train(Path data, Path out, String... more) {
        String[] base = {"train", "--data", "cifar10", "--data-dir", data.toString(), "--model", "mlp", "--hidden", "8", "--epochs", "1",
                "--batch-size", "8", "--threads", "1", "--out", out.toString()};
        String[] all = Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return Cli.run(all);
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
