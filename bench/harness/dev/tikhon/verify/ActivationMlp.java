package dev.tikhon.verify;

import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Graph;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Sequential;
import dev.tikhon.onnx.OnnxExport;
import dev.tikhon.onnx.OnnxLayers;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes an untrained 2-input MLP with an imported activation after each hidden layer as an ONNX file, for `train --onnx
 * FILE --data moons` (Tikhon's own models have no SiLU or GELU): SiLU as x·sigmoid(x), GELU as x·(1 + erf(x/√2))·½, as
 * PyTorch exports them (import reads the products back as one activation each), or Elu(1), LeakyRelu(0.1), HardSwish.
 * Usage: ActivationMlp silu|gelu|elu|leaky-relu|hard-swish OUT.onnx [widths 64,64] [input shape 2, or e.g. 1,28,28: flattened first]
 * [classes 2] [seed 1].
 */
public class ActivationMlp {
    public static void main(String[] a) {
        String kind = a[0];
        Path out = Path.of(a[1]);
        String[] widths = (a.length > 2 ? a[2] : "64,64").split(",");
        List<Long> shape = java.util.Arrays.stream((a.length > 3 ? a[3] : "2").split(",")).map(Long::parseLong).toList();
        int classes = a.length > 4 ? Integer.parseInt(a[4]) : 2;
        Rng.seed(a.length > 5 ? Long.parseLong(a[5]) : 1);
        List<Module> layers = new ArrayList<>();
        if (shape.size() > 1) layers.add(dev.tikhon.nn.Pool.flatten());
        int in = (int) shape.stream().mapToLong(Long::longValue).reduce(1, (x, y) -> x * y);
        for (String w : widths) {
            int width = Integer.parseInt(w);
            layers.add(new Linear(in, width));
            layers.add(activation(kind));
            in = width;
        }
        layers.add(new Linear(in, classes));
        OnnxExport.write(new Sequential(layers.toArray(Module[]::new)), shape, out);
        System.out.println("wrote " + out);
    }

    private static Module activation(String kind) {
        switch (kind) {
            case "silu": return product(List.of(Graph.Node.apply(new Activation(Activation.Kind.SIGMOID), 0)), 1, 1);
            case "gelu": {
                Module div = new OnnxLayers.ConstantOp(OnnxLayers.ConstantOp.Kind.DIV, Tensor.fromFloats(new float[]{(float) Math.sqrt(2)}), false);
                Module add = new OnnxLayers.ConstantOp(OnnxLayers.ConstantOp.Kind.ADD, Tensor.fromFloats(new float[]{1}), false);
                Module half = new OnnxLayers.ConstantOp(OnnxLayers.ConstantOp.Kind.MUL, Tensor.fromFloats(new float[]{0.5f}), false);
                List<Graph.Node> nodes = new ArrayList<>(List.of(Graph.Node.apply(div, 0), Graph.Node.apply(new OnnxLayers.Erf(), 1),
                        Graph.Node.apply(add, 2)));
                nodes.add(new Graph.Node(Graph.Op.MUL, null, new int[]{0, 3}, 0));
                nodes.add(Graph.Node.apply(half, 4));
                return new Graph(nodes, 5);
            }
            case "elu": return new OnnxLayers.Elu(1);
            case "leaky-relu": return new OnnxLayers.LeakyRelu(0.1);
            case "hard-swish": return new OnnxLayers.HardSigmoid(1.0 / 6, 0.5, true);   // written as HardSigmoid, Mul
            default: throw new IllegalArgumentException(kind);
        }
    }

    /** x times the value {@code gate} of the given nodes. */
    private static Module product(List<Graph.Node> nodes, int gate, int count) {
        List<Graph.Node> all = new ArrayList<>(nodes);
        all.add(new Graph.Node(Graph.Op.MUL, null, new int[]{0, gate}, 0));
        return new Graph(all, count + 1);
    }
}
