package dev.tikhon.onnx;

import dev.tikhon.UserError;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.BatchNorm2d;
import dev.tikhon.nn.Conv2d;
import dev.tikhon.nn.Graph;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Normalize;
import dev.tikhon.nn.Pool;
import dev.tikhon.nn.Sequential;
import dev.tikhon.onnx.OnnxProto.Attribute;
import dev.tikhon.onnx.OnnxProto.Node;
import dev.tikhon.onnx.OnnxProto.TensorData;
import dev.tikhon.onnx.OnnxProto.ValueInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds a Tikhon {@link Module} from an ONNX model: its layers become Tikhon's own (Linear, Conv2d, BatchNorm2d,
 * Activation, Pool) wherever they fit, so gradients, double backprop, retraining, the Lipschitz bounds and the
 * verifiers work on it; a chain of layers becomes a {@link Sequential}, anything with branches a {@link Graph}.
 * The model takes one float tensor (batch first) and returns one. A final Softmax is dropped (Tikhon's methods work on
 * logits), with a note. Anything else is a {@link UserError} naming the file, the node and its operator.
 */
public final class OnnxImport {
    /** The operators imported (Dropout as the identity, Softmax only as the last node). */
    public static final List<String> OPERATORS = List.of("Conv", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu",
            "Sigmoid", "Tanh", "Softplus", "Clip", "HardSigmoid", "HardSwish", "Elu", "PRelu", "MaxPool", "AveragePool", "GlobalAveragePool", "ReduceMean", "BatchNormalization", "Flatten", "Reshape",
            "Concat", "Identity", "Dropout", "Constant", "Softmax", "LogSoftmax", "Abs", "Erf", "Gelu", "Pow", "Less", "Where", "Pad", "Shape", "Gather", "Transpose",
            "Slice", "Split");

    /**
     * An imported model.
     *
     * @param model      the network, in evaluation mode
     * @param inputShape the per-example input shape the file declares (−1 for a dimension it leaves open); empty if none
     * @param outputs    the number of outputs the file declares for its last dimension, −1 if it does not
     * @param notes      what was changed on import (a dropped Softmax), to tell the user
     */
    public record Result(Module model, List<Long> inputShape, long outputs, List<String> notes) {}

    /**
     * Operators computed here when all their inputs are constants (shape arithmetic, as PyTorch writes a Pad's pads, and
     * torch.chunk's slice bounds from a dimension of a computed value).
     */
    static final Set<String> FOLDED = Set.of("ConstantOfShape", "Concat", "Reshape", "Slice", "Transpose", "Cast", "Unsqueeze", "Squeeze",
            "Add", "Sub", "Mul", "Div");

    private final String source;
    private final Map<String, TensorData> constants = new HashMap<>();
    private final Map<String, Integer> values = new HashMap<>();
    private final List<Graph.Node> nodes = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final Set<Node> consumed = new HashSet<>();
    private List<Node> graphNodes;
    private long declaredBatch = -1;
    private int declaredRank = -1;
    /** The graph output's name. */
    private String graphOutput;
    /** Whether the file's input is NHWC and the imported model takes it as NCHW (its first Transpose dropped). */
    private boolean nhwcInput;
    /** The file's name for each layer made from arithmetic with a constant (for the notes on a rescaled input). */
    private final Map<Module, String> nodeNames = new java.util.IdentityHashMap<>();
    /** One example of the declared input shape, [1, C, H, W]; null when the file leaves a dimension other than the batch open. */
    private long[] declaredShape;

    private OnnxImport(String source) { this.source = source; }

    /** Reads and imports an ONNX file; a {@link UserError} naming the file when it is missing, unreadable or unsupported. */
    public static Result load(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new UserError("ONNX model " + file + " does not exist: pass the path of a .onnx file");
        } catch (IOException e) {
            throw new UserError("cannot read ONNX model " + file + ": " + e.getMessage());
        }
        return read(bytes, file.toString());
    }

    /** Imports an ONNX model from its bytes; {@code source} names it in errors. */
    public static Result read(byte[] bytes, String source) {
        OnnxProto.Model model;
        try {
            model = OnnxProto.Model.parse(bytes);
        } catch (IOException | RuntimeException e) {
            throw new UserError(source + " is not an ONNX model (" + e.getMessage() + "): pass a file written by torch.onnx.export, tf2onnx or tikhon export");
        }
        if (model.graph == null) throw new UserError(source + " is not an ONNX model (it has no graph): pass a .onnx file");
        return new OnnxImport(source).build(model);
    }

    private Result build(OnnxProto.Model model) {
        OnnxProto.Graph g = model.graph;
        for (TensorData t : g.initializers) constants.put(t.name, t);
        List<ValueInfo> inputs = g.inputs.stream().filter(v -> !constants.containsKey(v.name)).toList();
        if (inputs.size() != 1) {
            throw new UserError(source + " has " + inputs.size() + " inputs " + inputs.stream().map(v -> v.name).toList()
                    + "; Tikhon imports models with one input tensor (the images, batch first)");
        }
        if (g.outputs.size() != 1) {
            throw new UserError(source + " has " + g.outputs.size() + " outputs " + g.outputs.stream().map(v -> v.name).toList()
                    + "; Tikhon imports models with one output (the logits)");
        }
        ValueInfo in = inputs.get(0), out = g.outputs.get(0);
        if (in.elemType != 0 && in.elemType != OnnxProto.FLOAT) {
            throw new UserError(source + ": input '" + in.name + "' has ONNX element type " + in.elemType + "; Tikhon feeds float32 (type 1)");
        }
        List<Long> inputShape = in.dims == null || in.dims.isEmpty() ? List.of() : List.copyOf(in.dims.subList(1, in.dims.size()));
        if (in.dims != null && !in.dims.isEmpty()) {
            declaredBatch = in.dims.get(0);
            declaredRank = in.dims.size();
            if (inputShape.stream().allMatch(d -> d > 0)) {
                declaredShape = new long[in.dims.size()];
                declaredShape[0] = 1;
                for (int i = 1; i < declaredShape.length; i++) declaredShape[i] = in.dims.get(i);
            }
        }
        values.put(in.name, 0);
        graphOutput = out.name;
        graphNodes = g.nodes;
        for (Node n : g.nodes) {
            if (consumed.contains(n)) continue;
            node(n, out.name);
        }
        Integer result = values.get(out.name);
        if (result == null) {
            throw new UserError(source + ": the output '" + out.name + "' is " + (constants.containsKey(out.name) ? "a constant" : "not computed by any node")
                    + "; Tikhon imports models whose output depends on their input");
        }
        if (nhwcInput) inputShape = List.of(inputShape.get(2), inputShape.get(0), inputShape.get(1));   // [H, W, C] → [C, H, W]
        result = pixelRescaling(result);
        foldGlobalPoolBeforeFlatten(result);
        Module m = assemble(result);
        m.train(false);
        long outputs = out.dims == null || out.dims.isEmpty() ? -1 : out.dims.get(out.dims.size() - 1);
        return new Result(m, inputShape, outputs, List.copyOf(notes));
    }

    /** A Sequential when the nodes form a chain (each reads the one before), else a Graph. */
    private Module assemble(int result) {
        boolean chain = result == nodes.size();
        for (int k = 0; k < nodes.size() && chain; k++) {
            Graph.Node n = nodes.get(k);
            chain = n.op() == Graph.Op.APPLY && n.inputs()[0] == k;
        }
        if (!chain) return new Graph(nodes, result);
        List<Module> layers = new ArrayList<>();
        for (Graph.Node n : nodes) layers.add(n.module());
        Normalize norm = layers.size() >= 2 ? normalization(layers.get(0), layers.get(1)) : null;
        Sequential s = new Sequential();
        if (norm != null) {
            s.add(norm);
            layers = layers.subList(2, layers.size());
        }
        for (Module m : layers) s.add(m);
        return s;
    }

    /**
     * (x − mean) / std per channel as the first two layers (how PyTorch exports a normalization in the model, and how
     * Tikhon exports {@link Normalize}) becomes a {@link Normalize}: the same arithmetic, which the Lipschitz bounds and
     * verifiers know. Null when the two layers are not of that form.
     */
    private Normalize normalization(Module first, Module second) {
        if (!(first instanceof OnnxLayers.ConstantOp sub) || sub.kind != OnnxLayers.ConstantOp.Kind.SUB || sub.constantFirst
                || !(second instanceof OnnxLayers.ConstantOp div) || div.kind != OnnxLayers.ConstantOp.Kind.DIV || div.constantFirst) {
            return null;
        }
        double[] mean = perChannel(sub.constant()), std = perChannel(div.constant());
        if (mean == null || std == null || (mean.length != std.length && mean.length != 1 && std.length != 1)) return null;
        int c = Math.max(mean.length, std.length);
        double[] m = new double[c], sd = new double[c];
        for (int i = 0; i < c; i++) {
            m[i] = mean[mean.length == 1 ? 0 : i];
            sd[i] = std[std.length == 1 ? 0 : i];
            if (!(sd[i] > 0) || !Double.isFinite(sd[i]) || !Double.isFinite(m[i])) return null;
        }
        return new Normalize(new Normalize.Stats(m, sd));
    }

    /** The values of a constant that broadcasts along the channel axis (dimension 1) of the declared input only, or null. */
    private double[] perChannel(Tensor t) {
        long[] s = t.shape();
        double[] v = t.to(dev.tikhon.engine.DType.FLOAT64).contiguous().toDoubleArray();
        if (v.length == 1) return v;
        int axis = -1;   // the axis of t holding the values, right-aligned against the input's rank
        for (int i = 0; i < s.length; i++) {
            if (s[i] == 1) continue;
            if (axis >= 0) return null;
            axis = i;
        }
        return declaredRank >= 2 && declaredRank - s.length + axis == 1 ? v : null;
    }

    /** Keras' Rescaling scales for pixels in [0, 255]: 1/255 (to [0, 1]) and 1/127.5 (with offset −1, to [−1, 1]). */
    private static final double[] PIXEL_DIVISORS = {255, 127.5};

    /**
     * Keras' {@code Rescaling(s, o)} at the input, for pixels in [0, 255]: where the graph input (after a dropped NHWC
     * transpose, or before it) is read only by a Mul by a scalar s = 1/255 or 1/127.5 (their float32 values, within two
     * ulps; or a Div by 255 or 127.5), the model was trained on [0, 255] pixels, while Tikhon's data sets give [0, 1].
     * On x ∈ [0, 1] the file's function of 255·x is x·(255·s) + o: with 255·s = 1 (as float32) the Mul is dropped, else
     * it becomes a Mul by 255·s; an Add or Sub of a scalar after it (the offset o) stays as the file writes it. Either
     * way with a note. Any other input arithmetic stays as it is. Returns the graph's result value, renumbered.
     */
    private int pixelRescaling(int result) {
        int reader = soleReader(0, result);
        if (reader < 0 || reader + 1 == result) return result;   // (a model that is only the rescaling keeps it)
        Graph.Node node = nodes.get(reader);
        if (node.op() != Graph.Op.APPLY || !(node.module() instanceof OnnxLayers.ConstantOp c) || c.constant().numel() != 1
                || !(c.kind() == OnnxLayers.ConstantOp.Kind.MUL || c.kind() == OnnxLayers.ConstantOp.Kind.DIV && !c.constantFirst)) {
            return result;
        }
        float v = (float) c.constant().item();
        boolean mul = c.kind() == OnnxLayers.ConstantOp.Kind.MUL;
        double divisor = Double.NaN;
        for (double d : PIXEL_DIVISORS) {
            float expected = mul ? (float) (1 / d) : (float) d;
            if (Math.abs(v - expected) <= 2 * Math.ulp(expected)) divisor = d;
        }
        if (Double.isNaN(divisor)) return result;
        float factor = (float) (255.0 * (mul ? v : 1.0 / v));   // the file's scale on 255·x, as a scale on x
        Float offset = offset(reader + 1, result);
        String scale = "1/" + (divisor == 255 ? "255" : "127.5");
        String what = (mul ? "Mul by " : "Div by ") + (mul ? scale : divisor == 255 ? "255" : "127.5") + " (node '" + nodeNames.get(c) + "')";
        String shift = offset == null ? "" : offset < 0 ? " − " + number(-offset) : " + " + number(offset);
        String head = "the input is rescaled by a " + what + ", as Keras' Rescaling(" + scale + (offset == null ? "" : ", " + number(offset))
                + ") writes it for pixels in [0, 255]; Tikhon's pixels are already in [0, 1], so ";
        String tail = " (the same function of the same images), and ε is in [0, 1] units (8/255 there is 8 of the file's pixel levels)";
        if (factor == 1f) {
            notes.add(head + "that " + (mul ? "Mul" : "Div") + " is dropped" + (offset == null ? "" : " and the model computes x" + shift) + tail);
            return remove(reader, result);
        }
        nodes.set(reader, Graph.Node.apply(scalarOp(OnnxLayers.ConstantOp.Kind.MUL, factor), 0));
        notes.add(head + "the model computes x·" + number(factor) + shift + " instead" + tail);
        return result;
    }

    /** A float as its shortest decimal, without a trailing ".0". */
    private static String number(float f) {
        String s = Float.toString(f);
        return s.endsWith(".0") ? s.substring(0, s.length() - 2) : s;
    }

    /**
     * The index of the one layer that reads value {@code v}, once; −1 where no layer or more than one reads it, or it is
     * (also) the graph's result.
     */
    private int soleReader(int v, int result) {
        int reader = -1, uses = v == result ? 1 : 0;
        for (int k = 0; k < nodes.size(); k++) {
            for (int u : nodes.get(k).inputs()) {
                if (u == v) {
                    uses++;
                    reader = k;
                }
            }
        }
        return uses == 1 ? reader : -1;
    }

    /** The offset o of a scalar Add or Sub that alone reads value {@code v}, which is not the result; null if none. */
    private Float offset(int v, int result) {
        int k = soleReader(v, result);
        if (k < 0) return null;
        Graph.Node found = nodes.get(k);
        if (found.op() != Graph.Op.APPLY || !(found.module() instanceof OnnxLayers.ConstantOp c) || c.constant().numel() != 1) return null;
        float o = (float) c.constant().item();
        if (c.kind() == OnnxLayers.ConstantOp.Kind.ADD) return o;
        if (c.kind() == OnnxLayers.ConstantOp.Kind.SUB && !c.constantFirst) return -o;
        return null;
    }

    /** Drops layer {@code k} (value k + 1), which reads one value: its readers read that value instead. The result, renumbered. */
    private int remove(int k, int result) {
        int from = k + 1, to = nodes.get(k).inputs()[0];
        List<Graph.Node> kept = new ArrayList<>();
        for (int j = 0; j < nodes.size(); j++) {
            if (j == k) continue;
            Graph.Node n = nodes.get(j);
            int[] in = n.inputs().clone();
            for (int i = 0; i < in.length; i++) in[i] = in[i] == from ? to : in[i] > from ? in[i] - 1 : in[i];
            kept.add(new Graph.Node(n.op(), n.module(), in, n.axis()));
        }
        nodes.clear();
        nodes.addAll(kept);
        return result == from ? to : result > from ? result - 1 : result;
    }

    /** GlobalAveragePool then Flatten is Tikhon's global average pooling ([N, C]); the Flatten then leaves it as it is. */
    private void foldGlobalPoolBeforeFlatten(int result) {
        int[] uses = new int[nodes.size() + 1];
        for (Graph.Node n : nodes) for (int v : n.inputs()) uses[v]++;
        uses[result]++;
        for (Graph.Node n : nodes) {
            if (n.op() != Graph.Op.APPLY || !(n.module() instanceof Pool p) || p.kind() != Pool.Kind.FLATTEN) continue;
            int v = n.inputs()[0];
            if (v == 0 || uses[v] != 1) continue;
            Graph.Node before = nodes.get(v - 1);
            if (before.op() == Graph.Op.APPLY && before.module() instanceof OnnxLayers.GlobalAvgKeepDims) {
                nodes.set(v - 1, Graph.Node.apply(Pool.globalAvg(), before.inputs()[0]));
            }
        }
    }

    /**
     * One entry of a shape computed at run time: a constant, or dimension {@code axis} of value {@code value} (value −1:
     * the constant).
     */
    private record Dim(int value, long axis, long constant) {}

    /** A shape vector (or, {@code scalar}, one entry of it) computed at run time from Shape nodes. */
    private record RunTimeShape(List<Dim> dims, boolean scalar) {}

    /** Outputs of Shape nodes: the value whose shape they are (its rank is not known here). */
    private final Map<String, Integer> shapeOf = new HashMap<>();
    private final Map<String, RunTimeShape> runTimeShapes = new HashMap<>();

    /**
     * The shape arithmetic PyTorch writes for {@code x.view(x.size(0), -1)} with a dynamic batch: Shape, Gather of one
     * entry, Unsqueeze, Concat with constants (and Cast), ending in a Reshape's shape. Followed here symbolically; a
     * Reshape then copies the entries it reads from its own input (ONNX's 0) or the batch. Whether {@code n} was one.
     */
    private boolean runTimeShape(Node n) {
        String op = n.opType, in = n.inputs.isEmpty() ? "" : n.inputs.get(0);
        String out = n.outputs.isEmpty() ? "" : n.outputs.get(0);
        switch (op) {
            case "Shape":
                if (!values.containsKey(in)) return false;
                if (n.attribute("start") != null || n.attribute("end") != null) throw unsupported(n, "Shape with start or end");
                shapeOf.put(out, values.get(in));
                return true;
            case "Gather": {
                if (!shapeOf.containsKey(in)) return false;
                TensorData idx = constantInput(n, 1, "indices");
                if (intAttr(n, "axis", 0) != 0 || idx == null || idx.numel() != 1) throw unsupported(n, "Gather of a shape other than one entry");
                long k = (long) idx.toDoubles()[0];
                if (k < 0) throw unsupported(n, "Gather of a shape entry counted from the end");
                long[] known = k > 0 ? exampleShape(shapeOf.get(in)) : null;
                if (known != null && k < known.length) {   // a dimension other than the batch: fixed by the declared input shape
                    constants.put(out, TensorData.ofLongs(out, idx.shape(), new long[]{known[(int) k]}));
                    return true;
                }
                runTimeShapes.put(out, new RunTimeShape(List.of(new Dim(shapeOf.get(in), k, 0)), idx.dims.isEmpty()));
                return true;
            }
            case "Unsqueeze": {
                RunTimeShape r = runTimeShapes.get(in);
                if (r == null) return false;
                long[] axes = axes(n);
                if (!r.scalar() || axes.length != 1 || axes[0] != 0 && axes[0] != -1) throw unsupported(n, "Unsqueeze of a run-time shape other than one entry into a vector");
                runTimeShapes.put(out, new RunTimeShape(r.dims(), false));
                return true;
            }
            case "Cast": case "Identity":
                if (!runTimeShapes.containsKey(in)) return false;
                runTimeShapes.put(out, runTimeShapes.get(in));
                return true;
            case "Concat": {
                if (n.inputs.stream().noneMatch(runTimeShapes::containsKey)) return false;
                if (intAttr(n, "axis", 0) != 0) throw unsupported(n, "Concat of a run-time shape along an axis other than 0");
                List<Dim> dims = new ArrayList<>();
                for (int i = 0; i < n.inputs.size(); i++) {
                    RunTimeShape r = runTimeShapes.get(n.inputs.get(i));
                    if (r != null && !r.scalar()) {
                        dims.addAll(r.dims());
                    } else if (r == null) {
                        TensorData c = constantInput(n, i, "shape entries");
                        for (double d : c.toDoubles()) dims.add(new Dim(-1, 0, (long) d));
                    } else {
                        throw unsupported(n, "Concat of a run-time shape entry that is not a vector");
                    }
                }
                runTimeShapes.put(out, new RunTimeShape(dims, false));
                return true;
            }
            case "Reshape": {
                RunTimeShape r = n.inputs.size() > 1 ? runTimeShapes.get(n.inputs.get(1)) : null;
                if (r == null) return false;
                int data = dynamic(n, 0);
                long[] target = new long[r.dims().size()];
                for (int i = 0; i < target.length; i++) {
                    Dim d = r.dims().get(i);
                    if (d.value() < 0) target[i] = d.constant();
                    else if (d.axis() == i && (d.value() == data || i == 0)) target[i] = 0;   // copied from the input: the batch, or its own axis
                    else throw unsupported(n, "Reshape to dimension " + d.axis() + " of another value at position " + i);
                }
                reshape(n, target);
                return true;
            }
            default:
                return false;
        }
    }

    private void node(Node n, String graphOutput) {
        String op = n.opType;
        if (runTimeShape(n)) return;
        if (FOLDED.contains(op) && !n.inputs.isEmpty() && n.inputs.stream().allMatch(i -> i.isEmpty() || constants.containsKey(i))) {
            constants.put(n.outputs.get(0), ConstantFolding.fold(n, constants, source));
            return;
        }
        if (!n.domain.isEmpty() && !n.domain.equals("ai.onnx")) {
            throw unsupported(n, "operator domain '" + n.domain + "'");
        }
        switch (op) {
            case "Constant": constant(n); return;
            case "Identity": case "Dropout": alias(n, n.inputs.get(0)); return;
            case "Softmax": case "LogSoftmax":
                if (!n.outputs.get(0).equals(graphOutput)) {
                    throw new UserError(source + ": node '" + n.name + "' (" + op + ") is not the last node; Tikhon drops a final " + op
                            + " (its methods work on logits) but cannot import one inside the network");
                }
                notes.add("dropped the final " + op + " (node '" + n.name + "'): Tikhon works on logits, which give the same predictions");
                alias(n, n.inputs.get(0));
                return;
            case "Relu": apply(n, Activation.relu()); return;
            case "Sigmoid": apply(n, new Activation(Activation.Kind.SIGMOID)); return;
            case "Tanh": apply(n, new Activation(Activation.Kind.TANH)); return;
            case "Softplus": apply(n, new Activation(Activation.Kind.SOFTPLUS)); return;
            case "LeakyRelu": apply(n, new OnnxLayers.LeakyRelu(floatAttr(n, "alpha", 0.01f))); return;
            case "Clip": clip(n); return;
            case "HardSigmoid": apply(n, new OnnxLayers.HardSigmoid(floatAttr(n, "alpha", 0.2f), floatAttr(n, "beta", 0.5f), false)); return;
            case "HardSwish": apply(n, new OnnxLayers.HardSigmoid(1.0 / 6, 0.5, true)); return;
            case "PRelu": apply(n, new OnnxLayers.PRelu(tensor(constantInput(n, 1, "slope")))); return;
            case "Elu": apply(n, new OnnxLayers.Elu(floatAttr(n, "alpha", 1f))); return;
            case "Flatten": {
                long axis = intAttr(n, "axis", 1);
                if (axis != 1) throw new UserError(source + ": node '" + n.name + "' (Flatten) has axis " + axis + "; Tikhon imports Flatten with axis 1 (keep the batch)");
                apply(n, Pool.flatten());
                return;
            }
            case "Reshape": reshape(n); return;
            case "GlobalAveragePool": apply(n, new OnnxLayers.GlobalAvgKeepDims()); return;
            case "ReduceMean": reduceMean(n); return;
            case "MaxPool": case "AveragePool": pool(n); return;
            case "Conv": conv(n); return;
            case "Gemm": gemm(n); return;
            case "MatMul": matmul(n); return;
            case "BatchNormalization": batchNorm(n); return;
            case "Add": case "Sub": case "Mul": case "Div": arithmetic(n); return;
            case "Concat": concat(n); return;
            case "Transpose": transpose(n); return;
            case "Slice": slice(n); return;
            case "Split": split(n); return;
            case "Abs": apply(n, new OnnxLayers.Abs()); return;
            case "Erf": apply(n, new OnnxLayers.Erf()); return;
            case "Gelu": gelu(n); return;
            case "Pad": pad(n); return;
            case "Pow": {
                TensorData e = constantInput(n, 1, "exponent");
                if (e.numel() != 1) throw unsupported(n, "Pow with a non-scalar exponent");
                apply(n, new OnnxLayers.ConstantOp(OnnxLayers.ConstantOp.Kind.POW, tensor(e), false));
                return;
            }
            case "Less": arithmetic(n); return;
            case "Where": combine(n, Graph.Op.WHERE, new int[]{dynamic(n, 0), dynamic(n, 1), dynamic(n, 2)}, 0); return;
            case "Shape": case "Gather": throw unsupported(n, op + " outside the shape arithmetic of a Reshape (as x.view(x.size(0), -1) writes it)");
            default: throw unsupported(n, "operator " + op);
        }
    }

    private UserError unsupported(Node n, String what) {
        return new UserError(source + ": unsupported " + what + " in node '" + n.name + "'; Tikhon imports " + String.join(", ", OPERATORS));
    }

    // ------------------------------------------------------------------ values

    private int dynamic(Node n, int i) {
        String name = n.inputs.get(i);
        Integer v = values.get(name);
        if (v != null) return v;
        if (shapeOf.containsKey(name) || runTimeShapes.containsKey(name)) {
            throw new UserError(source + ": node '" + n.name + "' (" + n.opType + ") reads '" + name + "', a shape computed at run time; "
                    + "Tikhon follows run-time shapes only into a Reshape's shape (as x.view(x.size(0), -1) writes them): "
                    + "use torch.flatten(x, 1), or export with a fixed batch size");
        }
        if (constants.containsKey(name)) {
            throw new UserError(source + ": node '" + n.name + "' (" + n.opType + ") applies to the constant '" + name
                    + "'; Tikhon imports layers applied to values computed from the input");
        }
        throw new UserError(source + ": node '" + n.name + "' (" + n.opType + ") reads '" + name + "', which no earlier node computes");
    }

    private TensorData constantInput(Node n, int i, String role) {
        if (i >= n.inputs.size() || n.inputs.get(i).isEmpty()) return null;
        TensorData t = constants.get(n.inputs.get(i));
        if (t == null) {
            throw new UserError(source + ": node '" + n.name + "' (" + n.opType + ") takes its " + role + " '" + n.inputs.get(i)
                    + "' from another node; Tikhon imports " + n.opType + " with a constant " + role);
        }
        if (t.external) throw new UserError(source + ": tensor '" + t.name + "' is stored outside the file (external data); save the model with its weights inside");
        return t;
    }

    private void constant(Node n) {
        Attribute a = n.attribute("value");
        if (a != null && a.t != null) {
            constants.put(n.outputs.get(0), a.t);
            return;
        }
        Attribute f = n.attribute("value_float"), i = n.attribute("value_int"), fs = n.attribute("value_floats"), is = n.attribute("value_ints");
        if (f != null) constants.put(n.outputs.get(0), TensorData.ofFloats(n.outputs.get(0), new long[0], new float[]{f.f}));
        else if (i != null) constants.put(n.outputs.get(0), TensorData.ofLongs(n.outputs.get(0), new long[0], new long[]{i.i}));
        else if (fs != null) {
            float[] v = new float[fs.floats.size()];
            for (int k = 0; k < v.length; k++) v[k] = fs.floats.get(k);
            constants.put(n.outputs.get(0), TensorData.ofFloats(n.outputs.get(0), new long[]{v.length}, v));
        } else if (is != null) {
            constants.put(n.outputs.get(0), TensorData.ofLongs(n.outputs.get(0), new long[]{is.ints.size()}, is.intArray()));
        } else {
            throw unsupported(n, "Constant form (only value, value_float(s), value_int(s))");
        }
    }

    private void alias(Node n, String input) {
        if (values.containsKey(input)) values.put(n.outputs.get(0), values.get(input));
        else if (constants.containsKey(input)) constants.put(n.outputs.get(0), constants.get(input));
        else dynamic(n, 0);
    }

    private void apply(Node n, Module m) {
        int in = dynamic(n, 0);
        nodes.add(Graph.Node.apply(m, in));
        values.put(n.outputs.get(0), nodes.size());
    }

    private void combine(Node n, Graph.Op op, int[] inputs, int axis) {
        nodes.add(new Graph.Node(op, null, inputs, axis));
        values.put(n.outputs.get(0), nodes.size());
    }

    // ------------------------------------------------------------------ attributes

    static long intAttr(Node n, String name, long dflt) {
        Attribute a = n.attribute(name);
        return a == null ? dflt : a.i;
    }

    private static float floatAttr(Node n, String name, float dflt) {
        Attribute a = n.attribute(name);
        return a == null ? dflt : a.f;
    }

    static long[] intsAttr(Node n, String name, long[] dflt) {
        Attribute a = n.attribute(name);
        return a == null ? dflt : a.intArray();
    }

    /** The axes of Unsqueeze, Squeeze and the reductions: an input from operator set 13 (18 for ReduceMean) on, before that an attribute. */
    private long[] axes(Node n) {
        return n.inputs.size() > 1 && !n.inputs.get(1).isEmpty() ? constantInput(n, 1, "axes").toLongs() : intsAttr(n, "axes", new long[0]);
    }

    private void requireNoAutoPad(Node n) {
        Attribute a = n.attribute("auto_pad");
        String v = a == null ? "NOTSET" : a.s.toStringUtf8();
        if (!v.equals("NOTSET") && !v.equals("VALID")) {
            throw new UserError(source + ": node '" + n.name + "' (" + n.opType + ") has auto_pad " + v
                    + "; Tikhon imports explicit pads (export with explicit padding)");
        }
    }

    /** [top, left, bottom, right] → [h, w], which must be symmetric. */
    private long[] symmetricPads(Node n, long[] pads) {
        if (pads.length != 4 || pads[0] != pads[2] || pads[1] != pads[3]) {
            throw new UserError(source + ": node '" + n.name + "' (" + n.opType + ") has pads " + Arrays.toString(pads)
                    + "; Tikhon imports 2-D layers with the same padding on both sides");
        }
        return new long[]{pads[0], pads[1]};
    }

    private void require2d(Node n, long[] kernel) {
        if (kernel.length != 2) {
            throw new UserError(source + ": node '" + n.name + "' (" + n.opType + ") has a " + kernel.length + "-D kernel; Tikhon imports 2-D layers (NCHW)");
        }
    }

    // ------------------------------------------------------------------ tensors

    static Tensor tensor(TensorData t) {
        double[] d = t.toDoubles();
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return Tensor.fromFloats(f, t.shape());
    }

    private static Map<String, Tensor> state(Object... kv) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) if (kv[i + 1] != null) m.put((String) kv[i], (Tensor) kv[i + 1]);
        return m;
    }

    // ------------------------------------------------------------------ layers

    private void conv(Node n) {
        requireNoAutoPad(n);
        Tensor w = tensor(constantInput(n, 1, "weight"));
        TensorData bd = constantInput(n, 2, "bias");
        Tensor b = bd == null ? null : tensor(bd);
        if (w.dim() != 4) throw new UserError(source + ": node '" + n.name + "' (Conv) has a " + (w.dim() - 2) + "-D kernel; Tikhon imports 2-D convolutions (NCHW)");
        long[] ws = w.shape();
        long[] kernel = intsAttr(n, "kernel_shape", new long[]{ws[2], ws[3]});
        require2d(n, kernel);
        long[] stride = intsAttr(n, "strides", new long[]{1, 1});
        long[] pad = symmetricPads(n, intsAttr(n, "pads", new long[]{0, 0, 0, 0}));
        long[] dilation = intsAttr(n, "dilations", new long[]{1, 1});
        long groups = intAttr(n, "group", 1);
        Module m;
        if (groups == 1 && ws[2] == ws[3] && stride[0] == stride[1] && pad[0] == pad[1] && dilation[0] == 1 && dilation[1] == 1) {
            Conv2d c = new Conv2d((int) ws[1], (int) ws[0], (int) ws[2], (int) stride[0], (int) pad[0], b != null);
            c.loadStateDict(state("weight", w, "bias", b));
            m = c;
        } else {
            m = new OnnxLayers.Conv(w, b, stride, pad, dilation, groups);
        }
        apply(n, m);
    }

    private void pool(Node n) {
        requireNoAutoPad(n);
        boolean max = n.opType.equals("MaxPool");
        if (n.outputs.size() > 1 && !n.outputs.get(1).isEmpty()) throw unsupported(n, "MaxPool with indices output");
        long[] kernel = intsAttr(n, "kernel_shape", null);
        if (kernel == null) throw new UserError(source + ": node '" + n.name + "' (" + n.opType + ") has no kernel_shape");
        require2d(n, kernel);
        long[] stride = intsAttr(n, "strides", new long[]{1, 1});
        long[] pad = symmetricPads(n, intsAttr(n, "pads", new long[]{0, 0, 0, 0}));
        long[] dilation = intsAttr(n, "dilations", new long[]{1, 1});
        boolean ceil = intAttr(n, "ceil_mode", 0) != 0;
        boolean countPad = intAttr(n, "count_include_pad", 0) != 0;
        if (!max && (dilation[0] != 1 || dilation[1] != 1)) throw unsupported(n, "dilated AveragePool");
        boolean plain = kernel[0] == kernel[1] && stride[0] == kernel[0] && stride[1] == kernel[1] && pad[0] == 0 && pad[1] == 0
                && dilation[0] == 1 && dilation[1] == 1 && !ceil;
        if (plain) apply(n, max ? Pool.max((int) kernel[0]) : Pool.avg((int) kernel[0]));
        else apply(n, new OnnxLayers.Pool2d(max, kernel, stride, pad, dilation, ceil, countPad));
    }

    private void gemm(Node n) {
        if (intAttr(n, "transA", 0) != 0) throw unsupported(n, "Gemm with transA = 1");
        dynamic(n, 0);
        Tensor bm = tensor(constantInput(n, 1, "weight"));
        TensorData cd = constantInput(n, 2, "bias");
        double alpha = floatAttr(n, "alpha", 1f), beta = floatAttr(n, "beta", 1f);
        Tensor w = intAttr(n, "transB", 0) != 0 ? bm : bm.t().contiguous();
        if (alpha != 1) w = w.mul(alpha);
        Tensor b = null;
        if (cd != null) {
            b = tensor(cd);
            if (b.numel() != w.size(0) && b.numel() != 1) {
                throw new UserError(source + ": node '" + n.name + "' (Gemm) has a bias of shape " + Arrays.toString(b.shape())
                        + "; Tikhon imports a bias with one value per output (" + w.size(0) + ")");
            }
            b = b.numel() == 1 ? b.reshape(1).expand(w.size(0)).contiguous() : b.reshape(w.size(0));
            if (beta != 1) b = b.mul(beta);
        }
        linear(n, w, b, n.outputs.get(0));
    }

    private void linear(Node n, Tensor w, Tensor b, String output) {
        Linear l = new Linear((int) w.size(1), (int) w.size(0), b != null);
        l.loadStateDict(state("weight", w, "bias", b));
        int in = dynamic(n, 0);
        nodes.add(Graph.Node.apply(l, in));
        values.put(output, nodes.size());
    }

    /** MatMul by a constant [in, out] matrix, fused with a following Add of a constant [out] bias (how PyTorch exports Linear on 3-D input). */
    private void matmul(Node n) {
        dynamic(n, 0);
        Tensor bm = tensor(constantInput(n, 1, "weight"));
        if (bm.dim() != 2) throw unsupported(n, "MatMul by a " + bm.dim() + "-D constant");
        Tensor w = bm.t().contiguous();
        Node add = soleConsumer(n.outputs.get(0));
        if (add != null && add.opType.equals("Add") && add.inputs.size() == 2) {
            String other = add.inputs.get(0).equals(n.outputs.get(0)) ? add.inputs.get(1) : add.inputs.get(0);
            TensorData c = constants.get(other);
            if (c != null && c.numel() == w.size(0) && c.shape().length >= 1 && c.shape()[c.shape().length - 1] == w.size(0)) {
                consumed.add(add);
                linear(n, w, tensor(c).reshape(w.size(0)), add.outputs.get(0));
                return;
            }
        }
        linear(n, w, null, n.outputs.get(0));
    }

    private Node soleConsumer(String value) {
        Node found = null;
        for (Node m : graphNodes) {
            for (String i : m.inputs) {
                if (!i.equals(value)) continue;
                if (found != null && found != m) return null;
                found = m;
            }
        }
        return found;
    }

    private void batchNorm(Node n) {
        if (intAttr(n, "training_mode", 0) != 0) throw unsupported(n, "BatchNormalization in training mode");
        if (n.outputs.size() > 1 && n.outputs.subList(1, n.outputs.size()).stream().anyMatch(s -> !s.isEmpty())) {
            throw unsupported(n, "BatchNormalization with running-statistics outputs");
        }
        Tensor scale = tensor(constantInput(n, 1, "scale")), bias = tensor(constantInput(n, 2, "bias"));
        Tensor mean = tensor(constantInput(n, 3, "mean")), var = tensor(constantInput(n, 4, "variance"));
        // the file's ε and momentum (ONNX's running = momentum·running + (1 − momentum)·batch, default 0.9): both matter
        // when `train --onnx` trains it, where folding ε into the variance had held only until the first update
        // (read as the float's shortest decimal: the file's 1e-5 is ε 1e-5, not 9.9999997e-6)
        double eps = Double.parseDouble(Float.toString(floatAttr(n, "epsilon", 1e-5f)));
        double momentum = Double.parseDouble(Float.toString(floatAttr(n, "momentum", 0.9f)));
        if (!(eps > 0) || !(momentum >= 0 && momentum <= 1)) {
            throw new UserError(source + ": BatchNormalization '" + n.name + "' has epsilon " + eps + " and momentum " + momentum
                    + "; expected epsilon > 0 and momentum in [0, 1]");
        }
        BatchNorm2d bn = new BatchNorm2d((int) scale.numel(), 1 - momentum, eps);
        bn.loadStateDict(state("weight", scale, "bias", bias, "running_mean", mean, "running_var", var));
        apply(n, bn);
    }

    /**
     * Gelu (operator set 20) as the nodes PyTorch writes for nn.GELU at earlier operator sets, which the bounds and the
     * Lipschitz rule read as one activation ({@link Graph#asChain}) and export writes back as they are: approximate "none",
     * x·(1 + erf(x/√2))·½; "tanh", x·(1 + tanh(√(2/π)·(x + 0.044715·x·x·x)))·½, the constants as floats.
     */
    private void gelu(Node n) {
        Attribute a = n.attribute("approximate");
        String mode = a == null ? "none" : a.s.toStringUtf8();
        int x = dynamic(n, 0), g;
        switch (mode) {
            case "none":
                g = push(Graph.Node.apply(scalarOp(OnnxLayers.ConstantOp.Kind.DIV, (float) Math.sqrt(2)), x));
                g = push(Graph.Node.apply(new OnnxLayers.Erf(), g));
                break;
            case "tanh": {
                int square = push(new Graph.Node(Graph.Op.MUL, null, new int[]{x, x}, 0));
                int cube = push(new Graph.Node(Graph.Op.MUL, null, new int[]{x, square}, 0));
                g = push(Graph.Node.apply(scalarOp(OnnxLayers.ConstantOp.Kind.MUL, 0.044715f), cube));
                g = push(new Graph.Node(Graph.Op.ADD, null, new int[]{x, g}, 0));
                g = push(Graph.Node.apply(scalarOp(OnnxLayers.ConstantOp.Kind.MUL, (float) Math.sqrt(2 / Math.PI)), g));
                g = push(Graph.Node.apply(new Activation(Activation.Kind.TANH), g));
                break;
            }
            default:
                throw new UserError(source + ": node '" + n.name + "' (Gelu) has approximate '" + mode
                        + "'; ONNX defines \"none\" (erf) and \"tanh\", which Tikhon imports");
        }
        g = push(Graph.Node.apply(scalarOp(OnnxLayers.ConstantOp.Kind.ADD, 1f), g));
        g = push(new Graph.Node(Graph.Op.MUL, null, new int[]{x, g}, 0));
        values.put(n.outputs.get(0), push(Graph.Node.apply(scalarOp(OnnxLayers.ConstantOp.Kind.MUL, 0.5f), g)));
    }

    private static OnnxLayers.ConstantOp scalarOp(OnnxLayers.ConstantOp.Kind kind, float c) {
        return new OnnxLayers.ConstantOp(kind, Tensor.fromFloats(new float[]{c}), false);
    }

    /** Appends a node; its value. */
    private int push(Graph.Node node) {
        nodes.add(node);
        return nodes.size();
    }

    private void arithmetic(Node n) {
        OnnxLayers.ConstantOp.Kind kind = OnnxLayers.ConstantOp.Kind.valueOf(n.opType.toUpperCase(java.util.Locale.ROOT));
        String a = n.inputs.get(0), b = n.inputs.get(1);
        boolean ca = constants.containsKey(a) && !values.containsKey(a), cb = constants.containsKey(b) && !values.containsKey(b);
        if (ca && cb) throw unsupported(n, n.opType + " of two constants");
        if (kind == OnnxLayers.ConstantOp.Kind.LESS && !ca && !cb) throw unsupported(n, "Less of two computed values");
        if (ca || cb) {
            Tensor c = tensor(constants.get(ca ? a : b));
            OnnxLayers.ConstantOp op = new OnnxLayers.ConstantOp(kind, c, ca);
            nodeNames.put(op, n.name);
            apply(ca ? reorder(n) : n, op);
            return;
        }
        combine(n, Graph.Op.valueOf(kind.name()), new int[]{dynamic(n, 0), dynamic(n, 1)}, 0);
    }

    /** The node with its inputs swapped, so that input 0 is the computed one. */
    private static Node reorder(Node n) {
        Node r = new Node(n.opType, n.name, List.of(n.inputs.get(1), n.inputs.get(0)), n.outputs);
        r.attributes.addAll(n.attributes);
        return r;
    }

    private void concat(Node n) {
        Attribute axis = n.attribute("axis");
        if (axis == null) throw new UserError(source + ": node '" + n.name + "' (Concat) has no axis");
        if (axis.i == 0) throw unsupported(n, "Concat along the batch axis");
        int[] in = new int[n.inputs.size()];
        for (int i = 0; i < in.length; i++) in[i] = dynamic(n, i);
        combine(n, Graph.Op.CONCAT, in, (int) axis.i);
    }

    /**
     * Transpose of a computed value: a permutation that keeps the batch axis first. tf2onnx writes a Keras model's NHWC
     * input as [N, H, W, C] followed by Transpose(0, 3, 1, 2) into NCHW for the convolutions; where that transpose reads the
     * input (directly, or after arithmetic with constants that are scalars or per channel, as Keras' Rescaling and
     * Normalization write), it is dropped, so that the model takes NCHW, the layout of every Tikhon data set.
     */
    private void transpose(Node n) {
        int in = dynamic(n, 0);
        long[] perm = intsAttr(n, "perm", null);
        if (perm == null || perm.length == 0 || perm[0] != 0) {
            throw new UserError(source + ": node '" + n.name + "' (Transpose) has perm " + (perm == null ? "absent (the axes reversed)" : Arrays.toString(perm))
                    + ", which moves the batch axis; Tikhon imports transposes that keep the batch axis first");
        }
        long[] sorted = perm.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            if (sorted[i] != i) throw new UserError(source + ": node '" + n.name + "' (Transpose) has perm " + Arrays.toString(perm) + ", which is not a permutation");
        }
        if (Arrays.equals(perm, new long[]{0, 3, 1, 2}) && !nhwcInput && declaredRank == 4 && nhwcToNchw(in)) {
            nhwcInput = true;
            if (declaredShape != null) declaredShape = new long[]{1, declaredShape[3], declaredShape[1], declaredShape[2]};
            notes.add("the input is NHWC [N, H, W, C] (as Keras writes it); the imported model takes NCHW [N, C, H, W], the layout of "
                    + "Tikhon's data sets: the Transpose '" + n.name + "' into NCHW is dropped");
            values.put(n.outputs.get(0), in);
            return;
        }
        apply(n, new OnnxLayers.Transpose(perm));
    }

    /**
     * Whether value {@code v} is the input, or the input after a chain of arithmetic with constants that are scalars or
     * vary along the last (channel) axis only, each value read by the next node alone: then that chain commutes with
     * NHWC → NCHW once its constants are moved to the channel axis, which this does.
     */
    private boolean nhwcToNchw(int v) {
        List<Integer> chain = new ArrayList<>();
        for (int u = v; u != 0; ) {
            Graph.Node node = nodes.get(u - 1);
            if (node.op() != Graph.Op.APPLY || !(node.module() instanceof OnnxLayers.ConstantOp c) || c.elementwiseAffine() == null
                    || !lastAxisOnly(c.constant()) || readers(node.inputs()[0]) != 1) {
                return false;
            }
            chain.add(u);
            u = node.inputs()[0];
        }
        if (readers(v) != 1) return false;
        for (int u : chain) {
            Graph.Node node = nodes.get(u - 1);
            OnnxLayers.ConstantOp c = (OnnxLayers.ConstantOp) node.module();
            Tensor k = c.constant();
            if (k.numel() > 1) {
                long[] s = new long[]{1, 1, 1, k.numel()};
                k = k.reshape(s).permute(0, 3, 1, 2).contiguous();
            }
            OnnxLayers.ConstantOp moved = new OnnxLayers.ConstantOp(c.kind(), k, c.constantFirst);
            nodeNames.put(moved, nodeNames.get(c));
            nodes.set(u - 1, Graph.Node.apply(moved, node.inputs()[0]));
        }
        return true;
    }

    /** A constant of rank at most 4 whose entries vary along its last axis only (a scalar included). */
    private static boolean lastAxisOnly(Tensor k) {
        long[] s = k.shape();
        if (s.length > 4) return false;
        for (int i = 0; i < s.length - 1; i++) if (s[i] != 1) return false;
        return true;
    }

    /** How many times the file's nodes read value {@code v} (under any of its names), the graph's output counted. */
    private int readers(int v) {
        int count = 0;
        for (Node m : graphNodes) for (String i : m.inputs) if (Integer.valueOf(v).equals(values.get(i))) count++;
        return Integer.valueOf(v).equals(values.get(graphOutput)) ? count + 1 : count;
    }

    /** Pad (operator set 11 on: pads and the value are inputs) in constant mode, of the two spatial axes of NCHW. */
    private void pad(Node n) {
        Attribute mode = n.attribute("mode");
        String m = mode == null ? "constant" : mode.s.toStringUtf8();
        if (!m.equals("constant")) throw unsupported(n, "Pad mode " + m);
        TensorData p = constantInput(n, 1, "pads");
        long[] pads = p.toLongs();
        if (pads.length != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0) {
            throw new UserError(source + ": node '" + n.name + "' (Pad) has pads " + Arrays.toString(pads)
                    + "; Tikhon imports padding of the two spatial axes of [N, C, H, W] inputs");
        }
        if (Arrays.stream(pads).allMatch(q -> q == 0)) {   // PyTorch writes F.avg_pool2d(x, k) as a Pad of nothing, then AveragePool
            alias(n, n.inputs.get(0));
            return;
        }
        TensorData v = constantInput(n, 2, "constant value");
        double value = v == null ? 0 : v.toDoubles()[0];
        apply(n, new OnnxLayers.Pad(new long[]{pads[2], pads[3], pads[6], pads[7]}, value));
    }

    /**
     * Clip (ReLU6, hardtanh): its bounds are attributes up to operator set 10, optional constant inputs from 11 on; a
     * missing one is no bound.
     */
    private void clip(Node n) {
        double lo = Double.NEGATIVE_INFINITY, hi = Double.POSITIVE_INFINITY;
        Attribute min = n.attribute("min"), max = n.attribute("max");
        if (min != null) lo = min.f;
        if (max != null) hi = max.f;
        TensorData a = constantInput(n, 1, "minimum"), b = constantInput(n, 2, "maximum");
        for (TensorData t : new TensorData[]{a, b}) {
            if (t != null && t.numel() != 1) throw unsupported(n, "Clip with a bound that is not a scalar");
        }
        if (a != null) lo = a.toDoubles()[0];
        if (b != null) hi = b.toDoubles()[0];
        apply(n, new OnnxLayers.Clip(lo, hi));
    }

    /**
     * ReduceMean over the two spatial axes of [N, C, H, W] (how {@code x.mean((2, 3))} exports): global average pooling,
     * keeping [N, C, 1, 1] when {@code keepdims} (the default). The axes are an attribute up to operator set 17, an input
     * from 18 on.
     */
    private void reduceMean(Node n) {
        long[] axes = Arrays.stream(axes(n)).sorted().toArray();
        if (!Arrays.equals(axes, new long[]{2, 3}) && !Arrays.equals(axes, new long[]{-2, -1}) || declaredRank > 0 && declaredRank != 4) {
            throw unsupported(n, "ReduceMean over axes " + Arrays.toString(axes) + " (Tikhon imports the mean over the spatial axes [2, 3] of [N, C, H, W], "
                    + "global average pooling)");
        }
        apply(n, intAttr(n, "keepdims", 1) != 0 ? new OnnxLayers.GlobalAvgKeepDims() : Pool.globalAvg());
    }

    private void reshape(Node n) {
        TensorData s = constantInput(n, 1, "shape");
        reshape(n, s.toLongs());
    }

    private void reshape(Node n, long[] target) {
        if (intAttr(n, "allowzero", 0) != 0) throw unsupported(n, "Reshape with allowzero = 1");
        if (target.length == 0) throw unsupported(n, "Reshape to a scalar");
        // The batch: a file exported with a fixed batch size names it; 0 keeps whatever batch comes in.
        if (target[0] > 0 && target[0] == declaredBatch) target[0] = 0;
        boolean flatten = target.length == 2 && target[0] == 0 && target[1] == -1
                // x.view(-1, K): a flatten when each example has K entries (then it keeps the batch, as a flatten does)
                || target.length == 2 && (target[0] == 0 || target[0] == -1) && target[1] > 0 && perExample(dynamic(n, 0)) == target[1];
        if (flatten) apply(n, Pool.flatten());
        else apply(n, new OnnxLayers.Reshape(target));
    }

    /**
     * How many entries one example of value {@code v} has ({@link #exampleShape}); −1 when that is not known (an open
     * dimension).
     */
    private long perExample(int v) {
        long[] shape = exampleShape(v);
        if (shape == null) return -1;
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /**
     * The shape of value {@code v} for a batch of one, found by running the nodes read so far (layers, sums,
     * concatenations) on one example of the shape the file declares; null when that is not known (an open dimension, or
     * layers that do not take the declared shape).
     */
    private long[] exampleShape(int v) {
        if (declaredShape == null) return null;
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            Graph upTo = new Graph(new ArrayList<>(nodes.subList(0, v)), v);
            upTo.train(false);
            return upTo.forward(Tensor.zeros(declaredShape)).shape();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * Slice of a computed value (x[:, a:b]; torch.chunk's parts at operator set 11 on): starts, ends, axes and steps are
     * constant inputs from operator set 10 on, attributes before. Each sliced axis becomes an {@link OnnxLayers.Slice} of
     * step 1; an axis taken whole (start 0, end at least 2³¹ − 1) is left as it is, the batch axis included.
     */
    private void slice(Node n) {
        int v = dynamic(n, 0);
        long[] starts, ends, axes, steps = null;
        if (n.inputs.size() > 1) {
            starts = constantInput(n, 1, "starts").toLongs();
            ends = constantInput(n, 2, "ends").toLongs();
            TensorData a = constantInput(n, 3, "axes"), st = constantInput(n, 4, "steps");
            axes = a == null ? null : a.toLongs();
            if (st != null) steps = st.toLongs();
        } else {
            starts = intsAttr(n, "starts", null);
            ends = intsAttr(n, "ends", null);
            axes = intsAttr(n, "axes", null);
            if (starts == null || ends == null) throw new UserError(source + ": node '" + n.name + "' (Slice) has no starts or ends");
        }
        if (axes == null) axes = java.util.stream.LongStream.range(0, starts.length).toArray();
        if (ends.length != starts.length || axes.length != starts.length || steps != null && steps.length != starts.length) {
            throw new UserError(source + ": node '" + n.name + "' (Slice) has " + starts.length + " starts, " + ends.length + " ends, "
                    + axes.length + " axes" + (steps == null ? "" : " and " + steps.length + " steps") + "; ONNX needs one of each per sliced axis");
        }
        long[] shape = null;
        for (int k = 0; k < starts.length; k++) {
            long step = steps == null ? 1 : steps[k];
            if (starts[k] == 0 && ends[k] >= Integer.MAX_VALUE && step == 1) continue;   // the whole axis
            if (shape == null && axes[k] < 0) shape = exampleShape(v);
            long axis = axes[k] < 0 && shape != null ? axes[k] + shape.length : axes[k];
            if (step != 1) {
                throw new UserError(source + ": node '" + n.name + "' (Slice) has step " + step + " along axis " + axes[k]
                        + "; Tikhon imports slices of step 1 (x[:, a:b]): write the model with a slice of step 1 (a strided selection as a strided "
                        + "convolution or pooling)");
            }
            if (axis == 0) {
                throw new UserError(source + ": node '" + n.name + "' (Slice) slices the batch axis (0) from " + starts[k] + " to " + ends[k]
                        + "; Tikhon imports slices of the other axes (x[:, a:b]), which act on each example alone: select the examples outside the model");
            }
            v = push(Graph.Node.apply(new OnnxLayers.Slice((int) axis, starts[k], ends[k]), v));
        }
        values.put(n.outputs.get(0), v);
    }

    /**
     * Split of a computed value (torch.split; torch.chunk at operator set 9) into consecutive parts along one axis other
     * than the batch, one {@link OnnxLayers.Slice} per output: sizes from the constant input (operator set 13 on) or the
     * attribute (before); without them equal parts (the last smaller where operator set 18's num_outputs does not divide
     * the axis), which needs the axis's size from the declared input shape.
     */
    private void split(Node n) {
        int v = dynamic(n, 0);
        long axis = intAttr(n, "axis", 0);
        TensorData given = constantInput(n, 1, "split");
        long[] sizes = given != null ? given.toLongs() : intsAttr(n, "split", null);
        int parts = n.outputs.size();
        long[] shape = axis < 0 || sizes == null ? exampleShape(v) : null;
        if (axis < 0 && shape != null) axis += shape.length;
        if (axis == 0) {
            throw new UserError(source + ": node '" + n.name + "' (Split) splits the batch axis (0); Tikhon imports splits of the other axes "
                    + "(torch.split(x, sizes, dim=1)), which act on each example alone: split the examples outside the model");
        }
        if (sizes == null) {
            if (shape == null || axis < 0 || axis >= shape.length) {
                throw new UserError(source + ": node '" + n.name + "' (Split) splits axis " + axis + " into equal parts, whose size Tikhon cannot "
                        + "find without a fixed input shape; export with the input's dimensions other than the batch fixed, or with split sizes");
            }
            long d = shape[(int) axis], part = (d + parts - 1) / parts;
            if (n.attribute("num_outputs") == null && d % parts != 0) {
                throw new UserError(source + ": node '" + n.name + "' (Split) splits axis " + axis + " of size " + d + " into " + parts
                        + " equal parts, which ONNX does not define; export with split sizes");
            }
            sizes = new long[parts];
            for (int k = 0; k < parts; k++) sizes[k] = Math.max(0, Math.min(part, d - part * k));
        }
        if (sizes.length != parts) {
            throw new UserError(source + ": node '" + n.name + "' (Split) has " + sizes.length + " sizes " + Arrays.toString(sizes) + " for "
                    + parts + " outputs; ONNX needs one size per output");
        }
        long offset = 0;
        for (int k = 0; k < parts; k++) {
            String out = n.outputs.get(k);
            if (!out.isEmpty()) values.put(out, push(Graph.Node.apply(new OnnxLayers.Slice((int) axis, offset, offset + sizes[k]), v)));
            offset += sizes[k];
        }
    }
}
