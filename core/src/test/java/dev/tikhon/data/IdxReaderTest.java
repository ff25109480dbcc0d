package dev.tikhon.data;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Oracle: {@link IdxWriter}, which writes the IDX layout (big-endian magic, sizes, raw bytes) directly. */
class IdxReaderTest {
    @TempDir
    Path dir;

    private static byte[] pixels(int n) {
        byte[] p = new byte[n];
        for (int i = 0; i < n; i++) p[i] = (byte) (i * 37);
        return p;
    }

    @Test
    void imagesRoundTripPlainAndGzipWhateverTheFileName() {
        byte[] px = pixels(3 * 4 * 5);
        byte[] raw = IdxWriter.images(3, 4, 5, px);
        // gzip is told by its magic bytes: a gzip file without .gz and a plain one with .gz both read
        for (Path f : new Path[]{IdxWriter.write(dir.resolve("plain.gz"), raw),
                                 IdxWriter.write(dir.resolve("packed.idx"), IdxWriter.gzip(raw))}) {
            Tensor t = IdxReader.readImages(f);
            assertThat(t.dtype()).isEqualTo(DType.UINT8);
            assertThat(t.shape()).containsExactly(3, 1, 4, 5);
            assertThat(t.toUnsignedBytes()).containsExactly(px);
        }
        Tensor fromStream = IdxReader.readImages(new ByteArrayInputStream(IdxWriter.gzip(raw)), "stream");
        assertThat(fromStream.toUnsignedBytes()).containsExactly(px);
    }

    @Test
    void labelsRoundTripAsInt64() {
        byte[] y = {0, 9, 3, 3, 7};
        Path f = IdxWriter.write(dir.resolve("labels.gz"), IdxWriter.gzip(IdxWriter.labels(y)));
        Tensor t = IdxReader.readLabels(f, 10);
        assertThat(t.dtype()).isEqualTo(DType.INT64);
        assertThat(t.toLongArray()).containsExactly(0, 9, 3, 3, 7);
        IdxReader.Idx idx = IdxReader.read(new ByteArrayInputStream(IdxWriter.labels(y)), "s", IdxReader.LABELS_MAGIC);
        assertThat(idx.dims()).containsExactly(5);
        assertThat(idx.data()).containsExactly(y);
    }

    @Test
    void emptySetsAreValid() {
        Tensor t = IdxReader.readImages(new ByteArrayInputStream(IdxWriter.images(0, 28, 28, new byte[0])), "empty");
        assertThat(t.shape()).containsExactly(0, 1, 28, 28);
    }

    @Test
    void badMagicNamesWhatWasFoundAndWhatWasExpected() {
        Path f = IdxWriter.write(dir.resolve("train-labels-idx1-ubyte"), IdxWriter.images(1, 2, 2, pixels(4)));
        assertFault(() -> IdxReader.readLabels(f, 10), f.toString(),
                "bad magic number 0x00000803 (unsigned-byte images), expected 0x00000801 (unsigned-byte labels)");
        Path png = IdxWriter.write(dir.resolve("x.png"), new byte[]{(byte) 0x89, 'P', 'N', 'G', 1, 2, 3, 4});
        assertFault(() -> IdxReader.readImages(png), png.toString(), "bad magic number 0x89504E47 (not an IDX file)");
        Path floats = IdxWriter.write(dir.resolve("f"), IdxWriter.bytes(0x00000D02, new int[]{1, 1}, new byte[4]));
        assertFault(() -> IdxReader.readImages(floats), floats.toString(), "IDX element type 0x0D with 2 dimensions");
    }

    @Test
    void truncatedDataSaysHowManyBytesWerePromisedAndHowManyThereAre() {
        byte[] full = IdxWriter.images(60000, 28, 28, new byte[0]);
        byte[] cut = Arrays.copyOf(full, full.length + 1234);
        Path f = IdxWriter.write(dir.resolve("train-images-idx3-ubyte.gz"), IdxWriter.gzip(cut));
        assertFault(() -> IdxReader.readImages(f), f.toString(),
                "truncated: header promises 47040000 bytes of pixel data, the file holds 1234");
        Path labels = IdxWriter.write(dir.resolve("l"), Arrays.copyOf(IdxWriter.labels(new byte[10]), 8 + 7));
        assertFault(() -> IdxReader.readLabels(labels, 10), labels.toString(),
                "truncated: header promises 10 bytes of label data, the file holds 7");
    }

    @Test
    void truncatedHeaderAndEmptyFileAreNamed() {
        byte[] full = IdxWriter.images(2, 2, 2, pixels(8));
        Path f = IdxWriter.write(dir.resolve("h"), Arrays.copyOf(full, 10));
        assertFault(() -> IdxReader.readImages(f), f.toString(), "truncated: the file ends after 10 of the 16 header bytes");
        Path empty = IdxWriter.write(dir.resolve("empty"), new byte[0]);
        assertFault(() -> IdxReader.readImages(empty), empty.toString(), "empty file");
    }

    @Test
    void trailingBytesAreAnError() {
        byte[] full = IdxWriter.images(2, 2, 2, pixels(8));
        Path f = IdxWriter.write(dir.resolve("t"), Arrays.copyOf(full, full.length + 3));
        assertFault(() -> IdxReader.readImages(f), f.toString(),
                "trailing bytes: header promises 8 bytes of pixel data, the file holds 11 (3 too many)");
    }

    @Test
    void corruptGzipStreamIsNamed() {
        byte[] gz = IdxWriter.gzip(IdxWriter.images(50, 28, 28, pixels(50 * 28 * 28)));
        Path cut = IdxWriter.write(dir.resolve("cut.gz"), Arrays.copyOf(gz, gz.length / 2));
        assertFault(() -> IdxReader.readImages(cut), cut.toString(), "corrupt gzip stream");
        byte[] garbled = gz.clone();
        for (int i = 20; i < 60; i++) garbled[i] ^= (byte) 0x5a;
        Path bad = IdxWriter.write(dir.resolve("bad.gz"), garbled);
        assertFault(() -> IdxReader.readImages(bad), bad.toString(), "corrupt gzip stream");
    }

    @Test
    void negativeAndHugeDimensionsAreRejectedBeforeReading() {
        Path neg = IdxWriter.write(dir.resolve("neg"), IdxWriter.bytes(IdxReader.IMAGES_MAGIC, new int[]{-5, 28, 28}, new byte[0]));
        assertFault(() -> IdxReader.readImages(neg), neg.toString(), "dimension 0 has negative size -5");
        Path huge = IdxWriter.write(dir.resolve("huge"), IdxWriter.bytes(IdxReader.IMAGES_MAGIC, new int[]{1 << 20, 1 << 10, 1 << 10}, new byte[0]));
        assertFault(() -> IdxReader.readImages(huge), huge.toString(), "promise more than");
        Path flat = IdxWriter.write(dir.resolve("flat"), IdxWriter.bytes(IdxReader.IMAGES_MAGIC, new int[]{3, 0, 28}, new byte[0]));
        assertFault(() -> IdxReader.readImages(flat), flat.toString(), "images of 0x28 pixels");
    }

    @Test
    void labelOutOfRangeNamesTheIndex() {
        Path f = IdxWriter.write(dir.resolve("train-labels-idx1-ubyte"), IdxWriter.labels(new byte[]{1, 2, 10, 3}));
        assertFault(() -> IdxReader.readLabels(f, 10), f.toString(), "label 10 at index 2 is out of range");
    }

    @Test
    void missingFileIsNamed() {
        Path f = dir.resolve("nope.gz");
        assertFault(() -> IdxReader.readImages(f), f.toString(), "no such file");
    }

    /** The fault is a DataException with a one-line message that starts with the file and names the fault. */
    static void assertFault(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String file, String fault) {
        assertThatThrownBy(call).isInstanceOf(DataException.class)
                .hasMessageStartingWith(file + ":")
                .hasMessageContaining(fault)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n", "\r"));
    }
}
