package dev.tikhon.nn;

import dev.tikhon.engine.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A network that is not a chain: a directed acyclic graph of nodes over numbered values. Value 0 is the input; node k
 * computes value k + 1 from earlier values, either by a module (a layer applied to one value) or by combining values
 * elementwise (add, sub, mul, div, broadcasting as libtorch does; where: a choice by a boolean condition) or by
 * concatenating them along an axis. Used for
 * imported models with skip connections or branches; the modules are children "n0", "n1", … (by node index).
 */
public final class Graph extends Module {
    public enum Op { APPLY, ADD, SUB, MUL, DIV, CONCAT, WHERE }

    /**
     * One node.
     *
     * @param op     what it computes
     * @param module the layer of an APPLY node, else null
     * @param inputs the values it reads (one for APPLY, two for the elementwise ops, any number for CONCAT, and for
     *               WHERE a boolean condition, the values where it holds and the values where it does not)
     * @param axis   the axis of a CONCAT (may be negative), else 0
     */
    public record Node(Op op, Module module, int[] inputs, int axis) {
        public Node {
            if ((op == Op.APPLY) != (module != null)) throw new IllegalArgumentException("an APPLY node, and only one, has a module");
            if (op == Op.APPLY && inputs.length != 1) throw new IllegalArgumentException("APPLY reads one value");
            if (op == Op.WHERE && inputs.length != 3) throw new IllegalArgumentException("WHERE reads three values");
            if (op != Op.APPLY && op != Op.CONCAT && op != Op.WHERE && inputs.length != 2) throw new IllegalArgumentException(op + " reads two values");
            inputs = inputs.clone();
        }

        public static Node apply(Module m, int input) { return new Node(Op.APPLY, m, new int[]{input}, 0); }

        @Override public int[] inputs() { return inputs.clone(); }
    }

    private final List<Node> nodes;
    private final int output;

    /** {@code output} is the value the graph returns (0 for the input itself). */
    public Graph(List<Node> nodes, int output) {
        this.nodes = List.copyOf(nodes);
        for (int k = 0; k < this.nodes.size(); k++) {
            for (int v : this.nodes.get(k).inputs) {
                if (v < 0 || v > k) throw new IllegalArgumentException("node " + k + " reads value " + v + ", which is not computed before it");
            }
            if (this.nodes.get(k).module != null) child("n" + k, this.nodes.get(k).module);
        }
        if (output < 0 || output > this.nodes.size()) throw new IllegalArgumentException("output value " + output + " does not exist");
        this.output = output;
    }

    public List<Node> nodes() { return nodes; }

    public int output() { return output; }

    @Override public Tensor forward(Tensor x) {
        Tensor[] v = new Tensor[nodes.size() + 1];
        v[0] = x;
        for (int k = 0; k < nodes.size(); k++) {
            Node n = nodes.get(k);
            int[] in = n.inputs;
            switch (n.op) {
                case APPLY: v[k + 1] = n.module.forward(v[in[0]]); break;
                case ADD: v[k + 1] = v[in[0]].add(v[in[1]]); break;
                case SUB: v[k + 1] = v[in[0]].sub(v[in[1]]); break;
                case MUL: v[k + 1] = v[in[0]].mul(v[in[1]]); break;
                case DIV: v[k + 1] = v[in[0]].div(v[in[1]]); break;
                case WHERE: v[k + 1] = Tensor.where(v[in[0]], v[in[1]], v[in[2]]); break;
                case CONCAT: {
                    List<Tensor> parts = new ArrayList<>();
                    for (int i : in) parts.add(v[i]);
                    int axis = n.axis < 0 ? n.axis + parts.get(0).dim() : n.axis;
                    v[k + 1] = Tensor.cat(parts, axis);
                    break;
                }
                default: throw new AssertionError(n.op);
            }
        }
        return v[output];
    }

    /** A step of {@link #asChain}: a layer, or the sum or concatenation of chains that all start from the value before it. */
    public sealed interface Part permits Layer, Sum, Concat, Product {}

    /** One layer applied to the value before it. */
    public record Layer(Module module) implements Part {}

    /** left(v) + right(v) for the value v before it: a skip connection (an empty chain is the identity). */
    public record Sum(List<Part> left, List<Part> right) implements Part {
        public Sum {
            left = List.copyOf(left);
            right = List.copyOf(right);
        }
    }

    /**
     * The concatenation of chains(v), each starting from the value v before it, along {@code axis} of their values (as the
     * graph's node gives it: negative counts from the last axis; never the batch axis): branches joined as Inception or
     * DenseNet join them.
     */
    public record Concat(List<List<Part>> chains, int axis) implements Part {
        public Concat {
            chains = chains.stream().map(List::copyOf).toList();
        }
    }

    /**
     * left(v) · right(v), elementwise (with broadcasting over axes of size 1), for the value v before it: two computed
     * values multiplied, as a gated linear unit or an attention-like gate multiplies them.
     */
    public record Product(List<Part> left, List<Part> right) implements Part {
        public Product {
            left = List.copyOf(left);
            right = List.copyOf(right);
        }
    }

    /** How many layers {@link #asChain} may write per node before it refuses a graph (paths that share many layers). */
    private static final int MAX_COPIES_PER_NODE = 16;

    /**
     * The graph as a chain of layers, {@link Sum}s, {@link Product}s and {@link Concat}s, the form bound propagation and the
     * Lipschitz composition rules read: the function the output computes, when every node it depends on applies a layer,
     * adds or multiplies two computed values or concatenates some. An add's (a concatenation's) chains start at its immediate dominator, the last
     * value that every path from the input to it passes through; for a residual block that is the block's input. Where
     * paths cross (a value below a fork that two of its chains read) the shared layers are written into each chain: the
     * same function, computed twice.
     *
     * A product of a value and a short chain of layers of that same value, or of a small graph of that value alone, x·g(x),
     * is one layer, a {@link Gate}.
     *
     * @throws IllegalArgumentException naming the first node the output depends on that combines computed values other
     *                                  than by addition, multiplication or concatenation (sub, div, where)
     */
    public List<Part> asChain() {
        int[] idom = new int[nodes.size() + 1];
        idom[0] = -1;
        for (int k = 0; k < nodes.size(); k++) {
            int[] in = nodes.get(k).inputs;
            int d = in[0];
            for (int i = 1; i < in.length; i++) d = commonDominator(idom, d, in[i]);
            idom[k + 1] = d;
        }
        int[] budget = {MAX_COPIES_PER_NODE * nodes.size() + 64};
        return chain(0, output, idom, budget);
    }

    private static int commonDominator(int[] idom, int a, int b) {
        while (a != b) {
            if (a > b) a = idom[a];
            else b = idom[b];
        }
        return a;
    }

    /** The chain from value {@code from} to value {@code to}; {@code from} dominates {@code to}. */
    private List<Part> chain(int from, int to, int[] idom, int[] budget) {
        int v = to;
        java.util.ArrayDeque<Part> reversed = new java.util.ArrayDeque<>();   // walked from the output back: pushed in reverse
        while (v != from) {
            if (--budget[0] < 0) {
                throw new IllegalArgumentException("the graph's paths share too many layers to be written as a chain of layers and sums");
            }
            Node n = nodes.get(v - 1);
            List<Module> g = null;   // x·g(x), with x either operand
            int x = -1;
            for (int side = 0; n.op == Op.MUL && g == null && side < 2; side++) {
                x = n.inputs[side];
                g = gate(x, n.inputs[1 - side]);
            }
            if (n.op == Op.APPLY) {
                reversed.push(new Layer(n.module));
                v = n.inputs[0];
            } else if (g != null) {
                reversed.push(new Layer(new Gate(g)));
                v = x;
            } else if (n.op == Op.ADD) {
                int fork = idom[v];
                reversed.push(new Sum(chain(fork, n.inputs[0], idom, budget), chain(fork, n.inputs[1], idom, budget)));
                v = fork;
            } else if (n.op == Op.MUL) {   // not a gate x·g(x): a product of two chains from their common dominator
                int fork = idom[v];
                reversed.push(new Product(chain(fork, n.inputs[0], idom, budget), chain(fork, n.inputs[1], idom, budget)));
                v = fork;
            } else if (n.op == Op.CONCAT) {
                int fork = idom[v];
                List<List<Part>> chains = new ArrayList<>();
                for (int in : n.inputs) chains.add(chain(fork, in, idom, budget));
                reversed.push(new Concat(chains, n.axis));
                v = fork;
            } else {
                throw new IllegalArgumentException("node " + (v - 1) + " (" + n.op.name().toLowerCase() + " of values " + Arrays.toString(n.inputs)
                        + ") combines computed values other than by addition, multiplication or concatenation");
            }
        }
        return new ArrayList<>(reversed);
    }

    /** The longest gate {@link #asChain} recognizes in a product of computed values. */
    private static final int MAX_GATE = 4;
    /** The most nodes of a gate that is not a chain ({@link #subgraph}); tanh-GELU's has 7. */
    private static final int MAX_GATE_NODES = 12;

    /**
     * The layers g, in order, where value {@code q} is g(value {@code p}) by at most {@link #MAX_GATE} applied layers, so
     * that p·q is p·g(p); where q is a function of p alone by a small graph of other nodes, g is that graph, one layer
     * ({@link #subgraph}); null otherwise.
     */
    private List<Module> gate(int p, int q) {
        java.util.ArrayDeque<Module> g = new java.util.ArrayDeque<>();
        for (int v = q; v != p; ) {
            if (v == 0 || g.size() == MAX_GATE) return null;
            Node n = nodes.get(v - 1);
            if (n.op != Op.APPLY) {
                Graph sub = subgraph(p, q);
                return sub == null ? null : List.of(sub);
            }
            g.push(n.module);
            v = n.inputs[0];
        }
        return g.isEmpty() ? null : new ArrayList<>(g);
    }

    /**
     * Value {@code q} as a graph of at most {@link #MAX_GATE_NODES} nodes whose input is value {@code p}, where every node
     * q depends on, back to p, reads only p or such nodes (so q is a function of p alone: tanh-GELU's
     * 1 + tanh(c·(x + a·x·x·x)) of x); null otherwise.
     */
    private Graph subgraph(int p, int q) {
        java.util.TreeSet<Integer> inside = new java.util.TreeSet<>();
        java.util.ArrayDeque<Integer> todo = new java.util.ArrayDeque<>(List.of(q));
        while (!todo.isEmpty()) {
            int v = todo.pop();
            if (v == p || inside.contains(v)) continue;
            if (v < p || inside.size() == MAX_GATE_NODES) return null;   // a value p does not compute: q reads more than p
            inside.add(v);
            for (int i : nodes.get(v - 1).inputs) todo.push(i);
        }
        java.util.Map<Integer, Integer> index = new java.util.HashMap<>(java.util.Map.of(p, 0));
        List<Node> sub = new ArrayList<>();
        for (int v : inside) {   // in increasing order: each node after the values it reads
            Node n = nodes.get(v - 1);
            sub.add(new Node(n.op, n.module, Arrays.stream(n.inputs).map(index::get).toArray(), n.axis));
            index.put(v, sub.size());
        }
        return new Graph(sub, sub.size());   // q, the largest value inside, last
    }

    /**
     * x·g(x) for a short chain of layers g, or g one small graph of x: how PyTorch exports SiLU (x·sigmoid(x)), Hardswish
     * at operator set 13 (x·HardSigmoid(x)), GELU (x·(1 + erf(x/√2)), then ·½) and tanh-GELU (x·(1 + tanh(c·(x + a·x·x·x))),
     * then ·½), read by {@link #asChain} as one layer so that the bounds can take the product as the one scalar activation it
     * is.
     */
    public static final class Gate extends Module {
        private final List<Module> gate;

        public Gate(List<Module> gate) { this.gate = List.copyOf(gate); }

        /** g's layers, in order. */
        public List<Module> gate() { return gate; }

        @Override public Tensor forward(Tensor x) {
            Tensor g = x;
            for (Module m : gate) g = m.forward(g);
            return x.mul(g);
        }

        @Override public String describe() { return "x·(" + gate.stream().map(Module::describe).collect(Collectors.joining(" then ")) + ")(x)"; }
    }

    @Override public String describe() {
        return "Graph(" + nodes.stream().map(n -> n.op == Op.APPLY ? n.module.describe() : n.op.name().toLowerCase() + Arrays.toString(n.inputs))
                .collect(Collectors.joining(", ")) + ")";
    }
}
