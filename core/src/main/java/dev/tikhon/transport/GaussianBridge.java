package dev.tikhon.transport;

/**
 * Closed forms for the entropic interpolation between two centred Gaussians N(0, Σ₀) and N(0, Σ₁)
 * (docs/methods.md §7), with small dense symmetric-matrix helpers (Jacobi eigen-decomposition).
 *
 * <p>The Gaussian Schrödinger bridge with reference Brownian variance s (Bunne et al. 2023):
 * Σₜ = (1−t)²Σ₀ + t²Σ₁ + t(1−t)(C + Cᵀ + sI), C = ½(Σ₀^{1/2} D Σ₀^{−1/2} − sI),
 * D = (4Σ₀^{1/2}Σ₁Σ₀^{1/2} + s²I)^{1/2}. The paper's appendix formula with ε is this with s = ε/2; the
 * coupling ∝ exp(−‖x − y‖²/(2ε)) used here (heat kernels H_{tε}) has s = ε.
 */
public final class GaussianBridge {
    private GaussianBridge() {}

    /** Σₜ of the bridge with reference variance s. */
    public static double[][] covariance(double[][] s0, double[][] s1, double t, double s) {
        int d = s0.length;
        double[][] r0 = sqrt(s0), r0inv = inverse(r0);
        double[][] d4 = add(scale(mul(mul(r0, s1), r0), 4), scale(identity(d), s * s));
        double[][] dm = sqrt(symmetrize(d4));
        double[][] c = scale(add(mul(mul(r0, dm), r0inv), scale(identity(d), -s)), 0.5);
        double[][] cross = add(add(c, transpose(c)), scale(identity(d), s));
        return add(add(scale(s0, (1 - t) * (1 - t)), scale(s1, t * t)), scale(cross, t * (1 - t)));
    }

    /**
     * The paper's appendix form Σₜ = (1−t)²Σ₀ + t²Σ₁ + t(1−t)[(ε²/16 I + Σ₀Σ₁)^{1/2} + (ε²/16 I + Σ₁Σ₀)^{1/2}],
     * the square root of the non-symmetric Σ₀Σ₁ + ε²/16 I taken as Σ₀^{1/2}(ε²/16 I + Σ₀^{1/2}Σ₁Σ₀^{1/2})^{1/2}Σ₀^{−1/2}.
     */
    public static double[][] appendixCovariance(double[][] s0, double[][] s1, double t, double eps) {
        int d = s0.length;
        double[][] r0 = sqrt(s0), r0inv = inverse(r0);
        double[][] inner = sqrt(symmetrize(add(mul(mul(r0, s1), r0), scale(identity(d), eps * eps / 16))));
        double[][] a = mul(mul(r0, inner), r0inv);
        return add(add(scale(s0, (1 - t) * (1 - t)), scale(s1, t * t)), scale(add(a, transpose(a)), t * (1 - t)));
    }

    // ---- small dense matrices ----

    public static double[][] identity(int d) {
        double[][] m = new double[d][d];
        for (int i = 0; i < d; i++) m[i][i] = 1;
        return m;
    }

    public static double[][] mul(double[][] a, double[][] b) {
        int n = a.length, k = b.length, m = b[0].length;
        double[][] r = new double[n][m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) {
            double s = 0;
            for (int l = 0; l < k; l++) s += a[i][l] * b[l][j];
            r[i][j] = s;
        }
        return r;
    }

    public static double[][] add(double[][] a, double[][] b) {
        double[][] r = new double[a.length][a[0].length];
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a[0].length; j++) r[i][j] = a[i][j] + b[i][j];
        return r;
    }

    public static double[][] scale(double[][] a, double c) {
        double[][] r = new double[a.length][a[0].length];
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a[0].length; j++) r[i][j] = a[i][j] * c;
        return r;
    }

    public static double[][] transpose(double[][] a) {
        double[][] r = new double[a[0].length][a.length];
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a[0].length; j++) r[j][i] = a[i][j];
        return r;
    }

    static double[][] symmetrize(double[][] a) { return scale(add(a, transpose(a)), 0.5); }

    /** Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations: {eigenvalues (as a 1 × d row), eigenvectors (columns)}. */
    public static double[][][] eigh(double[][] sym) {
        int d = sym.length;
        double[][] a = new double[d][];
        for (int i = 0; i < d; i++) a[i] = sym[i].clone();
        double[][] v = identity(d);
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            for (int p = 0; p < d; p++) for (int q = p + 1; q < d; q++) off += a[p][q] * a[p][q];
            if (off < 1e-30) break;
            for (int p = 0; p < d; p++) for (int q = p + 1; q < d; q++) {
                if (Math.abs(a[p][q]) < 1e-300) continue;
                double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                if (theta == 0) t = 1;
                double c = 1 / Math.sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < d; k++) {
                    double akp = a[k][p], akq = a[k][q];
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for (int k = 0; k < d; k++) {
                    double apk = a[p][k], aqk = a[q][k];
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for (int k = 0; k < d; k++) {
                    double vkp = v[k][p], vkq = v[k][q];
                    v[k][p] = c * vkp - s * vkq;
                    v[k][q] = s * vkp + c * vkq;
                }
            }
        }
        double[][] values = new double[1][d];
        for (int i = 0; i < d; i++) values[0][i] = a[i][i];
        return new double[][][]{values, v};
    }

    /** f(A) = V f(Λ) Vᵀ for symmetric A. */
    static double[][] apply(double[][] sym, java.util.function.DoubleUnaryOperator f) {
        double[][][] e = eigh(sym);
        int d = sym.length;
        double[][] r = new double[d][d];
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) {
            double s = 0;
            for (int k = 0; k < d; k++) s += e[1][i][k] * f.applyAsDouble(e[0][0][k]) * e[1][j][k];
            r[i][j] = s;
        }
        return r;
    }

    /** The symmetric positive square root. */
    public static double[][] sqrt(double[][] spd) { return apply(spd, x -> Math.sqrt(Math.max(0, x))); }

    /** Inverse of a symmetric positive definite matrix. */
    public static double[][] inverse(double[][] spd) { return apply(symmetrize(spd), x -> 1 / x); }

    public static double det(double[][] sym) {
        double[][][] e = eigh(symmetrize(sym));
        double p = 1;
        for (double x : e[0][0]) p *= x;
        return p;
    }

    /** The sample covariance (about the sample mean) of points [n][d]. */
    public static double[][] sampleCovariance(double[] flat, int d) {
        int n = flat.length / d;
        double[] mean = new double[d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) mean[j] += flat[i * d + j] / n;
        double[][] c = new double[d][d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) for (int k = 0; k < d; k++) {
            c[j][k] += (flat[i * d + j] - mean[j]) * (flat[i * d + k] - mean[k]) / (n - 1);
        }
        return c;
    }
}
