package dev.tikhon.kernel;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;
import java.util.function.BiFunction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Oracle: the closed form (K + nλI)α = Y solved by Gauss–Jordan elimination in plain Java doubles,
 * independently of libtorch, and, for the linear kernel, the primal ridge solution.
 */
class KernelRidgeTest {
    private static final int N = 40, D = 5, K = 3, M = 12;

    private static double[][] randomMatrix(int rows, int cols, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        double[][] a = new double[rows][cols];
        for (double[] row : a) for (int j = 0; j < cols; j++) row[j] = r.nextDouble();
        return a;
    }

    private static Tensor tensor(double[][] a) {
        double[] flat = new double[a.length * a[0].length];
        for (int i = 0; i < a.length; i++) System.arraycopy(a[i], 0, flat, i * a[0].length, a[0].length);
        return Tensor.fromDoubles(flat, a.length, a[0].length);
    }

    /** Solves A X = B by Gauss–Jordan elimination with partial pivoting. */
    static double[][] gaussJordan(double[][] a, double[][] b) {
        int n = a.length, m = b[0].length;
        double[][] A = new double[n][], B = new double[n][];
        for (int i = 0; i < n; i++) { A[i] = a[i].clone(); B[i] = b[i].clone(); }
        for (int c = 0; c < n; c++) {
            int p = c;
            for (int r = c + 1; r < n; r++) if (Math.abs(A[r][c]) > Math.abs(A[p][c])) p = r;
            double[] t = A[c]; A[c] = A[p]; A[p] = t;
            t = B[c]; B[c] = B[p]; B[p] = t;
            for (int r = 0; r < n; r++) {
                if (r == c) continue;
                double f = A[r][c] / A[c][c];
                for (int j = c; j < n; j++) A[r][j] -= f * A[c][j];
                for (int j = 0; j < m; j++) B[r][j] -= f * B[c][j];
            }
        }
        for (int r = 0; r < n; r++) for (int j = 0; j < m; j++) B[r][j] /= A[r][r];
        return B;
    }

    private static double dist2(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
        return s;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    /** The kernels in plain Java, as the formulas in docs/methods.md §9 / Kernel's documentation read. */
    private static BiFunction<double[], double[], Double> reference(String name) {
        switch (name) {
            case "rbf": return (a, b) -> Math.exp(-dist2(a, b) / (2 * 0.7 * 0.7));
            case "laplace": return (a, b) -> Math.exp(-Math.sqrt(dist2(a, b)) / 0.7);
            case "polynomial": return (a, b) -> Math.pow(0.5 * dot(a, b) + 1, 3);
            default: return (a, b) -> dot(a, b);
        }
    }

    private static Kernel kernel(String name) {
        return Kernel.parse(name, 0.7, 3, 0.5, 1);
    }

    private static double maxAbs(double[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    @ParameterizedTest
    @ValueSource(strings = {"rbf", "laplace", "polynomial", "linear"})
    void krrEqualsTheClosedFormSolvedIndependently(String name) {
        double[][] x = randomMatrix(N, D, 1), y = randomMatrix(N, K, 2), xt = randomMatrix(M, D, 3);
        double lambda = 1e-3;
        BiFunction<double[], double[], Double> k = reference(name);
        double[][] gram = new double[N][N];
        for (int i = 0; i < N; i++) for (int j = 0; j < N; j++) gram[i][j] = k.apply(x[i], x[j]) + (i == j ? N * lambda : 0);
        double[][] alpha = gaussJordan(gram, y);
        double[] want = new double[M * K];
        for (int t = 0; t < M; t++) {
            for (int c = 0; c < K; c++) {
                double s = 0;
                for (int i = 0; i < N; i++) s += k.apply(xt[t], x[i]) * alpha[i][c];
                want[t * K + c] = s;
            }
        }
        KernelModel m = KernelRidge.fit(kernel(name), tensor(x), tensor(y), lambda, Map.of());
        double[] got = m.forward(tensor(xt)).toDoubleArray();
        double scale = java.util.Arrays.stream(want).map(Math::abs).max().orElse(1);
        assertThat(maxAbs(got, want) / Math.max(1, scale)).as(name + " predictions").isLessThan(1e-8);
        // the Gram matrix itself, entry by entry
        double[] g = kernel(name).matrix(tensor(x), tensor(xt)).toDoubleArray();
        for (int i = 0; i < N; i++) for (int t = 0; t < M; t++) {
            assertThat(g[i * M + t]).isCloseTo(k.apply(x[i], xt[t]), org.assertj.core.api.Assertions.within(1e-12 * Math.max(1, Math.abs(g[i * M + t]))));
        }
    }

    @Test
    void linearKernelRidgeEqualsPrimalRidgeRegression() {
        double[][] x = randomMatrix(N, D, 4), y = randomMatrix(N, K, 5), xt = randomMatrix(M, D, 6);
        double lambda = 0.05;
        // w = (XᵀX + nλI)⁻¹ XᵀY
        double[][] xtx = new double[D][D], xty = new double[D][K];
        for (int a = 0; a < D; a++) {
            for (int b = 0; b < D; b++) {
                for (int i = 0; i < N; i++) xtx[a][b] += x[i][a] * x[i][b];
                if (a == b) xtx[a][b] += N * lambda;
            }
            for (int c = 0; c < K; c++) for (int i = 0; i < N; i++) xty[a][c] += x[i][a] * y[i][c];
        }
        double[][] w = gaussJordan(xtx, xty);
        double[] want = new double[M * K];
        for (int t = 0; t < M; t++) for (int c = 0; c < K; c++) for (int a = 0; a < D; a++) want[t * K + c] += xt[t][a] * w[a][c];
        double[] got = KernelRidge.fit(new Kernel.Linear(), tensor(x), tensor(y), lambda, Map.of()).forward(tensor(xt)).toDoubleArray();
        assertThat(maxAbs(got, want)).isLessThan(1e-8);
    }

    @Test
    void vanishingRidgeInterpolatesTheTargets() {
        double[][] x = randomMatrix(20, D, 7), y = randomMatrix(20, K, 8);
        KernelModel m = KernelRidge.fit(new Kernel.Rbf(0.3), tensor(x), tensor(y), 1e-12, Map.of());
        double[] fit = m.forward(tensor(x)).toDoubleArray();
        assertThat(maxAbs(fit, tensor(y).toDoubleArray())).isLessThan(1e-6);
    }

    /** Push-through identity: ridge on random features = kernel ridge with the kernel ΦΦᵀ. */
    @Test
    void randomFeatureRidgeEqualsKernelRidgeWithTheApproximateKernel() {
        double[][] x = randomMatrix(N, D, 9), y = randomMatrix(N, K, 10), xt = randomMatrix(M, D, 11);
        double lambda = 1e-2;
        Kernel k = new Kernel.Rbf(0.8);
        KernelModel primal = KernelRidge.fitRandomFeatures(k, 64, 3, tensor(x), tensor(y), lambda, 7, Map.of());
        RandomFourierFeatures phi = (RandomFourierFeatures) primal.featureMap();
        Tensor fx = phi.forward(tensor(x)), ft = phi.forward(tensor(xt));
        Tensor alpha = KernelRidge.solve(fx.matmul(fx.t()), tensor(y), lambda);
        double[] dual = ft.matmul(fx.t()).matmul(alpha).toDoubleArray();
        assertThat(maxAbs(primal.forward(tensor(xt)).toDoubleArray(), dual)).isLessThan(1e-8);
    }

    @Test
    void seededRandomFeaturesAreReproducible() {
        Tensor x = tensor(randomMatrix(5, D, 12));
        double[] a = RandomFourierFeatures.sample(new Kernel.Laplace(1), D, 32, 5, DType.FLOAT64).forward(x).toDoubleArray();
        Rng.seed(99);
        Tensor.randn(DType.FLOAT64, Device.CPU, 10);   // disturb the global generator
        double[] b = RandomFourierFeatures.sample(new Kernel.Laplace(1), D, 32, 5, DType.FLOAT64).forward(x).toDoubleArray();
        assertThat(a).containsExactly(b);
    }

    @Test
    void singularSystemWithoutRidgeIsAClearError() {
        double[][] x = new double[4][D]; // four identical points: K is rank one
        assertThatThrownBy(() -> KernelRidge.fit(new Kernel.Rbf(1), tensor(x), tensor(randomMatrix(4, K, 1)), 0, Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("raise --lambda");
    }

    @Test
    void savedModelPredictsTheSame(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        double[][] x = randomMatrix(N, D, 13), y = randomMatrix(N, K, 14), xt = randomMatrix(M, D, 15);
        for (KernelModel m : new KernelModel[]{
                KernelRidge.fit(new Kernel.Polynomial(2, 1, 1), tensor(x), tensor(y), 1e-3, Map.of()),
                KernelRidge.fitRandomFeatures(new Kernel.Rbf(1), 16, 1, tensor(x), tensor(y), 1e-3, 100, Map.of())}) {
            java.nio.file.Path d = dir.resolve(m.spec().method());
            m.save(d);
            KernelModel back = KernelModel.load(d);
            assertThat(back.forward(tensor(xt)).toDoubleArray()).containsExactly(m.forward(tensor(xt)).toDoubleArray());
        }
    }

    /** A kill between the two writes of a save leaves one fit's tensors beside another's JSON: caught on load, not mixed. */
    @Test
    void tensorsFromAnotherSaveAreDetected(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws java.io.IOException {
        double[][] x = randomMatrix(N, D, 13), y = randomMatrix(N, K, 14);
        KernelModel first = KernelRidge.fit(new Kernel.Rbf(1), tensor(x), tensor(y), 1e-3, Map.of());
        KernelModel second = KernelRidge.fit(new Kernel.Rbf(1), tensor(x), tensor(y), 1e-1, Map.of());
        java.nio.file.Path a = dir.resolve("a"), b = dir.resolve("b");
        first.save(a);
        second.save(b);
        java.nio.file.Files.copy(b.resolve(KernelModel.TENSOR_FILE), a.resolve(KernelModel.TENSOR_FILE),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);   // as if killed after the tensors, before the JSON
        assertThatThrownBy(() -> KernelModel.load(a)).isInstanceOf(dev.tikhon.UserError.class)
                .hasMessageContaining(KernelModel.TENSOR_FILE).hasMessageContaining("interrupted");
        assertThat(KernelModel.load(b).spec().details()).containsKey("tensors_sha256");
    }

    /**
     * Known answer from numpy (float64, np.linalg.solve): six 2-D points, one-hot targets, σ = 0.8, λ = 1e-3,
     * α = (K + nλI)⁻¹Y and f = k(T, X)α at three test points, for rbf exp(−‖x−y‖²/2σ²) and laplace exp(−‖x−y‖/σ).
     */
    @Test
    void predictionsMatchNumpy() {
        double[][] x = {{0.1, 0.2}, {0.9, 0.4}, {0.5, 0.5}, {0.3, 0.8}, {0.7, 0.1}, {0.2, 0.6}};
        double[][] y = {{1, 0}, {0, 1}, {1, 0}, {0, 1}, {1, 0}, {0, 1}};
        double[][] t = {{0.4, 0.4}, {0.8, 0.8}, {0.0, 1.0}};
        double[] rbf = {0.9879190376203049, 0.04111687933563246, 0.1532378948947688, 0.7788126103736346, -1.2361774205863014, 2.1303133001489343};
        double[] laplace = {0.8635975920668266, 0.15393638199689108, 0.1648993082983672, 0.6312435342182883, -0.030911730010624194, 0.7136917058380408};
        double[] gotRbf = KernelRidge.fit(new Kernel.Rbf(0.8), tensor(x), tensor(y), 1e-3, Map.of()).forward(tensor(t)).toDoubleArray();
        double[] gotLaplace = KernelRidge.fit(new Kernel.Laplace(0.8), tensor(x), tensor(y), 1e-3, Map.of()).forward(tensor(t)).toDoubleArray();
        for (int i = 0; i < rbf.length; i++) {
            assertThat(gotRbf[i]).as("rbf %d", i).isCloseTo(rbf[i], org.assertj.core.api.Assertions.within(1e-9));
            assertThat(gotLaplace[i]).as("laplace %d", i).isCloseTo(laplace[i], org.assertj.core.api.Assertions.within(1e-9));
        }
    }
}
