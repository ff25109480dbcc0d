package dev.tikhon.regularize;

import dev.tikhon.engine.Tensor;
import dev.tikhon.loss.Loss;
import dev.tikhon.nn.Module;
import dev.tikhon.train.Objective;

import java.util.Map;

/**
 * Gaussian noise augmentation: loss = mean ℓ(x + σ η), η ~ N(0, I), not clipped to [0, 1]. To
 * second order it is Tikhonov regularization with weight σ²/2 (Bishop), and it is the base
 * training of randomized smoothing (Cohen et al.). Training accuracy is measured on the noisy inputs.
 */
public final class NoiseAugmentation implements Objective {
    /** Its settings: the noise standard deviation σ (default 0.25). */
    public record Settings(double sigma) {
        public static Settings parse(RegularizerOptions o) {
            return new Settings(o.number("sigma", 0.25));
        }
    }

    private final Loss loss;
    private final double sigma;

    public NoiseAugmentation(double sigma) {
        this(Loss.CROSS_ENTROPY, sigma);
    }

    public NoiseAugmentation(Loss loss, double sigma) {
        this.loss = loss;
        if (!(sigma >= 0)) throw new IllegalArgumentException("--sigma must be ≥ 0, got " + sigma);
        this.sigma = sigma;
    }

    @Override public Result evaluate(Module model, Tensor x, Tensor y) {
        Tensor output = model.forward(x.add(x.randnLike(), sigma));
        return new Result(loss.perExample(output, y).mean(), output, Map.of());
    }

    @Override public String describe() { return loss.describe() + " under Gaussian noise (σ " + sigma + ")"; }
}
