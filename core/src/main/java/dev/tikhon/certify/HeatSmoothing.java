package dev.tikhon.certify;

import dev.tikhon.attack.Pgd;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.train.Objective;

import java.util.List;
import java.util.Map;

/**
 * One implicit Euler step of the heat equation ∂ₜv = (σ²/2)Δv, as a label-free training
 * objective (Campbell, Finlay &amp; Oberman, "Deterministic Gaussian Averaged Neural Networks", and
 * the revision "Adversarial Boot Camp"; docs/methods.md §5):
 *
 * <pre>
 * f^{k+1} = argmin_v E_x [ ½‖u(v(x̃)) − u(f^k(x))‖² + λ (hσ²/2) ‖∇ₓ u(v(x̃))‖_F² ]
 * </pre>
 *
 * with f^k frozen, u the identity on logits (v1) or softmax (revision), and x̃ = x (v1) or x with
 * Gaussian noise of std σ on the first half of the batch (revision). The Frobenius norm is
 * estimated with no double backprop: for κ draws w ~ N(0, I/K) per example,
 * l = ∇ₓ(w·u)/‖∇ₓ(w·u)‖ (detached, one input-gradient pass over the κ copies) and
 * ‖∇ₓ(w·u)‖² ≈ ((w·u(x̃ + δl) − w·u(x̃))/δ)². Since E(w·g)² = ‖g‖²/K, the κ terms are summed and
 * scaled by K/κ, an unbiased estimate of ‖∇ₓu‖_F² for any κ (for κ = K, the paper's CIFAR-10
 * setting, this is the plain sum).
 *
 * <p>Note on λ: the Euler–Lagrange equation of this functional (uniform data density) is
 * v − λhσ²Δv = f^k, while an implicit heat step is v − (hσ²/2)Δv = f^k; λ = ½ is the exact step,
 * λ = 1 smooths with variance 2σ². The labels y are ignored by the loss (only logged as accuracy).
 */
public final class HeatSmoothing implements Objective {
    private final HeatConfig config;
    private final Module frozen;

    /** @param frozen f^k, evaluated without gradients in evaluation mode; not modified */
    public HeatSmoothing(HeatConfig config, Module frozen) {
        this.config = config;
        this.frozen = frozen;
    }

    public HeatConfig config() { return config; }

    @Override public Result evaluate(Module model, Tensor x, Tensor y) {
        Tensor target;
        try (Autograd.Guard g = Autograd.noGrad()) {
            boolean was = frozen.isTraining();
            frozen.train(false);
            target = out(frozen.forward(x)).detach();
            frozen.train(was);
        }
        Tensor input = config.softmax() ? noisyHalf(x) : x.detach();
        Tensor logits = model.forward(input);
        Tensor u = out(logits);
        Tensor fit = u.sub(target).square().sum(1, false).mean().mul(0.5);

        int kappa = config.kappa();
        long b = x.size(0), k = u.size(1);
        long[] times = new long[x.dim()];
        java.util.Arrays.fill(times, 1);
        times[0] = kappa;
        Tensor xr = input.detach().repeat(times);                         // κ copies, copy j at rows j·B … j·B + B − 1
        Tensor w = Tensor.randn(u.dtype(), u.device(), kappa * b, k).div(Math.sqrt(k));
        Tensor xg = xr.copy().requiresGrad(true);
        Tensor s = out(model.forward(xg)).mul(w).sum();
        Tensor grad = Autograd.grad(List.of(s), List.of(xg), null, false, false).get(0);
        Tensor norm = Pgd.perExample(grad.normPerExample(2), grad);
        Tensor l = grad.div(norm.clampMin(1e-12)).detach();                // 0 where the gradient is 0
        Tensor uShift = out(model.forward(xr.add(l, config.delta())));
        Tensor uBase = u.repeat(kappa, 1);
        Tensor dq = uShift.sub(uBase).mul(w).sum(1, false).div(config.delta());
        Tensor frob = dq.square().view(kappa, b).sum(0, false).mean().mul((double) k / kappa);
        double weight = config.lambda() * config.timeStep() * config.sigma() * config.sigma() / 2;
        Tensor loss = fit.add(frob.mul(weight));
        return new Result(loss, logits, Map.of("fit", fit, "grad_frobenius_sq", frob));
    }

    private Tensor out(Tensor logits) {
        return config.softmax() ? logits.softmax(1) : logits;
    }

    /** x with N(0, σ²) noise on the first ⌊B/2⌋ examples. */
    private Tensor noisyHalf(Tensor x) {
        long half = x.size(0) / 2;
        if (half == 0) return x.detach();
        Tensor noisy = x.narrow(0, 0, half);
        noisy = noisy.add(noisy.randnLike(), config.sigma());
        return Tensor.cat(List.of(noisy, x.narrow(0, half, x.size(0) - half)), 0).detach();
    }

    @Override public String describe() {
        return "heat smoothing (" + config.schedule() + ", σ " + config.sigma() + ", λ " + config.lambda() + ", κ "
                + config.kappa() + ", δ " + config.delta() + ", h " + config.timeStep() + ")";
    }
}
