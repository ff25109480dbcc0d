package dev.tikhon.farkas;

import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Init;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Parameter;

/**
 * A Farkas convolution with ReLU (docs/methods.md §8): learns out − 1 square kernels and out biases; the last
 * output channel is the negated mean of the others, and the bias rule of {@link Farkas} makes at
 * least one channel active at every position of every input.
 */
public final class FarkasConv2d extends Module implements Init.Initializable {
    public final int in, out, kernel, stride, padding;
    private final Parameter weight, bias;

    public FarkasConv2d(int in, int out, int kernel, int stride, int padding) {
        if (out < 2) throw new IllegalArgumentException("a Farkas layer needs at least 2 output channels, got " + out);
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.weight = parameter("weight", Tensor.zeros(out - 1, in, kernel, kernel), true);
        this.bias = parameter("bias", Tensor.zeros(out), false);
        reset(Init.STANDARD);
    }

    @Override public Tensor forward(Tensor x) {
        return Ops.conv2d(x, Farkas.kernels(weight.value()), Farkas.bias(bias.value()), stride, padding).relu();
    }

    @Override public void reset(Init scheme) {
        long k2 = (long) kernel * kernel;
        scheme.initialize(weight.value(), bias.value(), in * k2, (out - 1) * k2);
    }

    public Parameter weight() { return weight; }

    public Parameter bias() { return bias; }

    @Override public String describe() {
        return "FarkasConv2d(" + in + "→" + out + ", " + kernel + "×" + kernel + ", stride " + stride + ", pad " + padding + ")";
    }
}
