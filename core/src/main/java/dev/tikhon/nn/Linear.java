package dev.tikhon.nn;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;

/** y = x Wᵀ + b. */
public final class Linear extends Module implements Init.Initializable {
    public final int in, out;
    private final Parameter weight, bias;

    public Linear(int in, int out, boolean bias) {
        this.in = in;
        this.out = out;
        this.weight = parameter("weight", Tensor.zeros(out, in), true);
        this.bias = bias ? parameter("bias", Tensor.zeros(out), false) : null;
        reset(Init.STANDARD);
    }

    public Linear(int in, int out) { this(in, out, true); }

    @Override public Tensor forward(Tensor x) {
        return Ops.linear(x, weight.value(), bias == null ? null : bias.value());
    }

    @Override public void reset(Init scheme) {
        scheme.initialize(weight.value(), bias == null ? null : bias.value(), in, out);
    }

    /** Zero weights and bias: the layer outputs 0 until trained. */
    public void zero() {
        try (Autograd.Guard g = Autograd.noGrad()) {
            weight.value().zero_();
            if (bias != null) bias.value().zero_();
        }
    }

    public Parameter weight() { return weight; }

    public Parameter bias() { return bias; }

    @Override public String describe() { return "Linear(" + in + "→" + out + (bias == null ? ", no bias" : "") + ")"; }
}
