package dev.tikhon.kernel;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/** Oracle: Monte Carlo rate. The RMS error of ΦΦᵀ against the exact Gram matrix falls as D^{−1/2}. */
class RandomFeaturesTest {

    @ParameterizedTest
    @ValueSource(strings = {"rbf", "laplace"})
    void randomFeaturesConvergeToTheExactKernelAtTheMonteCarloRate(String name) {
        Rng.seed(17);
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 100, 4);
        Kernel k = Kernel.parse(name, 0.8, 2, 1, 1);
        Tensor exact = k.matrix(x, x);
        int[] ds = {16, 64, 256, 1024, 4096};
        double[] rms = new double[ds.length];
        int seeds = 4;
        for (int i = 0; i < ds.length; i++) {
            for (int s = 0; s < seeds; s++) {
                RandomFourierFeatures phi = RandomFourierFeatures.sample(k, 4, ds[i], 1000L * s + i, DType.FLOAT64);
                Tensor f = phi.forward(x);
                rms[i] += f.matmul(f.t()).sub(exact).square().mean().sqrt().item() / seeds;
            }
        }
        for (int i = 1; i < ds.length; i++) assertThat(rms[i]).as("error at D=" + ds[i] + " vs D=" + ds[i - 1]).isLessThan(rms[i - 1]);
        // least-squares slope of log error against log D
        double mx = 0, my = 0;
        for (int i = 0; i < ds.length; i++) { mx += Math.log(ds[i]) / ds.length; my += Math.log(rms[i]) / ds.length; }
        double sxy = 0, sxx = 0;
        for (int i = 0; i < ds.length; i++) {
            sxy += (Math.log(ds[i]) - mx) * (Math.log(rms[i]) - my);
            sxx += (Math.log(ds[i]) - mx) * (Math.log(ds[i]) - mx);
        }
        assertThat(sxy / sxx).as(name + " convergence slope (errors " + java.util.Arrays.toString(rms) + ")").isBetween(-0.6, -0.4);
        assertThat(rms[ds.length - 1]).isLessThan(0.03);
    }
}
