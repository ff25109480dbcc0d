package dev.tikhon.generalization;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.models.Models;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Oracle: the Jacobian of softmax(f) by central finite differences in float64, its spectral norm by power iteration in Java. */
class ModelLipschitzTest {

    @Test
    void jacobianSpectralNormsMatchFiniteDifferences() {
        Rng.seed(4);
        int d = 6, k = 3, n = 5;
        Module m = Models.build(Models.spec("mlp", List.of((long) d), k, Map.of("hidden", List.of(12), "activation", "softplus")))
                .to(DType.FLOAT64);
        m.train(false);
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, n, d);
        double[] got = ModelLipschitz.jacobianNorms(m, x, k).toDoubleArray();
        double[] xv = x.toDoubleArray();
        double h = 1e-6;
        for (int i = 0; i < n; i++) {
            double[][] jac = new double[k][d];
            for (int j = 0; j < d; j++) {
                double[] p = xv.clone(), q = xv.clone();
                p[i * d + j] += h;
                q[i * d + j] -= h;
                double[] fp = m.forward(Tensor.fromDoubles(p, n, d)).softmax(1).toDoubleArray();
                double[] fq = m.forward(Tensor.fromDoubles(q, n, d)).softmax(1).toDoubleArray();
                for (int c = 0; c < k; c++) jac[c][j] = (fp[i * k + c] - fq[i * k + c]) / (2 * h);
            }
            assertThat(got[i]).isCloseTo(spectralNorm(jac), org.assertj.core.api.Assertions.within(1e-7));
        }
    }

    /** Largest singular value by power iteration on JᵀJ. */
    private static double spectralNorm(double[][] j) {
        int d = j[0].length;
        double[] v = new double[d];
        java.util.Arrays.fill(v, 1 / Math.sqrt(d));
        double s = 0;
        for (int it = 0; it < 500; it++) {
            double[] jv = new double[j.length];
            for (int c = 0; c < j.length; c++) for (int t = 0; t < d; t++) jv[c] += j[c][t] * v[t];
            double[] w = new double[d];
            for (int t = 0; t < d; t++) for (int c = 0; c < j.length; c++) w[t] += j[c][t] * jv[c];
            double norm = 0;
            for (double e : w) norm += e * e;
            norm = Math.sqrt(norm);
            for (int t = 0; t < d; t++) v[t] = w[t] / norm;
            s = Math.sqrt(norm);
        }
        return s;
    }
}
