package dev.tikhon.nn;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;

/** 2-D convolution with a square kernel, NCHW. */
public final class Conv2d extends Module implements Init.Initializable {
    public final int in, out, kernel, stride, padding;
    private final Parameter weight, bias;

    public Conv2d(int in, int out, int kernel, int stride, int padding, boolean bias) {
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.weight = parameter("weight", Tensor.zeros(out, in, kernel, kernel), true);
        this.bias = bias ? parameter("bias", Tensor.zeros(out), false) : null;
        reset(Init.STANDARD);
    }

    @Override public Tensor forward(Tensor x) {
        return Ops.conv2d(x, weight.value(), bias == null ? null : bias.value(), stride, padding);
    }

    @Override public void reset(Init scheme) {
        long k2 = (long) kernel * kernel;
        scheme.initialize(weight.value(), bias == null ? null : bias.value(), in * k2, out * k2);
    }

    public void zero() {
        try (Autograd.Guard g = Autograd.noGrad()) {
            weight.value().zero_();
            if (bias != null) bias.value().zero_();
        }
    }

    public Parameter weight() { return weight; }

    /** The bias, or null for a layer without one. */
    public Parameter bias() { return bias; }

    @Override public String describe() {
        return "Conv2d(" + in + "→" + out + ", " + kernel + "×" + kernel + ", stride " + stride + ", pad " + padding + ")";
    }
}
