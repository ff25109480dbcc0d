package dev.tikhon.data;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Oracles: files written byte by byte in CIFAR-10's binary layout ({@link CifarWriter}), read back pixel for pixel. */
class CifarReaderTest {
    @TempDir
    Path tmp;

    private Path noSystem() throws IOException {
        return Files.createDirectories(tmp.resolve("system"));
    }

    @Test
    void recordsAreReadAsLabelThenRgbPlanes() throws IOException {
        byte[] b = new byte[2 * CifarReader.RECORD];
        b[0] = 3;
        b[CifarReader.RECORD] = 9;
        // record 0: red (0, 0) = 10, green (0, 1) = 20, blue (31, 31) = 30; record 1: red (1, 0) = 255
        b[1] = 10;
        b[1 + 1024 + 1] = 20;
        b[1 + 2048 + 31 * 32 + 31] = 30;
        b[CifarReader.RECORD + 1 + 32] = (byte) 255;
        Path f = tmp.resolve("data_batch_1.bin");
        Files.write(f, b);
        assertThat(CifarReader.count(f)).isEqualTo(2);
        CifarReader.Records r = CifarReader.read(List.of(f));
        assertThat(r.labels()).containsExactly(3, 9);
        Tensor x = r.images();
        assertThat(x.shape()).containsExactly(2, 3, 32, 32);
        assertThat(x.dtype()).isEqualTo(DType.UINT8);
        Tensor d = x.to(DType.FLOAT64);
        assertThat(d.select(0, 0).select(0, 0).select(0, 0).select(0, 0).item()).isEqualTo(10.0);
        assertThat(d.select(0, 0).select(0, 1).select(0, 0).select(0, 1).item()).isEqualTo(20.0);
        assertThat(d.select(0, 0).select(0, 2).select(0, 31).select(0, 31).item()).isEqualTo(30.0);
        assertThat(d.select(0, 1).select(0, 0).select(0, 1).select(0, 0).item()).isEqualTo(255.0);
        assertThat(d.sum().item()).isEqualTo(10 + 20 + 30 + 255.0);
    }

    @Test
    void gzipFilesReadTheSame() throws IOException {
        byte[] b = CifarWriter.records(3, 7);
        Path plain = tmp.resolve("a.bin"), gz = tmp.resolve("b.bin.gz");
        Files.write(plain, b);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(b);
        }
        Files.write(gz, out.toByteArray());
        assertThat(CifarReader.count(gz)).isEqualTo(3);
        assertThat(CifarReader.read(List.of(gz)).pixels()).isEqualTo(CifarReader.read(List.of(plain)).pixels());
    }

    @Test
    void faultsNameTheFile() throws IOException {
        Path truncated = tmp.resolve("truncated.bin");
        Files.write(truncated, Arrays.copyOf(CifarWriter.records(2, 1), 2 * CifarReader.RECORD - 5));
        assertThatThrownBy(() -> CifarReader.count(truncated)).isInstanceOf(DataException.class)
                .hasMessage(truncated + ": 6141 bytes is not a whole number of CIFAR-10 records (3073 bytes each: 1 label byte and "
                        + "3x32x32 pixel bytes); the file is truncated or not the CIFAR-10 binary version (1 whole records and 3068 bytes over)");
        assertThatThrownBy(() -> CifarReader.read(List.of(truncated))).hasMessageStartingWith(truncated + ": 6141 bytes");

        Path empty = tmp.resolve("empty.bin");
        Files.write(empty, new byte[0]);
        assertThatThrownBy(() -> CifarReader.read(List.of(empty))).hasMessage(empty + ": empty file, expected CIFAR-10 records of 3073 bytes");

        Path badLabel = tmp.resolve("bad_label.bin");
        byte[] b = CifarWriter.records(3, 1);
        b[2 * CifarReader.RECORD] = 10;
        Files.write(badLabel, b);
        assertThatThrownBy(() -> CifarReader.read(List.of(badLabel))).isInstanceOf(DataException.class)
                .hasMessageStartingWith(badLabel + ": label 10 of record 2 (byte offset 6146) is out of range: CIFAR-10 has 10 classes");

        Path missing = tmp.resolve("missing.bin");
        assertThatThrownBy(() -> CifarReader.read(List.of(missing))).hasMessage(missing + ": no such file");
    }

    @Test
    void dataSetsFindsTheTarballFolderAndReportsSizes() throws IOException {
        Path root = tmp.resolve("data");
        CifarWriter.set(root.resolve(DataSets.CIFAR10_TAR_DIR), 4, 6);
        DataSets.Loaded l = DataSets.load("cifar10", root, Map.of(), DataSets.Options.seeded(0), noSystem());
        Path dir = root.resolve(DataSets.CIFAR10_TAR_DIR);
        assertThat(l.description()).isEqualTo("CIFAR-10 from " + dir + " (20 train / 6 test)");
        Dataset train = l.train();
        assertThat(train.size()).isEqualTo(20);
        assertThat(train.inputShape()).containsExactly(3, 32, 32);
        assertThat(train.classNames()).startsWith("airplane").endsWith("truck");
        assertThat(train.labels().toLongArray()).startsWith(0, 1, 2, 3, 0, 1, 2, 3);   // files in order 1..5
        Tensor x = train.batchInputs(Tensor.arange(20, DType.INT64, Device.CPU));
        assertThat(x.max().item()).isLessThanOrEqualTo(1.0);
        assertThat(l.test().size()).isEqualTo(6);

        // through $TIKHON_DATA, and the system directory, as the IDX sets
        assertThat(DataSets.load("cifar10", null, Map.of(DataSets.ENV_VAR, root.toString()), DataSets.Options.seeded(0), noSystem())
                .description()).contains(dir.toString());
        Path system = tmp.resolve("sys");
        CifarWriter.set(system.resolve("cifar10"), 1, 2);
        assertThat(DataSets.load("cifar10", null, Map.of(), DataSets.Options.seeded(0), system).description())
                .isEqualTo("CIFAR-10 from " + system.resolve("cifar10") + " (5 train / 2 test)");
    }

    @Test
    void aTestOnlyDirectoryServesEvaluationAndNamesTheMissingTrainingFile() throws IOException {
        Path dir = CifarWriter.set(tmp.resolve("c"), 0, 3);
        DataSets.Loaded l = DataSets.load("cifar10", dir, Map.of(), DataSets.Options.seeded(0), noSystem());
        assertThat(l.description()).endsWith("(test split only: 3 test)");
        assertThat(l.test().size()).isEqualTo(3);
        assertThatThrownBy(l::train).isInstanceOf(DataException.class)
                .hasMessageStartingWith(dir.resolve("data_batch_1.bin") + "[.gz]: no such file");
    }

    @Test
    void missingFilesAreNamed() throws IOException {
        Path dir = CifarWriter.set(tmp.resolve("c"), 2, 3);
        Files.delete(dir.resolve("data_batch_4.bin"));
        assertThatThrownBy(() -> DataSets.load("cifar10", dir, Map.of(), DataSets.Options.seeded(0), noSystem()))
                .isInstanceOf(DataException.class).hasMessageStartingWith(dir.resolve("data_batch_4.bin") + ": no such file, though");
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertThatThrownBy(() -> DataSets.load("cifar10", empty, Map.of(), DataSets.Options.seeded(0), noSystem()))
                .hasMessageStartingWith(empty.resolve("test_batch.bin") + ": no such file");
        assertThatThrownBy(() -> DataSets.load("cifar10", null, Map.of(), DataSets.Options.seeded(0), noSystem()))
                .hasMessageStartingWith("cifar10: not found; looked in $TIKHON_DATA (unset), " + tmp.resolve("system").resolve("cifar10"));
        assertThat(DataSets.describeAvailable(null, Map.of(), noSystem())).anyMatch(s -> s.startsWith("cifar10: not found"));
    }
}
