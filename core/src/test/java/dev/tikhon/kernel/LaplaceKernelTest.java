package dev.tikhon.kernel;

import dev.tikhon.engine.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Oracle: the Laplace kernel computed term by term in Java doubles, on image-sized (784-dimensional) inputs. */
class LaplaceKernelTest {
    private static final int D = 784;

    @Test
    void gramMatrixIsExactOnItsDiagonalAndMatchesDirectDistances() {
        Random r = new Random(11);
        int n = 24, m = 9;
        double[] a = new double[n * D], b = new double[m * D];
        for (int i = 0; i < a.length; i++) a[i] = r.nextInt(256) / 255.0;   // pixel-like values, as the issue's
        for (int i = 0; i < b.length; i++) b[i] = r.nextDouble();
        Tensor ta = Tensor.fromDoubles(a, n, D), tb = Tensor.fromDoubles(b, m, D);
        double sigma = 7.5;
        Kernel k = new Kernel.Laplace(sigma);

        double[] gram = k.matrix(ta, ta).toDoubleArray();
        for (int i = 0; i < n; i++) assertThat(gram[i * n + i]).as("k(x_%d, x_%d)", i, i).isEqualTo(1.0);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) assertThat(gram[i * n + j]).isCloseTo(direct(a, i, a, j, sigma), within(1e-12));
        }
        double[] cross = k.matrix(ta, tb).toDoubleArray();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) assertThat(cross[i * m + j]).isCloseTo(direct(a, i, b, j, sigma), within(1e-12));
        }
    }

    private static double direct(double[] x, int i, double[] y, int j, double sigma) {
        double s = 0;
        for (int c = 0; c < D; c++) {
            double d = x[i * D + c] - y[j * D + c];
            s += d * d;
        }
        return Math.exp(-Math.sqrt(s) / sigma);
    }
}
