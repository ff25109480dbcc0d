package dev.tikhon.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes IDX files (big-endian header, raw bytes), the test oracle for {@link IdxReader}. */
final class IdxWriter {
    private IdxWriter() {}

    /** The bytes of an IDX file with the given magic number, dimension sizes and data. */
    static byte[] bytes(int magic, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(magic);
        for (int d : dims) b.putInt(d);
        b.put(data);
        return b.array();
    }

    static byte[] images(int n, int rows, int cols, byte[] pixels) {
        return bytes(IdxReader.IMAGES_MAGIC, new int[]{n, rows, cols}, pixels);
    }

    static byte[] labels(byte[] labels) {
        return bytes(IdxReader.LABELS_MAGIC, new int[]{labels.length}, labels);
    }

    static byte[] gzip(byte[] raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(raw);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static Path write(Path file, byte[] content) {
        try {
            return Files.write(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
