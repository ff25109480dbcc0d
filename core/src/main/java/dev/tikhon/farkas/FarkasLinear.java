package dev.tikhon.farkas;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Init;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Parameter;

/**
 * A Farkas linear layer with ReLU (docs/methods.md §8): learns out − 1 rows W and out biases b, and computes
 * ReLU([Wx, mean(−Wx)] + b̃), b̃ = b with its last entry max(−mean(b₁…b_{out−1}), b_out). For every
 * input at least one of its out units is active ({@link Farkas}).
 */
public final class FarkasLinear extends Module implements Init.Initializable {
    public final int in, out;
    private final Parameter weight, bias;

    public FarkasLinear(int in, int out) {
        if (out < 2) throw new IllegalArgumentException("a Farkas layer needs at least 2 outputs, got " + out);
        this.in = in;
        this.out = out;
        this.weight = parameter("weight", Tensor.zeros(out - 1, in), true);
        this.bias = parameter("bias", Tensor.zeros(out), false);
        reset(Init.STANDARD);
    }

    @Override public Tensor forward(Tensor x) {
        return Ops.linear(x, Farkas.kernels(weight.value()), Farkas.bias(bias.value())).relu();
    }

    @Override public void reset(Init scheme) {
        scheme.initialize(weight.value(), bias.value(), in, out - 1);
    }

    public Parameter weight() { return weight; }

    public Parameter bias() { return bias; }

    /** Zero weights and biases. */
    public void zero() {
        try (Autograd.Guard g = Autograd.noGrad()) {
            weight.value().zero_();
            bias.value().zero_();
        }
    }

    @Override public String describe() { return "FarkasLinear(" + in + "→" + out + ")"; }
}
