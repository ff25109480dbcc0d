package dev.tikhon.kernel;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

/**
 * Random Fourier features (Rahimi &amp; Recht 2007): for a shift-invariant kernel k(x − y) with
 * spectral density p(w) (Bochner), φ(x) = √(2/D) cos(Wx + b), rows of W drawn from p and
 * b ~ U[0, 2π), so that E φ(x)ᵀφ(y) = k(x, y) with error O(D^{−1/2}). A linear model on φ is
 * then an approximate kernel machine whose cost is linear in the number of points.
 *
 * <ul>
 *   <li>rbf, exp(−‖δ‖²/2σ²): w ~ N(0, I/σ²);</li>
 *   <li>laplace, exp(−‖δ‖/σ): the multivariate Cauchy density ∝ (1 + σ²‖w‖²)^{−(d+1)/2}, i.e. a
 *       multivariate t with one degree of freedom, w = z / (σ|g|), z ~ N(0, I), g ~ N(0, 1).</li>
 * </ul>
 *
 * W and b are buffers (not trained); they are drawn from {@code seed} alone.
 */
public final class RandomFourierFeatures extends Module {
    private final Tensor[] weights, phases;
    private final int features;

    /** Features with W, b left at zero, to be filled by {@link #loadStateDict} (a saved model). */
    RandomFourierFeatures(int inputDim, int features, DType dtype) {
        this.features = features;
        this.weights = buffer("weights", Tensor.zeros(dtype, Device.CPU, features, inputDim));
        this.phases = buffer("phases", Tensor.zeros(dtype, Device.CPU, features));
    }

    /** Draws D = {@code features} random features of {@code kernel} for inputs of dimension {@code inputDim}. */
    public static RandomFourierFeatures sample(Kernel kernel, int inputDim, int features, long seed, DType dtype) {
        if (features < 1) throw new IllegalArgumentException("--features must be at least 1, got " + features);
        RandomFourierFeatures f = new RandomFourierFeatures(inputDim, features, dtype);
        Rng.seed(Rng.derive(seed, 0x52FF));
        Tensor w;
        if (kernel instanceof Kernel.Rbf rbf) {
            w = Tensor.randn(DType.FLOAT64, Device.CPU, features, inputDim).div(rbf.sigma());
        } else if (kernel instanceof Kernel.Laplace lap) {
            Tensor z = Tensor.randn(DType.FLOAT64, Device.CPU, features, inputDim);
            Tensor g = Tensor.randn(DType.FLOAT64, Device.CPU, features, 1).abs().clampMin(1e-300);
            w = z.div(g).div(lap.sigma());
        } else {
            throw new IllegalArgumentException("random Fourier features need a shift-invariant kernel (rbf or laplace), not "
                    + kernel.describe());
        }
        Tensor b = Tensor.rand(DType.FLOAT64, Device.CPU, features).mul(2 * Math.PI);
        f.weights[0] = w.to(dtype).keep();
        f.phases[0] = b.to(dtype).keep();
        return f;
    }

    public int features() { return features; }

    /** φ(x) for x [N, d]: [N, D]. */
    @Override public Tensor forward(Tensor x) {
        Tensor w = weights[0], b = phases[0];
        return x.matmul(w.t()).add(b.unsqueeze(0)).cos().mul(Math.sqrt(2.0 / features));
    }

    @Override public String describe() { return "RandomFourierFeatures(D " + features + ")"; }
}
