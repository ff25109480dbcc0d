package dev.tikhon.data;

import dev.tikhon.engine.Tensor;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads the IDX files of MNIST and Fashion-MNIST, plain or gzip-compressed (told apart by the gzip
 * magic bytes, not by the file name). Everything the header promises is checked against what the
 * file holds, so a truncated download or a swapped file is reported as such, naming the file,
 * instead of surfacing later as a shape error or as garbage pixels.
 */
public final class IdxReader {
    /** Magic number of an IDX file of unsigned bytes with one dimension: labels. */
    public static final int LABELS_MAGIC = 0x00000801;
    /** Magic number of an IDX file of unsigned bytes with three dimensions: images. */
    public static final int IMAGES_MAGIC = 0x00000803;

    /** The most bytes one Java array (and so one data block) can hold. */
    private static final long MAX_BYTES = Integer.MAX_VALUE - 8;
    private static final int BUFFER = 1 << 16;

    /** The decoded contents of an IDX file: its dimension sizes and its raw unsigned bytes. */
    public record Idx(String name, int[] dims, byte[] data) {}

    private IdxReader() {}

    /** Images as UINT8 [N, 1, rows, cols]. */
    public static Tensor readImages(Path file) {
        return images(read(file, IMAGES_MAGIC));
    }

    /** Images as UINT8 [N, 1, rows, cols]; {@code name} is the file's name for messages. */
    public static Tensor readImages(InputStream in, String name) {
        return images(read(in, name, IMAGES_MAGIC));
    }

    /** Labels as INT64 [N], each checked to be below {@code numClasses}. */
    public static Tensor readLabels(Path file, int numClasses) {
        return labels(read(file, LABELS_MAGIC), numClasses);
    }

    /** Labels as INT64 [N], each checked to be below {@code numClasses}; {@code name} is for messages. */
    public static Tensor readLabels(InputStream in, String name, int numClasses) {
        return labels(read(in, name, LABELS_MAGIC), numClasses);
    }

    /** Reads and checks an IDX file whose magic number must be {@code expectedMagic}. */
    public static Idx read(Path file, int expectedMagic) {
        String name = file.toString();
        InputStream in;
        try {
            in = Files.newInputStream(file);
        } catch (NoSuchFileException e) {
            throw new DataException(name + ": no such file");
        } catch (AccessDeniedException e) {
            throw new DataException(name + ": cannot read: permission denied");
        } catch (IOException e) {
            throw new DataException(name + ": cannot read: " + e.getMessage(), e);
        }
        try (in) {
            return read(in, name, expectedMagic);
        } catch (IOException e) {
            throw new DataException(name + ": cannot close: " + e.getMessage(), e);
        }
    }

    /**
     * Reads and checks an IDX file from a stream (which the caller closes); {@code name} starts
     * every error message.
     */
    public static Idx read(InputStream in, String name, int expectedMagic) {
        BufferedInputStream buffered = new BufferedInputStream(in, BUFFER);
        boolean gzip = false;
        try {
            gzip = startsWithGzipMagic(buffered);
            return parse(gzip ? new GZIPInputStream(buffered, BUFFER) : buffered, name, expectedMagic);
        } catch (ZipException | EOFException e) {
            // Only the gzip layer throws these: parse() itself never reads past the end.
            throw new DataException(name + ": corrupt gzip stream (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new DataException(name + ": cannot read" + (gzip ? " gzip stream" : "") + ": " + e.getMessage(), e);
        }
    }

    private static boolean startsWithGzipMagic(BufferedInputStream in) throws IOException {
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        return b0 == 0x1f && b1 == 0x8b;
    }

    private static Idx parse(InputStream in, String name, int expectedMagic) throws IOException {
        int[] dims = header(in, name, expectedMagic);
        long total = 1;
        for (int d : dims) total *= d;
        String what = expectedMagic == IMAGES_MAGIC ? "pixel data" : expectedMagic == LABELS_MAGIC ? "label data" : "data";
        byte[] data = in.readNBytes((int) total);
        if (data.length < total) {
            throw new DataException(name + ": truncated: header promises " + total + " bytes of " + what
                    + ", the file holds " + data.length);
        }
        if (in.read() != -1) {
            long extra = 1 + in.transferTo(OutputStream.nullOutputStream());
            throw new DataException(name + ": trailing bytes: header promises " + total + " bytes of " + what
                    + ", the file holds " + (total + extra) + " (" + extra + " too many)");
        }
        return new Idx(name, dims, data);
    }

    /**
     * The dimensions an IDX file declares, from its header alone (the data is not read): what a split holds
     * before it is loaded. Errors as {@link #read(Path, int)}.
     */
    public static int[] dims(Path file, int expectedMagic) {
        String name = file.toString();
        try (InputStream raw = Files.newInputStream(file)) {
            BufferedInputStream buffered = new BufferedInputStream(raw, BUFFER);
            return header(startsWithGzipMagic(buffered) ? new GZIPInputStream(buffered, BUFFER) : buffered, name, expectedMagic);
        } catch (NoSuchFileException e) {
            throw new DataException(name + ": no such file");
        } catch (ZipException | EOFException e) {
            throw new DataException(name + ": corrupt gzip stream (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new DataException(name + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static int[] header(InputStream in, String name, int expectedMagic) throws IOException {
        byte[] magicBytes = in.readNBytes(4);
        if (magicBytes.length == 0) throw new DataException(name + ": empty file, expected an IDX file");
        if (magicBytes.length < 4) {
            throw new DataException(name + ": truncated: the file ends after " + magicBytes.length
                    + " bytes, inside the 4-byte magic number");
        }
        int magic = bigEndianInt(magicBytes, 0);
        if (magic != expectedMagic) {
            throw new DataException(String.format("%s: bad magic number 0x%08X (%s), expected 0x%08X (%s)",
                    name, magic, describeMagic(magic), expectedMagic, describeMagic(expectedMagic)));
        }
        int rank = magic & 0xff;
        byte[] dimBytes = in.readNBytes(4 * rank);
        if (dimBytes.length < 4 * rank) {
            throw new DataException(name + ": truncated: the file ends after " + (4 + dimBytes.length)
                    + " of the " + (4 + 4 * rank) + " header bytes");
        }
        int[] dims = new int[rank];
        long total = 1;
        for (int i = 0; i < rank; i++) {
            dims[i] = bigEndianInt(dimBytes, 4 * i);
            if (dims[i] < 0) {
                throw new DataException(name + ": corrupt header: dimension " + i + " has negative size "
                        + dims[i] + " (" + Integer.toUnsignedString(dims[i]) + " read as unsigned)");
            }
            total *= dims[i];
            if (total > MAX_BYTES) {
                throw new DataException(name + ": corrupt header: dimension sizes " + sizes(dimBytes, rank)
                        + " promise more than " + MAX_BYTES + " bytes");
            }
        }
        if (magic == IMAGES_MAGIC && (dims[1] == 0 || dims[2] == 0)) {
            throw new DataException(name + ": corrupt header: images of " + dims[1] + "x" + dims[2] + " pixels");
        }
        return dims;
    }

    private static String sizes(byte[] dimBytes, int rank) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < rank; i++) s.append(i == 0 ? "" : ", ").append(bigEndianInt(dimBytes, 4 * i));
        return s.append(']').toString();
    }

    private static String describeMagic(int magic) {
        if (magic == LABELS_MAGIC) return "unsigned-byte labels";
        if (magic == IMAGES_MAGIC) return "unsigned-byte images";
        if ((magic >>> 16) == 0) {
            return String.format("IDX element type 0x%02X with %d dimensions", (magic >>> 8) & 0xff, magic & 0xff);
        }
        return "not an IDX file";
    }

    private static int bigEndianInt(byte[] b, int at) {
        return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | (b[at + 3] & 0xff);
    }

    private static Tensor images(Idx idx) {
        int[] d = idx.dims();
        return Tensor.fromUnsignedBytes(idx.data(), d[0], 1, d[1], d[2]);
    }

    private static Tensor labels(Idx idx, int numClasses) {
        byte[] data = idx.data();
        long[] labels = new long[data.length];
        for (int i = 0; i < data.length; i++) {
            labels[i] = data[i] & 0xff;
            if (labels[i] >= numClasses) {
                throw new DataException(idx.name() + ": label " + labels[i] + " at index " + i
                        + " is out of range: there are " + numClasses + " classes (0.." + (numClasses - 1) + ")");
            }
        }
        return Tensor.fromLongs(labels, labels.length);
    }
}
