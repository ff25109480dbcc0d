package dev.tikhon.verify;

import dev.tikhon.UserError;
import dev.tikhon.attack.Norm;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Tensor;
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

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Sound bounds on a network's outputs over an {@link InputRegion}, by interval bound propagation (IBP; Gowal et
 * al. 2018) or by CROWN's backward linear bounds (Zhang et al. 2018), for a batch of examples at once.
 *
 * <p>Both bound a specification C·z(x) of the logits z, C [N, S, K] (for robustness the margins
 * z_y − z_j, {@link #margins}), over every x of the region.
 *
 * <p><b>IBP</b> pushes a box forward layer by layer (affine layers: centre W μ + b, radius |W| r; monotone
 * activations and max pooling: the endpoints) and folds C into the last linear layer, bounding
 * (C W) h + C b directly. Where the first weighted layer sees the input itself, the ℓ2 ball's exact bounds on it
 * (centre W x₀ + b, radius ε‖Wᵢ‖₂) are intersected with the box's; also through layers before it that only flatten,
 * permute (a leading transpose keeps ℓ2 balls as ℓ2 balls) or scale and shift the input (its radius then times the
 * largest |scale|: an input normalization, an imported rescaling).
 *
 * <p><b>CROWN</b> starts from A = C at the logits and walks back to the input: through an affine layer
 * A ← A W, collecting A b; through an activation each unit of A·σ(z) is bounded below by the unit's lower line
 * where its coefficient is ≥ 0 and by its upper line where it is &lt; 0 ({@link Relaxation}). At the input,
 * A·x + a is minimized over the region ({@link InputRegion#minimize}). The relaxation of a unit needs bounds
 * on its input (the intermediate bounds): here they come from IBP, tightened by a CROWN pass of their own
 * (the same walk from that layer down, both signs) wherever the layer has at most {@code crownUnits} units,
 * and the two intersected. The default 2,048 covers every unit of an MLP and the fully connected layers of the
 * small CNN; its convolution layers (21,632 and 36,864 units) keep their IBP bounds, where a CROWN pass would
 * cost a backward walk per unit. {@code crownUnits = 0} gives CROWN-IBP's bounds (Zhang et al. 2020): IBP for
 * every intermediate layer, CROWN for the last. Inside a residual addition (Tikhon's residual blocks, an imported graph's
 * skip connections; an imported concatenation's branches alike) the input of each nonlinear node of a branch but its first (whose input is the addition's own) is
 * tightened the same way, with the same limit: the walk back from it crosses the branch's earlier nodes, then the outer
 * chain from the addition's input down (outwards through nested additions); before 2026-12-07 these kept IBP's bounds.
 * On a ResNet-8 (width 2) for 14×14 Fashion-MNIST that raised CROWN's verified images from 56 to 66 of 100 at ℓ∞ ε 0.005
 * and from 18 to 38 at 0.01 (α-CROWN's from 60 to 66 and 20 to 40), at no more time per image (docs/verification.md).
 *
 * <p><b>α-CROWN</b> (Xu et al., "Fast and complete", ICLR 2021) makes the lower slope α of every unstable ReLU a variable
 * in [0, 1] of its own for each backward walk (the final one and each intermediate pass) and each of its rows, and
 * maximizes the final bound over all of them jointly by projected gradient ascent (Adam), the intermediate bounds
 * recomputed with the current slopes at every step, starting from CROWN's adaptive slopes (the passes from inside
 * residual branches included: each walk has its own variables). Every α in [0, 1] gives
 * sound bounds, so the elementwise best over the steps is sound, and at least CROWN's. Tanh and sigmoid units have two
 * variables each instead, the points of [l, u] where their lower and upper lines touch f ({@link Pointwise#tangentLines}):
 * the slope is f′ there and the intercept {@link Pointwise}'s bound for that slope, so every point gives sound lines; they
 * start where the tangent has CROWN's slope. So do SiLU, GELU, tanh-GELU and Elu(1); the piecewise-linear and kinked
 * imported activations (Clip, HardSigmoid, LeakyRelu, PRelu; HardSwish, Elu with α ≠ 1) have their two lines' slopes as
 * variables instead, between the least and the largest slope of f on [l, u], each line's intercept that same bound
 * ({@link Pointwise#alphaLines}).
 * A (layer, walk) pair whose
 * variables would exceed {@link AlphaSlopes#MAX_ELEMENTS} keeps the adaptive rule.
 *
 * <p>Batch norm is taken in evaluation mode (its running statistics) by {@link #of}: the function the model computes when
 * it is evaluated, which is what verification and certification bound. Certified training bounds the function the training
 * step computes instead ({@link #ofBatch}): batch norm as the per-channel affine map with the statistics of the current
 * clean batch, as CROWN-IBP (Zhang et al., ICLR 2020) and auto_LiRPA do in training mode. Arithmetic is the model's floating-point type, rounded to nearest as in auto_LiRPA; inside
 * {@link Rounding#accounted} each node's rounding error is bounded and added, so that the bounds hold for the exact network.
 */
public final class BoundedNetwork {
    /** Default bound on the units of a layer whose intermediate bounds CROWN tightens. */
    public static final int DEFAULT_CROWN_UNITS = 2048;

    private final List<Node> nodes;
    /**
     * Every backward walk's origin, as α-CROWN's variables and its units are keyed: each node's number in the order the
     * forward pass meets them (a fork, i.e. a residual addition or a concatenation, before its first chain's nodes, those
     * before its second's, …), the logits
     * after all of them ({@link #finalOrigin}). A walk reads only bounds that walks of smaller numbers computed.
     */
    private final Map<Node, Integer> origins = new java.util.IdentityHashMap<>();
    /** Every node in that order, those inside forks included. */
    private final List<Node> ordered = new ArrayList<>();
    /** False: the nodes inside forks keep IBP bounds, as before they were tightened (tests compare). */
    private final boolean tightenBranches;

    private BoundedNetwork(List<Node> nodes) {
        this(nodes, true, true);
    }

    /**
     * Every splittable activation's id ({@link #splittableLayers}): a node of the network's own chain has its index there, a
     * node inside a fork a number from {@code depth()} on, in the order the forward pass meets them ({@link #ordered}).
     */
    private final Map<Node, Integer> splitIds = new java.util.IdentityHashMap<>();
    /** The splittable activations by id, in increasing order. */
    private final java.util.TreeMap<Integer, Node> splitNodes = new java.util.TreeMap<>();

    /**
     * The factors of products that branch and bound can cut ({@link #factor}): per product fork its two ids (left, right),
     * numbered after every activation's, in the forward pass's order.
     */
    private final Map<Node, int[]> factorIds = new java.util.IdentityHashMap<>();

    private BoundedNetwork(List<Node> nodes, boolean tightenBranches, boolean nestedSplits) {
        this(nodes, tightenBranches, nestedSplits, nestedSplits);
    }

    private BoundedNetwork(List<Node> nodes, boolean tightenBranches, boolean nestedSplits, boolean productSplits) {
        this.nodes = List.copyOf(nodes);
        this.tightenBranches = tightenBranches;
        number(this.nodes);
        for (int i = 0; i < this.nodes.size(); i++) if (splittable(this.nodes.get(i))) splitIds.put(this.nodes.get(i), i);
        int next = this.nodes.size();
        if (nestedSplits) for (Node node : ordered) if (splittable(node) && !splitIds.containsKey(node)) splitIds.put(node, next++);
        splitIds.forEach((node, id) -> splitNodes.put(id, node));
        if (productSplits) {
            for (Node node : ordered) {
                if (node instanceof Layers.Fork fork && fork.multiplies()) {
                    factorIds.put(fork, new int[]{next, next + 1});
                    splitNodes.put(next++, fork);
                    splitNodes.put(next++, fork);
                }
            }
        }
    }

    /**
     * The same network whose branch and bound splits only the activations of its own chain, not those inside forks nor
     * products' factors: the search before 2026-12-07 (tests compare).
     */
    BoundedNetwork topLevelSplitsOnly() {
        return new BoundedNetwork(nodes, tightenBranches, false, false);
    }

    /** The same network whose branch and bound splits every activation but no product's factor (tests compare). */
    BoundedNetwork withoutProductSplits() {
        return new BoundedNetwork(nodes, tightenBranches, true, false);
    }

    /**
     * Where split id {@code id} names a factor of a product (x·y, a cut of x's interval at a point narrows the product's
     * McCormick planes, as Shi et al.'s general branch and bound splits multiplications): which one, 0 (left) or 1 (right);
     * −1 for an activation.
     */
    int factor(int id) {
        Node node = splitNodes.get(id);
        int[] ids = node == null ? null : factorIds.get(node);
        return ids == null ? -1 : ids[0] == id ? 0 : ids[1] == id ? 1 : -1;
    }

    /**
     * The interval a split on {@code id} acts on, as {@code trace} recorded it: an activation's input, or a product's
     * factor (its chain's output, where the forward pass joined it).
     */
    Interval splitInterval(Trace trace, int id) {
        int side = factor(id);
        return side < 0 ? trace.input(node(id)) : trace.joined(node(id)).get(side);
    }

    /** Whether branch and bound can split the node: an activation with a linear relaxation (not the identity). */
    private static boolean splittable(Node node) {
        return node instanceof Layers.Act act && act.kind() != dev.tikhon.nn.Activation.Kind.IDENTITY || node instanceof Layers.Unit;
    }

    private void number(List<Node> chain) {
        for (Node node : chain) {
            origins.put(node, ordered.size());
            ordered.add(node);
            if (node instanceof Layers.Fork fork) for (List<Node> inner : fork.chains()) number(inner);
        }
    }

    /** The same network with IBP bounds for every node inside a residual addition: the bounds before branches were tightened (2026-12-07). */
    BoundedNetwork branchesByIbp() {
        return new BoundedNetwork(nodes, false, true);
    }

    /**
     * The verifier's view of a model: its current weights (reading them again on every call of this method, so
     * that training can rebuild the view per step).
     *
     * @throws UserError for a layer it cannot bound (FarkasNet blocks, scripted models, dropout)
     */
    public static BoundedNetwork of(Module model) {
        List<Node> out = new ArrayList<>();
        add(model, out, null);
        if (out.isEmpty()) throw new UserError("the model has no layers to verify");
        return new BoundedNetwork(out);
    }

    /**
     * The verifier's view of the function a training step computes on the batch {@code x}: every batch norm is the affine
     * map y = γ(h − μ_B)/√(σ²_B + eps) + β with μ_B and σ²_B (biased) the mean and variance, per channel, of the clean
     * batch's own inputs to that layer, as the training-mode forward pass normalizes them (Zhang et al., ICLR 2020;
     * auto_LiRPA's training mode). The statistics are computed here from a clean pass of {@code x} through the layers,
     * differentiable (the gradient flows through them as through the training-mode forward pass), and nothing is
     * written to the model: the running statistics are the clean pass's to update ({@code model.forward} in training
     * mode), and a trained model is verified in evaluation mode by {@link #of}. Without batch norm this is {@link #of}.
     *
     * <p>The bounds hold for that affine map, i.e. for points of the ball pushed through the network with the clean
     * batch's statistics held fixed, not for a batch whose statistics a perturbed point would change.
     */
    public static BoundedNetwork ofBatch(Module model, Tensor x) {
        if (!BatchNorm2d.in(model)) return of(model);   // the same network: no clean pass to spend on a step
        List<Node> out = new ArrayList<>();
        add(model, out, new Tensor[]{x});
        if (out.isEmpty()) throw new UserError("the model has no layers to verify");
        return new BoundedNetwork(out);
    }

    /**
     * Appends the nodes of {@code m}; where {@code clean} is given, clean[0] is the clean batch entering {@code m}, replaced by
     * what leaves it (the training-mode function, batch norm with the batch's statistics).
     */
    private static void add(Module m, List<Node> out, Tensor[] clean) {
        Tensor[] elementwise = m instanceof ElementwiseAffine e ? e.elementwiseAffine() : null;
        Pointwise unit = Pointwise.of(m);   // an imported activation
        if (m instanceof Sequential s) {
            for (Module c : s.layers()) add(c, out, clean);
            return;
        } else if (m instanceof Linear l) {
            out.add(new Layers.Dense(l.weight().value(), l.bias() == null ? null : l.bias().value()));
        } else if (m instanceof Conv2d c) {
            out.add(new Layers.Conv(c.weight().value(), c.bias() == null ? null : c.bias().value(), c.stride, c.padding));
        } else if (m instanceof dev.tikhon.onnx.OnnxLayers.Conv c) {
            out.add(new Layers.Conv(c.weight().value(), c.bias() == null ? null : c.bias().value(), c.geometry()));
        } else if (m instanceof BatchNorm2d b && clean == null && Rounding.on()) {
            // two maps: the folded shift β − mean·scale can cancel, and its rounding error is not small against it
            Tensor[] parts = b.evalParts();
            out.add(new Layers.ChannelAffine(parts[0].onesLike(), parts[0].neg()));
            out.add(new Layers.ChannelAffine(parts[1], parts[2]));
        } else if (m instanceof BatchNorm2d b) {
            Tensor[] affine = clean == null ? b.evalAffine() : b.batchAffine(clean[0]);
            Layers.ChannelAffine node = new Layers.ChannelAffine(affine[0], affine[1]);
            out.add(node);
            if (clean != null) clean[0] = node.apply(clean[0]);
            return;
        } else if (m instanceof Normalize z) {
            Tensor[] affine = z.affine();
            out.add(new Layers.ChannelAffine(affine[0], affine[1]));
        } else if (m instanceof Activation a) {
            out.add(new Layers.Act(a.kind()));
        } else if (m instanceof Pool p) {
            switch (p.kind()) {
                case FLATTEN: out.add(new Layers.Flatten()); break;
                case MAX: out.add(new Layers.MaxPool(p.kernel())); break;
                case AVG: out.add(new Layers.AvgPool(p.kernel())); break;
                case GLOBAL_AVG: out.add(new Layers.AvgPool(0)); break;
                default: throw new AssertionError(p.kind());
            }
        } else if (m instanceof dev.tikhon.onnx.OnnxLayers.Reshape r && r.keepsBatch()) {
            out.add(new Layers.Reshape(r));
        } else if (m instanceof dev.tikhon.onnx.OnnxLayers.GlobalAvgKeepDims) {
            out.add(new Layers.AvgPool(Layers.AvgPool.GLOBAL_KEEP_DIMS));
        } else if (m instanceof dev.tikhon.onnx.OnnxLayers.Transpose t) {
            out.add(new Layers.Permute(t.perm()));
        } else if (m instanceof dev.tikhon.onnx.OnnxLayers.Slice sl) {
            out.add(new Layers.Slice(sl));
        } else if (unit != null) {
            out.add(new Layers.Unit(unit));
        } else if (m instanceof Graph.Gate gate) {   // x·g(x) with g not a known activation (a squeeze-and-excitation gate): a product
            List<Node> g = new ArrayList<>();
            Tensor[] h = clean == null ? null : new Tensor[]{clean[0]};
            for (Module c : gate.gate()) add(c, g, h);
            out.add(Layers.Fork.product(new ArrayList<>(), g));
            if (clean != null) clean[0] = clean[0].mul(h[0]);
            return;
        } else if (elementwise != null) {
            out.add(new Layers.Elementwise(elementwise[0], elementwise[1]));
        } else if (m instanceof Graph g) {
            List<Graph.Part> parts;
            try {
                parts = g.asChain();
            } catch (IllegalArgumentException ex) {
                throw new UserError("the verifier cannot bound the model's graph: " + ex.getMessage()
                        + "; it bounds chains of layers with skip connections that add, branches that concatenate and products of two computed values");
            }
            addParts(parts, out, clean);
            return;
        } else if (m instanceof ResidualBlock r) {
            List<Node> branch = new ArrayList<>(), shortcut = new ArrayList<>();
            Tensor[] b = clean == null ? null : new Tensor[]{clean[0]}, s = clean == null ? null : new Tensor[]{clean[0]};
            for (Module c : r.branch()) add(c, branch, b);
            for (Module c : r.shortcutLayers()) add(c, shortcut, s);
            out.add(Layers.Fork.sum(branch, shortcut));
            out.add(new Layers.Act(Activation.Kind.RELU));
            if (clean != null) clean[0] = b[0].add(s[0]).relu();
            return;
        } else {
            throw new UserError("the verifier cannot bound the layer " + m.describe() + " (" + m.getClass().getSimpleName()
                    + "): it handles input normalization, linear, conv (any stride, padding, dilation and groups), batch norm, relu/smooth-relu/softplus/tanh/sigmoid, clip, hard-sigmoid, hard-swish, leaky-relu, prelu, elu, silu, gelu (also tanh-gelu), pooling, flatten, transposes and reshapes that keep the batch first, slices of one axis other than the batch, "
                    + "residual blocks, skip connections that add and arithmetic with constants; use a model built from those (--model mlp, cnn or resnet)");
        }
        if (clean != null) clean[0] = m.forward(clean[0]);   // layers whose function does not depend on the mode
    }

    /**
     * Appends an imported graph's chain: its layers, and each skip connection (concatenation) as a {@link Layers.Fork} of
     * its chains.
     */
    private static void addParts(List<Graph.Part> parts, List<Node> out, Tensor[] clean) {
        for (Graph.Part p : parts) {
            if (p instanceof Graph.Layer l) {
                add(l.module(), out, clean);
                continue;
            }
            List<List<Graph.Part>> from = p instanceof Graph.Sum s ? List.of(s.left(), s.right())
                    : p instanceof Graph.Product q ? List.of(q.left(), q.right()) : ((Graph.Concat) p).chains();
            List<List<Node>> chains = new ArrayList<>();
            List<Tensor> ends = new ArrayList<>();
            for (List<Graph.Part> c : from) {
                List<Node> chain = new ArrayList<>();
                Tensor[] h = clean == null ? null : new Tensor[]{clean[0]};
                addParts(c, chain, h);
                chains.add(chain);
                if (h != null) ends.add(h[0]);
            }
            if (p instanceof Graph.Concat c) {
                if (c.axis() == Layers.Fork.SUM) throw new UserError("the verifier cannot bound a concatenation along the batch axis");
                out.add(new Layers.Fork(chains, c.axis()));
                if (clean != null) clean[0] = Tensor.cat(ends, c.axis() < 0 ? c.axis() + ends.get(0).dim() : c.axis());
            } else if (p instanceof Graph.Product) {
                out.add(Layers.Fork.product(chains.get(0), chains.get(1)));
                if (clean != null) clean[0] = ends.get(0).mul(ends.get(1));
            } else {
                out.add(new Layers.Fork(chains, Layers.Fork.SUM));
                if (clean != null) clean[0] = ends.get(0).add(ends.get(1));
            }
        }
    }

    /**
     * The robustness specification: row j of C for example n is e_{yₙ} − e_j, so (C z)_j = z_y − z_j is the margin
     * of the true class over class j. Row yₙ is zero (its bound is exactly 0).
     *
     * @return C, [N, K, K]
     */
    public static Tensor margins(Tensor labels, int numClasses, Tensor like) {
        Tensor y = labels.oneHot(numClasses).to(like.dtype()).to(like.device()).unsqueeze(1);    // [N, 1, K]
        Tensor eye = Tensor.eye(numClasses, like.dtype(), like.device()).unsqueeze(0);          // [1, K, K]
        return y.sub(eye);
    }

    /**
     * The robustness specification without its zero row: row j of C for example n is e_{yₙ} − e_c with c the j-th class
     * other than yₙ (in increasing order), so (C z)_j = z_y − z_c. [N, K − 1, K]: what certified training bounds, a K-th
     * less work than {@link #margins}.
     */
    public static Tensor marginsOverOthers(Tensor labels, int numClasses, Tensor like) {
        // the j-th class other than y is j below y and j + 1 from y on; computed where the labels are, no table from the host
        Tensor y = labels.to(like.device()).to(DType.INT64).unsqueeze(1);                          // [N, 1]
        Tensor j = Tensor.arange(numClasses - 1, DType.INT64, like.device()).unsqueeze(0);         // [1, K − 1]
        Tensor rivals = j.add(j.sub(y).ge(0).to(DType.INT64)).oneHot(numClasses).to(like.dtype()); // [N, K − 1, K]
        return y.squeeze(1).oneHot(numClasses).to(like.dtype()).unsqueeze(1).sub(rivals);
    }

    // ------------------------------------------------------------------ IBP

    /** Interval bounds of C·z over the region, [N, S] each. */
    public Interval ibp(InputRegion region, Tensor spec) {
        Trace trace = new Trace(LowerSlope.ADAPTIVE);
        return lastIbp(forward(region, nodes.size() - 1, 0, trace), region, spec, trace);
    }

    /**
     * IBP's lower bounds of C·z and CROWN-IBP's (CROWN on the last layer over IBP's intermediate bounds), from one
     * forward pass: what CROWN-IBP training mixes.
     */
    public Tensor[] ibpAndCrownIbpLower(InputRegion region, Tensor spec) {
        IbpPass pass = ibpPass(region, spec, true);
        return new Tensor[]{pass.ibpLower(), pass.crownIbpLower()};
    }

    /**
     * One IBP pass for certified training: IBP's lower bounds of C·z, CROWN-IBP's too where {@code crownIbp} (else null), and
     * the interval each ReLU's input took in the pass (those inside residual branches included), in forward order, which the
     * warm-up regularizers of Shi et al. (2021) read.
     */
    public record IbpPass(Tensor ibpLower, Tensor crownIbpLower, List<Interval> reluInputs) {}

    public IbpPass ibpPass(InputRegion region, Tensor spec, boolean crownIbp) {
        Trace trace = new Trace(LowerSlope.ADAPTIVE);
        Interval ibp = lastIbp(forward(region, nodes.size() - 1, 0, trace), region, spec, trace);
        Tensor crown = crownIbp ? finalWalk(spec, region, trace) : null;
        List<Interval> relus = new ArrayList<>();
        for (Node n : ordered) {
            Interval in = trace.recorded(n);
            if (Layers.isRelu(n) && in != null) relus.add(in);
        }
        return new IbpPass(ibp.lo(), crown, relus);
    }

    private Interval lastIbp(Interval h, InputRegion region, Tensor spec, Trace trace) {
        Node last = nodes.get(nodes.size() - 1);
        if (last instanceof Layers.Dense d) {
            Interval out = folded(d, h, spec, trace);
            if (!firstWeighted(nodes.size() - 1) || region.norm() != Norm.L2) return out;
            Ball ball = ballAt(region, nodes.size() - 1);
            Interval over = d.overBall(ball.centre(), ball.eps(), region.norm(), spec);
            if (trace.rounding) over = Rounding.widenFolded(over, spec, Rounding.affineMagnitude(d, h, trace), h.width(), true);
            return out.intersect(over);
        }
        Interval z = Rounding.ibp(last, h, trace);   // the logits' box, then C as one more linear layer
        Tensor mu = spec.matmul(z.centre().unsqueeze(2)).squeeze(2), r = spec.abs().matmul(z.radius().unsqueeze(2)).squeeze(2);
        Interval out = Interval.ofCentre(mu, r);
        return trace.rounding ? Rounding.widenFolded(out, spec, Rounding.magnitude(z), 1, false) : out;
    }

    /** The last layer's interval bounds with C folded in ({@link Layers.Dense#ibpFolded}), widened where rounding is accounted. */
    private static Interval folded(Layers.Dense d, Interval in, Tensor spec, Trace trace) {
        Interval out = d.ibpFolded(in, spec, trace);
        return trace.rounding ? Rounding.widenFolded(out, spec, Rounding.affineMagnitude(d, in, trace), in.width(), false) : out;
    }

    /** Interval bounds on the logits themselves, [N, K]. */
    public Interval ibpLogits(InputRegion region) {
        return forward(region, nodes.size(), 0, new Trace(LowerSlope.ADAPTIVE));
    }

    /**
     * Whether every layer before {@code index} only flattens, permutes (a leading transpose, as of an imported Keras model)
     * or scales and shifts coordinates (an input normalization, an imported input rescaling), so that layer {@code index}
     * sees the input's ℓp ball as a ball ({@link #ballAt}).
     */
    private boolean firstWeighted(int index) {
        for (int i = 0; i < index; i++) {
            Node n = nodes.get(i);
            if (!(n instanceof Layers.Flatten || n instanceof Layers.Permute || n instanceof Layers.ChannelAffine || n instanceof Layers.Elementwise)) return false;
        }
        return true;
    }

    /** An ℓp ball per example: centres [N, …] and radii [N]. */
    private record Ball(Tensor centre, Tensor eps) {}

    /**
     * The region's ℓp ball as layer {@code index} sees it, through the layers before it ({@link #firstWeighted}): its centre
     * pushed through them, and a radius that holds the ball's image. A flatten or a permutation only moves coordinates, so
     * it keeps ‖δ‖_p and the ball is the same ball; y = s·x + t maps x₀ + δ to y₀ + s·δ with ‖s·δ‖_p ≤ max|s|·‖δ‖_p, so the
     * radius grows by max|s| (exactly the image where s is the same for every coordinate, as one-channel normalization and
     * Keras' Rescaling are; a ball holding it otherwise).
     */
    private Ball ballAt(InputRegion region, int index) {
        Tensor x = region.centre(), eps = region.eps();
        Trace scratch = new Trace(LowerSlope.ADAPTIVE);
        for (int i = 0; i < index; i++) {
            Node n = nodes.get(i);
            x = n.ibp(new Interval(x, x), scratch).lo();
            Tensor scale = n instanceof Layers.ChannelAffine c ? c.scale() : n instanceof Layers.Elementwise e ? e.scale() : null;
            if (scale != null) eps = eps.mul(scale.abs().max().to(eps.dtype()));
        }
        return new Ball(x, eps);
    }

    /**
     * Bounds on the input of layer {@code upto} by IBP, each nonlinear layer's input tightened by CROWN where it has
     * at most {@code crownUnits} units, inside residual branches too ({@link #pass}).
     */
    private Interval forward(InputRegion region, int upto, int crownUnits, Trace trace) {
        Interval h = trace.rounding ? Rounding.box(region) : region.box();
        for (int i = 0; i < upto; i++) {
            Node node = nodes.get(i);
            List<Frame> at = List.of(new Frame(nodes, i));
            if (crownUnits > 0 && i > 0 && !node.affine() && h.width() <= crownUnits) {
                h = h.intersect(crownInterval(region, at, h, trace));
            }
            h = onDomain(i, node, -1, h, trace);   // a chain node's split id is its index
            Interval out = pass(node, h, at, region, crownUnits, trace);
            if (region.norm() == Norm.L2 && (node instanceof Layers.Dense || node instanceof Layers.Conv) && firstWeighted(i)) {
                Ball ball = ballAt(region, i);
                Interval over = node instanceof Layers.Dense d ? d.overBall(ball.centre(), ball.eps(), region.norm(), null)
                        : ((Layers.Conv) node).overBall(ball.centre(), ball.eps(), region.norm());
                // the ball's centre and radius pushed through leading scale layers are rounded too: within γ·|W| ẑ of h's magnitude
                if (trace.rounding) over = Rounding.widenBall(over, Rounding.affineMagnitude(node, h, trace), Math.max(h.width(), over.width()));
                out = out.intersect(over);
            }
            h = out;
        }
        return h;
    }

    /**
     * Where a node sits: a chain (the network's own, or a chain of a fork) and its index there. A path, outermost first,
     * locates a node inside nested forks; the walk back from it crosses each frame's earlier nodes,
     * innermost frame first.
     */
    record Frame(List<Node> chain, int index) {}

    /**
     * The output bounds of the node at {@code at} given its input bounds {@code in}: a fork (a residual addition or a
     * concatenation) passes its chains with the input of each of their nonlinear nodes (but the first, whose input is the
     * fork's own) tightened as the network's chain is, by a CROWN pass from there back through the chain and on down the
     * outer chains ({@link #crownInterval}); every other node, and every fork of a network made {@link #branchesByIbp},
     * by IBP.
     */
    private Interval pass(Node node, Interval in, List<Frame> at, InputRegion region, int crownUnits, Trace trace) {
        boolean tighten = crownUnits > 0 && tightenBranches;
        // splits and known bounds of nodes inside forks act there (subchain); the fork's own rule is the same pass without them
        boolean nested = trace.splits != null || trace.known != null;
        if (!(node instanceof Layers.Fork fork) || !tighten && !nested) return Rounding.ibp(node, in, trace);
        trace.input(fork, in);
        List<Interval> outs = new ArrayList<>();
        for (List<Node> chain : fork.chains()) outs.add(subchain(chain, in, at, region, crownUnits, trace));
        int[] factors = factorIds.get(fork);
        for (int c = 0; factors != null && c < 2; c++) {   // a product's factors: known bounds and cuts, as an activation's input
            outs.set(c, onDomain(factors[c], fork, c, outs.get(c), trace));
        }
        Interval out = fork.join(outs, trace);
        // a sum's addition, a product's corner products: one rounding each (a concatenation only moves values)
        return trace.rounding && !fork.concatenates() ? Rounding.widenSum(out) : out;
    }

    private Interval subchain(List<Node> chain, Interval h, List<Frame> outer, InputRegion region, int crownUnits, Trace trace) {
        for (int j = 0; j < chain.size(); j++) {
            Node node = chain.get(j);
            List<Frame> at = new ArrayList<>(outer);
            at.add(new Frame(chain, j));
            if (tightenBranches && j > 0 && !node.affine() && h.width() <= crownUnits) h = h.intersect(crownInterval(region, at, h, trace));
            Integer id = splitIds.get(node);
            if (id != null) h = onDomain(id, node, -1, h, trace);
            h = pass(node, h, at, region, crownUnits, trace);
        }
        return h;
    }

    /**
     * The bounds {@code h} of what split id {@code id} acts on ({@code node}'s input, or its factor {@code side} of a product),
     * intersected with the trace's known bounds for it and clipped to its branch and bound splits, where it has those.
     */
    private static Interval onDomain(int id, Node node, int side, Interval h, Trace trace) {
        if (trace.known != null && trace.known.containsKey(id)) h = h.intersect(trace.known.get(id));
        return trace.splits == null ? h : trace.splits.apply(id, node, side, h);
    }

    /** The number of nodes of the network's own chain (a residual addition counts as one). */
    int depth() { return nodes.size(); }

    /** The origin of the final walk (from the logits): after every node's. */
    int finalOrigin() { return origins.size(); }

    /** Elements of the coefficient tensor A one chunk of an intermediate CROWN pass may hold (64 MiB of float32). */
    static final long CHUNK_ELEMENTS = 16L << 20;

    /**
     * CROWN bounds on the values entering the node at {@code path} (shape {@code shape} per example); earlier nodes' bounds
     * are in the trace. The specification is ±I on those values: 2M rows for M units, walked back in chunks of rows, each in a
     * scope of its own, so that memory is bounded by {@link #CHUNK_ELEMENTS} whatever the layer width.
     */
    private Interval crownInterval(InputRegion region, List<Frame> path, Interval ibp, Trace trace) {
        Frame here = path.get(path.size() - 1);
        Node target = here.chain().get(here.index());
        int origin = origins.get(target);
        Tensor x = region.centre();
        long[] shape = ibp.exampleShape();
        long n = x.size(0), m = ibp.width(), widest = 1;
        // Which units to tighten: for a ReLU only those IBP leaves unstable in some example (a stable unit's relaxation is
        // exact already, and tighter bounds cannot make it unstable); for any other layer all of them.
        long[] units;
        if (Layers.isRelu(target)) {
            Tensor unstable = ibp.lo().flatten(1, -1).lt(0).logicalAnd(ibp.hi().flatten(1, -1).gt(0)).to(x.dtype()).sum(0, false).gt(0);
            boolean[] u = unstable.toBooleanArray();
            units = java.util.stream.IntStream.range(0, u.length).filter(i -> u[i]).asLongStream().toArray();
        } else {
            units = java.util.stream.LongStream.range(0, m).toArray();
        }
        if (trace.slopes != null) units = trace.slopes.units(origin, units);
        if (units.length == 0) return ibp;
        List<Long> reluUnits = new ArrayList<>();   // for α-CROWN: the layers with variables this walk crosses (ReLU, tanh, sigmoid, imported ones; −1: a residual block)
        for (Frame f : path) {
            for (int i = 0; i < f.index(); i++) {
                Node node = f.chain().get(i);
                node.prepare(trace);
                widest = Math.max(widest, trace.input(node).width());
                if (node instanceof Layers.Act act && act.optimizable()) reluUnits.add(trace.input(node).width());
                if (node instanceof Layers.Unit unit && unit.optimizable()) reluUnits.add(trace.input(node).width());
                if (node instanceof Layers.Fork) reluUnits.add(-1L);
            }
        }
        int k = units.length;
        // a chunk's rows start as [rows, M] (one example), then hold up to N·widest values each
        long chunk = Math.max(1, Math.min(2L * k, CHUNK_ELEMENTS / Math.max(m, n * widest)));
        // A graph is kept only where something is differentiated: training, or α-CROWN's slopes that this pass can reach.
        boolean grad = dev.tikhon.engine.Autograd.isGradEnabled() && (trace.slopes == null || trace.slopes.reaches(origin, n * 2L * k, reluUnits));
        Tensor pick = Tensor.fromLongs(units, k).to(x.device());
        Tensor lower = Tensor.zeros(x.dtype(), x.device(), n, 2L * k);
        List<Tensor> parts = new ArrayList<>();
        for (long start = 0; start < 2L * k; start += chunk) {
            long rows = Math.min(chunk, 2L * k - start);
            // one example's rows: the same for every example, walked once while the steps do not depend on the example
            long[] rowUnits = new long[(int) rows];
            for (int r = 0; r < rows; r++) rowUnits[r] = units[(int) ((start + r) % k)];
            trace.walk(origin, 2L * k, start, rows);
            if (grad) {   // differentiable (training): no nested scope, the graph must live on
                parts.add(backwardFrom(path, unitRows(start, rowUnits, k, shape, x), rowUnits, region, trace));
            } else {   // the chunk's rows too are made inside its scope, or each chunk's would live to the end
                try (dev.tikhon.engine.Scope s = dev.tikhon.engine.Scope.open(); dev.tikhon.engine.Autograd.Guard g = dev.tikhon.engine.Autograd.noGrad()) {
                    lower.narrow(1, start, rows).copy_(backwardFrom(path, unitRows(start, rowUnits, k, shape, x), rowUnits, region, trace));
                }
            }
        }
        if (grad) lower = Tensor.cat(parts, 1);
        Tensor lo = ibp.lo().flatten(1, -1), hi = ibp.hi().flatten(1, -1);
        lo = lo.indexCopy(1, pick, lower.narrow(1, 0, k)).reshape(withHead(n, shape));
        hi = hi.indexCopy(1, pick, lower.narrow(1, k, k).neg()).reshape(withHead(n, shape));
        return new Interval(lo, hi);
    }

    /**
     * Rows {@code start}, … of the specification [e_{u₁}; …; e_{u_k}; −e_{u₁}; …; −e_{u_k}] over the M units of values of
     * shape {@code shape}, as [1, rows, shape…] (one example's: the same for every example), built for this chunk alone:
     * the whole [2k, M] would be 2M² values for a layer of M units (10 GB at 36,864), whatever the chunk size.
     */
    private static Tensor unitRows(long start, long[] rowUnits, int k, long[] shape, Tensor like) {
        int rows = rowUnits.length;
        long m = 1;
        for (long d : shape) m *= d;
        long[] at = new long[rows];
        double[] sign = new double[rows];
        for (int r = 0; r < rows; r++) {
            at[r] = r * m + rowUnits[r];
            sign[r] = start + r < k ? 1 : -1;
        }
        Tensor values = Tensor.fromDoubles(sign, rows).to(like.dtype()).to(like.device());
        return Tensor.zeros(like.dtype(), like.device(), rows * m)
                .indexCopy_(0, Tensor.fromLongs(at, rows).to(like.device()), values).reshape(withHead(rows, shape)).unsqueeze(0);
    }

    /** The shape after its first axis. */
    private static long[] tail(long[] shape) { return java.util.Arrays.copyOfRange(shape, 1, shape.length); }

    static long[] withHead(long head, long[] shape) {
        long[] out = new long[shape.length + 1];
        out[0] = head;
        System.arraycopy(shape, 0, out, 1, shape.length);
        return out;
    }

    /**
     * Minimum over the region of A·(the values entering the node at {@code path}): the walk back from there to the input,
     * through each frame's earlier nodes, innermost frame first.
     */
    private Tensor backwardFrom(List<Frame> path, Tensor a, InputRegion region, Trace trace) {
        return backwardFrom(path, a, null, region, trace);
    }

    /**
     * The same walk from coefficients {@code a} [1 or N, S, …]: with a batch of 1 (rows the same for every example, as an
     * intermediate pass's ±eᵤ are) the steps that do not depend on the example ({@link Layers#sameForEveryExample}) are
     * taken once, and {@code a} is spread over the N examples before the first that does. {@code units}, where not null: the
     * one unit of the node's values each row is supported on (the ±eᵤ), kept through diagonal steps
     * ({@link Layers#keepsUnits}), so that a convolution reached with them places its kernel rows directly.
     */
    private Tensor backwardFrom(List<Frame> path, Tensor a, long[] units, InputRegion region, Trace trace) {
        long n = region.centre().size(0);
        Trace.Sum sum = new Trace.Sum(trace.rounding);
        for (int f = path.size() - 1; f >= 0; f--) {
            Frame frame = path.get(f);
            for (int i = frame.index() - 1; i >= 0; i--) {
                Node node = frame.chain().get(i);
                if (a.size(0) != n && !Layers.sameForEveryExample(node)) a = a.expand(withHead(n, tail(a.shape())));
                a = units != null && node instanceof Layers.Conv conv ? Rounding.backward(conv, a, units, trace, sum)
                        : Rounding.backward(node, a, trace, sum);
                if (!Layers.keepsUnits(node)) units = null;
            }
        }
        if (a.size(0) != n) a = a.expand(withHead(n, tail(a.shape())));
        if (trace.keepInputCoefficients) trace.inputCoefficients = a;   // the final walk's, for input splitting's branching
        Tensor zero = Tensor.zeros(a.dtype(), a.device(), a.size(0), a.size(1));
        Tensor lower = region.minimize(a, sum.value(zero));
        return trace.rounding ? lower.sub(Rounding.concretization(a, region, sum, lower)) : lower;
    }

    // ------------------------------------------------------------------ CROWN

    /** CROWN lower bounds of C·z over the region, [N, S]. */
    public Tensor crownLower(InputRegion region, Tensor spec, int crownUnits, LowerSlope alpha) {
        Trace trace = new Trace(alpha);
        forward(region, nodes.size(), crownUnits, trace);
        return finalWalk(spec, region, trace);
    }

    /**
     * CROWN's lower bounds of C·z over the region [N, S] (the larger of them and IBP's with C folded into the last layer,
     * over the same intermediate bounds, where that layer is linear), and the final walk's coefficients on the input
     * [N, S, …input shape]: what each input coordinate's width costs the bound, read by {@link InputSplitting}'s branching.
     */
    Tensor[] crownLowerWithInputCoefficients(InputRegion region, Tensor spec, int crownUnits) {
        Trace trace = new Trace(LowerSlope.ADAPTIVE);
        forward(region, nodes.size(), crownUnits, trace);
        trace.keepInputCoefficients = true;
        Tensor lower = finalWalk(spec, region, trace);
        Tensor ibp = foldedIbpLower(spec, trace);
        return new Tensor[]{ibp == null ? lower : lower.maximum(ibp), trace.inputCoefficients};
    }

    /**
     * α-CROWN lower bounds of C·z over the region, [N, S]: the first computation is CROWN's (adaptive slopes); after it
     * {@code steps} steps of Adam (step size {@code lr}) on every slope variable ({@link AlphaSlopes}) towards a larger sum
     * of the final bounds, each followed by a computation with the new slopes, the intermediate bounds included; each
     * bound's best over the {@code steps + 1} computations is kept. Runs with gradients on whatever the caller's mode;
     * each computation after the first in a scope of its own (the first makes the variables, in the caller's scope).
     */
    public Tensor alphaCrownLower(InputRegion region, Tensor spec, int crownUnits, int steps, double lr) {
        return alphaCrownLower(region, spec, crownUnits, steps, lr, NEVER);
    }

    /**
     * The same, stopping between two steps once {@code expired} says so (a time limit; asked after every computation, the
     * first included, so a chunk that starts after it fired still gets CROWN's bounds): the bounds are then the best of the
     * computations made, each sound, and at least CROWN's.
     */
    public Tensor alphaCrownLower(InputRegion region, Tensor spec, int crownUnits, int steps, double lr, java.util.function.BooleanSupplier expired) {
        return alphaCrownLower(region, spec, crownUnits, steps, lr, ALPHA_CHUNK_SLOPES, Stop.never(expired));
    }

    /** A stop hook that never fires. */
    static final java.util.function.BooleanSupplier NEVER = () -> false;

    /**
     * When an ascent stops before its last step. {@code threshold} NaN and no {@code done}: never for its bounds (the full
     * ascent, which branch and bound's intermediate bounds want); else an example is done, and leaves the batch being
     * optimized, once every one of its bounds that counts is above {@code threshold} ({@code idle} [N, S]: the rows that do
     * not count, null for none), or, where {@code done} is given, once it holds of the example's S best bounds so far.
     * {@code expired}: a time limit, asked between steps.
     */
    record Stop(double threshold, Tensor idle, java.util.function.BooleanSupplier expired, java.util.function.Predicate<double[]> done) {
        Stop(double threshold, Tensor idle, java.util.function.BooleanSupplier expired) { this(threshold, idle, expired, null); }

        static Stop never(java.util.function.BooleanSupplier expired) { return new Stop(Double.NaN, null, expired); }

        boolean freezes() { return !Double.isNaN(threshold) || done != null; }

        /** The same for the examples [start, start + length). */
        Stop narrow(long start, long length) { return idle == null ? this : new Stop(threshold, idle.narrow(0, start, length), expired, done); }

        /** Per example of {@code bounds} [n, S] (its best bounds so far), whether it is done: the step's one host read. */
        boolean[] doneOf(Tensor bounds, Tensor openIdle) {
            if (done == null) {
                Tensor counted = openIdle == null ? bounds : bounds.maskedFill(openIdle, Double.POSITIVE_INFINITY);
                return counted.minWithIndex(1)[0].gt(threshold).toBooleanArray();
            }
            int n = (int) bounds.size(0), s = (int) bounds.size(1);
            double[] all = bounds.to(DType.FLOAT64).flatten(0, -1).toDoubleArray();
            boolean[] out = new boolean[n];
            for (int i = 0; i < n; i++) out[i] = done.test(java.util.Arrays.copyOfRange(all, i * s, (i + 1) * s));
            return out;
        }
    }

    /**
     * α-CROWN whose ascent leaves an example once {@code done} holds of its S best bounds so far (in the specification's
     * order; read to the host once per step), and stops between steps once {@code expired} says so: for a property decided
     * by some of the rows (a VNN-LIB case, refuted by any one of its constraints), the ascent ends once it is decided. The
     * bounds are sound at every step, at least CROWN's, and a done example's no tighter than needed.
     */
    public Tensor alphaCrownLowerUntil(InputRegion region, Tensor spec, int crownUnits, int steps, double lr,
                                       java.util.function.Predicate<double[]> done, java.util.function.BooleanSupplier expired) {
        return alphaCrownLower(region, spec, crownUnits, steps, lr, ALPHA_CHUNK_SLOPES, new Stop(Double.NaN, null, expired, done));
    }

    /**
     * The same for a verdict, as α,β-CROWN stops early: examples that CROWN verifies, and examples no bound can verify
     * (some margin is ≤ 0 at the region's centre, which the region holds), keep CROWN's bounds; the others are optimized,
     * each example frozen at the first step where every bound of it with a non-zero specification row is positive: its
     * bounds stay the best so far and it leaves the batch, so that the later steps bound only the examples still open. The
     * bounds are then lower bounds no tighter than needed, still at least CROWN's, and the verdicts those of the full ascent.
     */
    public Tensor alphaCrownLowerUntilVerified(InputRegion region, Tensor spec, int crownUnits, int steps, double lr) {
        return alphaCrownLowerUntilVerified(region, spec, crownUnits, steps, lr, NEVER);
    }

    /**
     * C·z's upper ends at the points {@code x} [N, …] themselves (IBP over regions of radius 0), [N, S]: the forward pass's
     * values with their rounding added where it is accounted, so at least the exact network's there. What a counterexample
     * is checked by.
     */
    Tensor upperAt(Tensor x, Tensor spec) {
        return ibp(InputRegion.ball(x, 0, Norm.LINF), spec).hi();
    }

    /** The same, stopping between two steps once {@code expired} says so ({@link #alphaCrownLower(InputRegion, Tensor, int, int, double, java.util.function.BooleanSupplier)}). */
    public Tensor alphaCrownLowerUntilVerified(InputRegion region, Tensor spec, int crownUnits, int steps, double lr,
                                               java.util.function.BooleanSupplier expired) {
        Tensor idle = zeroRows(spec);
        Tensor crown = crownLower(region, spec, crownUnits, LowerSlope.ADAPTIVE);
        boolean[] verified = crown.maskedFill(idle, Double.POSITIVE_INFINITY).minWithIndex(1)[0].gt(0).toBooleanArray();
        boolean[] hopeless = hopeless(region, spec, 0);
        long[] rest = java.util.stream.IntStream.range(0, verified.length).filter(i -> !verified[i] && !hopeless[i]).asLongStream().toArray();
        if (rest.length == 0) return crown;
        Tensor index = Tensor.fromLongs(rest, rest.length).to(spec.device());
        Tensor alpha = alphaCrownLower(region.rows(index), spec.indexSelect(0, index), crownUnits, steps, lr, ALPHA_CHUNK_SLOPES,
                new Stop(0, idle.indexSelect(0, index), expired));
        return crown.indexCopy(0, index, alpha);
    }

    /**
     * The specification's zero rows, [N, S]: the true class against itself, bounded by 0 at best, so they do not count for
     * a verdict.
     */
    private static Tensor zeroRows(Tensor spec) { return spec.abs().flatten(2, -1).sum(2, false).eq(0); }

    /**
     * Per example, whether no bound over the region can exceed {@code threshold}: some margin (a non-zero row) is at most
     * that at the region's centre, which the region holds (IBP at radius 0: the margins there, widened by their own rounding
     * where it is accounted; NaN counts as hopeless). A misclassified image is hopeless at 0.
     */
    boolean[] hopeless(InputRegion region, Tensor spec, double threshold) {
        Interval atCentre = ibp(InputRegion.ball(region.centre(), 0, region.norm()), spec);
        return atCentre.hi().maskedFill(zeroRows(spec), Double.POSITIVE_INFINITY).minWithIndex(1)[0].gt(threshold).logicalNot()
                .toBooleanArray();
    }

    /**
     * Slope variables α-CROWN optimizes at once (4 Mi elements): examples are bounded independently, so a batch is split
     * into chunks of examples whose variables stay near this count. The graph of one computation holds tens of tensors of
     * each variable's size (about 1 GB per example for the test zoo's CNN on 8×8 inputs), and a batch's intermediate
     * passes tighten the union of its examples' unstable units, so one large chunk costs memory and rows that one
     * example at a time does not.
     */
    static final long ALPHA_CHUNK_SLOPES = 4L << 20;

    /**
     * The same, in chunks of examples: the first of one example, each next sized from the variables per example so far
     * so that it holds about {@code chunkSlopes} of them (all the rest where there were none).
     */
    Tensor alphaCrownLower(InputRegion region, Tensor spec, int crownUnits, int steps, double lr, long chunkSlopes) {
        return alphaCrownLower(region, spec, crownUnits, steps, lr, chunkSlopes, Stop.never(NEVER));
    }

    /**
     * Branch and bound's root: the examples given, in chunks, each frozen once all its bounds exceed {@code threshold}
     * (every row counts), stopping between steps once {@code expired} says so.
     */
    Tensor alphaCrownLowerAbove(InputRegion region, Tensor spec, int crownUnits, int steps, double lr, double threshold,
                                java.util.function.BooleanSupplier expired) {
        return alphaCrownLower(region, spec, crownUnits, steps, lr, ALPHA_CHUNK_SLOPES, new Stop(threshold, null, expired));
    }

    private Tensor alphaCrownLower(InputRegion region, Tensor spec, int crownUnits, int steps, double lr, long chunkSlopes, Stop stop) {
        long n = spec.size(0);
        if (n == 1) return alphaCrownLower(region, spec, crownUnits, steps, lr, new AlphaSlopes(), null, stop);
        Tensor out = Tensor.zeros(spec.dtype(), spec.device(), n, spec.size(1));
        long chunk = 1, elements = 0;
        for (long start = 0; start < n; ) {
            long len = Math.min(chunk, n - start);
            try (dev.tikhon.engine.Scope s = dev.tikhon.engine.Scope.open()) {
                AlphaSlopes slopes = new AlphaSlopes();
                out.narrow(0, start, len).copy_(alphaCrownLower(region.narrow(start, len), spec.narrow(0, start, len), crownUnits, steps, lr,
                        slopes, null, stop.narrow(start, len)));
                elements += slopes.all().stream().mapToLong(Tensor::numel).sum();
            }
            start += len;
            chunk = elements == 0 ? n : Math.max(1, Math.min(n, chunkSlopes * start / elements));
        }
        return out;
    }

    /** The same, with the variables in {@code slopes} (new): tests read them afterwards. */
    Tensor alphaCrownLower(InputRegion region, Tensor spec, int crownUnits, int steps, double lr, AlphaSlopes slopes) {
        return alphaCrownLower(region, spec, crownUnits, steps, lr, slopes, null, Stop.never(NEVER));
    }

    /** The same, stopping as {@code stop} says (tests read {@link AlphaSlopes#bounded} afterwards). */
    Tensor alphaCrownLower(InputRegion region, Tensor spec, int crownUnits, int steps, double lr, AlphaSlopes slopes, Stop stop) {
        return alphaCrownLower(region, spec, crownUnits, steps, lr, slopes, null, stop);
    }

    /**
     * The same; where {@code tightest} is given (empty), it receives per splittable ReLU layer (by index) the intersection of
     * that layer's input bounds over all steps, each sound: α-CROWN's intermediate bounds, for branch and bound's domains.
     */
    Tensor alphaCrownLower(InputRegion region, Tensor spec, int crownUnits, int steps, double lr, AlphaSlopes slopes,
                           Map<Integer, Interval> tightest) {
        return alphaCrownLower(region, spec, crownUnits, steps, lr, slopes, tightest, Stop.never(NEVER));
    }

    /**
     * The ascent. Where {@code stop} freezes, an example whose bounds all exceed its threshold after a computation is done: its
     * best bounds stand, and the later computations bound only the examples still open (the region's and specification's
     * rows of those, read in each step's scope, and the leaves of their rows of the variables, which Adam steps in place;
     * the variables, their moments and {@code best} keep the whole batch's size, so nothing grows with the narrowing). The
     * examples are independent, so an open example's steps are those of the full ascent. One host read per step: the
     * open examples' verdicts, where it freezes.
     */
    Tensor alphaCrownLower(InputRegion region, Tensor spec, int crownUnits, int steps, double lr, AlphaSlopes slopes,
                           Map<Integer, Interval> tightest, Stop stop) {
        if (tightest != null && stop.freezes()) throw new IllegalArgumentException("intermediate bounds need every example's ascent");
        Tensor best = null;
        Tensor open = null;   // the examples still optimized, as rows of the batch (INT64, in the caller's scope); null: all
        long[] openRows = null;
        List<Tensor> alphas = List.of(), m = new ArrayList<>(), v = new ArrayList<>();
        for (int k = 0; k <= steps; k++) {
            boolean first = k == 0;   // CROWN's slopes; it makes the variables, so it runs in the caller's scope
            long[] stillOpen = null;
            try (dev.tikhon.engine.Scope it = first ? null : dev.tikhon.engine.Scope.open();
                 dev.tikhon.engine.Autograd.Guard g = dev.tikhon.engine.Autograd.enableGrad()) {
                if (!first) slopes.renewLeaves(open);
                InputRegion r = open == null ? region : region.rows(open);
                Trace trace = new Trace(LowerSlope.ADAPTIVE, slopes);
                forward(r, nodes.size(), crownUnits, trace);
                Tensor bound = finalWalk(open == null ? spec : spec.indexSelect(0, open), r, trace);
                slopes.bounded.add(bound.size(0));
                if (tightest != null) {   // the first step's copies live in the caller's scope; later steps tighten them in place
                    for (int layer : splittableLayers()) {
                        Interval in = splitInterval(trace, layer);
                        Interval known = tightest.get(layer);
                        if (known == null) {
                            tightest.put(layer, new Interval(in.lo().detach().copy(), in.hi().detach().copy()));
                        } else {
                            known.lo().copy_(known.lo().maximum(in.lo().detach()));
                            known.hi().copy_(known.hi().minimum(in.hi().detach()));
                        }
                    }
                }
                Tensor mine;   // the open examples' best bounds
                if (first) {
                    best = bound.detach().copy();
                    mine = best;
                    slopes.freeze();
                    alphas = slopes.all();
                    if (alphas.isEmpty()) return best;
                    for (Tensor alpha : alphas) {
                        m.add(alpha.detach().zerosLike());
                        v.add(alpha.detach().zerosLike());
                    }
                } else if (open == null) {
                    mine = best.copy_(best.maximum(bound.detach()));   // every slope in [0, 1] gives a sound bound
                } else {
                    mine = best.indexSelect(0, open).maximum(bound.detach());
                    best.indexCopy_(0, open, mine);
                }
                if (k == steps || stop.expired().getAsBoolean()) break;
                if (stop.freezes()) {
                    boolean[] done = stop.doneOf(mine, stop.idle() == null ? null : open == null ? stop.idle() : stop.idle().indexSelect(0, open));
                    long[] rows = openRows == null ? java.util.stream.LongStream.range(0, done.length).toArray() : openRows;
                    long[] left = java.util.stream.IntStream.range(0, done.length).filter(i -> !done[i]).mapToLong(i -> rows[i]).toArray();
                    if (left.length == 0) break;   // every example verified
                    if (left.length < done.length) stillOpen = left;
                }
                List<Tensor> grads = dev.tikhon.engine.Autograd.grad(List.of(bound.sum()), first ? alphas : slopes.leaves(), null, false, false);
                for (int i = 0; i < alphas.size(); i++) {
                    Tensor alpha = alphas.get(i).detach();   // the storage, stepped in place
                    if (open == null) {
                        dev.tikhon.optim.Adam.step(alpha, m.get(i), v.get(i), grads.get(i).neg(), k + 1, lr, 0.9, 0.999, 1e-8);   // ascent
                        alpha.clamp_(0, 1);
                    } else {   // the open rows, stepped as the whole batch's would be (Adam is elementwise), then put back
                        Tensor a = alpha.indexSelect(0, open), mi = m.get(i).indexSelect(0, open), vi = v.get(i).indexSelect(0, open);
                        dev.tikhon.optim.Adam.step(a, mi, vi, grads.get(i).neg(), k + 1, lr, 0.9, 0.999, 1e-8);
                        a.clamp_(0, 1);
                        alpha.indexCopy_(0, open, a);
                        m.get(i).indexCopy_(0, open, mi);
                        v.get(i).indexCopy_(0, open, vi);
                    }
                }
            }
            if (stillOpen != null) {   // in the caller's scope: the rows the next steps bound
                openRows = stillOpen;
                open = Tensor.fromLongs(openRows, openRows.length).to(spec.device());
            }
        }
        return best;
    }

    /**
     * The walk from the logits' specification C [N, S, K] down to the input, over a forward pass's trace: CROWN's lower
     * bounds of C·z, [N, S] (with the splits' β where set).
     */
    Tensor finalWalk(Tensor spec, InputRegion region, Trace trace) {
        trace.walk(finalOrigin(), spec.size(1), 0, spec.size(1));
        return backwardFrom(List.of(new Frame(nodes, nodes.size())), spec, region, trace);
    }

    /**
     * The forward pass of a bound computation over domains: row n of the batch is bounded on the inputs of the region's
     * row n where the ReLU splits of row n hold ({@link Splits}); the trace holds every layer's input bounds, for
     * branching, and their relaxations, made here in the caller's scope so that {@link #finalWalk}s in nested scopes
     * only read them. {@code slopes}: the final walk's α variables ({@link AlphaSlopes#finalWalkOnly}), or null; {@code known}:
     * bounds on layers' inputs that hold on every domain (the root's α-CROWN ones), or null.
     */
    Trace forwardOnDomains(InputRegion region, int crownUnits, Splits splits, AlphaSlopes slopes, Map<Integer, Interval> known) {
        Trace trace = new Trace(LowerSlope.ADAPTIVE, slopes, splits);
        trace.known = known;
        forward(region, nodes.size(), crownUnits, trace);
        for (Node node : nodes) node.prepare(trace);
        return trace;
    }

    /**
     * Interval bounds of C·z from a forward pass's trace: the last layer's input box with C folded into the layer (as
     * {@link #ibp} does), lower ends [N, S]; null when the last layer is not linear.
     */
    Tensor foldedIbpLower(Tensor spec, Trace trace) {
        Node last = nodes.get(nodes.size() - 1);
        return last instanceof Layers.Dense d ? folded(d, trace.input(last), spec, trace).lo() : null;
    }

    /**
     * The ids of the ReLUs branch and bound can split, in increasing order: those of the network's own chain (their index
     * there) and those inside forks (residual blocks, imported skip connections and concatenations; numbered from
     * {@link #depth} on, in the forward pass's order).
     */
    List<Integer> reluLayers() {
        List<Integer> out = new ArrayList<>();
        splitNodes.forEach((id, node) -> { if (Layers.isRelu(node)) out.add(id); });
        return out;
    }

    /**
     * The ids of the activations branch and bound can split, in increasing order (numbered as {@link #reluLayers}, inside
     * forks too): the ReLUs and the other activations with a linear relaxation (tanh, sigmoid, the imported
     * {@link Layers.Unit}s), whose input interval a split cuts at a point.
     */
    List<Integer> splittableLayers() {
        return new ArrayList<>(splitNodes.keySet());
    }

    /** Per splittable activation (by id), the per-example shape of its input (from an interval pass on the region's first row). */
    Map<Integer, long[]> splittableInputShapes(InputRegion region) {
        Trace trace = new Trace(LowerSlope.ADAPTIVE);
        try (dev.tikhon.engine.Scope s = dev.tikhon.engine.Scope.open(); dev.tikhon.engine.Autograd.Guard g = dev.tikhon.engine.Autograd.noGrad()) {
            forward(region.narrow(0, 1), nodes.size(), 0, trace);
            Map<Integer, long[]> out = new java.util.HashMap<>();
            for (int i : splittableLayers()) out.put(i, splitInterval(trace, i).exampleShape());
            return out;
        }
    }

    /** One forward pass's trace: every node's input bounds (tests read those inside residual branches). */
    Trace forwardTrace(InputRegion region, int crownUnits) {
        Trace trace = new Trace(LowerSlope.ADAPTIVE);
        forward(region, nodes.size(), crownUnits, trace);
        return trace;
    }

    /**
     * Layer {@code index} of the network's own chain; from {@link #depth} on, the splittable activation inside a fork of
     * that id ({@link #splittableLayers}).
     */
    Node node(int index) {
        if (index < nodes.size()) return nodes.get(index);
        Node node = splitNodes.get(index);
        if (node == null) throw new IndexOutOfBoundsException("no splittable node " + index);
        return node;
    }

    /** CROWN lower and upper bounds of C·z over the region, [N, S] each. */
    public Interval crown(InputRegion region, Tensor spec, int crownUnits, LowerSlope alpha) {
        long s = spec.size(1);
        Tensor both = crownLower(region, Tensor.cat(List.of(spec, spec.neg()), 1), crownUnits, alpha);
        return new Interval(both.narrow(1, 0, s), both.narrow(1, s, s).neg());
    }

    /** CROWN with the defaults: CROWN-tightened intermediate bounds up to 2,048 units, adaptive lower slopes. */
    public Interval crown(InputRegion region, Tensor spec) {
        return crown(region, spec, DEFAULT_CROWN_UNITS, LowerSlope.ADAPTIVE);
    }
}
