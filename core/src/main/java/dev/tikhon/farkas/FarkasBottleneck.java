package dev.tikhon.farkas;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Init;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Parameter;

/**
 * The bottleneck form of the Farkas residual block, C channels in and C + 1 out, with m = ⌊C/4⌋:
 * y = FarkasConv1×1(x) (C → m); y = FarkasConv3×3(y) (m → m); y = conv1×1(y) (m → C, no bias);
 * s = x + y; output = ReLU([s, mean(−s)] + b̃) ({@link Farkas}). Needs C ≥ 8 so that m ≥ 2.
 */
public final class FarkasBottleneck extends Module implements Init.Initializable, Init.ZeroLast {
    public final int channels, inner;
    private final FarkasConv2d conv0, conv1;
    private final Parameter weight, bias;

    public FarkasBottleneck(int channels) {
        if (channels < 8) throw new IllegalArgumentException("a Farkas bottleneck needs at least 8 channels, got " + channels);
        this.channels = channels;
        this.inner = channels / 4;
        conv0 = child("conv0", new FarkasConv2d(channels, inner, 1, 1, 0));
        conv1 = child("conv1", new FarkasConv2d(inner, inner, 3, 1, 1));
        weight = parameter("weight", Tensor.zeros(channels, inner, 1, 1), true);
        bias = parameter("bias", Tensor.zeros(channels + 1), false);
        reset(Init.STANDARD);
    }

    @Override public Tensor forward(Tensor x) {
        Tensor y = Ops.conv2d(conv1.forward(conv0.forward(x)), Farkas.kernels(weight.value()), Farkas.bias(bias.value()), 1, 0);
        return y.add(Farkas.appendNegativeMean(x)).relu();
    }

    public FarkasConv2d conv0() { return conv0; }

    public FarkasConv2d conv1() { return conv1; }

    /** The learned 1×1 kernels of the last convolution (before {@link Farkas#kernels} appends the negated mean). */
    public Parameter weight() { return weight; }

    @Override public void reset(Init scheme) {
        scheme.initialize(weight.value(), bias.value(), inner, channels);
    }

    @Override public void zeroLast() {
        try (Autograd.Guard g = Autograd.noGrad()) {
            weight.value().zero_();
            bias.value().zero_();
        }
    }

    @Override public String describe() { return "FarkasBottleneck(" + channels + "→" + (channels + 1) + ", inner " + inner + ")"; }
}
