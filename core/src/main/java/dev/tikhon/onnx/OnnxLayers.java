package dev.tikhon.onnx;

import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Parameter;

import java.util.Arrays;
import java.util.Locale;

/**
 * The layers of imported ONNX models that Tikhon's own modules (Conv2d, Pool, Activation, …) do not cover: grouped,
 * dilated or rectangular convolutions, pooling with padding or other strides, leaky ReLU, arithmetic with a constant
 * tensor, reshapes, transposes and global average pooling that keeps its spatial dimensions. The importer uses Tikhon's modules
 * wherever they fit; of these layers the Lipschitz bounds and verifiers know the general convolution (any stride, padding,
 * dilation and groups), the activations ({@code dev.tikhon.verify.Pointwise}), the arithmetic with a constant, the
 * transposes, the slices and the reshapes docs/interop.md lists.
 */
public final class OnnxLayers {
    private OnnxLayers() {}

    /** ONNX Conv in general: per-axis kernel, stride, symmetric padding and dilation, and groups. */
    public static final class Conv extends Module {
        final long[] stride, padding, dilation;
        final long groups;
        private final Parameter weight, bias;

        public Conv(Tensor weight, Tensor bias, long[] stride, long[] padding, long[] dilation, long groups) {
            this.weight = parameter("weight", weight, true);
            this.bias = bias == null ? null : parameter("bias", bias, false);
            this.stride = stride.clone();
            this.padding = padding.clone();
            this.dilation = dilation.clone();
            this.groups = groups;
        }

        public Parameter weight() { return weight; }

        public Parameter bias() { return bias; }

        /** Its stride, padding, dilation and groups. */
        public dev.tikhon.engine.ConvGeometry geometry() { return new dev.tikhon.engine.ConvGeometry(stride, padding, dilation, groups); }

        @Override public Tensor forward(Tensor x) {
            return Ops.conv2d(x, weight.value(), bias == null ? null : bias.value(), stride, padding, dilation, groups);
        }

        @Override public String describe() {
            long[] s = weight.value().shape();
            return "Conv(" + s[1] * groups + "→" + s[0] + ", " + s[2] + "×" + s[3] + ", stride " + Arrays.toString(stride) + ", pad "
                    + Arrays.toString(padding) + ", dilation " + Arrays.toString(dilation) + ", groups " + groups + ")";
        }
    }

    /** ONNX MaxPool and AveragePool in general: per-axis kernel, stride, symmetric padding, ceil mode. */
    public static final class Pool2d extends Module {
        final boolean max, ceilMode, countIncludePad;
        final long[] kernel, stride, padding, dilation;

        public Pool2d(boolean max, long[] kernel, long[] stride, long[] padding, long[] dilation, boolean ceilMode, boolean countIncludePad) {
            this.max = max;
            this.kernel = kernel.clone();
            this.stride = stride.clone();
            this.padding = padding.clone();
            this.dilation = dilation.clone();
            this.ceilMode = ceilMode;
            this.countIncludePad = countIncludePad;
        }

        @Override public Tensor forward(Tensor x) {
            return max ? Ops.maxPool2d(x, kernel, stride, padding, dilation, ceilMode)
                    : Ops.avgPool2d(x, kernel, stride, padding, ceilMode, countIncludePad);
        }

        @Override public String describe() {
            return (max ? "max" : "avg") + "-pool(" + Arrays.toString(kernel) + ", stride " + Arrays.toString(stride) + ", pad "
                    + Arrays.toString(padding) + ")";
        }
    }

    /** GlobalAveragePool: [N, C, H, W] → [N, C, 1, 1]. */
    public static final class GlobalAvgKeepDims extends Module {
        @Override public Tensor forward(Tensor x) { return x.mean(3, true).mean(2, true); }

        @Override public String describe() { return "global-avg (keep dims)"; }
    }

    /** Constant padding of the spatial dimensions (ONNX Pad, mode constant): [top, left, bottom, right], negative crops. */
    public static final class Pad extends Module {
        final long[] pads;
        final double value;

        public Pad(long[] pads, double value) {
            this.pads = pads.clone();
            this.value = value;
        }

        @Override public Tensor forward(Tensor x) {
            return Ops.constantPad(x, new long[]{pads[1], pads[3], pads[0], pads[2]}, value);
        }

        @Override public String describe() { return "pad" + Arrays.toString(pads) + (value == 0 ? "" : " with " + value); }
    }

    /** |x|. */
    public static final class Abs extends Module {
        @Override public Tensor forward(Tensor x) { return x.abs(); }

        @Override public String describe() { return "abs"; }
    }

    /** The error function, elementwise: how PyTorch writes GELU, x·½·(1 + erf(x/√2)). */
    public static final class Erf extends Module {
        @Override public Tensor forward(Tensor x) { return x.erf(); }

        @Override public String describe() { return "erf"; }
    }

    /** min(max(x, lo), hi) (ONNX Clip; ReLU6 as PyTorch writes it is Clip(x, 0, 6)); an infinite bound is no bound. */
    public static final class Clip extends Module {
        final double lo, hi;

        public Clip(double lo, double hi) {
            this.lo = lo;
            this.hi = hi;
        }

        public double lo() { return lo; }

        public double hi() { return hi; }

        @Override public Tensor forward(Tensor x) {
            Tensor y = x;
            if (lo != Double.NEGATIVE_INFINITY) y = y.clampMin(lo);
            if (hi != Double.POSITIVE_INFINITY) y = y.clampMax(hi);
            return y;
        }

        @Override public String describe() { return "clip(" + lo + ", " + hi + ")"; }
    }

    /** max(0, min(1, α·x + β)) (ONNX HardSigmoid); with {@code swish}, x times that (ONNX HardSwish, α = 1/6, β = ½). */
    public static final class HardSigmoid extends Module {
        final double alpha, beta;
        final boolean swish;

        public HardSigmoid(double alpha, double beta, boolean swish) {
            this.alpha = alpha;
            this.beta = beta;
            this.swish = swish;
        }

        public double alpha() { return alpha; }

        public double beta() { return beta; }

        /** Whether this is x times the hard sigmoid (HardSwish). */
        public boolean swish() { return swish; }

        @Override public Tensor forward(Tensor x) {
            Tensor s = x.mul(alpha).add(beta).clamp(0, 1);
            return swish ? x.mul(s) : s;
        }

        @Override public String describe() { return swish ? "hard-swish" : "hard-sigmoid(" + (float) alpha + ", " + (float) beta + ")"; }   // float attributes
    }

    /** x for x > 0, α·(eˣ − 1) otherwise (ONNX Elu). */
    public static final class Elu extends Module {
        final double alpha;

        public Elu(double alpha) { this.alpha = alpha; }

        public double alpha() { return alpha; }

        @Override public Tensor forward(Tensor x) { return x.relu().add(x.clampMax(0).exp().sub(1).mul(alpha)); }

        @Override public String describe() { return "elu(" + (float) alpha + ")"; }   // a float attribute: 0.1, not 0.10000000149011612
    }

    /** max(x, 0) + slope·min(x, 0) with a learned slope broadcasting against x (ONNX PRelu; PyTorch's nn.PReLU). */
    public static final class PRelu extends Module {
        private final Parameter slope;

        public PRelu(Tensor slope) { this.slope = parameter("slope", slope, false); }

        public Parameter slope() { return slope; }

        @Override public Tensor forward(Tensor x) { return x.relu().add(x.clampMax(0).mul(slope.value())); }

        @Override public String describe() { return "prelu" + Arrays.toString(slope.value().shape()); }
    }

    /** max(x, 0) + α·min(x, 0). */
    public static final class LeakyRelu extends Module {
        final double alpha;

        public LeakyRelu(double alpha) { this.alpha = alpha; }

        public double alpha() { return alpha; }

        @Override public Tensor forward(Tensor x) { return x.relu().add(x.clampMax(0).mul(alpha)); }

        @Override public String describe() { return "leaky-relu(" + (float) alpha + ")"; }   // read from a float attribute: 0.1, not 0.10000000149011612
    }

    /** Elementwise arithmetic with a constant tensor (a buffer), broadcasting: x ∘ c, or c ∘ x when {@code constantFirst}. */
    public static final class ConstantOp extends Module implements dev.tikhon.nn.ElementwiseAffine {
        public enum Kind { ADD, SUB, MUL, DIV, POW, LESS }

        final Kind kind;
        final boolean constantFirst;
        private final Tensor[] constant;

        public ConstantOp(Kind kind, Tensor constant, boolean constantFirst) {
            this.kind = kind;
            this.constantFirst = constantFirst;
            this.constant = buffer("constant", constant);
        }

        public Tensor constant() { return constant[0]; }

        public Kind kind() { return kind; }

        /** x + c, x − c, c − x, x·c, x/c as x·scale + shift; c/x, powers and comparisons are not affine (null). */
        @Override public Tensor[] elementwiseAffine() {
            Tensor c = constant[0];
            Tensor one = Tensor.scalar(1, c.dtype(), c.device()), zero = Tensor.scalar(0, c.dtype(), c.device());
            switch (kind) {
                case ADD: return new Tensor[]{one, c};
                case SUB: return constantFirst ? new Tensor[]{one.neg(), c} : new Tensor[]{one, c.neg()};
                case MUL: return new Tensor[]{c, zero};
                case DIV: return constantFirst ? null : new Tensor[]{c.reciprocal(), zero};
                default: return null;
            }
        }

        @Override public Tensor forward(Tensor x) {
            Tensor a = constantFirst ? constant[0] : x, b = constantFirst ? x : constant[0];
            switch (kind) {
                case ADD: return a.add(b);
                case SUB: return a.sub(b);
                case MUL: return a.mul(b);
                case DIV: return a.div(b);
                case POW: return x.pow(constant[0].item());   // the importer takes a constant scalar exponent only
                case LESS: return a.lt(b);
                default: throw new AssertionError(kind);
            }
        }

        @Override public String describe() {
            String c = "const" + Arrays.toString(constant[0].shape());
            String op = kind.name().toLowerCase(Locale.ROOT);
            return constantFirst ? op + "(" + c + ", x)" : op + "(x, " + c + ")";
        }
    }

    /**
     * A permutation of the axes that keeps the batch first (ONNX Transpose of a computed value; tf2onnx writes them around
     * the convolutions of a Keras model, which is NHWC). Linear and exact: it only moves values.
     */
    public static final class Transpose extends Module {
        final long[] perm;

        public Transpose(long[] perm) {
            if (perm.length == 0 || perm[0] != 0) throw new IllegalArgumentException("a permutation that moves the batch axis: " + Arrays.toString(perm));
            this.perm = perm.clone();
        }

        /** Output axis i is input axis perm[i]. */
        public long[] perm() { return perm.clone(); }

        @Override public Tensor forward(Tensor x) { return x.permute(perm); }

        @Override public String describe() { return "transpose" + Arrays.toString(perm); }
    }

    /**
     * The entries {@code start} to {@code end} (exclusive, step 1) along one axis other than the batch: ONNX Slice or one
     * part of a Split of a computed value (x[:, a:b], torch.split, torch.chunk). The bounds are ONNX's: a negative start,
     * end or axis counts from the end, and they are clamped to the axis (an end of Long.MAX_VALUE is "to the end"). A
     * coordinate projection: linear and exact, Lipschitz 1 in every ℓp norm; autograd passes it back by the zeros around it.
     */
    public static final class Slice extends Module {
        final int axis;
        final long start, end;

        public Slice(int axis, long start, long end) {
            if (axis == 0) throw new IllegalArgumentException("a slice along the batch axis");
            this.axis = axis;
            this.start = start;
            this.end = end;
        }

        /** The axis as given: positive counts from the batch axis (0), negative from the last. */
        public int axis() { return axis; }

        public long start() { return start; }

        public long end() { return end; }

        /**
         * {axis, start, length} on a tensor of {@code shape} (batch first): the axis made non-negative, the bounds clamped.
         *
         * @throws IllegalArgumentException where the axis does not exist or is the batch axis
         */
        public long[] range(long[] shape) {
            int a = axis < 0 ? axis + shape.length : axis;
            if (a <= 0 || a >= shape.length) {
                throw new IllegalArgumentException("slice along axis " + axis + " of a value of shape " + Arrays.toString(shape)
                        + (a == 0 ? ", which is the batch axis" : ", which has no such axis"));
            }
            long d = shape[a];
            long s = start < 0 ? Math.max(0, start + d) : Math.min(start, d);
            long e = end < 0 ? Math.max(0, end + d) : Math.min(end, d);
            return new long[]{a, s, Math.max(0, e - s)};
        }

        @Override public Tensor forward(Tensor x) {
            long[] r = range(x.shape());
            return x.narrow((int) r[0], r[1], r[2]);
        }

        @Override public String describe() { return "slice(axis " + axis + ", " + start + ":" + (end == Long.MAX_VALUE ? "" : end) + ")"; }
    }

    /**
     * Reshape to a fixed shape whose first entry is the batch: 0 there and elsewhere copies the input's dimension
     * (as ONNX's Reshape does), −1 is inferred.
     */
    public static final class Reshape extends Module {
        final long[] target;

        public Reshape(long[] target) { this.target = target.clone(); }

        /** The target shape as the file gives it (0: that dimension of the input; −1: what is left). */
        public long[] target() { return target.clone(); }

        /** Whether it keeps the batch: the target copies the input's first dimension (0), so each example is reshaped alone. */
        public boolean keepsBatch() { return target.length > 0 && target[0] == 0; }

        @Override public Tensor forward(Tensor x) {
            long[] s = target.clone();
            for (int i = 0; i < s.length; i++) if (s[i] == 0) s[i] = x.size(i);
            return x.reshape(s);
        }

        @Override public String describe() { return "reshape" + Arrays.toString(target); }
    }
}
