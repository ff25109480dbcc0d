package dev.tikhon.kernel;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A positive-definite kernel k(x, y) on flattened inputs (docs/methods.md §9; Oberman, "Partial differential
 * equation regularization for supervised machine learning", §kernel methods):
 *
 * <pre>
 *   rbf         k(x, y) = exp(−‖x − y‖² / (2σ²))
 *   laplace     k(x, y) = exp(−‖x − y‖ / σ)            (Euclidean norm)
 *   polynomial  k(x, y) = (γ xᵀy + c)^p
 *   linear      k(x, y) = xᵀy                           (kernel ridge = ridge regression)
 * </pre>
 *
 * Gram matrices are computed in the inputs' dtype: pass float64 where the result feeds a solve.
 */
public sealed interface Kernel {
    List<String> NAMES = List.of("rbf", "laplace", "polynomial", "linear");

    /** The Gram matrix k(a_i, b_j), shape [n, m], for a [n, d] and b [m, d]. */
    Tensor matrix(Tensor a, Tensor b);

    /** Whether random Fourier features exist for it (shift-invariant kernels: Bochner's theorem). */
    default boolean shiftInvariant() { return false; }

    String describe();

    /**
     * Refuses inputs whose largest squared norm is {@code largestSquaredNorm} where the kernel's values overflow
     * {@code dtype} (then every Gram matrix, fit and prediction is inf or NaN, and a fit "succeeds" at chance accuracy); a
     * bounded kernel never does.
     */
    default void checkRange(double largestSquaredNorm, DType dtype) {}

    /** The kernel as plain data (saved with a fitted model); {@link #fromMap} reads it back. */
    Map<String, Object> toMap();

    /** Gaussian (RBF) kernel of bandwidth σ. */
    record Rbf(double sigma) implements Kernel {
        public Rbf {
            if (!(sigma > 0)) throw new IllegalArgumentException("--sigma of the rbf kernel must be positive, got " + sigma);
        }

        @Override public Tensor matrix(Tensor a, Tensor b) {
            return squaredDistances(a, b).mul(-1 / (2 * sigma * sigma)).exp();
        }

        @Override public boolean shiftInvariant() { return true; }

        @Override public String describe() { return "rbf(σ " + fmt(sigma) + ")"; }

        @Override public Map<String, Object> toMap() { return map("rbf", "sigma", sigma); }
    }

    /**
     * Laplace kernel exp(−‖x − y‖₂/σ), from distances computed directly: the square root of the expanded form
     * ‖a‖² + ‖b‖² − 2 a·b amplifies its rounding near 0 (in float64 the Gram diagonal was off by up to 6.7e-7 on
     * 784-dimensional inputs), where the RBF kernel, smooth in the squared distance, is unaffected.
     */
    record Laplace(double sigma) implements Kernel {
        public Laplace {
            if (!(sigma > 0)) throw new IllegalArgumentException("--sigma of the laplace kernel must be positive, got " + sigma);
        }

        @Override public Tensor matrix(Tensor a, Tensor b) {
            return a.pairwiseDistances(b).mul(-1 / sigma).exp();
        }

        @Override public boolean shiftInvariant() { return true; }

        @Override public String describe() { return "laplace(σ " + fmt(sigma) + ")"; }

        @Override public Map<String, Object> toMap() { return map("laplace", "sigma", sigma); }
    }

    /** Polynomial kernel (γ xᵀy + c)^p. */
    record Polynomial(int degree, double gamma, double coef0) implements Kernel {
        public Polynomial {
            if (degree < 1) throw new IllegalArgumentException("--degree of the polynomial kernel must be ≥ 1, got " + degree);
            if (!(gamma > 0)) throw new IllegalArgumentException("--gamma of the polynomial kernel must be positive, got " + gamma);
            if (!(coef0 >= 0)) throw new IllegalArgumentException("--coef0 of the polynomial kernel must be ≥ 0, got " + coef0);
        }

        @Override public Tensor matrix(Tensor a, Tensor b) {
            return a.matmul(b.t()).mul(gamma).add(coef0).pow(degree);
        }

        /**
         * |k(x, y)| ≤ (γ max‖x‖² + c)^p by Cauchy–Schwarz, reached on the diagonal at the largest ‖x‖: above the dtype's
         * largest number, the Gram matrix holds infinities.
         */
        @Override public void checkRange(double maxSq, DType dtype) {
            double base = gamma * maxSq + coef0;
            if (!(base > 1)) return;
            double log10 = degree * Math.log10(base), limit = Math.log10(dtype == DType.FLOAT64 ? Double.MAX_VALUE : Float.MAX_VALUE);
            if (log10 > limit) {
                throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "the %s kernel overflows %s on these "
                        + "inputs: k(x, x) = (γ‖x‖² + c)^p reaches 10^%.0f at the largest ‖x‖² (%.4g), beyond %s's largest number "
                        + "(%.1e); use --degree %d or less, or a smaller --gamma", describe(), dtype.name().toLowerCase(java.util.Locale.ROOT),
                        log10, maxSq, dtype.name().toLowerCase(java.util.Locale.ROOT), Math.pow(10, limit), (int) Math.floor(limit / Math.log10(base))));
            }
        }

        @Override public String describe() { return "polynomial(degree " + degree + ", γ " + fmt(gamma) + ", c " + fmt(coef0) + ")"; }

        @Override public Map<String, Object> toMap() {
            Map<String, Object> m = map("polynomial", "degree", degree);
            m.put("gamma", gamma);
            m.put("coef0", coef0);
            return m;
        }
    }

    /** The linear kernel xᵀy. */
    record Linear() implements Kernel {
        @Override public Tensor matrix(Tensor a, Tensor b) { return a.matmul(b.t()); }

        @Override public String describe() { return "linear"; }

        @Override public Map<String, Object> toMap() { return map("linear", null, null); }
    }

    /**
     * Builds a kernel by name.
     *
     * @param sigma  bandwidth (rbf, laplace)
     * @param degree polynomial degree
     * @param gamma  polynomial scale γ
     * @param coef0  polynomial offset c
     */
    static Kernel parse(String name, double sigma, int degree, double gamma, double coef0) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "rbf": case "gaussian": return new Rbf(sigma);
            case "laplace": case "laplacian": return new Laplace(sigma);
            case "polynomial": case "poly": return new Polynomial(degree, gamma, coef0);
            case "linear": return new Linear();
            default: throw new IllegalArgumentException("unknown --kernel '" + name + "': use one of " + String.join(", ", NAMES));
        }
    }

    static Kernel fromMap(Map<String, Object> m) {
        String name = String.valueOf(m.get("name"));
        double sigma = num(m, "sigma", 1), gamma = num(m, "gamma", 1), coef0 = num(m, "coef0", 1);
        int degree = (int) num(m, "degree", 2);
        return parse(name, sigma, degree, gamma, coef0);
    }

    /** ‖a_i − b_j‖², [n, m], clamped at 0 against rounding: ‖a‖² + ‖b‖² − 2 a·b. */
    static Tensor squaredDistances(Tensor a, Tensor b) {
        Tensor aa = a.square().sum(1, true);          // [n, 1]
        Tensor bb = b.square().sum(1, false).unsqueeze(0); // [1, m]
        return aa.add(bb).sub(a.matmul(b.t()).mul(2)).clampMin(0);
    }

    private static double num(Map<String, Object> m, String key, double fallback) {
        Object v = m.get(key);
        return v instanceof Number n ? n.doubleValue() : fallback;
    }

    private static Map<String, Object> map(String name, String key, Object value) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        if (key != null) m.put(key, value);
        return m;
    }

    private static String fmt(double v) { return String.format(Locale.ROOT, "%.4g", v); }
}
