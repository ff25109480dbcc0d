package dev.tikhon.nn;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;

import java.util.List;
import java.util.Locale;

/**
 * Weight-initialization schemes, drawn from the default generator (seed it first).
 * fan_in is in_features for a linear layer and in_channels·k·k for a convolution.
 */
public enum Init {
    /** PyTorch's default: weights and biases U(−1/√fan_in, 1/√fan_in). */
    STANDARD,
    /** Glorot & Bengio: weights U(−√(6/(fan_in+fan_out)), +…), biases zero. */
    XAVIER,
    /** He et al. for ReLU: weights N(0, 2/fan_in), biases zero. */
    KAIMING,
    /**
     * IBP initialization (Shi et al., "Fast certified robust training with short warmup", NeurIPS 2021): weights
     * N(0, 2π/fan_in²), so that an interval's radius keeps its size through a layer and its ReLU (E Σⱼ|wᵢⱼ| rⱼ =
     * fan_in·σ·√(2/π)·r = 2r, halved by a balanced ReLU) where standard schemes grow it by about √fan_in per layer; biases as
     * PyTorch draws them (the authors re-draw weights only). {@link #apply} keeps the classifier's standard draw and halves
     * the layers that read a residual sum, as the authors do.
     */
    IBP;

    /** Draws {@code weight} (and {@code bias}, which may be null) in place; for layers outside this package too. */
    public void initialize(Tensor weight, Tensor bias, long fanIn, long fanOut) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            switch (this) {
                case STANDARD: {
                    double b = 1.0 / Math.sqrt(fanIn);
                    weight.uniform_(-b, b);
                    if (bias != null) bias.uniform_(-b, b);
                    break;
                }
                case XAVIER: {
                    double b = Math.sqrt(6.0 / (fanIn + fanOut));
                    weight.uniform_(-b, b);
                    if (bias != null) bias.zero_();
                    break;
                }
                case KAIMING: {
                    weight.normal_(0, Math.sqrt(2.0 / fanIn));
                    if (bias != null) bias.zero_();
                    break;
                }
                case IBP: {
                    weight.normal_(0, Math.sqrt(2 * Math.PI) / fanIn);
                    if (bias != null) bias.uniform_(-1.0 / Math.sqrt(fanIn), 1.0 / Math.sqrt(fanIn));
                    break;
                }
                default: throw new AssertionError(this);
            }
        }
    }

    public static Init parse(String s) {
        switch (s.toLowerCase(Locale.ROOT)) {
            case "standard": case "default": case "uniform": return STANDARD;
            case "xavier": case "glorot": return XAVIER;
            case "kaiming": case "he": return KAIMING;
            case "ibp": return IBP;
            default: throw new IllegalArgumentException("unknown init '" + s + "': use standard, xavier, kaiming or ibp");
        }
    }

    /** Re-initializes every linear and convolutional layer in the tree; zeroLast then zeroes the last layer of each residual branch and the classifier. */
    public static void apply(Module model, Init scheme, boolean zeroLast) {
        Initializable last = null;
        for (Module m : model.modules()) {
            if (m instanceof Initializable i) {
                i.reset(scheme);
                last = i;
            }
        }
        if (scheme == IBP) {
            if (last != null) last.reset(STANDARD);   // the classifier: its logits need no interval balance
            halveAfterSums(model);
        }
        if (zeroLast) {
            for (Module m : model.modules()) {
                if (m instanceof ZeroLast) ((ZeroLast) m).zeroLast();
            }
        }
    }

    /**
     * IBP initialization's residual rule: a block's input relu(F(x) + S(x)) sums two paths, so the weighted layers that read
     * it (the next block's first convolution and projection shortcut) are halved to keep the interval radius's growth at one.
     */
    private static void halveAfterSums(Module model) {
        for (Module m : model.modules()) {
            if (!(m instanceof Sequential s)) continue;
            List<Module> layers = s.layers();
            for (int i = 1; i < layers.size(); i++) {
                if (layers.get(i - 1) instanceof ResidualBlock && layers.get(i) instanceof ResidualBlock b) {
                    try (Autograd.Guard g = Autograd.noGrad()) {
                        b.conv1().weight().value().mul_(0.5);
                        for (Module c : b.shortcutLayers()) if (c instanceof Conv2d conv) conv.weight().value().mul_(0.5);
                    }
                }
            }
        }
    }

    /** A layer whose weights an {@link Init} scheme draws. */
    public interface Initializable {
        void reset(Init scheme);
    }

    /** A block or model that knows its last layer ("zero-last" initialization, Goyal et al.). */
    public interface ZeroLast {
        void zeroLast();
    }
}
