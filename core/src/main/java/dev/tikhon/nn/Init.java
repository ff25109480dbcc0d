package dev.tikhon.nn;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;

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
    KAIMING;

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
                default: throw new AssertionError(this);
            }
        }
    }

    public static Init parse(String s) {
        switch (s.toLowerCase(Locale.ROOT)) {
            case "standard": case "default": case "uniform": return STANDARD;
            case "xavier": case "glorot": return XAVIER;
            case "kaiming": case "he": return KAIMING;
            default: throw new IllegalArgumentException("unknown init '" + s + "': use standard, xavier or kaiming");
        }
    }

    /** Re-initializes every linear and convolutional layer in the tree; zeroLast then zeroes the last layer of each residual branch and the classifier. */
    public static void apply(Module model, Init scheme, boolean zeroLast) {
        for (Module m : model.modules()) {
            if (m instanceof Initializable) ((Initializable) m).reset(scheme);
        }
        if (zeroLast) {
            for (Module m : model.modules()) {
                if (m instanceof ZeroLast) ((ZeroLast) m).zeroLast();
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
