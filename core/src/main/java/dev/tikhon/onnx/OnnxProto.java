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
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1: m.irVersion = in.readInt64(); break;
                    case 2: m.producerName = in.readString(); break;
                    case 3: m.producerVersion = in.readString(); break;
                    case 6: m.docString = in.readString(); break;
                    case 7: m.graph = Graph.parse(in.readBytes()); break;
                    case 8: m.opsets.add(OpsetId.parse(in.readBytes())); break;
                    default: in.skipField(tag);
                }
            }
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
            CodedInputStream in = bytes.newCodedInput();
            OpsetId o = new OpsetId();
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1: o.domain = in.readString(); break;
                    case 2: o.version = in.readInt64(); break;
                    default: in.skipField(tag);
                }
            }
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
            CodedInputStream in = bytes.newCodedInput();
            Graph g = new Graph();
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1: g.nodes.add(Node.parse(in.readBytes())); break;
                    case 2: g.name = in.readString(); break;
                    case 5: g.initializers.add(TensorData.parse(in.readBytes())); break;
                    case 11: g.inputs.add(ValueInfo.parse(in.readBytes())); break;
                    case 12: g.outputs.add(ValueInfo.parse(in.readBytes())); break;
                    default: in.skipField(tag);
                }
            }
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
            CodedInputStream in = bytes.newCodedInput();
            Node n = new Node();
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1: n.inputs.add(in.readString()); break;
                    case 2: n.outputs.add(in.readString()); break;
                    case 3: n.name = in.readString(); break;
                    case 4: n.opType = in.readString(); break;
                    case 5: n.attributes.add(Attribute.parse(in.readBytes())); break;
                    case 7: n.domain = in.readString(); break;
                    default: in.skipField(tag);
                }
            }
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

        public static Attribute ofTensor(String name, TensorData t) {
            Attribute a = new Attribute();
            a.name = name;
            a.type = ATTR_TENSOR;
            a.t = t;
            return a;
        }

        static Attribute parse(ByteString bytes) throws IOException {
            CodedInputStream in = bytes.newCodedInput();
            Attribute a = new Attribute();
            for (int tag; (tag = in.readTag()) != 0; ) {
                int wire = WireFormat.getTagWireType(tag);
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1: a.name = in.readString(); break;
                    case 2: a.f = in.readFloat(); break;
                    case 3: a.i = in.readInt64(); break;
                    case 4: a.s = in.readBytes(); break;
                    case 5: a.t = TensorData.parse(in.readBytes()); break;
                    case 7:
                        if (wire == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                            int limit = in.pushLimit(in.readRawVarint32());
                            while (in.getBytesUntilLimit() > 0) a.floats.add(in.readFloat());
                            in.popLimit(limit);
                        } else {
                            a.floats.add(in.readFloat());
                        }
                        break;
                    case 8:
                        if (wire == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                            int limit = in.pushLimit(in.readRawVarint32());
                            while (in.getBytesUntilLimit() > 0) a.ints.add(in.readInt64());
                            in.popLimit(limit);
                        } else {
                            a.ints.add(in.readInt64());
                        }
                        break;
                    case 20: a.type = in.readEnum(); break;
                    default: in.skipField(tag);
                }
            }
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
            TensorData t = new TensorData();
            t.name = name;
            t.dataType = FLOAT;
            for (long d : shape) t.dims.add(d);
            ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) b.putFloat(v);
            t.raw = ByteString.copyFrom(b.array());
            return t;
        }

        public static TensorData ofLongs(String name, long[] shape, long[] values) {
            TensorData t = new TensorData();
            t.name = name;
            t.dataType = INT64;
            for (long d : shape) t.dims.add(d);
            ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            for (long v : values) b.putLong(v);
            t.raw = ByteString.copyFrom(b.array());
            return t;
        }

        static TensorData parse(ByteString bytes) throws IOException {
            CodedInputStream in = bytes.newCodedInput();
            TensorData t = new TensorData();
            for (int tag; (tag = in.readTag()) != 0; ) {
                boolean packed = WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED;
                int limit;
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1:
                        if (!packed) { t.dims.add(in.readInt64()); break; }
                        limit = in.pushLimit(in.readRawVarint32());
                        while (in.getBytesUntilLimit() > 0) t.dims.add(in.readInt64());
                        in.popLimit(limit);
                        break;
                    case 2: t.dataType = in.readInt32(); break;
                    case 4:
                        if (!packed) { t.floatData.add(in.readFloat()); break; }
                        limit = in.pushLimit(in.readRawVarint32());
                        while (in.getBytesUntilLimit() > 0) t.floatData.add(in.readFloat());
                        in.popLimit(limit);
                        break;
                    case 5:
                        if (!packed) { t.int32Data.add(in.readInt32()); break; }
                        limit = in.pushLimit(in.readRawVarint32());
                        while (in.getBytesUntilLimit() > 0) t.int32Data.add(in.readInt32());
                        in.popLimit(limit);
                        break;
                    case 7:
                        if (!packed) { t.int64Data.add(in.readInt64()); break; }
                        limit = in.pushLimit(in.readRawVarint32());
                        while (in.getBytesUntilLimit() > 0) t.int64Data.add(in.readInt64());
                        in.popLimit(limit);
                        break;
                    case 8: t.name = in.readString(); break;
                    case 9: t.raw = in.readBytes(); break;
                    case 10:
                        if (!packed) { t.doubleData.add(in.readDouble()); break; }
                        limit = in.pushLimit(in.readRawVarint32());
                        while (in.getBytesUntilLimit() > 0) t.doubleData.add(in.readDouble());
                        in.popLimit(limit);
                        break;
                    case 14: t.external = in.readEnum() == 1; break;
                    default: in.skipField(tag);
                }
            }
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
            CodedInputStream in = bytes.newCodedInput();
            ValueInfo v = new ValueInfo();
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1: v.name = in.readString(); break;
                    case 2: v.parseType(in.readBytes()); break;
                    default: in.skipField(tag);
                }
            }
            return v;
        }

        private void parseType(ByteString bytes) throws IOException {
            CodedInputStream in = bytes.newCodedInput();
            for (int tag; (tag = in.readTag()) != 0; ) {
                if (WireFormat.getTagFieldNumber(tag) != 1) {
                    in.skipField(tag);
                    continue;
                }
                CodedInputStream tensor = in.readBytes().newCodedInput();
                for (int t; (t = tensor.readTag()) != 0; ) {
                    switch (WireFormat.getTagFieldNumber(t)) {
                        case 1: elemType = tensor.readInt32(); break;
                        case 2: dims = parseShape(tensor.readBytes()); break;
                        default: tensor.skipField(t);
                    }
                }
            }
        }

        private static List<Long> parseShape(ByteString bytes) throws IOException {
            CodedInputStream in = bytes.newCodedInput();
            List<Long> dims = new ArrayList<>();
            for (int tag; (tag = in.readTag()) != 0; ) {
                if (WireFormat.getTagFieldNumber(tag) != 1) {
                    in.skipField(tag);
                    continue;
                }
                CodedInputStream dim = in.readBytes().newCodedInput();
                long value = -1;
                for (int t; (t = dim.readTag()) != 0; ) {
                    if (WireFormat.getTagFieldNumber(t) == 1) value = dim.readInt64();
                    else dim.skipField(t);
                }
                dims.add(value);
            }
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
