package dev.tikhon.nn;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Tensor;

/** Batch normalization over the channels of NCHW input, with running statistics for evaluation. */
public final class BatchNorm2d extends Module {
    public final int channels;
    private final Parameter weight, bias;
    private final Tensor[] runningMean, runningVar;
    private final double momentum, eps;

    /** PyTorch's defaults: momentum 0.1, ε 1e-5. */
    public BatchNorm2d(int channels) {
        this(channels, 0.1, 1e-5);
    }

    /**
     * @param momentum the weight of a training batch's statistics in the running ones (PyTorch's convention; ONNX writes
     *                 1 − momentum), in [0, 1]
     * @param eps      added to the variance before its square root, &gt; 0
     */
    public BatchNorm2d(int channels, double momentum, double eps) {
        if (!(momentum >= 0 && momentum <= 1)) throw new IllegalArgumentException("batch norm momentum must be in [0, 1], got " + momentum);
        if (!(eps > 0) || Double.isInfinite(eps)) throw new IllegalArgumentException("batch norm ε must be positive and finite, got " + eps);
        this.momentum = momentum;
        this.eps = eps;
        this.channels = channels;
        this.weight = parameter("weight", Tensor.ones(channels), false);
        this.bias = parameter("bias", Tensor.zeros(channels), false);
        this.runningMean = buffer("running_mean", Tensor.zeros(channels));
        this.runningVar = buffer("running_var", Tensor.ones(channels));
    }

    @Override public Tensor forward(Tensor x) {
        return Ops.batchNorm(x, weight.value(), bias.value(), runningMean[0], runningVar[0], isTraining(), momentum, eps);
    }

    /** γ, the per-channel scale. */
    public Parameter weight() { return weight; }

    /** The running variance used in evaluation mode. */
    public Tensor runningVar() { return runningVar[0]; }

    public double eps() { return eps; }

    /** The weight of a training batch's statistics in the running ones. */
    public double momentum() { return momentum; }

    /** γ = 0: the normalized branch starts silent (zero-last for residual blocks with batch norm). */
    public void zeroScale() {
        try (Autograd.Guard g = Autograd.noGrad()) {
            weight.value().zero_();
        }
    }

    /** Whether {@code model} holds a batch norm anywhere in its tree. */
    public static boolean in(Module model) {
        for (Module m : model.modules()) if (m instanceof BatchNorm2d) return true;
        return false;
    }

    /**
     * The evaluation-mode map as a per-channel affine function y = scale·x + shift, scale = γ/√(var + eps),
     * shift = β − mean·scale: {@code [scale, shift]}, differentiable in γ and β.
     */
    /** The evaluation-mode map's parts: {@code [running mean, γ/√(running var + eps), β]}. */
    public Tensor[] evalParts() {
        return new Tensor[]{runningMean[0], weight.value().div(runningVar[0].add(eps).sqrt()), bias.value()};
    }

    public Tensor[] evalAffine() {
        Tensor scale = weight.value().div(runningVar[0].add(eps).sqrt());
        return new Tensor[]{scale, bias.value().sub(runningMean[0].mul(scale))};
    }

    /**
     * The training-mode map on the batch {@code x} [N, C, …] as a per-channel affine function: scale = γ/√(σ²_B + eps),
     * shift = β − μ_B·scale with μ_B, σ²_B the batch's per-channel mean and biased variance (what the training-mode forward
     * pass normalizes with): {@code [scale, shift]}, differentiable in γ, β and x. The running statistics are not touched.
     */
    public Tensor[] batchAffine(Tensor x) {
        Tensor mean = x, sq;
        for (int d = x.dim() - 1; d >= 0; d--) if (d != 1) mean = mean.mean(d, true);
        sq = x.sub(mean).square();
        for (int d = x.dim() - 1; d >= 0; d--) if (d != 1) sq = sq.mean(d, true);
        Tensor mu = mean.reshape(channels), var = sq.reshape(channels);
        Tensor scale = weight.value().div(var.add(eps).sqrt());
        return new Tensor[]{scale, bias.value().sub(mu.mul(scale))};
    }

    @Override public String describe() { return "BatchNorm2d(" + channels + ")"; }
}
