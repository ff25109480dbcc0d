package dev.tikhon.engine;

import java.util.Arrays;

/**
 * The geometry of a 2-D convolution beyond its kernel: per-axis stride, symmetric padding and dilation, and the number of
 * groups (ONNX Conv's attributes). A convolution with {@code groups} groups splits the C_in input and C_out output channels
 * into that many consecutive blocks and convolves block g of the input with the kernels of block g of the output only; its
 * kernel is [C_out, C_in / groups, kh, kw]. Depthwise: groups = C_in.
 */
public record ConvGeometry(long[] stride, long[] padding, long[] dilation, long groups) {
    public ConvGeometry {
        stride = stride.clone();
        padding = padding.clone();
        dilation = dilation.clone();
        if (stride.length != 2 || padding.length != 2 || dilation.length != 2 || groups < 1) {
            throw new IllegalArgumentException("a 2-D convolution's geometry: stride " + Arrays.toString(stride) + ", padding "
                    + Arrays.toString(padding) + ", dilation " + Arrays.toString(dilation) + ", groups " + groups);
        }
    }

    /** Tikhon's own square convolution: the same stride and padding on both axes, no dilation, one group. */
    public static ConvGeometry square(int stride, int padding) {
        return new ConvGeometry(new long[]{stride, stride}, new long[]{padding, padding}, new long[]{1, 1}, 1);
    }

    /** Whether this is {@link #square} (with a square kernel the convolution is {@link Ops#conv2d(Tensor, Tensor, Tensor, int, int)}'s). */
    public boolean isSquare() {
        return groups == 1 && stride[0] == stride[1] && padding[0] == padding[1] && dilation[0] == 1 && dilation[1] == 1;
    }

    private boolean plain(Tensor kernel) { return isSquare() && kernel.size(2) == kernel.size(3); }

    /** The convolution of x [N, C_in, H, W] with {@code kernel}; {@code bias} may be null. */
    public Tensor apply(Tensor x, Tensor kernel, Tensor bias) {
        if (plain(kernel)) return Ops.conv2d(x, kernel, bias, (int) stride[0], (int) padding[0]);
        return Ops.conv2d(x, kernel, bias, stride, padding, dilation, groups);
    }

    /**
     * The transpose of {@link #apply} without bias: maps y [N, C_out, h, w] to [N, C_in, inH, inW], x ↦ Jᵀx (the output
     * padding that picks the input size among those a strided convolution maps to the same output size is worked out here).
     */
    public Tensor transpose(Tensor y, Tensor kernel, long inH, long inW) {
        long[] out = {y.size(2), y.size(3)}, in = {inH, inW}, op = new long[2];
        for (int a = 0; a < 2; a++) {
            op[a] = in[a] - ((out[a] - 1) * stride[a] - 2 * padding[a] + dilation[a] * (kernel.size(2 + a) - 1) + 1);
        }
        if (plain(kernel) && op[0] == op[1]) return Ops.convTranspose2d(y, kernel, (int) stride[0], (int) padding[0], (int) op[0]);
        return Ops.convTranspose2d(y, kernel, stride, padding, op, dilation, groups);
    }

    /** The output's spatial size on an input of {@code size} along {@code axis} (0: height, 1: width) for a kernel of {@code k}. */
    public long outSize(int axis, long size, long k) {
        return (size + 2 * padding[axis] - dilation[axis] * (k - 1) - 1) / stride[axis] + 1;
    }

    @Override public String toString() {
        return "stride " + Arrays.toString(stride) + ", pad " + Arrays.toString(padding) + ", dilation " + Arrays.toString(dilation)
                + ", groups " + groups;
    }
}
