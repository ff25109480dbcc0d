package dev.tikhon.kernel;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Kernel ridge regression (docs/methods.md §9): minimize (1/n) Σ ‖f(xᵢ) − yᵢ‖² + λ‖f‖²_H over the RKHS. By the
 * representer theorem f(x) = Σ αᵢ k(x, xᵢ) with
 *
 * <pre>
 *   (K + nλI) α = Y,      K = [k(xᵢ, xⱼ)],  Y = [n, K] targets (one-hot for classification)
 * </pre>
 *
 * solved in float64 by a Cholesky factorization of the symmetric positive-definite K + nλI. With
 * D random Fourier features Φ [n, D] the same problem becomes ridge regression in the primal,
 * (ΦᵀΦ + nλI) w = ΦᵀY, a D × D solve whose cost is linear in n; by the push-through identity it
 * equals kernel ridge regression with the approximate kernel ΦΦᵀ.
 */
public final class KernelRidge {
    private KernelRidge() {}

    /** α = (K + nλI)⁻¹ Y by Cholesky, n = gram.size(0). λ = 0 needs a positive-definite Gram matrix. */
    public static Tensor solve(Tensor gram, Tensor targets, double lambda) {
        return solveShifted(gram, targets, gram.size(0) * lambda);
    }

    /** (A + shift·I)⁻¹ B by Cholesky. */
    static Tensor solveShifted(Tensor a, Tensor b, double shift) {
        if (!(shift >= 0)) throw new IllegalArgumentException("--lambda must be ≥ 0, got " + shift);
        long n = a.size(0);
        Tensor shifted = a.add(Tensor.eye(n, a.dtype(), a.device()).mul(shift));
        Tensor lower;
        try {
            lower = shifted.cholesky();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("the regularized kernel matrix (n " + n + ", shift " + shift
                    + ") is not numerically positive definite: raise --lambda (" + firstLine(e.getMessage()) + ")", e);
        }
        Tensor rhs = b.dim() == 1 ? b.unsqueeze(1) : b;
        Tensor x = rhs.choleskySolve(lower);
        return b.dim() == 1 ? x.squeeze(1) : x;
    }

    /**
     * Exact kernel ridge regression on x [n, d] with targets y [n, K] (both converted to float64).
     * The returned model's centres are the n training points and its coefficients α.
     */
    public static KernelModel fit(Kernel kernel, Tensor x, Tensor y, double lambda, Map<String, Object> details) {
        Tensor xd = x.flatten(1, -1).to(DType.FLOAT64).contiguous(), yd = y.to(DType.FLOAT64);
        Tensor alpha;
        try (Autograd.Guard g = Autograd.noGrad()) {
            alpha = solve(kernel.matrix(xd, xd), yd, lambda).keep();
        }
        Map<String, Object> d = new LinkedHashMap<>(details);
        d.put("lambda", lambda);
        KernelModel.Spec spec = new KernelModel.Spec("krr", kernel.toMap(), "centres", (int) xd.size(0), (int) xd.size(1),
                (int) yd.size(1), false, DType.FLOAT64.name(), d);
        KernelModel m = new KernelModel(spec, new KernelFeatures(kernel, xd));
        m.setCoefficients(alpha);
        return m;
    }

    /**
     * Ridge regression on random Fourier features: w = (ΦᵀΦ + nλI)⁻¹ ΦᵀY, with ΦᵀΦ and ΦᵀY
     * accumulated over blocks of {@code blockSize} rows so memory stays O(D² + block·D).
     */
    public static KernelModel fitRandomFeatures(Kernel kernel, int features, long seed, Tensor x, Tensor y, double lambda,
                                                int blockSize, Map<String, Object> details) {
        long n = x.size(0);
        int inputDim = (int) (x.numel() / n);
        RandomFourierFeatures phi = RandomFourierFeatures.sample(kernel, inputDim, features, seed, DType.FLOAT64);
        Tensor gram = Tensor.zeros(DType.FLOAT64, x.device(), features, features).keep();
        Tensor rhs = Tensor.zeros(DType.FLOAT64, x.device(), features, y.size(1)).keep();
        try (Autograd.Guard g = Autograd.noGrad()) {
            for (long start = 0; start < n; start += blockSize) {
                try (Scope s = Scope.open()) {
                    long len = Math.min(blockSize, n - start);
                    Tensor xb = x.narrow(0, start, len).flatten(1, -1).to(DType.FLOAT64);
                    Tensor f = phi.forward(xb);
                    gram.add_(f.t().matmul(f));
                    rhs.add_(f.t().matmul(y.narrow(0, start, len).to(DType.FLOAT64)));
                }
            }
        }
        Tensor w;
        try (Autograd.Guard g = Autograd.noGrad()) {
            w = solveShifted(gram, rhs, n * lambda).keep();
        }
        Map<String, Object> d = new LinkedHashMap<>(details);
        d.put("lambda", lambda);
        d.put("seed", seed);
        KernelModel.Spec spec = new KernelModel.Spec("rff", kernel.toMap(), "rff", features, inputDim, (int) y.size(1), false,
                DType.FLOAT64.name(), d);
        KernelModel m = new KernelModel(spec, phi);
        m.setCoefficients(w);
        return m;
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }
}
