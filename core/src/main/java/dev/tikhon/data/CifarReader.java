package dev.tikhon.data;

import dev.tikhon.engine.Tensor;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads the binary version of CIFAR-10 (Krizhevsky 2009, {@code cifar-10-binary.tar.gz}): files of records of one
 * label byte (0–9) followed by 3072 pixel bytes, the 1024 red, then 1024 green, then 1024 blue values of a 32×32
 * image in row-major order, so a record's pixels are already [C, H, W]. The format has no header, so a file is
 * checked by what it can be checked by: it is not empty, its size is a multiple of 3073 bytes, and every label is
 * in 0–9. Every error is one line starting with the file's path. A file may be gzip-compressed ({@code .bin.gz}).
 */
public final class CifarReader {
    public static final int CHANNELS = 3, HEIGHT = 32, WIDTH = 32;
    public static final int PIXELS = CHANNELS * HEIGHT * WIDTH;
    /** One record: a label byte and the pixels. */
    public static final int RECORD = 1 + PIXELS;
    public static final int CLASSES = 10;
    /** The most records read into one set: the pixel array stays under Java's 2 GiB array limit. */
    private static final long MAX_RECORDS = Integer.MAX_VALUE / PIXELS;

    /** Records read from one or more files: pixels [N, 3, 32, 32] as bytes and labels. */
    public record Records(byte[] pixels, long[] labels) {
        public int size() { return labels.length; }

        public Tensor images() { return Tensor.fromUnsignedBytes(pixels, labels.length, CHANNELS, HEIGHT, WIDTH); }

        public Tensor labelTensor() { return Tensor.fromLongs(labels, labels.length); }
    }

    private CifarReader() {}

    /**
     * The number of records of an uncompressed file from its size alone (nothing is read), checked as
     * {@link #read(List)} checks it; for a gzip file the whole stream is read to count.
     */
    public static int count(Path file) {
        if (isGzip(file)) return read(List.of(file)).size();
        try {
            return checkSize(file.toString(), Files.size(file));
        } catch (IOException e) {
            throw fault(file, e);
        }
    }

    /** Reads and checks the files in order, concatenating their records. */
    public static Records read(List<Path> files) {
        List<byte[]> contents = new ArrayList<>();
        long total = 0;
        for (Path f : files) {
            byte[] b = bytes(f);
            total += checkSize(f.toString(), b.length);
            if (total > MAX_RECORDS) {
                throw new DataException(f + ": too many records: more than " + MAX_RECORDS + " in " + files.size() + " files");
            }
            contents.add(b);
        }
        int n = (int) total;
        byte[] pixels = new byte[Math.multiplyExact(n, PIXELS)];
        long[] labels = new long[n];
        int at = 0;
        for (int i = 0; i < files.size(); i++) {
            byte[] b = contents.get(i);
            for (int r = 0; r < b.length / RECORD; r++, at++) {
                int label = b[r * RECORD] & 0xff;
                if (label >= CLASSES) {
                    throw new DataException(files.get(i) + ": label " + label + " of record " + r + " (byte offset " + (long) r * RECORD
                            + ") is out of range: CIFAR-10 has " + CLASSES + " classes (0.." + (CLASSES - 1) + "); is this the CIFAR-10 "
                            + "binary version (not CIFAR-100, whose records have two label bytes)?");
                }
                labels[at] = label;
                System.arraycopy(b, r * RECORD + 1, pixels, at * PIXELS, PIXELS);
            }
        }
        return new Records(pixels, labels);
    }

    private static int checkSize(String name, long size) {
        if (size == 0) throw new DataException(name + ": empty file, expected CIFAR-10 records of " + RECORD + " bytes");
        if (size % RECORD != 0) {
            throw new DataException(name + ": " + size + " bytes is not a whole number of CIFAR-10 records (" + RECORD
                    + " bytes each: 1 label byte and 3x32x32 pixel bytes); the file is truncated or not the CIFAR-10 binary version "
                    + "(" + (size / RECORD) + " whole records and " + (size % RECORD) + " bytes over)");
        }
        long n = size / RECORD;
        if (n > MAX_RECORDS) throw new DataException(name + ": " + n + " records, more than the " + MAX_RECORDS + " Tikhon reads");
        return (int) n;
    }

    private static byte[] bytes(Path file) {
        try (InputStream raw = Files.newInputStream(file)) {
            BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
            return startsWithGzipMagic(in) ? new GZIPInputStream(in, 1 << 16).readAllBytes() : in.readAllBytes();
        } catch (IOException e) {
            throw fault(file, e);
        }
    }

    /** The one-line error for a failed read of {@code file}. */
    private static DataException fault(Path file, IOException e) {
        if (e instanceof NoSuchFileException) return new DataException(file + ": no such file");
        if (e instanceof AccessDeniedException) return new DataException(file + ": cannot read: permission denied");
        // only the gzip layer throws these: a plain file is read whole
        if (e instanceof ZipException || e instanceof EOFException) return new DataException(file + ": corrupt gzip stream (" + e.getMessage() + ")", e);
        return new DataException(file + ": cannot read: " + e.getMessage(), e);
    }

    private static boolean isGzip(Path file) {
        try (InputStream raw = Files.newInputStream(file)) {
            return raw.read() == 0x1f && raw.read() == 0x8b;
        } catch (IOException e) {
            throw fault(file, e);
        }
    }

    private static boolean startsWithGzipMagic(BufferedInputStream in) throws IOException {
        in.mark(2);
        int b0 = in.read(), b1 = in.read();
        in.reset();
        return b0 == 0x1f && b1 == 0x8b;
    }
}
