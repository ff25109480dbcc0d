package dev.tikhon.engine;

import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** Neural-network functions on tensors: the layers' arithmetic and the standard losses. */
public final class Ops {
    static {
        Engine.init();
    }

    private Ops() {}

    /** {@code x Wᵀ + b}; {@code bias} may be null. */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        if (FlopCount.active()) FlopCount.linear(x, weight);
        return new Tensor(bias == null ? torch.linear(x.t, weight.t) : torch.linear(x.t, weight.t, bias.t));
    }

    /**
     * 2-D convolution of [N, C, H, W] tensors; {@code bias} may be null. Where {@link KernelCheck} found oneDNN's
     * float32 results wrong for input-channel counts above 8 that are not multiples of 8, the input
     * and the kernels get zero channels up to the next multiple (the same function, computed right). float32 on the
     * CPU is convolved channels-last (see {@link #channelsLast}), so the output may have channels-last strides: shape
     * and values are as in NCHW, and a caller that needs NCHW memory asks for {@code contiguous()}.
     */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
        if (FlopCount.active()) FlopCount.conv2d(x, weight, stride, padding);
        Tensor[] xw = channelsLast(padChannels(x, weight), new long[]{stride, stride});
        TensorOptional b = bias == null ? new TensorOptional() : new TensorOptional(bias.t);
        return new Tensor(torch.conv2d(xw[0].t, xw[1].t, b, new long[]{stride, stride}, new long[]{padding, padding},
                new long[]{1, 1}, 1));
    }

    /** {@link #conv2d}'s zero channels for the oneDNN fault {@link KernelCheck} finds: {@code [x, weight]}, padded where needed. */
    private static Tensor[] padChannels(Tensor x, Tensor weight) {
        long c = x.size(1);
        if (Engine.padConvChannels && c > 8 && c % 8 != 0 && x.dtype() == DType.FLOAT32 && !x.device().isCuda()) {
            // constant_pad_nd keeps the input's memory format (a cat with fresh NCHW zeros would not)
            long[] pads = {0, 0, 0, 0, 0, 8 - c % 8};
            x = constantPad(x, pads, 0);
            weight = constantPad(weight, pads, 0);
        }
        return new Tensor[]{x, weight};
    }

    /**
     * {@code [x, weight]} with {@code x} in channels-last layout where {@link Engine#channelsLast()} says so (float32 on the CPU):
     * oneDNN then convolves NHWC directly, with no reorder to and from its blocked layout around every call, and
     * the activations that follow (ReLU, max pooling) stay channels-last, where libtorch's max pooling is vectorized
     * (its NCHW kernel is not: 16% of the small CNN's step). The values are the same; only the strides differ.
     */
    private static Tensor[] channelsLast(Tensor[] xw, long[] stride) {
        Tensor x = xw[0];
        if (!Engine.channelsLast || x.dtype() != DType.FLOAT32 || x.dim() != 4 || x.device().isCuda()) return xw;
        // 2 to 7 channels, and one channel into a strided 1×1 kernel: NCHW, even where the layer before gave
        // channels-last strides (libtorch would follow them)
        if (x.size(1) > 1 && x.size(1) < CHANNELS_LAST_MIN || x.size(1) == 1 && stridedOneByOne(xw[1], stride)) {
            return new Tensor[]{x.contiguous(), xw[1]};
        }
        // the input decides: libtorch then lays the weights out channels-last itself (mkldnn_conv_use_channels_last)
        return new Tensor[]{new Tensor(channelsLastStrides(x.t)), xw[1]};
    }

    /**
     * Whether {@code weight} is a 1×1 kernel with a stride above 1. Channels-last, one input channel into such a kernel
     * had a float32 weight gradient wrong by 14–190% (1 → 4 channels, 8×8 inputs, stride 2, no padding; right at stride 3,
     * with padding, and on 28×28 inputs) on an AMD EPYC host (AVX2, 2026-12-07), and right in NCHW: oneDNN handles
     * strided 1×1 convolutions by a path of their own. Such layers are rare (a projection shortcut on a grey image), so
     * all of them are convolved NCHW.
     */
    private static boolean stridedOneByOne(Tensor weight, long[] stride) {
        if (weight.size(2) != 1 || weight.size(3) != 1) return false;
        for (long s : stride) if (s > 1) return true;
        return false;
    }

    /**
     * {@code t} with channels-last strides. One channel needs a view: libtorch counts a one-channel NCHW tensor as
     * channels-last contiguous already and keeps its NCHW strides, which oneDNN then reads as NCHW.
     */
    private static org.bytedeco.pytorch.Tensor channelsLastStrides(org.bytedeco.pytorch.Tensor t) {
        if (t.size(1) != 1) return t.contiguous(torch.MemoryFormat.ChannelsLast);
        long n = t.size(0), h = t.size(2), w = t.size(3);
        return t.contiguous().view(n, h, w, 1).permute(0, 3, 1, 2);
    }

    /**
     * The fewest input channels convolved channels-last, but for one channel (a grey image, viewed: the small CNN's first
     * layer, whose output then stays channels-last for the layers after it; not into a strided 1×1 kernel, see
     * {@link #stridedOneByOne}); 2 to 7 stay NCHW. On an AMD EPYC host
     * (2026-12-07, AVX2) a residual block with batch norm on 2 or 4 channels had float32 gradients wrong by 50–200%
     * channels-last, and at one thread corrupted the heap ("corrupted double-linked list"), while 8 and more channels were
     * right at 1, 2 and 3 threads (KernelCheck's block probe), and one channel passes the convolution probes and the
     * gradient checks. Such layers are a network's first (RGB images), where the layout gains little.
     */
    static final long CHANNELS_LAST_MIN = 8;

    /**
     * {@code x} flattened to {@code [N, C·H·W]} in NCHW order (a model's features before its dense layers), with a
     * gradient that keeps {@code x}'s layout: a channels-last {@code x} would otherwise get an NCHW gradient, and
     * max pooling's backward before it would fall back to its slow NCHW kernel and copy the whole activation-sized
     * gradient back to channels-last (10% of the small CNN's step). The identity {@code as_strided} view does it:
     * its backward writes the gradient in the input's own strides.
     */
    public static Tensor flattenFeatures(Tensor x) {
        org.bytedeco.pytorch.Tensor t = x.t;
        if (x.dim() == 4 && !t.is_contiguous() && t.is_contiguous(torch.MemoryFormat.ChannelsLast)) {
            t = t.as_strided(t.sizes().vec().get(), t.strides().vec().get(), new LongOptional(t.storage_offset()));
        }
        return new Tensor(t.flatten(1, -1));
    }

    /**
     * 2-D convolution with per-axis stride, padding and dilation and {@code groups} groups (ONNX Conv); {@code bias} may be
     * null. Used for layers {@link #conv2d}'s square, ungrouped form does not cover.
     */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, long[] stride, long[] padding, long[] dilation, long groups) {
        Tensor[] xw = channelsLast(groups == 1 ? padChannels(x, weight) : new Tensor[]{x, weight}, stride);   // grouped: not padded
        TensorOptional b = bias == null ? new TensorOptional() : new TensorOptional(bias.t);
        return new Tensor(torch.conv2d(xw[0].t, xw[1].t, b, stride, padding, dilation, groups));
    }

    /**
     * Pads with a constant: {@code pads} lists (before, after) pairs from the last dimension backwards, as libtorch's
     * constant_pad_nd takes them; negative entries crop.
     */
    public static Tensor constantPad(Tensor x, long[] pads, double value) {
        return new Tensor(torch.constant_pad_nd(x.t, pads, new org.bytedeco.pytorch.Scalar(value)));
    }

    /** Max pooling with per-axis kernel, stride, padding and dilation; {@code ceilMode} rounds the output size up. */
    public static Tensor maxPool2d(Tensor x, long[] kernel, long[] stride, long[] padding, long[] dilation, boolean ceilMode) {
        return new Tensor(torch.max_pool2d(x.t, kernel, stride, padding, dilation, ceilMode));
    }

    /** Average pooling with per-axis kernel, stride and padding; {@code countIncludePad} divides by the whole window. */
    public static Tensor avgPool2d(Tensor x, long[] kernel, long[] stride, long[] padding, boolean ceilMode, boolean countIncludePad) {
        return new Tensor(torch.avg_pool2d(x.t, kernel, stride, padding, ceilMode, countIncludePad, new LongOptional()));
    }

    /**
     * The transpose of {@link #conv2d} with the same kernels (no bias): maps a tensor shaped like the convolution's
     * output back to its input's shape, {@code x ↦ Jᵀx}. {@code outputPadding} (&lt; stride) picks among the input
     * sizes a strided convolution maps to the same output size.
     */
    public static Tensor convTranspose2d(Tensor x, Tensor weight, int stride, int padding, int outputPadding) {
        return new Tensor(torch.conv_transpose2d(x.t, weight.t, new TensorOptional(), new long[]{stride, stride},
                new long[]{padding, padding}, new long[]{outputPadding, outputPadding}, 1, 1, 1));
    }

    /**
     * The transpose of the general {@link #conv2d(Tensor, Tensor, Tensor, long[], long[], long[], long)} with the same
     * kernels and groups (no bias): a grouped convolution's transpose is the grouped transposed convolution with the same
     * weight. {@code outputPadding} (per axis, &lt; stride or dilation) picks the input size.
     */
    public static Tensor convTranspose2d(Tensor x, Tensor weight, long[] stride, long[] padding, long[] outputPadding, long[] dilation,
                                         long groups) {
        return new Tensor(torch.conv_transpose2d(x.t, weight.t, new TensorOptional(), stride, padding, outputPadding, groups,
                dilation[0], dilation[1]));
    }

    public static Tensor maxPool2d(Tensor x, int kernel, int stride) {
        return new Tensor(torch.max_pool2d(x.t, new long[]{kernel, kernel}, new long[]{stride, stride},
                new long[]{0, 0}, new long[]{1, 1}, false));
    }

    public static Tensor avgPool2d(Tensor x, int kernel, int stride) {
        return new Tensor(torch.avg_pool2d(x.t, new long[]{kernel, kernel}, new long[]{stride, stride},
                new long[]{0, 0}, false, true, new LongOptional()));
    }

    /** Average over the spatial dimensions: [N, C, H, W] to [N, C]. */
    public static Tensor globalAvgPool(Tensor x) {
        return new Tensor(x.t.mean(new long[]{2, 3}, false, new org.bytedeco.pytorch.ScalarTypeOptional()));
    }

    /**
     * Batch normalization. In training it normalizes by batch statistics and updates the running
     * buffers in place; in evaluation it uses the running buffers.
     */
    public static Tensor batchNorm(Tensor x, Tensor weight, Tensor bias, Tensor runningMean, Tensor runningVar,
                                   boolean training, double momentum, double eps) {
        return new Tensor(torch.batch_norm(x.t, opt(weight), opt(bias), opt(runningMean), opt(runningVar),
                training, momentum, eps, false));
    }

    private static TensorOptional opt(Tensor t) {
        return t == null ? new TensorOptional() : new TensorOptional(t.t);
    }

    /** Mean cross-entropy of logits [N, K] against INT64 labels [N]. */
    public static Tensor crossEntropy(Tensor logits, Tensor labels) {
        return new Tensor(torch.cross_entropy_loss(logits.t, labels.t));
    }

    /** Per-example cross-entropy [N] (reduction none). */
    public static Tensor crossEntropyPerExample(Tensor logits, Tensor labels) {
        return new Tensor(torch.cross_entropy_loss(logits.t, labels.t, new TensorOptional(), 0 /* none */, -100, 0.0));
    }

    /** Mean squared error over all elements. */
    public static Tensor mse(Tensor a, Tensor b) {
        return new Tensor(torch.mse_loss(a.t, b.t));
    }

    /** Inverted dropout; identity when not training. */
    public static Tensor dropout(Tensor x, double p, boolean training) {
        return new Tensor(torch.dropout(x.t, p, training));
    }
}
