package dev.tikhon.onnx;

import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Graph;
import dev.tikhon.nn.Module;

import java.util.List;

/** tanh-GELU as PyTorch 1.13 exports it (and the importer writes ONNX's Gelu), built here for the bound tests. */
public final class TanhGeluGraph {
    private TanhGeluGraph() {}

    /** PyTorch's constants: √(2/π) and 0.044715 as floats. */
    public static final float C = (float) Math.sqrt(2 / Math.PI), A = 0.044715f;

    /** The gate's graph 1 + tanh(c·(x + a·x·x·x)) of x, with x·x·x as (x·x)·x when {@code squareFirst}, else x·(x·x). */
    public static Graph gate(float c, float a, boolean squareFirst) {
        List<Graph.Node> n = List.of(
                new Graph.Node(Graph.Op.MUL, null, new int[]{0, 0}, 0),                              // 1: x·x
                new Graph.Node(Graph.Op.MUL, null, squareFirst ? new int[]{1, 0} : new int[]{0, 1}, 0), // 2: x³
                Graph.Node.apply(scalar(OnnxLayers.ConstantOp.Kind.MUL, a), 2),                        // 3: a·x³
                new Graph.Node(Graph.Op.ADD, null, new int[]{0, 3}, 0),                              // 4: x + a·x³
                Graph.Node.apply(scalar(OnnxLayers.ConstantOp.Kind.MUL, c), 4),                        // 5
                Graph.Node.apply(new Activation(Activation.Kind.TANH), 5),                            // 6
                Graph.Node.apply(scalar(OnnxLayers.ConstantOp.Kind.ADD, 1), 6));                      // 7
        return new Graph(n, 7);
    }

    /** The gate's graph with x³ as Pow(x, 3), as other exporters write it. */
    public static Graph gateWithPow() {
        List<Graph.Node> n = List.of(
                Graph.Node.apply(new OnnxLayers.ConstantOp(OnnxLayers.ConstantOp.Kind.POW, Tensor.fromFloats(new float[]{3}), false), 0),
                Graph.Node.apply(scalar(OnnxLayers.ConstantOp.Kind.MUL, A), 1),
                new Graph.Node(Graph.Op.ADD, null, new int[]{2, 0}, 0),   // a·x³ + x
                Graph.Node.apply(scalar(OnnxLayers.ConstantOp.Kind.MUL, C), 3),
                Graph.Node.apply(new Activation(Activation.Kind.TANH), 4),
                Graph.Node.apply(scalar(OnnxLayers.ConstantOp.Kind.ADD, 1), 5));
        return new Graph(n, 6);
    }

    /** x·(1 + tanh(…)), the gate asChain reads, without the ½. */
    public static Module gated() { return new Graph.Gate(List.of(gate(C, A, false))); }

    /** ½·x·(1 + tanh(√(2/π)(x + 0.044715x³))) as a graph of its own: what asChain must take apart. */
    public static Module module() {
        List<Graph.Node> n = new java.util.ArrayList<>();
        for (Graph.Node g : gate(C, A, false).nodes()) n.add(g);
        n.add(new Graph.Node(Graph.Op.MUL, null, new int[]{0, 7}, 0));
        n.add(Graph.Node.apply(scalar(OnnxLayers.ConstantOp.Kind.MUL, 0.5f), 8));
        return new Graph(n, 9);
    }

    private static Module scalar(OnnxLayers.ConstantOp.Kind kind, float v) {
        return new OnnxLayers.ConstantOp(kind, Tensor.fromFloats(new float[]{v}), false);
    }
}
