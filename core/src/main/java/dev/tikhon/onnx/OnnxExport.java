package dev.tikhon.onnx;

import dev.tikhon.UserError;
import dev.tikhon.Version;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Tensor;
import dev.tikhon.farkas.Farkas;
import dev.tikhon.farkas.FarkasBlock;
import dev.tikhon.farkas.FarkasBottleneck;
import dev.tikhon.farkas.FarkasConv2d;
import dev.tikhon.farkas.FarkasLinear;
import dev.tikhon.io.AtomicFiles;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.BatchNorm2d;
import dev.tikhon.nn.Conv2d;
import dev.tikhon.nn.Graph;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Normalize;
import dev.tikhon.nn.Pool;
import dev.tikhon.nn.ResidualBlock;
import dev.tikhon.nn.Sequential;
import dev.tikhon.onnx.OnnxProto.Attribute;
import dev.tikhon.onnx.OnnxProto.Node;
import dev.tikhon.onnx.OnnxProto.TensorData;
import dev.tikhon.onnx.OnnxProto.ValueInfo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Writes a Tikhon model as an ONNX model (IR version 7, operator set 13), in evaluation mode: batch norm with its
 * running statistics, the Farkas layers with the kernels and biases they compute from their parameters. The graph
 * takes {@code input} [N, C, H, W] (N left open) and returns {@code logits} [N, K]. Every layer is a standard ONNX
 * operator, so any runtime serves it; {@link OnnxImport} reads it back into the same layers.
 */
public final class OnnxExport {
    public static final long IR_VERSION = 7, OPSET = 13;

    private final OnnxProto.Graph graph = new OnnxProto.Graph();
    private int counter;
    /** The rank of the input, [N, ...]: where an input normalization's channel axis is. */
    private int rank;

    private OnnxExport() {}

    /** The ONNX file of {@code model} taking per-example inputs of {@code inputShape}. */
    public static byte[] toBytes(Module model, List<Long> inputShape) {
        OnnxExport e = new OnnxExport();
        e.graph.name = "tikhon";
        e.rank = inputShape.size() + 1;
        List<Long> in = new ArrayList<>();
        in.add(-1L);
        in.addAll(inputShape);
        e.graph.inputs.add(new ValueInfo("input", OnnxProto.FLOAT, in));
        String out;
        boolean wasTraining = model.isTraining();
        model.train(false);
        try (Autograd.Guard g = Autograd.noGrad()) {
            takes(model, inputShape);
            out = e.emit(model, "input");
        } finally {
            model.train(wasTraining);
        }
        e.graph.nodes.add(new Node("Identity", "logits", List.of(out), List.of("logits")));
        e.graph.outputs.add(new ValueInfo("logits", OnnxProto.FLOAT, List.of(-1L, -1L)));
        OnnxProto.Model m = new OnnxProto.Model();
        m.irVersion = IR_VERSION;
        m.producerName = "tikhon";
        m.producerVersion = Version.VERSION;
        m.graph = e.graph;
        m.opsets.add(new OnnxProto.OpsetId("", OPSET));
        try {
            return m.toBytes();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    /** Writes the ONNX file atomically (temporary file, then rename). */
    /** Refuses an input shape the model cannot take: the file would declare inputs that it then fails on. */
    private static void takes(Module model, List<Long> inputShape) {
        long[] shape = new long[inputShape.size() + 1];
        shape[0] = 1;
        for (int i = 0; i < inputShape.size(); i++) shape[i + 1] = inputShape.get(i);
        var params = model.parameters();
        DType dtype = params.isEmpty() ? DType.FLOAT32 : params.get(0).value().dtype();
        Device device = params.isEmpty() ? Device.CPU : params.get(0).value().device();
        try (dev.tikhon.engine.Scope s = dev.tikhon.engine.Scope.open()) {
            model.forward(Tensor.zeros(dtype, device, shape));
        } catch (RuntimeException ex) {
            throw new IllegalArgumentException("the model does not take inputs of shape [N, " + inputShape.stream().map(String::valueOf)
                    .reduce((a, b) -> a + ", " + b).orElse("") + "], the input shape to export: " + String.valueOf(ex.getMessage()).lines()
                    .findFirst().orElse(""), ex);
        }
    }

    public static void write(Module model, List<Long> inputShape, Path file) {
        byte[] bytes = toBytes(model, inputShape);
        AtomicFiles.write(file, o -> o.write(bytes));
    }

    // ------------------------------------------------------------------ graph building

    private String fresh(String prefix) { return prefix + "_" + counter++; }

    private String node(String op, List<String> inputs, Attribute... attrs) {
        String out = fresh(op.toLowerCase());
        Node n = new Node(op, out, inputs, List.of(out));
        n.attributes.addAll(Arrays.asList(attrs));
        graph.nodes.add(n);
        return out;
    }

    private String initializer(String prefix, Tensor t) {
        String name = fresh(prefix);
        Tensor c = t.detach().to(Device.CPU, DType.FLOAT32).contiguous();
        graph.initializers.add(TensorData.ofFloats(name, c.shape(), c.toFloatArray()));
        return name;
    }

    private String longs(String prefix, long[] values) {
        String name = fresh(prefix);
        graph.initializers.add(TensorData.ofLongs(name, new long[]{values.length}, values));
        return name;
    }

    private String emit(Module m, String x) {
        if (m instanceof Sequential s) {
            for (Module layer : s.layers()) x = emit(layer, x);
            return x;
        }
        if (m instanceof Normalize nz) {
            // (x − mean) / std per channel (dimension 1): constants [C, 1, …, 1], broadcast from the right
            long[] shape = new long[Math.max(1, rank - 1)];
            java.util.Arrays.fill(shape, 1);
            shape[0] = nz.channels();
            return node("Div", List.of(node("Sub", List.of(x, initializer("mean", nz.mean().reshape(shape)))),
                    initializer("std", nz.std().reshape(shape))));
        }
        if (m instanceof Linear l) return gemm(x, l.weight().value(), l.bias() == null ? null : l.bias().value());
        if (m instanceof Conv2d c) {
            return conv(x, c.weight().value(), c.bias() == null ? null : c.bias().value(), new long[]{c.stride, c.stride},
                    new long[]{c.padding, c.padding}, new long[]{1, 1}, 1);
        }
        if (m instanceof OnnxLayers.Conv c) {
            return conv(x, c.weight().value(), c.bias() == null ? null : c.bias().value(), c.stride, c.padding, c.dilation, c.groups);
        }
        if (m instanceof BatchNorm2d b) {
            Map<String, Tensor> s = b.stateDict();
            return node("BatchNormalization", List.of(x, initializer("bn_scale", s.get("weight")), initializer("bn_bias", s.get("bias")),
                    initializer("bn_mean", s.get("running_mean")), initializer("bn_var", s.get("running_var"))),
                    Attribute.ofFloat("epsilon", (float) b.eps()), Attribute.ofFloat("momentum", (float) (1 - b.momentum())));
        }
        if (m instanceof Activation a) return activation(a.kind(), x);
        if (m instanceof OnnxLayers.LeakyRelu l) return node("LeakyRelu", List.of(x), Attribute.ofFloat("alpha", (float) l.alpha));
        if (m instanceof Pool p) return pool(p, x);
        if (m instanceof OnnxLayers.Pool2d p) {
            List<Attribute> a = new ArrayList<>(List.of(Attribute.ofInts("kernel_shape", p.kernel), Attribute.ofInts("strides", p.stride),
                    Attribute.ofInts("pads", p.padding[0], p.padding[1], p.padding[0], p.padding[1]),
                    Attribute.ofInt("ceil_mode", p.ceilMode ? 1 : 0)));
            if (p.max) a.add(Attribute.ofInts("dilations", p.dilation));
            else a.add(Attribute.ofInt("count_include_pad", p.countIncludePad ? 1 : 0));
            return node(p.max ? "MaxPool" : "AveragePool", List.of(x), a.toArray(Attribute[]::new));
        }
        if (m instanceof OnnxLayers.GlobalAvgKeepDims) return node("GlobalAveragePool", List.of(x));
        if (m instanceof OnnxLayers.Abs) return node("Abs", List.of(x));
        if (m instanceof OnnxLayers.Erf) return node("Erf", List.of(x));
        if (m instanceof OnnxLayers.PRelu p) return node("PRelu", List.of(x, initializer("slope", p.slope().value())));
        if (m instanceof OnnxLayers.Elu e) return node("Elu", List.of(x), Attribute.ofFloat("alpha", (float) e.alpha));
        if (m instanceof OnnxLayers.Clip c) {   // operator set 13: the bounds are inputs, "" for none
            return node("Clip", List.of(x, Double.isInfinite(c.lo) ? "" : scalar((float) c.lo), Double.isInfinite(c.hi) ? "" : scalar((float) c.hi)));
        }
        if (m instanceof OnnxLayers.HardSigmoid h) {   // HardSwish is operator set 14: x · HardSigmoid(x) with α = 1/6, β = ½
            String s = node("HardSigmoid", List.of(x), Attribute.ofFloat("alpha", (float) h.alpha), Attribute.ofFloat("beta", (float) h.beta));
            return h.swish ? node("Mul", List.of(x, s)) : s;
        }
        if (m instanceof OnnxLayers.Pad p) {
            String pads = longs("pads", new long[]{0, 0, p.pads[0], p.pads[1], 0, 0, p.pads[2], p.pads[3]});
            return node("Pad", List.of(x, pads, scalar((float) p.value)));
        }
        if (m instanceof OnnxLayers.ConstantOp c) {
            String k = initializer("const", c.constant());
            String op = c.kind.name().charAt(0) + c.kind.name().substring(1).toLowerCase();   // Add, Sub, Mul, Div, Pow, Less
            return node(op, c.constantFirst ? List.of(k, x) : List.of(x, k));
        }
        if (m instanceof OnnxLayers.Reshape r) return node("Reshape", List.of(x, longs("shape", r.target)));
        if (m instanceof OnnxLayers.Transpose t) return node("Transpose", List.of(x), Attribute.ofInts("perm", t.perm));
        if (m instanceof OnnxLayers.Slice sl) {   // operator set 13: starts, ends and axes are inputs
            return node("Slice", List.of(x, longs("starts", new long[]{sl.start()}), longs("ends", new long[]{sl.end()}), longs("axes", new long[]{sl.axis()})));
        }
        if (m instanceof ResidualBlock r) {
            String h = x;
            for (Module b : r.branch()) h = emit(b, h);
            String skip = x;
            for (Module s : r.shortcutLayers()) skip = emit(s, skip);
            return node("Relu", List.of(node("Add", List.of(h, skip))));
        }
        if (m instanceof Graph g) return graph(g, x);
        if (m instanceof FarkasConv2d f) {
            Map<String, Tensor> s = f.stateDict();
            return node("Relu", List.of(conv(x, Farkas.kernels(s.get("weight")), Farkas.bias(s.get("bias")), new long[]{f.stride, f.stride},
                    new long[]{f.padding, f.padding}, new long[]{1, 1}, 1)));
        }
        if (m instanceof FarkasLinear f) {
            Map<String, Tensor> s = f.stateDict();
            return node("Relu", List.of(gemm(x, Farkas.kernels(s.get("weight")), Farkas.bias(s.get("bias")))));
        }
        if (m instanceof FarkasBlock b) {
            Map<String, Tensor> s = b.stateDict();
            String y = conv(emit(b.conv0(), x), Farkas.kernels(s.get("weight")), Farkas.bias(s.get("bias")), new long[]{1, 1},
                    new long[]{1, 1}, new long[]{1, 1}, 1);
            return node("Relu", List.of(node("Add", List.of(y, appendNegativeMean(x, b.channels)))));
        }
        if (m instanceof FarkasBottleneck b) {
            Map<String, Tensor> s = b.stateDict();
            String y = conv(emit(b.conv1(), emit(b.conv0(), x)), Farkas.kernels(s.get("weight")), Farkas.bias(s.get("bias")),
                    new long[]{1, 1}, new long[]{0, 0}, new long[]{1, 1}, 1);
            return node("Relu", List.of(node("Add", List.of(y, appendNegativeMean(x, b.channels)))));
        }
        throw new UserError("cannot export the layer " + m.describe() + " (" + m.getClass().getSimpleName() + ") to ONNX: Tikhon exports its "
                + "own model kinds (mlp, cnn, resnet, farkas-resnet) and imported ONNX models, not TorchScript models");
    }

    private String gemm(String x, Tensor w, Tensor b) {
        List<String> in = new ArrayList<>(List.of(x, initializer("weight", w)));
        if (b != null) in.add(initializer("bias", b));
        return node("Gemm", in, Attribute.ofInt("transB", 1));
    }

    private String conv(String x, Tensor w, Tensor b, long[] stride, long[] pad, long[] dilation, long groups) {
        List<String> in = new ArrayList<>(List.of(x, initializer("weight", w)));
        if (b != null) in.add(initializer("bias", b));
        return node("Conv", in, Attribute.ofInts("kernel_shape", w.size(2), w.size(3)), Attribute.ofInts("strides", stride),
                Attribute.ofInts("pads", pad[0], pad[1], pad[0], pad[1]), Attribute.ofInts("dilations", dilation),
                Attribute.ofInt("group", groups));
    }

    /** [x, −mean_c x] as one 1×1 convolution (the identity and a row of −1/C): standard, and imported as a Conv2d. */
    private String appendNegativeMean(String x, int channels) {
        float[] w = new float[(channels + 1) * channels];
        for (int c = 0; c < channels; c++) {
            w[c * channels + c] = 1;
            w[channels * channels + c] = -1f / channels;
        }
        return conv(x, Tensor.fromFloats(w, channels + 1, channels, 1, 1), null, new long[]{1, 1}, new long[]{0, 0}, new long[]{1, 1}, 1);
    }

    private String activation(Activation.Kind kind, String x) {
        switch (kind) {
            case RELU: return node("Relu", List.of(x));
            case SIGMOID: return node("Sigmoid", List.of(x));
            case TANH: return node("Tanh", List.of(x));
            case SOFTPLUS: return node("Softplus", List.of(x));
            case IDENTITY: return node("Identity", List.of(x));
            case SMOOTH_RELU: return smoothRelu(x);
            default: throw new AssertionError(kind);
        }
    }

    /**
     * {@link Activation#smoothRelu}, op for op (no standard operator has it): u = x + ½, poly = u³ − ½u⁴,
     * Where(|x| &lt; ½, poly, Relu(x)).
     */
    private String smoothRelu(String x) {
        String half = scalar(0.5f);
        String u = node("Add", List.of(x, half));
        String poly = node("Sub", List.of(node("Pow", List.of(u, scalar(3))), node("Mul", List.of(node("Pow", List.of(u, scalar(4))), half))));
        String inner = node("Less", List.of(node("Abs", List.of(x)), half));
        return node("Where", List.of(inner, poly, node("Relu", List.of(x))));
    }

    private String scalar(float v) {
        String name = fresh("scalar");
        graph.initializers.add(TensorData.ofFloats(name, new long[0], new float[]{v}));
        return name;
    }

    private String pool(Pool p, String x) {
        switch (p.kind()) {
            case MAX: case AVG:
                return node(p.kind() == Pool.Kind.MAX ? "MaxPool" : "AveragePool", List.of(x),
                        Attribute.ofInts("kernel_shape", p.kernel(), p.kernel()), Attribute.ofInts("strides", p.stride(), p.stride()));
            case GLOBAL_AVG: return node("Flatten", List.of(node("GlobalAveragePool", List.of(x))), Attribute.ofInt("axis", 1));
            case FLATTEN: return node("Flatten", List.of(x), Attribute.ofInt("axis", 1));
            default: throw new AssertionError(p.kind());
        }
    }

    private String graph(Graph g, String x) {
        String[] v = new String[g.nodes().size() + 1];
        v[0] = x;
        for (int k = 0; k < g.nodes().size(); k++) {
            Graph.Node n = g.nodes().get(k);
            int[] in = n.inputs();
            List<String> names = Arrays.stream(in).mapToObj(i -> v[i]).toList();
            switch (n.op()) {
                case APPLY: v[k + 1] = emit(n.module(), v[in[0]]); break;
                case ADD: v[k + 1] = node("Add", names); break;
                case SUB: v[k + 1] = node("Sub", names); break;
                case MUL: v[k + 1] = node("Mul", names); break;
                case DIV: v[k + 1] = node("Div", names); break;
                case CONCAT: v[k + 1] = node("Concat", names, Attribute.ofInt("axis", n.axis())); break;
                case WHERE: v[k + 1] = node("Where", names); break;
                default: throw new AssertionError(n.op());
            }
        }
        return v[g.output()];
    }
}
