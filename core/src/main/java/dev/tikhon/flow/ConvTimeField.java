package dev.tikhon.flow;

import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Conv2d;

import java.util.ArrayList;
import java.util.List;

/**
 * f(z, t) for image-shaped states [N, C, H, W] (the dynamics of one scale of {@link ImageFlow}):
 * four 3×3 convolutions (padding 1) C → width → width → width → C with softplus between them, and
 * t appended as one constant channel to the input of every layer (FFJORD's "concatsquash"-free
 * "concat" conv layers). The last layer starts at zero, weights and bias, so an untrained flow is
 * the identity map and its log-likelihood is that of the base Gaussian (docs/methods.md §6).
 */
public final class ConvTimeField extends TimeField {
    public static final int LAYERS = 4;
    public final int channels, width;
    private final List<Conv2d> layers = new ArrayList<>();

    public ConvTimeField(int channels, int width) {
        if (channels < 1 || width < 1) throw new IllegalArgumentException("channels and width must be positive: " + channels + ", " + width);
        this.channels = channels;
        this.width = width;
        int in = channels;
        for (int i = 0; i < LAYERS; i++) {
            int out = i == LAYERS - 1 ? channels : width;
            layers.add(child("layers." + i, new Conv2d(in + 1, out, 3, 1, 1, true)));
            in = out;
        }
        layers.get(LAYERS - 1).zero();
    }

    /** The last convolution (zero at construction). */
    public Conv2d last() { return layers.get(LAYERS - 1); }

    /**
     * Each layer is conv(cat(h, t·1)), computed as conv(h, W_h) + t·conv(1, W_t): the same numbers
     * (the constant channel is zero-padded at the border either way) without the odd channel count
     * (65 for width 64) that oneDNN needs padded (engine/Ops.conv2d), and with the time term shared
     * by the whole batch.
     */
    @Override public Tensor velocity(double t, Tensor z) {
        Tensor ones = Tensor.ones(z.dtype(), z.device(), 1, 1, z.size(2), z.size(3));
        Tensor h = z;
        for (int i = 0; i < LAYERS; i++) {
            Conv2d c = layers.get(i);
            Tensor w = c.weight().value();
            int in = c.in - 1;
            Tensor state = Ops.conv2d(h, w.narrow(1, 0, in), c.bias().value(), 1, 1);
            h = state.add(Ops.conv2d(ones, w.narrow(1, in, 1), null, 1, 1).mul(t));
            if (i < LAYERS - 1) h = h.softplus(1, 20);
        }
        return h;
    }

    /** The same field computed literally, with t concatenated as a channel (the test oracle for {@link #velocity}). */
    Tensor velocityByConcatenation(double t, Tensor z) {
        Tensor time = Tensor.full(t, z.dtype(), z.device(), z.size(0), 1, z.size(2), z.size(3));
        Tensor h = z;
        for (int i = 0; i < LAYERS; i++) {
            h = layers.get(i).forward(Tensor.cat(List.of(h, time), 1));
            if (i < LAYERS - 1) h = h.softplus(1, 20);
        }
        return h;
    }

    @Override public String describe() {
        return "ConvField(" + channels + "→" + width + "→" + width + "→" + width + "→" + channels
                + ", 3×3, softplus, t as a channel at every layer, last layer zero-initialised)";
    }
}
