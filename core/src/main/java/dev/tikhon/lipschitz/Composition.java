package dev.tikhon.lipschitz;

import dev.tikhon.UserError;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.ConvGeometry;
import dev.tikhon.engine.Tensor;
import dev.tikhon.farkas.Farkas;
import dev.tikhon.farkas.FarkasBlock;
import dev.tikhon.farkas.FarkasBottleneck;
import dev.tikhon.farkas.FarkasConv2d;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.BatchNorm2d;
import dev.tikhon.nn.Conv2d;
import dev.tikhon.nn.ElementwiseAffine;
import dev.tikhon.nn.Graph;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Normalize;
import dev.tikhon.nn.Pool;
import dev.tikhon.nn.ResidualBlock;
import dev.tikhon.nn.Sequential;
import dev.tikhon.onnx.OnnxLayers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The composition rules: a network's ℓ2 Lipschitz constant is bounded by combining its layers' constants, walking
 * the module tree with the input shape. Products along a chain (Lip(g ∘ f) ≤ Lip(g)·Lip(f)), sums across parallel
 * paths that are added (Lip(f + g) ≤ Lip(f) + Lip(g)), and per layer:
 * <ul>
 *   <li>linear and convolution: the operator norm of the linear part (the bias shifts, it does not stretch);
 *       a batch norm right after a convolution is folded into it (eval mode: y = γ(x − μ)/√(var + ε) + β scales
 *       output channel o by γ_o/√(var_o + ε)), which is tighter than multiplying the two constants; an imported
 *       convolution of any stride, padding, dilation and groups (depthwise included) alike, its batch norm folded the
 *       same way and its groups' blocks bounded separately ({@link OperatorNorms});</li>
 *   <li>ReLU, softplus, smooth ReLU, tanh, identity: 1 (slopes in [0, 1] or [−1, 1] act coordinatewise);
 *       sigmoid: ¼; the imported activations of {@link dev.tikhon.verify.Pointwise}, sup |f′| rounded up: Clip 1,
 *       HardSigmoid |α|, LeakyRelu and PRelu max(1, |slope|) (the largest over the channels), Elu max(1, |α|), SiLU 1.0999,
 *       GELU 1.1290, tanh-GELU 1.1290 (1.128993 at its inflection point), HardSwish 1.5;</li>
 *   <li>a batch norm on its own (eval): max_o |γ_o|/√(var_o + ε);</li>
 *   <li>input normalization (x − mean)/std per channel: max_c 1/std_c (a diagonal linear map; the mean shifts);</li>
 *   <li>max pooling with kernel k and stride s: each output is 1-Lipschitz in ℓ∞ of its window, so
 *       ‖Δy‖² ≤ Σ_windows ‖Δx_window‖² ≤ m·‖Δx‖², m = ⌈k/s⌉² the most windows a pixel belongs to: constant √m
 *       (1 when k = s);</li>
 *   <li>average pooling k × k, stride s: each window average has norm 1/k, a pixel lies in at most ⌈k/s⌉² windows,
 *       so the constant is ⌈k/s⌉/k (1/k when k = s); global average over H × W: 1/√(HW); flatten and an imported
 *       transpose (a permutation of the values) and an imported reshape that keeps the batch: 1; an imported slice or split (a
 *       coordinate projection): 1;</li>
 *   <li>residual block relu(F(x) + S(x)): Lip(F) + Lip(S), S the identity (1) or the 1×1 projection (with its batch
 *       norm folded); an imported graph's skip connections F(x) + G(x) alike ({@link Graph#asChain}); its
 *       concatenations [F₁(x); …; F_k(x)]: √(Σ Lip(Fᵢ)²);</li>
 *   <li>arithmetic with a constant (x·c + d elementwise): max |c|;</li>
 *   <li>Farkas layers: the convolution with the augmented kernels [W; −mean W]; a Farkas block adds the shortcut
 *       x ↦ [x, −mean_c x], whose norm per pixel is √(1 + 1/C).</li>
 * </ul>
 * A module without a rule (a TorchScript model, a custom layer) is a user error naming it.
 *
 * @param <T> the type of a constant: {@code Double} for the sound bound, a scalar {@code Tensor} for the
 *            differentiable training estimate
 */
public abstract class Composition<T> {

    /** σ_max of a dense matrix [out, in]. */
    protected abstract T dense(String name, Tensor weight);

    /**
     * The operator norm of the convolution of geometry {@code g} on [C_in, h, w] inputs, output channel o scaled by
     * {@code scale[o]} (null: no scaling).
     */
    protected abstract T conv(String name, Tensor kernel, Tensor scale, ConvGeometry g, long h, long w);

    protected abstract T constant(double c);

    /**
     * A fixed diagonal scaling of largest factor {@code c} (the input normalization, max 1/std): a constant, which a
     * subclass may also record under {@code name}.
     */
    protected T scaling(String name, String kind, double c) { return constant(c); }

    protected abstract T times(T a, T b);

    protected abstract T plus(T a, T b);

    /**
     * A constant of the concatenation [f(x); g(x)] from Lip(f) = a and Lip(g) = b: √(a² + b²) in ℓ2
     * (‖[Δf; Δg]‖² = ‖Δf‖² + ‖Δg‖²). By default a + b, which holds in every norm.
     */
    protected T joined(T a, T b) { return plus(a, b); }

    /** A constant and the shape it leaves: [C, H, W] or [D], without the batch dimension. */
    public record Step<T>(T lipschitz, long[] shape) {}

    /** Bounds the whole module on inputs of the given shape. */
    public final Step<T> bound(Module m, long[] inputShape) {
        return walk("", m, inputShape.clone());
    }

    /** Bounds the layers {@code from} (inclusive) to {@code to} (exclusive) of a sequential model. */
    public final Step<T> bound(Sequential s, int from, int to, long[] inputShape) {
        return chain("", s.layers().subList(from, to), inputShape.clone());
    }

    private Step<T> chain(String prefix, List<Module> layers, long[] shape) {
        T l = constant(1);
        for (int i = 0; i < layers.size(); i++) {
            Module m = layers.get(i);
            String name = prefix + i;
            Step<T> st;
            BatchNorm2d next = i + 1 < layers.size() && layers.get(i + 1) instanceof BatchNorm2d b ? b : null;
            if (next != null && m instanceof Conv2d c) {
                st = convStep(name, c, next, shape);
                i++;
            } else if (next != null && m instanceof OnnxLayers.Conv c) {
                st = importedConv(name, c, next, shape);
                i++;
            } else {
                st = walk(name, m, shape);
            }
            l = times(st.lipschitz(), l);
            shape = st.shape();
        }
        return new Step<>(l, shape);
    }

    private Step<T> walk(String name, Module m, long[] shape) {
        if (m instanceof Sequential) return chain(name.isEmpty() ? "" : name + ".", ((Sequential) m).layers(), shape);
        if (m instanceof Linear) {
            Linear lin = (Linear) m;
            need(shape.length == 1 && shape[0] == lin.in, name, m, shape);
            return new Step<>(dense(name, lin.weight().value()), new long[]{lin.out});
        }
        if (m instanceof Conv2d) return convStep(name, (Conv2d) m, null, shape);
        if (m instanceof OnnxLayers.Conv c) return importedConv(name, c, null, shape);
        if (m instanceof Activation) {
            double c = ((Activation) m).kind() == Activation.Kind.SIGMOID ? 0.25 : 1;
            return new Step<>(constant(c), shape);
        }
        dev.tikhon.verify.Pointwise unit = dev.tikhon.verify.Pointwise.of(m);   // imported activations: sup |f′|, rounded up
        if (unit != null) return new Step<>(constant(unit.lipschitz()), shape);
        if (m instanceof BatchNorm2d) return new Step<>(constant(maxOf(bnScale((BatchNorm2d) m))), shape);
        if (m instanceof Normalize z) {
            need(shape.length >= 1 && (z.channels() == 1 || shape[0] == z.channels()), name, m, shape);
            return new Step<>(scaling(name, z.describe(), normalizeScale(z)), shape);
        }
        if (m instanceof Pool) return pool(name, (Pool) m, shape);
        if (m instanceof OnnxLayers.Transpose t) return permute(name, t, shape);
        if (m instanceof OnnxLayers.Slice sl) return slice(name, sl, shape);
        if (m instanceof OnnxLayers.Reshape r && r.keepsBatch()) return reshape(name, r, shape);
        if (m instanceof ResidualBlock) return residual(name, (ResidualBlock) m, shape);
        if (m instanceof Graph g) return graph(name, g, shape);
        Tensor[] affine = m instanceof ElementwiseAffine e ? e.elementwiseAffine() : null;
        if (affine != null) return elementwise(name, m, affine[0], shape);
        if (m instanceof FarkasConv2d) return farkasConv(name, (FarkasConv2d) m, shape);
        if (m instanceof FarkasBlock) {
            FarkasBlock b = (FarkasBlock) m;
            Step<T> first = farkasConv(name + ".conv0", b.conv0(), shape);
            long[] s = first.shape();
            T second = conv(name + ".conv", Farkas.kernels(b.weight().value()), null, ConvGeometry.square(1, 1), s[1], s[2]);
            T shortcut = constant(Math.sqrt(1 + 1.0 / shape[0]));
            return new Step<>(plus(times(second, first.lipschitz()), shortcut), new long[]{shape[0] + 1, shape[1], shape[2]});
        }
        if (m instanceof FarkasBottleneck) {
            FarkasBottleneck b = (FarkasBottleneck) m;
            Step<T> first = farkasConv(name + ".conv0", b.conv0(), shape);
            Step<T> second = farkasConv(name + ".conv1", b.conv1(), first.shape());
            long[] s = second.shape();
            T third = conv(name + ".conv", Farkas.kernels(b.weight().value()), null, ConvGeometry.square(1, 0), s[1], s[2]);
            T branch = times(third, times(second.lipschitz(), first.lipschitz()));
            return new Step<>(plus(branch, constant(Math.sqrt(1 + 1.0 / shape[0]))), new long[]{shape[0] + 1, shape[1], shape[2]});
        }
        throw new UserError("cannot bound the Lipschitz constant of layer " + (name.isEmpty() ? "" : name + " ") + "(" + m.describe()
                + "): no composition rule for it; sound Lipschitz certificates need a Tikhon mlp, cnn, resnet or farkas-resnet checkpoint, or an imported model of the layers docs/interop.md lists");
    }

    private Step<T> convStep(String name, Conv2d c, BatchNorm2d bn, long[] shape) {
        need(shape.length == 3 && shape[0] == c.in, name, c, shape);
        T l = conv(name, c.weight().value(), bn == null ? null : bnScale(bn), ConvGeometry.square(c.stride, c.padding), shape[1], shape[2]);
        return new Step<>(l, convShape(c.out, c.kernel, c.stride, c.padding, shape));
    }

    /** An imported convolution, of any geometry, with the batch norm that follows it folded in where there is one. */
    private Step<T> importedConv(String name, OnnxLayers.Conv c, BatchNorm2d bn, long[] shape) {
        Tensor k = c.weight().value();
        ConvGeometry g = c.geometry();
        need(shape.length == 3 && shape[0] == k.size(1) * g.groups() && k.size(0) % g.groups() == 0, name, c, shape);
        long h = g.outSize(0, shape[1], k.size(2)), w = g.outSize(1, shape[2], k.size(3));
        need(h > 0 && w > 0, name, c, shape);
        need(bn == null || bn.weight().value().size(0) == k.size(0), name, bn, new long[]{k.size(0), h, w});
        return new Step<>(conv(name, k, bn == null ? null : bnScale(bn), g, shape[1], shape[2]), new long[]{k.size(0), h, w});
    }

    private Step<T> farkasConv(String name, FarkasConv2d c, long[] shape) {
        need(shape.length == 3 && shape[0] == c.in, name, c, shape);
        T l = conv(name, Farkas.kernels(c.weight().value()), null, ConvGeometry.square(c.stride, c.padding), shape[1], shape[2]);
        return new Step<>(l, convShape(c.out, c.kernel, c.stride, c.padding, shape));
    }

    private Step<T> residual(String name, ResidualBlock b, long[] shape) {
        Step<T> h1 = convStep(name + ".conv1", b.conv1(), b.bn1(), shape);
        Step<T> h2 = convStep(name + ".conv2", b.conv2(), b.bn2(), h1.shape());
        T branch = times(h2.lipschitz(), h1.lipschitz());
        T skip = b.shortcut() == null ? constant(1) : chain(name + ".shortcut.", b.shortcut().layers(), shape).lipschitz();
        return new Step<>(plus(branch, skip), h2.shape());
    }

    /** An imported graph as its chain of layers and sums ({@link Graph#asChain}): products along it, sums across a skip. */
    private Step<T> graph(String name, Graph g, long[] shape) {
        List<Graph.Part> parts;
        try {
            parts = g.asChain();
        } catch (IllegalArgumentException e) {
            throw new UserError("cannot bound the Lipschitz constant of the model's graph: " + e.getMessage()
                    + "; the composition rules cover chains of layers with skip connections that add and branches that concatenate");
        }
        return parts(name.isEmpty() ? "" : name + ".", parts, shape);
    }

    private Step<T> parts(String prefix, List<Graph.Part> parts, long[] shape) {
        T l = constant(1);
        List<Module> run = new ArrayList<>();   // consecutive layers, bounded as one chain (a conv and its batch norm fold)
        int i = 0;
        for (Graph.Part p : parts) {
            if (p instanceof Graph.Layer layer) {
                run.add(layer.module());
                continue;
            }
            Step<T> st = chain(prefix + i++ + ".", run, shape);
            l = times(st.lipschitz(), l);
            shape = st.shape();
            run.clear();
            if (p instanceof Graph.Concat c) {
                Step<T> joined = concatenation(prefix + i++ + ".", c, shape);
                l = times(joined.lipschitz(), l);
                shape = joined.shape();
                continue;
            }
            if (p instanceof Graph.Product) {
                throw new UserError("cannot bound the Lipschitz constant of a product of two computed values (a gate): x·y has no "
                        + "global Lipschitz constant; bound this model by propagation instead (ibp, crown, alpha-crown)");
            }
            Graph.Sum sum = (Graph.Sum) p;
            Step<T> left = parts(prefix + i + ".left.", sum.left(), shape), right = parts(prefix + i++ + ".right.", sum.right(), shape);
            if (!Arrays.equals(left.shape(), right.shape())) {
                throw new UserError("cannot bound a skip connection that adds values of shapes " + Arrays.toString(left.shape())
                        + " and " + Arrays.toString(right.shape()));
            }
            l = times(plus(left.lipschitz(), right.lipschitz()), l);
            shape = left.shape();
        }
        Step<T> st = chain(prefix + i + ".", run, shape);
        return new Step<>(times(st.lipschitz(), l), st.shape());
    }

    /** A concatenation of chains along an axis: the joined constant of theirs, and the shape with the axis's sizes summed. */
    private Step<T> concatenation(String prefix, Graph.Concat c, long[] shape) {
        T l = null;
        long[] out = null;
        for (int k = 0; k < c.chains().size(); k++) {
            Step<T> st = parts(prefix + k + ".", c.chains().get(k), shape);
            int axis = c.axis() < 0 ? c.axis() + st.shape().length : c.axis() - 1;   // the shapes here have no batch axis
            if (axis < 0 || axis >= st.shape().length) {
                throw new UserError("cannot bound a concatenation along axis " + c.axis() + " of values of shape " + Arrays.toString(st.shape()));
            }
            if (out == null) {
                out = st.shape().clone();
            } else {
                for (int d = 0; d < out.length; d++) {
                    if (d != axis && out[d] != st.shape()[d]) {
                        throw new UserError("cannot bound a concatenation along axis " + c.axis() + " of values of shapes "
                                + Arrays.toString(out) + " and " + Arrays.toString(st.shape()));
                    }
                }
                out[axis] += st.shape()[axis];
            }
            l = l == null ? st.lipschitz() : joined(l, st.lipschitz());
        }
        return new Step<>(l, out);
    }

    /** x·scale + shift: max |scale|, when the constants keep the shape (right-aligned broadcasting against [1, …shape]). */
    private Step<T> elementwise(String name, Module m, Tensor scale, long[] shape) {
        long[] s = scale.shape();
        boolean keeps = s.length <= shape.length + 1;
        for (int i = 1; keeps && i <= s.length; i++) {
            long axis = i <= shape.length ? shape[shape.length - i] : 1;
            keeps = s[s.length - i] == 1 || s[s.length - i] == axis;
        }
        need(keeps, name, m, shape);
        return new Step<>(constant(maxOf(scale)), shape);
    }

    /** A permutation of the axes only moves values: constant 1, the shape permuted. */
    private Step<T> permute(String name, OnnxLayers.Transpose t, long[] shape) {
        long[] perm = t.perm();
        need(perm.length == shape.length + 1, name, t, shape);
        long[] out = new long[shape.length];
        for (int i = 1; i < perm.length; i++) out[i - 1] = shape[(int) perm[i] - 1];
        return new Step<>(constant(1), out);
    }

    /** A reshape that keeps the batch moves each example's values, changing none: constant 1; the shape it gives. */
    private Step<T> reshape(String name, OnnxLayers.Reshape r, long[] shape) {
        long[] withBatch = new long[shape.length + 1];
        withBatch[0] = 1;
        System.arraycopy(shape, 0, withBatch, 1, shape.length);
        long[] out;
        try (dev.tikhon.engine.Scope s = dev.tikhon.engine.Scope.open()) {
            out = r.forward(Tensor.zeros(withBatch)).shape();
        } catch (RuntimeException e) {
            throw new UserError("cannot bound layer " + name + " (" + r.describe() + ") on inputs of shape " + Arrays.toString(shape));
        }
        return new Step<>(constant(1), Arrays.copyOfRange(out, 1, out.length));
    }

    /**
     * A slice of one axis keeps some coordinates and drops the others: ‖Δy‖_p ≤ ‖Δx‖_p in every ℓp norm, constant 1 (exactly
     * 1 unless the slice is empty); the shape with that axis's new size.
     */
    private Step<T> slice(String name, OnnxLayers.Slice sl, long[] shape) {
        long[] withBatch = new long[shape.length + 1];
        withBatch[0] = 1;
        System.arraycopy(shape, 0, withBatch, 1, shape.length);
        long[] r;
        try {
            r = sl.range(withBatch);
        } catch (IllegalArgumentException e) {
            throw new UserError("cannot bound layer " + name + " (" + sl.describe() + ") on inputs of shape " + Arrays.toString(shape));
        }
        long[] out = shape.clone();
        out[(int) r[0] - 1] = r[2];
        return new Step<>(constant(1), out);
    }

    private Step<T> pool(String name, Pool p, long[] shape) {
        switch (p.kind()) {
            case FLATTEN: {
                long d = 1;
                for (long s : shape) d *= s;
                return new Step<>(constant(1), new long[]{d});
            }
            case GLOBAL_AVG:
                need(shape.length == 3, name, p, shape);
                return new Step<>(constant(1 / Math.sqrt((double) shape[1] * shape[2])), new long[]{shape[0]});
            case MAX: case AVG: {
                need(shape.length == 3, name, p, shape);
                int k = p.kernel(), s = p.stride();
                long overlap = (k + s - 1) / s;
                double c = p.kind() == Pool.Kind.MAX ? overlap : overlap / (double) k;
                long[] out = {shape[0], (shape[1] - k) / s + 1, (shape[2] - k) / s + 1};
                return new Step<>(constant(c), out);
            }
            default: throw new AssertionError(p.kind());
        }
    }

    static long[] convShape(long out, int k, int stride, int padding, long[] in) {
        return new long[]{out, (in[1] + 2L * padding - k) / stride + 1, (in[2] + 2L * padding - k) / stride + 1};
    }

    /** γ_o/√(var_o + ε) per channel (the eval-mode batch norm's scaling), not differentiated through the variance. */
    static Tensor bnScale(BatchNorm2d bn) {
        Tensor var;
        try (Autograd.Guard g = Autograd.noGrad()) {
            var = bn.runningVar().add(bn.eps()).sqrt();
        }
        return bn.weight().value().div(var);
    }

    /**
     * max_c 1/std_c of the normalization's std buffer as the model holds it (float32 when the model is), computed in
     * float64: the map's exact Lipschitz constant, not that of the decimal std it was made from.
     */
    static double normalizeScale(Normalize z) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            return z.std().to(dev.tikhon.engine.DType.FLOAT64).reciprocal().abs().max().item();
        }
    }

    private static double maxOf(Tensor t) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            return t.abs().max().item();
        }
    }

    private static void need(boolean ok, String name, Module m, long[] shape) {
        if (!ok) throw new UserError("cannot bound layer " + name + " (" + m.describe() + ") on inputs of shape " + Arrays.toString(shape));
    }
}
