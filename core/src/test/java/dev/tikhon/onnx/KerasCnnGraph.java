package dev.tikhon.onnx;

import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.onnx.OnnxProto.Attribute;
import dev.tikhon.onnx.OnnxProto.Node;
import dev.tikhon.onnx.OnnxProto.TensorData;
import dev.tikhon.onnx.OnnxProto.ValueInfo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A Keras CNN as tf2onnx writes it, built here (no tf2onnx in the build): the input [N, S, S, C] (NHWC),
 * optionally Keras' Rescaling (a Mul or Div by a scalar, then optionally an Add of a scalar offset; before or after the
 * transpose) and Normalization (Sub and Div by per-channel constants of shape [C]), Transpose(0, 3, 1, 2) into NCHW,
 * Conv 3×3 → Relu → MaxPool 2×2, Transpose(0, 2, 3, 1) back to NHWC so that the flatten order is Keras', Reshape to
 * [−1, K], then the Dense layers as MatMul + Add: K → 16 → Relu → 10. Node names follow tf2onnx's.
 *
 * <p>{@code main(size, file)} writes the committed fixture {@code keras_cnn.onnx} (size 28, one channel).
 */
public final class KerasCnnGraph {
    private KerasCnnGraph() {}

    /**
     * Keras' {@code Rescaling} as tf2onnx writes it: {@code op} ("Mul" or "Div") by the scalar {@code value}, then an Add of
     * {@code offset} unless it is NaN; before the NHWC → NCHW transpose, or after it ({@code afterTranspose}).
     */
    public record Rescaling(String op, float value, float offset, boolean afterTranspose) {
        /** Keras' Rescaling(scale) (no offset), before the transpose. */
        public static Rescaling mul(double scale) { return new Rescaling("Mul", (float) scale, Float.NaN, false); }
    }

    /** The model's bytes for S×S images of {@code channels} channels, weights from Rng seed {@code seed}. */
    public static byte[] bytes(int size, int channels, boolean normalization, long seed) throws Exception {
        return bytes(size, channels, normalization, seed, null);
    }

    /** The same, with Keras' Rescaling at the input (null: none). */
    public static byte[] bytes(int size, int channels, boolean normalization, long seed, Rescaling rescaling) throws Exception {
        Rng.seed(seed);
        OnnxProto.Graph g = new OnnxProto.Graph();
        g.name = "tf2onnx";
        g.inputs.add(new ValueInfo("input_1", OnnxProto.FLOAT, List.of(-1L, (long) size, (long) size, (long) channels)));
        String h = "input_1";
        if (rescaling != null && !rescaling.afterTranspose()) h = rescale(g, h, rescaling);
        if (normalization) {
            h = node(g, "Sub", "sequential/normalization/sub", List.of(h, init(g, "sequential/normalization/sub/y", new long[]{channels}, 0.3)));
            h = node(g, "Div", "sequential/normalization/truediv", List.of(h, positive(g, "sequential/normalization/Sqrt", channels)));
        }
        h = node(g, "Transpose", "sequential/conv2d/Conv2D__6", List.of(h), Attribute.ofInts("perm", 0, 3, 1, 2));
        if (rescaling != null && rescaling.afterTranspose()) h = rescale(g, h, rescaling);
        int filters = 4, pooled = (size - 2) / 2;
        h = node(g, "Conv", "sequential/conv2d/Conv2D", List.of(h, init(g, "conv2d/kernel", new long[]{filters, channels, 3, 3}, 0.4),
                init(g, "conv2d/bias", new long[]{filters}, 0.1)), Attribute.ofInts("kernel_shape", 3, 3), Attribute.ofInts("strides", 1, 1),
                Attribute.ofInts("dilations", 1, 1));
        h = node(g, "Relu", "sequential/conv2d/Relu", List.of(h));
        h = node(g, "MaxPool", "sequential/max_pooling2d/MaxPool", List.of(h), Attribute.ofInts("kernel_shape", 2, 2),
                Attribute.ofInts("strides", 2, 2));
        h = node(g, "Transpose", "sequential/max_pooling2d/MaxPool__12", List.of(h), Attribute.ofInts("perm", 0, 2, 3, 1));
        long k = (long) filters * pooled * pooled;
        g.initializers.add(TensorData.ofLongs("const_fold_opt__20", new long[]{2}, new long[]{-1, k}));
        h = node(g, "Reshape", "sequential/flatten/Reshape", List.of(h, "const_fold_opt__20"));
        h = dense(g, "sequential/dense", h, k, 16);
        h = node(g, "Relu", "sequential/dense/Relu", List.of(h));
        h = dense(g, "sequential/dense_1", h, 16, 10);
        g.outputs.add(new ValueInfo(h, OnnxProto.FLOAT, List.of(-1L, 10L)));
        OnnxProto.Model m = new OnnxProto.Model();
        m.irVersion = 7;
        m.producerName = "tf2onnx (as built by Tikhon's tests)";
        m.graph = g;
        m.opsets.add(new OnnxProto.OpsetId("", 13));
        return m.toBytes();
    }

    private static String rescale(OnnxProto.Graph g, String x, Rescaling r) {
        g.initializers.add(TensorData.ofFloats("sequential/rescaling/Cast/x", new long[0], new float[]{r.value()}));
        String h = node(g, r.op(), "sequential/rescaling/" + (r.op().equals("Mul") ? "mul" : "truediv"), List.of(x, "sequential/rescaling/Cast/x"));
        if (Float.isNaN(r.offset())) return h;
        g.initializers.add(TensorData.ofFloats("sequential/rescaling/Cast_1/x", new long[0], new float[]{r.offset()}));
        return node(g, "Add", "sequential/rescaling/add", List.of(h, "sequential/rescaling/Cast_1/x"));
    }

    /** Keras' Dense: MatMul by [in, out], then Add of [out]. */
    private static String dense(OnnxProto.Graph g, String name, String x, long in, long out) {
        String mm = node(g, "MatMul", name + "/MatMul", List.of(x, init(g, name + "/kernel", new long[]{in, out}, Math.sqrt(2.0 / in))));
        return node(g, "Add", name + "/BiasAdd", List.of(mm, init(g, name + "/bias", new long[]{out}, 0.1)));
    }

    private static String init(OnnxProto.Graph g, String name, long[] shape, double scale) {
        g.initializers.add(TensorData.ofFloats(name, shape, Tensor.randn(shape).mul(scale).contiguous().toFloatArray()));
        return name;
    }

    private static String positive(OnnxProto.Graph g, String name, int n) {
        g.initializers.add(TensorData.ofFloats(name, new long[]{n}, Tensor.rand(n).add(0.5).contiguous().toFloatArray()));
        return name;
    }

    private static String node(OnnxProto.Graph g, String type, String name, List<String> inputs, Attribute... attrs) {
        String out = name + ":0";
        Node n = new Node(type, name, inputs, List.of(out));
        n.attributes.addAll(Arrays.asList(attrs));
        g.nodes.add(n);
        return out;
    }

    /** Writes the fixture: {@code size file}. */
    public static void main(String[] args) throws Exception {
        Files.write(Path.of(args[1]), bytes(Integer.parseInt(args[0]), 1, false, 28));
    }
}
