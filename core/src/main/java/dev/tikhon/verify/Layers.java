package dev.tikhon.verify;

import dev.tikhon.engine.ConvGeometry;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;

import java.util.ArrayList;
import java.util.List;

/**
 * The verifier's layers. Affine layers (linear, convolution, evaluation-mode batch norm, flatten, permutations, slices,
 * average pooling) pass intervals in centre/radius form and linear bounds backward exactly, by their transposes.
 * Activations and max pooling pass intervals through their endpoints (they are monotone) and linear bounds
 * through a {@link Relaxation} of each unit over its recorded input bounds; the activations of imported models
 * ({@link Pointwise}, some not monotone) pass intervals through their exact images. A {@link Fork} joins chains that
 * start from one value: a residual addition sums them both ways, a concatenation joins their intervals and gives each
 * chain its slice of the coefficients.
 */
final class Layers {
    private Layers() {}

    /** Lifts a per-example tensor [N, …] to broadcast over the specification rows: [N, 1, …]. */
    static Tensor rows(Tensor t) { return t.unsqueeze(1); }

    /** A per-example shape [N, …] with {@code rows} specification rows after the batch: [N, rows, …]. */
    static long[] withRows(long[] shape, long rows) {
        long[] out = new long[shape.length + 1];
        out[0] = shape[0];
        out[1] = rows;
        System.arraycopy(shape, 1, out, 2, shape.length - 1);
        return out;
    }

    /**
     * Whether the node's backward step is the same for every example and takes coefficients of any batch, 1 included: the
     * affine layers whose maps do not depend on the example and the moves of values that read the batch from the
     * coefficients (not a reshape, which reads it from its recorded input).
     */
    static boolean sameForEveryExample(Node node) {
        return node instanceof Dense || node instanceof Conv || node instanceof ChannelAffine || node instanceof Elementwise
                || node instanceof Flatten || node instanceof Permute || node instanceof Slice || node instanceof AvgPool;
    }

    /** Whether the node's backward step is diagonal: a row supported on one unit of its output stays on that unit of its input. */
    static boolean keepsUnits(Node node) {
        return node instanceof ChannelAffine || node instanceof Elementwise;
    }

    /** y = x Wᵀ + b on [N, in]. */
    record Dense(Tensor weight, Tensor bias) implements Node {
        @Override public Interval ibp(Interval in, Trace trace) {
            trace.input(this, in);
            return Interval.ofCentre(Ops.linear(in.centre(), weight, bias), Ops.linear(in.radius(), weight.abs(), null));
        }

        @Override public Tensor backward(Tensor a, Trace trace, Trace.Sum sum) {
            if (bias != null) sum.add(a.matmul(bias));
            return a.matmul(weight);
        }

        /**
         * The last layer with the specification folded in: the rows of C·W and C·b, per example, so that interval
         * propagation bounds each margin directly instead of subtracting two independently bounded logits.
         */
        Interval ibpFolded(Interval in, Tensor spec, Trace trace) {
            trace.input(this, in);
            Tensor w = spec.matmul(weight);   // [N, S, in]
            Tensor mu = w.matmul(in.centre().unsqueeze(2)).squeeze(2), r = w.abs().matmul(in.radius().unsqueeze(2)).squeeze(2);
            if (bias != null) mu = mu.add(spec.matmul(bias));
            return Interval.ofCentre(mu, r);
        }

        /**
         * Exact ℓp-ball bounds for this layer applied to the balls of centres {@code centre} and radii {@code eps} (the input
         * region's, or its image through the layers before: BoundedNetwork.ballAt), optionally folded with a spec.
         */
        Interval overBall(Tensor centre, Tensor eps, dev.tikhon.attack.Norm norm, Tensor spec) {
            Tensor x = centre.flatten(1, -1);
            Tensor w = spec == null ? weight.unsqueeze(0) : spec.matmul(weight);   // [N or 1, S, in]
            Tensor mu = w.matmul(x.unsqueeze(2)).squeeze(2);
            if (bias != null) mu = mu.add(spec == null ? bias : spec.matmul(bias));
            Tensor r = w.norm(norm.dualP(), new long[]{2}, false).mul(eps.unsqueeze(1));
            return Interval.ofCentre(mu, r);
        }
    }

    /**
     * 2-D convolution, NCHW, of any {@link ConvGeometry}: per-axis stride, padding and dilation, and groups (depthwise:
     * groups = channels). It is linear, so intervals pass as centre conv(μ) + b and radius conv_|W|(r) (the absolute
     * kernel with the same geometry: each output is a weighted sum of its own group's inputs), and linear bounds pass
     * backward exactly through its transpose, the transposed convolution with the same kernel and groups.
     */
    record Conv(Tensor weight, Tensor bias, ConvGeometry geometry) implements Node {
        Conv(Tensor weight, Tensor bias, int stride, int padding) {
            this(weight, bias, ConvGeometry.square(stride, padding));
        }

        @Override public Interval ibp(Interval in, Trace trace) {
            trace.input(this, in);
            return Interval.ofCentre(geometry.apply(in.centre(), weight, bias), geometry.apply(in.radius(), weight.abs(), null));
        }

        @Override public Tensor backward(Tensor a, Trace trace, Trace.Sum sum) {
            long[] in = trace.input(this).exampleShape(), s = a.shape();
            long n = s[0], rows = s[1];
            if (bias != null) sum.add(a.sum(-1, false).sum(-1, false).matmul(bias));
            Tensor back = geometry.transpose(a.reshape(n * rows, s[2], s[3], s[4]), weight, in[1], in[2]);
            return back.reshape(n, rows, in[0], in[1], in[2]);
        }

        /**
         * {@link #backward} for coefficients [B, S, C_out, h, w] whose row r is supported on the one output unit
         * {@code units[r]} = (c, i, j) (flattened (C_out, h, w) order), with value v there: the step back is v·W[c] placed at
         * (i·stride, j·stride) of the padded input, dilated, cropped to the input, and v·b[c]. Written by index, where the
         * transposed convolution spends C_out·h·w multiply-adds per row on zeros (a CROWN pass starting on this layer's
         * values: the ±eᵤ of every unstable unit).
         */
        Tensor backwardUnitRows(Tensor a, long[] units, Trace trace, Trace.Sum sum) {
            long[] in = trace.input(this).exampleShape(), s = a.shape();
            long b = s[0], rows = s[1], cOut = s[2], w = s[4], positions = s[3] * s[4];
            long groups = geometry.groups(), cIn = weight.size(1), kh = weight.size(2), kw = weight.size(3), k = cIn * kh * kw;
            long[] stride = geometry.stride(), pad = geometry.padding(), dil = geometry.dilation();
            long hp = in[1] + 2 * pad[0], wp = in[2] + 2 * pad[1], canvas = in[0] * hp * wp;
            long[] base = new long[(int) (groups * k)];   // kernel entry (g, ci, y, x) in the padded input of a unit at (0, 0)
            for (int g = 0, e = 0; g < groups; g++) {
                for (long ci = 0; ci < cIn; ci++) {
                    for (long y = 0; y < kh; y++) {
                        for (long x = 0; x < kw; x++) base[e++] = ((g * cIn + ci) * hp + y * dil[0]) * wp + x * dil[1];
                    }
                }
            }
            long[] channel = new long[(int) rows], group = new long[(int) rows], offset = new long[(int) rows];
            for (int r = 0; r < rows; r++) {
                long c = units[r] / positions, p = units[r] % positions;
                channel[r] = c;
                group[r] = c / (cOut / groups);
                offset[r] = r * canvas + (p / w) * stride[0] * wp + (p % w) * stride[1];
            }
            dev.tikhon.engine.Device device = a.device();
            Tensor c = Tensor.fromLongs(channel, rows).to(device);
            Tensor at = Tensor.fromLongs(base, groups, k).to(device).indexSelect(0, Tensor.fromLongs(group, rows).to(device))
                    .add(Tensor.fromLongs(offset, rows, 1).to(device));                                          // [rows, k]
            if (b > 1) {   // example e's rows after the e earlier examples' canvases
                long[] shift = new long[(int) b];
                for (int e = 0; e < b; e++) shift[e] = e * rows * canvas;
                at = at.unsqueeze(0).add(Tensor.fromLongs(shift, b, 1, 1).to(device));
            }
            Tensor v = a.flatten(2, -1).gather(2, Tensor.fromLongs(units, 1, rows, 1).to(device).expand(b, rows, 1)).squeeze(2);  // [B, rows]
            if (bias != null) sum.add(v.mul(bias.indexSelect(0, c)));
            Tensor values = weight.reshape(cOut, k).indexSelect(0, c).unsqueeze(0).mul(v.unsqueeze(2));           // [B, rows, k]
            return Tensor.zeros(a.dtype(), device, b * rows * canvas).indexCopy(0, at.flatten(0, -1), values.flatten(0, -1))
                    .reshape(b, rows, in[0], hp, wp).narrow(3, pad[0], in[1]).narrow(4, pad[1], in[2]);
        }

        /** Exact ℓp-ball bounds of this convolution applied to the balls of centres x₀ and radii ε: centre conv(x₀), radius ε‖row‖_q. */
        Interval overBall(Tensor x, Tensor eps, dev.tikhon.attack.Norm norm) {
            Tensor mu = geometry.apply(x, weight, bias);
            double q = norm.dualP();
            // ‖row‖_q^q of every output unit, borders included: the convolution of a ones image with |W|^q.
            Tensor ones = Tensor.ones(x.dtype(), x.device(), 1, x.size(1), x.size(2), x.size(3));
            Tensor rowNorm = geometry.apply(ones, weight.abs().pow(q), null).pow(1 / q);
            return Interval.ofCentre(mu, rowNorm.mul(InputRegion.perExample(eps, mu.dim())));
        }
    }

    /**
     * A per-channel affine map y = scale·x + shift, channels on dimension 1 of [N, C, H, W] or [N, D] (evaluation-mode
     * batch norm, input normalization); scale and shift are [C], or [1] for one pair applied to every channel.
     */
    record ChannelAffine(Tensor scale, Tensor shift) implements Node {
        /** {@code t} [C] shaped to broadcast along {@code axis} of a tensor with {@code dims} dimensions. */
        private static Tensor bc(Tensor t, int dims, int axis) {
            long[] shape = new long[dims];
            java.util.Arrays.fill(shape, 1);
            shape[axis] = t.size(0);
            return t.reshape(shape);
        }

        /** The map itself on a tensor [N, C, …]. */
        Tensor apply(Tensor x) {
            int d = x.dim();
            return x.mul(bc(scale, d, 1)).add(bc(shift, d, 1));
        }

        @Override public Interval ibp(Interval in, Trace trace) {
            trace.input(this, in);
            int d = in.centre().dim();
            return Interval.ofCentre(in.centre().mul(bc(scale, d, 1)).add(bc(shift, d, 1)), in.radius().mul(bc(scale.abs(), d, 1)));
        }

        @Override public Tensor backward(Tensor a, Trace trace, Trace.Sum sum) {
            // a is [N, S, C, …]: the channel is dimension 2; with one pair, Σ a·shift needs the shift on every element
            int d = a.dim();
            sum.add(Trace.sumTail(a.mul(bc(shift, d, 2))));
            return a.mul(bc(scale, d, 2));
        }
    }

    /**
     * y = x·scale + shift elementwise, scale and shift broadcasting against the input [N, …] without changing its shape
     * (an imported arithmetic with a constant).
     */
    record Elementwise(Tensor scale, Tensor shift) implements Node {
        @Override public Interval ibp(Interval in, Trace trace) {
            long[] shape = in.centre().shape();
            // a constant with its own batch axis (> 1) would not line up with a backward walk's [N, S, …]
            boolean perExample = scale.dim() == shape.length && scale.size(0) != 1 || shift.dim() == shape.length && shift.size(0) != 1;
            Tensor centre = in.centre().mul(scale).add(shift);
            if (perExample || !java.util.Arrays.equals(centre.shape(), shape)) {
                throw new dev.tikhon.UserError("the verifier cannot bound an elementwise arithmetic with a constant of shape "
                        + java.util.Arrays.toString(scale.dim() >= shift.dim() ? scale.shape() : shift.shape()) + " on inputs of shape "
                        + java.util.Arrays.toString(shape) + ": the constant must broadcast without changing the shape or the batch");
            }
            trace.input(this, in);
            return Interval.ofCentre(centre, in.radius().mul(scale.abs()));
        }

        @Override public Tensor backward(Tensor a, Trace trace, Trace.Sum sum) {
            // a is [N, S, …input]: right-aligned broadcasting puts the constants on the input's axes
            sum.add(Trace.sumTail(a.mul(shift)));
            return a.mul(scale);
        }
    }

    /** [N, …] → [N, D]. */
    record Flatten() implements Node {
        @Override public Interval ibp(Interval in, Trace trace) {
            trace.input(this, in);
            return new Interval(in.lo().flatten(1, -1), in.hi().flatten(1, -1));
        }

        @Override public Tensor backward(Tensor a, Trace trace, Trace.Sum sum) {
            long[] in = trace.input(this).exampleShape();
            long[] shape = new long[in.length + 2];
            shape[0] = a.size(0);
            shape[1] = a.size(1);
            System.arraycopy(in, 0, shape, 2, in.length);
            return a.reshape(shape);
        }
    }

    /** A permutation of the axes, the batch kept first (output axis i is input axis perm[i]): it moves values, exactly. */
    record Permute(long[] perm) implements Node {
        @Override public Interval ibp(Interval in, Trace trace) {
            trace.input(this, in);
            return new Interval(in.lo().permute(perm), in.hi().permute(perm));
        }

        @Override public Tensor backward(Tensor a, Trace trace, Trace.Sum sum) {
            // a is [N, S, …output]: input axis d ≥ 1 is output axis inverse[d], at a's axis 1 + inverse[d]
            long[] back = new long[perm.length + 1];
            back[1] = 1;
            for (int i = 1; i < perm.length; i++) back[1 + (int) perm[i]] = 1 + i;
            return a.permute(back);
        }
    }

    /**
     * An imported reshape that keeps the batch ({@link dev.tikhon.onnx.OnnxLayers.Reshape#keepsBatch}: each example's values
     * in the same row-major order, another shape; with a transpose, ShuffleNet's channel shuffle): intervals reshaped,
     * coefficients reshaped back to the input's shape. Exact both ways: it only moves values.
     */
    record Reshape(dev.tikhon.onnx.OnnxLayers.Reshape reshape) implements Node {
        @Override public Interval ibp(Interval in, Trace trace) {
            trace.input(this, in);
            return in.map(reshape::forward);
        }

        @Override public Tensor backward(Tensor a, Trace trace, Trace.Sum sum) {
            return a.reshape(withRows(trace.input(this).lo().shape(), a.size(1)));
        }
    }

    /**
     * The entries {@code start} to {@code end} of one axis other than the batch ({@link dev.tikhon.onnx.OnnxLayers.Slice},
     * its bounds resolved against the input's shape as its forward pass resolves them): a coordinate projection. Intervals
     * are sliced; backward, the coefficients on the slice are placed into zeros of the input's shape (the other entries do
     * not reach the output). Exact both ways: it only moves values.
     */
    record Slice(dev.tikhon.onnx.OnnxLayers.Slice slice) implements Node {
        @Override public Interval ibp(Interval in, Trace trace) {
            trace.input(this, in);
            long[] r = slice.range(in.lo().shape());
            return new Interval(in.lo().narrow((int) r[0], r[1], r[2]), in.hi().narrow((int) r[0], r[1], r[2]));
        }

        @Override public Tensor backward(Tensor a, Trace trace, Trace.Sum sum) {
            long[] in = trace.input(this).lo().shape();
            long[] r = slice.range(in);
            int axis = (int) r[0] + 1;   // a is [N, S, …]: one axis more than the values
            long start = r[1], length = r[2], size = in[(int) r[0]];
            List<Tensor> parts = new ArrayList<>();
            if (start > 0) parts.add(zeros(a, axis, start));
            parts.add(a);
            if (start + length < size) parts.add(zeros(a, axis, size - start - length));
            return parts.size() == 1 ? a : Tensor.cat(parts, axis);
        }

        /** Zeros of {@code a}'s shape, type and device with {@code n} entries along {@code axis}. */
        private static Tensor zeros(Tensor a, int axis, long n) {
            long[] s = a.shape();
            s[axis] = n;
            return Tensor.zeros(a.dtype(), a.device(), s);
        }
    }

    /** Average pooling over k×k windows with stride k, or over the whole image (k = 0). Positive weights: monotone. */
    record AvgPool(int kernel) implements Node {
        /** The kernel of global average pooling that keeps the pixel axes ([N, C, 1, 1], ONNX's GlobalAveragePool); 0 drops them. */
        static final int GLOBAL_KEEP_DIMS = -1;

        @Override public Interval ibp(Interval in, Trace trace) {
            trace.input(this, in);
            return in.map(t -> kernel == 0 ? Ops.globalAvgPool(t) : kernel == GLOBAL_KEEP_DIMS ? t.mean(3, true).mean(2, true)
                    : Ops.avgPool2d(t, kernel, kernel));
        }

        @Override public Tensor backward(Tensor a, Trace trace, Trace.Sum sum) {
            long[] in = trace.input(this).exampleShape();
            if (kernel == 0 || kernel == GLOBAL_KEEP_DIMS) {
                Tensor perChannel = kernel == 0 ? a.unsqueeze(3).unsqueeze(4) : a;   // [N, S, C, 1, 1]
                return perChannel.expand(a.size(0), a.size(1), in[0], in[1], in[2]).div((double) in[1] * in[2]);
            }
            return spread(a.unsqueeze(5).expand(withTail(a.shape(), (long) kernel * kernel)), kernel, in).div((double) kernel * kernel);
        }
    }

    /**
     * Max pooling over k×k windows with stride k. Over a window with input bounds [lⱼ, uⱼ], let k* be the unit of
     * largest lower bound: y = max x ≥ x_k* always; y ≤ x_k* when l_k* ≥ uⱼ for every other j (the window's maximum
     * is decided), and y ≤ maxⱼ uⱼ otherwise.
     */
    record MaxPool(int kernel) implements Node {
        @Override public Interval ibp(Interval in, Trace trace) {
            trace.input(this, in);
            return in.map(t -> Ops.maxPool2d(t, kernel, kernel));
        }

        @Override public boolean affine() { return false; }

        @Override public void prepare(Trace trace) { relaxation(trace); }

        /** [choice one-hot over each window, decided (0/1), window max of upper bounds]. */
        private Tensor[] relaxation(Trace trace) {
            return trace.cached(this, () -> {
                Interval in = trace.input(this);
                Tensor l = windows(in.lo(), kernel), u = windows(in.hi(), kernel);
                Tensor choice = l.argmax(4).oneHot((long) kernel * kernel).to(l.dtype());
                Tensor chosen = choice.gt(0.5);
                Tensor lChosen = l.mul(choice).sum(4, false);
                Tensor uOthers = u.maskedFill(chosen, Double.NEGATIVE_INFINITY).amax(4, false);
                Tensor decided = uOthers.le(lChosen).to(l.dtype());
                return new Tensor[]{choice, decided, u.amax(4, false)};
            });
        }

        @Override public Tensor backward(Tensor a, Trace trace, Trace.Sum sum) {
            Tensor[] r = relaxation(trace);
            Tensor decided = rows(r[1]);
            Tensor pos = a.clampMin(0), neg = a.clampMax(0);
            sum.add(Trace.sumTail(neg.mul(decided.neg().add(1)).mul(rows(r[2]))));
            Tensor coefficient = pos.add(neg.mul(decided));
            return spread(coefficient.unsqueeze(5).mul(rows(r[0])), kernel, trace.input(this).exampleShape());
        }
    }

    /** [N, C, H, W] → [N, C, H/k, W/k, k²]: the k×k windows of stride k (trailing rows and columns dropped, as pooling does). */
    static Tensor windows(Tensor x, int k) {
        long n = x.size(0), c = x.size(1), h = x.size(2) / k, w = x.size(3) / k;
        return x.narrow(2, 0, h * k).narrow(3, 0, w * k).reshape(n, c, h, k, w, k).permute(0, 1, 2, 4, 3, 5)
                .reshape(n, c, h, w, (long) k * k);
    }

    /** The inverse of {@link #windows} with the specification rows: [N, S, C, H', W', k²] → [N, S, C, H, W], zeros where pooling dropped. */
    static Tensor spread(Tensor a, int k, long[] in) {
        long n = a.size(0), s = a.size(1), c = a.size(2), h = a.size(3), w = a.size(4);
        Tensor x = a.reshape(n, s, c, h, w, k, k).permute(0, 1, 2, 3, 5, 4, 6).reshape(n, s, c, h * k, w * k);
        if (h * k < in[1]) x = Tensor.cat(List.of(x, Tensor.zeros(x.dtype(), x.device(), n, s, c, in[1] - h * k, w * k)), 3);
        if (w * k < in[2]) x = Tensor.cat(List.of(x, Tensor.zeros(x.dtype(), x.device(), n, s, c, in[1], in[2] - w * k)), 4);
        return x;
    }

    static long[] withTail(long[] shape, long last) {
        long[] out = java.util.Arrays.copyOf(shape, shape.length + 1);
        out[shape.length] = last;
        return out;
    }

    /** Whether {@code node} is a ReLU layer. */
    static boolean isRelu(Node node) {
        return node instanceof Act act && act.kind() == Activation.Kind.RELU;
    }

    /** An elementwise non-decreasing activation. */
    record Act(Activation.Kind kind) implements Node {
        @Override public Interval ibp(Interval in, Trace trace) {
            trace.input(this, in);
            Activation f = new Activation(kind);
            return in.map(f::forward);
        }

        @Override public boolean affine() { return kind == Activation.Kind.IDENTITY; }

        /** The lines of the walk under way (α-CROWN's where it has variables here). */
        Relaxation relaxation(Trace trace) {
            if (optimized(trace)) {   // α-CROWN: the slopes of the walk under way, not cached (they differ from walk to walk)
                Interval in = trace.input(this);
                Tensor l = in.lo().contiguous(), u = in.hi().contiguous();
                if (kind != Activation.Kind.RELU) {   // tanh, sigmoid: the tangent points, as fractions of [l, u]
                    Pointwise f = Pointwise.of(kind);
                    Tensor[] t = trace.slopes.tangents(this, trace.origin, trace.rows, trace.rowStart, trace.rowCount, l,
                            () -> f.startFractions(in));
                    return t != null ? f.alphaLines(in, t[0], t[1]) : fixed(trace);
                }
                Tensor slopes = trace.slopes.slopes(this, trace.origin, trace.rows, trace.rowStart, trace.rowCount, l, u);
                if (slopes != null) return Relaxation.relu(l, u, trace.alpha, slopes);
            }
            return fixed(trace);
        }

        /** The relaxation with the trace's fixed lower-slope rule, made once per bound computation. */
        private Relaxation fixed(Trace trace) { return trace.cached(this, () -> Relaxation.of(kind, trace.input(this), trace.alpha)); }

        private boolean optimized(Trace trace) { return trace.slopes != null && optimizable(); }

        /** Whether α-CROWN has variables here: ReLU's lower slopes, tanh's and sigmoid's tangent points. */
        boolean optimizable() { return kind == Activation.Kind.RELU || kind == Activation.Kind.TANH || kind == Activation.Kind.SIGMOID; }

        /** Makes the fixed-slope relaxation in the caller's scope (α-CROWN's layers also read it where they have no variables). */
        @Override public void prepare(Trace trace) { if (!affine()) fixed(trace); }

        @Override public Tensor backward(Tensor a, Trace trace, Trace.Sum sum) {
            if (kind == Activation.Kind.IDENTITY) return a;
            if (trace.coefficients != null) trace.coefficients.put(this, a);
            Relaxation r = relaxation(trace);
            sum.add(r.constants(a));
            Tensor out = r.coefficients(a);
            if (trace.splits != null) out = trace.splits.withBeta(this, -1, out, trace.input(this), sum, trace.rounding);
            if (trace.rounding) sum.add(Rounding.relaxationTerm(a, out, r, trace.input(this)));
            return out;
        }
    }

    /**
     * An imported scalar activation ({@link Pointwise}: Clip, HardSigmoid, LeakyRelu, PRelu, Elu, HardSwish, SiLU, GELU,
     * tanh-GELU): intervals through its exact image, linear bounds through its CROWN relaxation, or under α-CROWN through
     * the lines of its variables where it has some ({@link Pointwise#alpha}: tangent points, or slopes); branch and bound
     * cuts its input interval ({@link Splits}).
     */
    record Unit(Pointwise f) implements Node {
        @Override public Interval ibp(Interval in, Trace trace) {
            trace.input(this, in);
            return f.ibp(in);
        }

        @Override public boolean affine() { return false; }

        /** The lines of the walk under way (α-CROWN's where it has variables here). */
        Relaxation relaxation(Trace trace) {
            if (trace.slopes != null && optimizable()) {   // α-CROWN: the variables of the walk under way, not cached
                Interval in = trace.input(this);
                Tensor[] t = trace.slopes.tangents(this, trace.origin, trace.rows, trace.rowStart, trace.rowCount, in.lo(),
                        () -> f.startFractions(in));
                if (t != null) return f.alphaLines(in, t[0], t[1]);
            }
            return fixed(trace);
        }

        /** CROWN's relaxation, made once per bound computation. */
        private Relaxation fixed(Trace trace) { return trace.cached(this, () -> f.relaxation(trace.input(this))); }

        /**
         * Whether α-CROWN has variables here: tangent points or slopes ({@link Pointwise#alpha}; a constant HardSigmoid
         * has none).
         */
        boolean optimizable() { return f.alpha() != Pointwise.Alpha.NONE; }

        @Override public void prepare(Trace trace) { fixed(trace); }

        @Override public Tensor backward(Tensor a, Trace trace, Trace.Sum sum) {
            if (trace.coefficients != null) trace.coefficients.put(this, a);   // branch and bound's branching reads them
            Relaxation r = relaxation(trace);
            sum.add(r.constants(a));
            Tensor out = r.coefficients(a);
            if (trace.splits != null) out = trace.splits.withBeta(this, -1, out, trace.input(this), sum, trace.rounding);
            if (trace.rounding) sum.add(Rounding.relaxationTerm(a, out, r, trace.input(this)));
            return out;
        }
    }

    /**
     * Chains of layers that all start from one value x, joined: y = chain₁(x) + chain₂(x) (a residual addition; an empty
     * chain is the identity), or their concatenation along an axis (Inception's or DenseNet's branches). Back-substitution
     * gives each chain the coefficients on its own part of y (all of them for a sum, its slice for a concatenation) and adds
     * what the chains bring back to x.
     *
     * @param axis {@link #SUM} for a sum; else the concatenation's axis of the values, as the model gives it (negative
     *             counts from the last; never the batch axis)
     */
    record Fork(List<List<Node>> chains, int axis) implements Node {
        /** The axis value of a sum (the batch axis, which no concatenation joins along). */
        static final int SUM = 0;
        /** The axis value of an elementwise product (no axis at all). */
        static final int PRODUCT = Integer.MIN_VALUE;

        Fork {
            chains = chains.stream().map(List::copyOf).toList();
            if ((axis == SUM || axis == PRODUCT) && chains.size() != 2) {
                throw new IllegalArgumentException("a sum or a product joins two chains, got " + chains.size());
            }
        }

        static Fork sum(List<Node> branch, List<Node> shortcut) { return new Fork(List.of(branch, shortcut), SUM); }

        /** left(x) · right(x), elementwise, with broadcasting over axes of size 1 (a squeeze-and-excitation gate). */
        static Fork product(List<Node> left, List<Node> right) { return new Fork(List.of(left, right), PRODUCT); }

        boolean sums() { return axis == SUM; }

        boolean multiplies() { return axis == PRODUCT; }

        boolean concatenates() { return axis != SUM && axis != PRODUCT; }

        @Override public Interval ibp(Interval in, Trace trace) {
            trace.input(this, in);
            List<Interval> outs = new ArrayList<>();
            for (List<Node> chain : chains) {
                Interval h = in;
                for (Node node : chain) h = Rounding.ibp(node, h, trace);
                outs.add(h);
            }
            return join(outs, trace);
        }

        /** The join's bounds from its chains' output bounds (a concatenation records its parts' sizes for the walk back). */
        Interval join(List<Interval> outs, Trace trace) {
            if (sums()) return new Interval(outs.get(0).lo().add(outs.get(1).lo()), outs.get(0).hi().add(outs.get(1).hi()));
            if (multiplies()) {
                trace.joined(this, outs);
                return Products.interval(outs.get(0), outs.get(1));
            }
            int at = outs.get(0).lo().dim();
            int dim = axis < 0 ? axis + at : axis;
            trace.cached(this, () -> outs.stream().mapToLong(o -> o.lo().size(dim)).toArray());
            return new Interval(Tensor.cat(outs.stream().map(Interval::lo).toList(), dim), Tensor.cat(outs.stream().map(Interval::hi).toList(), dim));
        }

        @Override public boolean affine() { return false; }

        @Override public void prepare(Trace trace) {
            for (List<Node> chain : chains) for (Node n : chain) n.prepare(trace);
        }

        @Override public Tensor backward(Tensor a, Trace trace, Trace.Sum sum) {
            // a product: its linear bounds give each chain its own coefficients (their rounding accounted there)
            Tensor[] split = null;
            if (multiplies()) {
                if (trace.coefficients != null) trace.coefficients.put(this, a);   // branch and bound's branching reads them
                List<Interval> outs = trace.joined(this);
                Interval x = outs.get(0), y = outs.get(1);
                Tensor[] mix = null;   // α-CROWN: per unit and row, where each line lies between McCormick's two planes
                if (trace.slopes != null) {
                    Tensor half = x.lo().mul(y.lo()).zerosLike().add(0.5);   // the product's shape; ½: the averaged planes
                    mix = trace.slopes.tangents(this, trace.origin, trace.rows, trace.rowStart, trace.rowCount, half, () -> new Tensor[]{half, half});
                }
                split = Products.backward(a, x, y, sum, trace.rounding, mix);
                for (int c = 0; c < 2 && trace.splits != null; c++) split[c] = trace.splits.withBeta(this, c, split[c], outs.get(c), sum, trace.rounding);
            }
            long[] sizes = null;
            if (concatenates()) sizes = trace.<long[]>cached(this, () -> { throw new IllegalStateException("no sizes recorded for a concatenation"); });
            int dim = sums() ? 0 : axis < 0 ? axis + a.dim() : axis + 1;   // A is [N, S, …]: one axis more than the values
            Tensor total = null, magnitudes = null;
            long start = 0;
            for (int c = 0; c < chains.size(); c++) {
                List<Node> chain = chains.get(c);
                Tensor h = sums() ? a : multiplies() ? split[c] : a.narrow(dim, start, sizes[c]);
                if (concatenates()) start += sizes[c];
                for (int i = chain.size() - 1; i >= 0; i--) h = Rounding.backward(chain.get(i), h, trace, sum);
                total = total == null ? h : total.add(h);
                if (trace.rounding) magnitudes = magnitudes == null ? h.abs() : magnitudes.add(h.abs());
            }
            if (trace.rounding) {   // the chains' coefficients added: within (k − 1)u·Σ|hᵢ| of their exact sum, times the input
                Tensor zHat = rows(Rounding.magnitude(trace.input(this)));
                sum.add(Trace.sumTail(magnitudes.mul(zHat)).mul(chains.size() * Rounding.KAPPA * Rounding.unit(a)).add(Rounding.TINY).neg());
            }
            return total;
        }
    }

    static List<Node> chain(List<Node> nodes) { return new ArrayList<>(nodes); }
}
