package dev.tikhon.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Writes the Fashion-MNIST sample bundled with Tikhon: the first 6000 training and the first 1000
 * test examples of the full set, as gzip IDX files. Run once by hand, not by the tests:
 * <pre>
 * mvn -q test-compile && java -cp target/classes:target/test-classes dev.tikhon.data.MakeSample \
 *     [/usr/share/datasets/fashion-mnist [src/main/resources/dev/tikhon/data/fashion-mnist-sample]]
 * </pre>
 */
public final class MakeSample {
    private static final int TRAIN = 6000;
    private static final int TEST = 1000;

    private MakeSample() {}

    public static void main(String[] args) throws IOException {
        Path from = Path.of(args.length > 0 ? args[0] : "/usr/share/datasets/fashion-mnist");
        Path to = Path.of(args.length > 1 ? args[1] : "src/main/resources/dev/tikhon/data/fashion-mnist-sample");
        Files.createDirectories(to);
        copyHead(from, to, "train", TRAIN);
        copyHead(from, to, "t10k", TEST);
        long total = 0;
        try (var files = Files.list(to)) {
            for (Path p : files.sorted().toList()) {
                System.out.printf("%-32s %,10d bytes%n", p.getFileName(), Files.size(p));
                total += Files.size(p);
            }
        }
        System.out.printf("total %,d bytes%n", total);
    }

    private static void copyHead(Path from, Path to, String part, int n) throws IOException {
        IdxReader.Idx images = IdxReader.read(from.resolve(part + "-images-idx3-ubyte.gz"), IdxReader.IMAGES_MAGIC);
        IdxReader.Idx labels = IdxReader.read(from.resolve(part + "-labels-idx1-ubyte.gz"), IdxReader.LABELS_MAGIC);
        int rows = images.dims()[1];
        int cols = images.dims()[2];
        byte[] pixels = Arrays.copyOf(images.data(), n * rows * cols);
        byte[] y = Arrays.copyOf(labels.data(), n);
        Files.write(to.resolve(part + "-images-idx3-ubyte.gz"), IdxWriter.gzip(IdxWriter.images(n, rows, cols, pixels)));
        Files.write(to.resolve(part + "-labels-idx1-ubyte.gz"), IdxWriter.gzip(IdxWriter.labels(y)));
        int[] counts = new int[10];
        for (byte b : y) counts[b]++;
        System.out.println(part + " first " + n + " class counts: " + Arrays.toString(counts));
    }
}
