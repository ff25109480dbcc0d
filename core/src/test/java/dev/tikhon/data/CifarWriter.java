package dev.tikhon.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Writes small files in CIFAR-10's binary format (label byte, then 3072 pixel bytes, R then G then B planes) for tests. */
public final class CifarWriter {
    private CifarWriter() {}

    /** {@code n} records with labels {@code i % 10} and seeded random pixels. */
    public static byte[] records(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] b = new byte[n * CifarReader.RECORD];
        for (int i = 0; i < n; i++) {
            b[i * CifarReader.RECORD] = (byte) (i % 10);
            for (int p = 1; p < CifarReader.RECORD; p++) b[i * CifarReader.RECORD + p] = (byte) r.nextInt(256);
        }
        return b;
    }

    /**
     * A CIFAR-10 directory: {@code perTrainFile} records in each of data_batch_1..5.bin (none when 0: a test-only
     * directory) and {@code test} records in test_batch.bin.
     */
    public static Path set(Path dir, int perTrainFile, int test) throws IOException {
        Files.createDirectories(dir);
        if (perTrainFile > 0) {
            for (int f = 0; f < 5; f++) Files.write(dir.resolve(DataSets.CIFAR10_FILES.get(f)), records(perTrainFile, f + 1));
        }
        Files.write(dir.resolve(DataSets.CIFAR10_FILES.get(5)), records(test, 99));
        return dir;
    }
}
