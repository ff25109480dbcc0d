package dev.tikhon.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The subset of the ONNX protobuf schema (onnx/onnx.proto, IR version 7–10) that Tikhon reads and writes: a model, its
 * graph, nodes, attributes, tensors and value infos. Decoded and encoded field by field with protobuf-java's coded
 * streams; the field numbers are those of the ONNX specification. Fields outside the subset are skipped on reading
 * (a model with external tensor data is refused by the importer, which finds no data in the tensor).
 */
public final class OnnxProto {
    private OnnxProto() {}

    // TensorProto.DataType
    public static final int FLOAT = 1, UINT8 = 2, INT8 = 3, INT32 = 6, INT64 = 7, BOOL = 9, DOUBLE = 11;

    // AttributeProto.AttributeType
    public static final int ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_STRING = 3, ATTR_TENSOR = 4, ATTR_GRAPH = 5, ATTR_FLOATS = 6,
            ATTR_INTS = 7, ATTR_STRINGS = 8;

    /** ModelProto: ir_version 1, producer_name 2, producer_version 3, domain 4, model_version 5, doc_string 6, graph 7, opset_import 8. */
    public static final class Model {
        public long irVersion;
        public String producerName = "", producerVersion = "", docString = "";
        public Graph graph;
        public final List<OpsetId> opsets = new ArrayList<>();

        public static Model parse(byte[] bytes) throws IOException {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            in.setSizeLimit(Integer.MAX_VALUE);
            in.setRecursionLimit(64);
            Model m = new Model();
            fields(in, (field, wire, f) -> {
                switch (field) {
                    case 1 -> m.irVersion = f.readInt64();
                    case 2 -> m.producerName = f.readString();
                    case 3 -> m.producerVersion = f.readString();
                    case 6 -> m.docString = f.readString();
                    case 7 -> m.graph = Graph.parse(f.readBytes());
                    case 8 -> m.opsets.add(OpsetId.parse(f.readBytes()));
                    default -> { return false; }
                }
                return true;
            });
            return m;
        }

        public byte[] toBytes() throws IOException {
            return encode(out -> {
                out.writeInt64(1, irVersion);
                if (!producerName.isEmpty()) out.writeString(2, producerName);
                if (!producerVersion.isEmpty()) out.writeString(3, producerVersion);
                if (!docString.isEmpty()) out.writeString(6, docString);
                out.writeByteArray(7, graph.toBytes());
                for (OpsetId o : opsets) out.writeByteArray(8, o.toBytes());
            });
        }

        /** The version of the default (ai.onnx) operator set, 1 when not declared. */
        public long defaultOpset() {
            for (OpsetId o : opsets) if (o.domain.isEmpty() || o.domain.equals("ai.onnx")) return o.version;
            return 1;
        }
    }

    /** OperatorSetIdProto: domain 1, version 2. */
    public static final class OpsetId {
        public String domain = "";
        public long version;

        public OpsetId() {}

        public OpsetId(String domain, long version) {
            this.domain = domain;
            this.version = version;
        }

        static OpsetId parse(ByteString bytes) throws IOException {
            OpsetId o = new OpsetId();
            fields(bytes.newCodedInput(), (field, wire, f) -> {
                switch (field) {
                    case 1 -> o.domain = f.readString();
                    case 2 -> o.version = f.readInt64();
                    default -> { return false; }
                }
                return true;
            });
            return o;
        }

        byte[] toBytes() throws IOException {
            return encode(out -> {
                if (!domain.isEmpty()) out.writeString(1, domain);
                out.writeInt64(2, version);
            });
        }
    }

    /** GraphProto: node 1, name 2, initializer 5, doc_string 10, input 11, output 12, value_info 13. */
    public static final class Graph {
        public final List<Node> nodes = new ArrayList<>();
        public String name = "";
        public final List<TensorData> initializers = new ArrayList<>();
        public final List<ValueInfo> inputs = new ArrayList<>(), outputs = new ArrayList<>();

        static Graph parse(ByteString bytes) throws IOException {
            Graph g = new Graph();
            fields(bytes.newCodedInput(), (field, wire, f) -> {
                switch (field) {
                    case 1 -> g.nodes.add(Node.parse(f.readBytes()));
                    case 2 -> g.name = f.readString();
                    case 5 -> g.initializers.add(TensorData.parse(f.readBytes()));
                    case 11 -> g.inputs.add(ValueInfo.parse(f.readBytes()));
                    case 12 -> g.outputs.add(ValueInfo.parse(f.readBytes()));
                    default -> { return false; }
                }
                return true;
            });
            return g;
        }

        byte[] toBytes() throws IOException {
            return encode(out -> {
                for (Node n : nodes) out.writeByteArray(1, n.toBytes());
                if (!name.isEmpty()) out.writeString(2, name);
                for (TensorData t : initializers) out.writeByteArray(5, t.toBytes());
                for (ValueInfo v : inputs) out.writeByteArray(11, v.toBytes());
                for (ValueInfo v : outputs) out.writeByteArray(12, v.toBytes());
            });
        }
    }

    /** NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7. */
    public static final class Node {
        public final List<String> inputs = new ArrayList<>(), outputs = new ArrayList<>();
        public String name = "", opType = "", domain = "";
        public final List<Attribute> attributes = new ArrayList<>();

        public Node() {}

        public Node(String opType, String name, List<String> inputs, List<String> outputs) {
            this.opType = opType;
            this.name = name;
            this.inputs.addAll(inputs);
            this.outputs.addAll(outputs);
        }

        static Node parse(ByteString bytes) throws IOException {
            Node n = new Node();
            fields(bytes.newCodedInput(), (field, wire, f) -> {
                switch (field) {
                    case 1 -> n.inputs.add(f.readString());
                    case 2 -> n.outputs.add(f.readString());
                    case 3 -> n.name = f.readString();
                    case 4 -> n.opType = f.readString();
                    case 5 -> n.attributes.add(Attribute.parse(f.readBytes()));
                    case 7 -> n.domain = f.readString();
                    default -> { return false; }
                }
                return true;
            });
            return n;
        }

        byte[] toBytes() throws IOException {
            return encode(out -> {
                for (String s : inputs) out.writeString(1, s);
                for (String s : outputs) out.writeString(2, s);
                if (!name.isEmpty()) out.writeString(3, name);
                out.writeString(4, opType);
                for (Attribute a : attributes) out.writeByteArray(5, a.toBytes());
                if (!domain.isEmpty()) out.writeString(7, domain);
            });
        }

        public Attribute attribute(String name) {
            for (Attribute a : attributes) if (a.name.equals(name)) return a;
            return null;
        }

        public Node with(Attribute a) {
            attributes.add(a);
            return this;
        }
    }

    /** AttributeProto: name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, strings 9, type 20. */
    public static final class Attribute {
        public String name = "";
        public int type;
        public float f;
        public long i;
        public ByteString s = ByteString.EMPTY;
        public TensorData t;
        public final List<Float> floats = new ArrayList<>();
        public final List<Long> ints = new ArrayList<>();

        public static Attribute ofInt(String name, long v) {
            Attribute a = new Attribute();
            a.name = name;
            a.type = ATTR_INT;
            a.i = v;
            return a;
        }

        public static Attribute ofFloat(String name, float v) {
            Attribute a = new Attribute();
            a.name = name;
            a.type = ATTR_FLOAT;
            a.f = v;
            return a;
        }

        public static Attribute ofInts(String name, long... v) {
            Attribute a = new Attribute();
            a.name = name;
            a.type = ATTR_INTS;
            for (long x : v) a.ints.add(x);
            return a;
        }

        public static Attribute ofString(String name, String v) {
            Attribute a = new Attribute();
            a.name = name;
            a.type = ATTR_STRING;
            a.s = ByteString.copyFromUtf8(v);
            return a;
        }

        public static Attribute ofTensor(String name, TensorData t) {
            Attribute a = new Attribute();
            a.name = name;
            a.type = ATTR_TENSOR;
            a.t = t;
            return a;
        }

        static Attribute parse(ByteString bytes) throws IOException {
            Attribute a = new Attribute();
            fields(bytes.newCodedInput(), (field, wire, f) -> {
                switch (field) {
                    case 1 -> a.name = f.readString();
                    case 2 -> a.f = f.readFloat();
                    case 3 -> a.i = f.readInt64();
                    case 4 -> a.s = f.readBytes();
                    case 5 -> a.t = TensorData.parse(f.readBytes());
                    case 7 -> repeated(f, wire, a.floats, CodedInputStream::readFloat);
                    case 8 -> repeated(f, wire, a.ints, CodedInputStream::readInt64);
                    case 20 -> a.type = f.readEnum();
                    default -> { return false; }
                }
                return true;
            });
            return a;
        }

        byte[] toBytes() throws IOException {
            return encode(out -> {
                out.writeString(1, name);
                switch (type) {
                    case ATTR_FLOAT: out.writeFloat(2, f); break;
                    case ATTR_INT: out.writeInt64(3, i); break;
                    case ATTR_STRING: out.writeBytes(4, s); break;
                    case ATTR_TENSOR: out.writeByteArray(5, t.toBytes()); break;
                    case ATTR_FLOATS: for (float v : floats) out.writeFloat(7, v); break;
                    case ATTR_INTS: for (long v : ints) out.writeInt64(8, v); break;
                    default: throw new IllegalStateException("attribute type " + type + " is not written");
                }
                out.writeEnum(20, type);
            });
        }

        /** The ints of an INTS attribute as an array. */
        public long[] intArray() {
            return ints.stream().mapToLong(Long::longValue).toArray();
        }
    }

    /**
     * TensorProto: dims 1, data_type 2, float_data 4, int32_data 5, int64_data 7, name 8, raw_data 9, double_data 10,
     * data_location 14 (1 = external, refused by the importer).
     */
    public static final class TensorData {
        public final List<Long> dims = new ArrayList<>();
        public int dataType;
        public String name = "";
        public ByteString raw = ByteString.EMPTY;
        public final List<Float> floatData = new ArrayList<>();
        public final List<Double> doubleData = new ArrayList<>();
        public final List<Long> int64Data = new ArrayList<>();
        public final List<Integer> int32Data = new ArrayList<>();
        public boolean external;

        /** A float tensor with its data as little-endian raw bytes. */
        public static TensorData ofFloats(String name, long[] shape, float[] values) {
            ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) b.putFloat(v);
            return of(name, FLOAT, shape, b);
        }

        /** A double tensor with its data as little-endian raw bytes (the importer's folded constants). */
        public static TensorData ofDoubles(String name, long[] shape, double[] values) {
            ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            for (double v : values) b.putDouble(v);
            return of(name, DOUBLE, shape, b);
        }

        public static TensorData ofLongs(String name, long[] shape, long[] values) {
            ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            for (long v : values) b.putLong(v);
            return of(name, INT64, shape, b);
        }

        private static TensorData of(String name, int dataType, long[] shape, ByteBuffer raw) {
            TensorData t = new TensorData();
            t.name = name;
            t.dataType = dataType;
            for (long d : shape) t.dims.add(d);
            t.raw = ByteString.copyFrom(raw.array());
            return t;
        }

        static TensorData parse(ByteString bytes) throws IOException {
            TensorData t = new TensorData();
            fields(bytes.newCodedInput(), (field, wire, f) -> {
                switch (field) {
                    case 1 -> repeated(f, wire, t.dims, CodedInputStream::readInt64);
                    case 2 -> t.dataType = f.readInt32();
                    case 4 -> repeated(f, wire, t.floatData, CodedInputStream::readFloat);
                    case 5 -> repeated(f, wire, t.int32Data, CodedInputStream::readInt32);
                    case 7 -> repeated(f, wire, t.int64Data, CodedInputStream::readInt64);
                    case 8 -> t.name = f.readString();
                    case 9 -> t.raw = f.readBytes();
                    case 10 -> repeated(f, wire, t.doubleData, CodedInputStream::readDouble);
                    case 14 -> t.external = f.readEnum() == 1;
                    default -> { return false; }
                }
                return true;
            });
            return t;
        }

        byte[] toBytes() throws IOException {
            return encode(out -> {
                for (long d : dims) out.writeInt64(1, d);
                out.writeInt32(2, dataType);
                if (!name.isEmpty()) out.writeString(8, name);
                out.writeBytes(9, raw);
            });
        }

        public long[] shape() {
            return dims.stream().mapToLong(Long::longValue).toArray();
        }

        public long numel() {
            long n = 1;
            for (long d : dims) n *= d;
            return n;
        }

        /** The values as longs (shapes, axes, pads, indices), each converted from {@link #toDoubles()} as a Java cast does. */
        public long[] toLongs() {
            return java.util.Arrays.stream(toDoubles()).mapToLong(d -> (long) d).toArray();
        }

        /** The values as doubles, whichever of raw_data or the typed fields holds them. */
        public double[] toDoubles() {
            int n = Math.toIntExact(numel());
            double[] out = new double[n];
            if (!raw.isEmpty()) {
                ByteBuffer b = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                for (int k = 0; k < n; k++) {
                    switch (dataType) {
                        case FLOAT: out[k] = b.getFloat(); break;
                        case DOUBLE: out[k] = b.getDouble(); break;
                        case INT64: out[k] = b.getLong(); break;
                        case INT32: out[k] = b.getInt(); break;
                        case INT8: out[k] = b.get(); break;
                        case UINT8: case BOOL: out[k] = b.get() & 0xff; break;
                        default: throw new IllegalArgumentException("tensor data type " + dataType);
                    }
                }
                return out;
            }
            List<? extends Number> typed = dataType == FLOAT ? floatData : dataType == DOUBLE ? doubleData
                    : dataType == INT64 ? int64Data : int32Data;
            if (typed.size() != n) throw new IllegalArgumentException("tensor '" + name + "' holds " + typed.size() + " values, its shape needs " + n);
            for (int k = 0; k < n; k++) out[k] = typed.get(k).doubleValue();
            return out;
        }
    }

    /** ValueInfoProto: name 1, type 2 (TypeProto: tensor_type 1 → elem_type 1, shape 2 → dim 1 → dim_value 1 | dim_param 2). */
    public static final class ValueInfo {
        public String name = "";
        public int elemType;
        /** Dimensions; -1 where the dimension is symbolic (dim_param) or unknown. Null when no shape is given. */
        public List<Long> dims;

        public ValueInfo() {}

        public ValueInfo(String name, int elemType, List<Long> dims) {
            this.name = name;
            this.elemType = elemType;
            this.dims = dims;
        }

        static ValueInfo parse(ByteString bytes) throws IOException {
            ValueInfo v = new ValueInfo();
            fields(bytes.newCodedInput(), (field, wire, f) -> {
                switch (field) {
                    case 1 -> v.name = f.readString();
                    case 2 -> v.parseType(f.readBytes());
                    default -> { return false; }
                }
                return true;
            });
            return v;
        }

        /** TypeProto → tensor_type (1) → elem_type (1), shape (2). */
        private void parseType(ByteString bytes) throws IOException {
            fields(bytes.newCodedInput(), (field, wire, f) -> field == 1 && fields(f.readBytes().newCodedInput(), (tf, tw, t) -> {
                switch (tf) {
                    case 1 -> elemType = t.readInt32();
                    case 2 -> dims = parseShape(t.readBytes());
                    default -> { return false; }
                }
                return true;
            }));
        }

        /** TensorShapeProto: dim (1) → dim_value (1); −1 for a dim_param or an unknown dimension. */
        private static List<Long> parseShape(ByteString bytes) throws IOException {
            List<Long> dims = new ArrayList<>();
            fields(bytes.newCodedInput(), (field, wire, f) -> {
                if (field != 1) return false;
                long[] value = {-1};
                fields(f.readBytes().newCodedInput(), (df, dw, d) -> {
                    if (df != 1) return false;
                    value[0] = d.readInt64();
                    return true;
                });
                dims.add(value[0]);
                return true;
            });
            return dims;
        }

        byte[] toBytes() throws IOException {
            byte[] shape = encode(out -> {
                for (long d : dims) {
                    byte[] dim = encode(o -> {
                        if (d >= 0) o.writeInt64(1, d);
                        else o.writeString(2, "N");
                    });
                    out.writeByteArray(1, dim);
                }
            });
            byte[] tensor = encode(out -> {
                out.writeInt32(1, elemType);
                out.writeByteArray(2, shape);
            });
            byte[] type = encode(out -> out.writeByteArray(1, tensor));
            return encode(out -> {
                out.writeString(1, name);
                out.writeByteArray(2, type);
            });
        }
    }

    /** Reads one field (its number and wire type given) from the stream; false to have it skipped. */
    @FunctionalInterface
    private interface Field {
        boolean read(int number, int wireType, CodedInputStream in) throws IOException;
    }

    /** Reads a message's fields to its end, skipping those {@code field} does not read; true (for nesting in a Field). */
    private static boolean fields(CodedInputStream in, Field field) throws IOException {
        for (int tag; (tag = in.readTag()) != 0; ) {
            if (!field.read(WireFormat.getTagFieldNumber(tag), WireFormat.getTagWireType(tag), in)) in.skipField(tag);
        }
        return true;
    }

    @FunctionalInterface
    private interface Reader<T> {
        T read(CodedInputStream in) throws IOException;
    }

    /** One element of a repeated scalar field, or all of a packed one (protobuf writers may use either). */
    private static <T> void repeated(CodedInputStream in, int wireType, List<T> out, Reader<T> reader) throws IOException {
        if (wireType != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
            out.add(reader.read(in));
            return;
        }
        int limit = in.pushLimit(in.readRawVarint32());
        while (in.getBytesUntilLimit() > 0) out.add(reader.read(in));
        in.popLimit(limit);
    }

    @FunctionalInterface
    private interface Writer {
        void write(CodedOutputStream out) throws IOException;
    }

    private static byte[] encode(Writer w) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        w.write(out);
        out.flush();
        return bytes.toByteArray();
    }
}
