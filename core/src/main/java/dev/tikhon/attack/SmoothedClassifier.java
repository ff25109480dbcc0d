package dev.tikhon.attack;

import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

/**
 * Cohen's smoothed classifier as an attackable model, the way SmoothAdv attacks it (Salman et al., "Provably
 * robust deep learning via adversarially trained smoothed classifiers", NeurIPS 2019): the output is
 * log((1/m) Σₖ softmax(f(x + σ εₖ))), εₖ ~ N(0, I) drawn afresh on every call, the log of a Monte Carlo
 * estimate of the soft smoothed classifier's class probabilities. Its argmax estimates the smoothed
 * prediction, and cross-entropy on it is SmoothAdv's loss; being random, it is attacked with
 * expectation over transformation ({@link Apgd#withEot}). Judge the points found with Cohen's PREDICT on
 * fresh noise, not with this module's one draw.
 */
public final class SmoothedClassifier extends Module {
    private final Module base;
    private final double sigma;
    private final int samples;

    public SmoothedClassifier(Module base, double sigma, int samples) {
        if (!(sigma > 0)) throw new IllegalArgumentException("smoothing σ must be positive, got " + sigma);
        if (samples < 1) throw new IllegalArgumentException("Monte Carlo samples must be ≥ 1, got " + samples);
        this.base = base;
        this.sigma = sigma;
        this.samples = samples;
    }

    @Override public Tensor forward(Tensor x) {
        long n = x.size(0);
        long[] reps = new long[x.dim()];
        java.util.Arrays.fill(reps, 1);
        reps[0] = samples;
        Tensor rep = x.repeat(reps);
        Tensor p = base.forward(rep.add(rep.randnLike(), sigma)).softmax(1);
        return p.view(samples, n, p.size(1)).mean(0, false).clampMin(1e-12).log();
    }

    @Override public Module train(boolean on) {
        base.train(on);
        return super.train(on);
    }

    @Override public String describe() {
        return "smoothed(" + base.describe() + ", σ " + sigma + ", " + samples + " samples)";
    }
}
