package dev.tikhon.engine;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A plain binary format for named tensors (checkpoints): magic, byte order, then for each tensor
 * its name, element type, shape and raw data. Readable without libtorch, versioned, and checked
 * on the way in so that a truncated or foreign file is named as such.
 */
public final class TensorIO {
    private static final int MAGIC = 0x544B4E54; // "TKNT"
    private static final int VERSION = 1;

    private TensorIO() {}

    public static void write(DataOutputStream out, Map<String, Tensor> tensors) throws IOException {
        out.writeInt(MAGIC);
        out.writeInt(VERSION);
        out.writeBoolean(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN);
        out.writeInt(tensors.size());
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            out.writeUTF(e.getKey());
            out.writeUTF(t.dtype().name());
            long[] shape = t.shape();
            out.writeInt(shape.length);
            for (long d : shape) out.writeLong(d);
            byte[] raw = t.rawBytes();
            out.writeInt(raw.length);
            out.write(raw);
        }
    }

    public static Map<String, Tensor> read(DataInputStream in, String source) throws IOException {
        if (in.readInt() != MAGIC) throw new IOException(source + ": not a Tikhon tensor file (bad magic number)");
        int version = in.readInt();
        if (version != VERSION) throw new IOException(source + ": tensor file version " + version + ", expected " + VERSION);
        boolean little = in.readBoolean();
        if (little != (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN)) {
            throw new IOException(source + ": written on a machine of the other byte order");
        }
        int n = in.readInt();
        if (n < 0) throw new IOException(source + ": corrupt tensor count " + n);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            String name = in.readUTF();
            DType dtype;
            try {
                dtype = DType.valueOf(in.readUTF());
            } catch (IllegalArgumentException e) {
                throw new IOException(source + ": tensor '" + name + "' has an unknown element type");
            }
            int rank = in.readInt();
            if (rank < 0 || rank > 16) throw new IOException(source + ": tensor '" + name + "' has corrupt rank " + rank);
            long[] shape = new long[rank];
            long count = 1;
            for (int d = 0; d < rank; d++) {
                shape[d] = in.readLong();
                count *= shape[d];
            }
            int len = in.readInt();
            if (len != count * dtype.bytes) {
                throw new IOException(source + ": tensor '" + name + "' holds " + len + " bytes, its shape needs " + count * dtype.bytes);
            }
            byte[] raw = new byte[len];
            in.readFully(raw);
            out.put(name, Tensor.fromRawBytes(raw, dtype, shape));
        }
        return out;
    }
}
