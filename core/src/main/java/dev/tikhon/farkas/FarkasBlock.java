package dev.tikhon.farkas;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Init;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Parameter;

/**
 * The Farkas residual block (docs/methods.md §8), C channels in and C + 1 out:
 * y = FarkasConv3×3(x) (C → C, with ReLU); y = conv3×3(y) (C → C, no bias); s = x + y;
 * output = ReLU([s, mean(−s)] + b̃) with the last-entry bias rule of {@link Farkas}. No
 * normalization anywhere; every position of the output has an active channel.
 */
public final class FarkasBlock extends Module implements Init.Initializable, Init.ZeroLast {
    public final int channels;
    private final FarkasConv2d conv0;
    private final Parameter weight, bias;

    public FarkasBlock(int channels) {
        if (channels < 2) throw new IllegalArgumentException("a Farkas block needs at least 2 channels, got " + channels);
        this.channels = channels;
        conv0 = child("conv0", new FarkasConv2d(channels, channels, 3, 1, 1));
        weight = parameter("weight", Tensor.zeros(channels, channels, 3, 3), true);
        bias = parameter("bias", Tensor.zeros(channels + 1), false);
        reset(Init.STANDARD);
    }

    @Override public Tensor forward(Tensor x) {
        // [s, mean(−s)] + b̃ with s = x + W∗y, as [x, mean(−x)] + [W; −mean W]∗y + b̃ (linearity: one convolution)
        Tensor y = Ops.conv2d(conv0.forward(x), Farkas.kernels(weight.value()), Farkas.bias(bias.value()), 1, 1);
        return y.add(Farkas.appendNegativeMean(x)).relu();
    }

    @Override public void reset(Init scheme) {
        scheme.initialize(weight.value(), bias.value(), channels * 9L, channels * 9L);
    }

    /** The residual branch's last convolution and the block's bias start at zero: the block starts as [x, 0] (x ≥ 0). */
    @Override public void zeroLast() {
        try (Autograd.Guard g = Autograd.noGrad()) {
            weight.value().zero_();
            bias.value().zero_();
        }
    }

    @Override public String describe() { return "FarkasBlock(" + channels + "→" + (channels + 1) + ")"; }
}
