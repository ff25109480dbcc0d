package dev.tikhon.flow;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Parameter;
import dev.tikhon.ode.SolverOptions;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Oracles for the multiscale image flow: transform log-dets by autograd, identity flow closed form, invertibility, adjoint = backprop. */
class ImageFlowTest {
    static final SolverOptions TIGHT = SolverOptions.dopri5(1e-10, 1e-10);

    /** A tiny float64 flow on 1×4×4 images (blocks 4×2×2 and 8×1×1), conv width 4. */
    static ImageFlow tiny(Divergence divergence, boolean randomLastLayer) {
        ImageFlow f = new ImageFlow(new long[]{1, 4, 4}, 4, 2, divergence, 1.0);
        f.module().to(DType.FLOAT64);
        if (randomLastLayer) {
            try (Autograd.Guard g = Autograd.noGrad()) {
                for (ContinuousFlow b : f.blocks()) {
                    for (Parameter p : ((ConvTimeField) b.field()).last().parameters()) p.value().normal_(0, 0.3);
                }
            }
        }
        return f;
    }

    /** Pixel values k/255 as the data sets deliver them. */
    static Tensor pixels(long... shape) {
        return Tensor.randint(256, Device.CPU, shape).to(DType.FLOAT64).div(255);
    }

    @Test
    void transformLogDetEqualsTheAutogradJacobian() {
        Rng.seed(11);
        ImageFlow f = new ImageFlow(new long[]{1, 2, 4}, 4, 1, Divergence.RADEMACHER, 1.0).dequantize(false);
        f.module().to(DType.FLOAT64);
        int d = 8;
        Tensor u = Tensor.rand(DType.FLOAT64, Device.CPU, 1, 1, 2, 4).requiresGrad(true);
        Tensor[] p = f.preprocess(u);
        assertThat(p[0].shape()).containsExactly(1, 4, 1, 2);
        Tensor y = p[0].flatten(0, -1);
        double[][] jac = new double[d][];
        for (int i = 0; i < d; i++) jac[i] = Autograd.grad(y.select(0, i), u, false).flatten(0, -1).toDoubleArray();
        assertThat(p[1].item()).isCloseTo(logAbsDet(jac), within(1e-9));
    }

    /** log |det M| by Gaussian elimination with partial pivoting. */
    static double logAbsDet(double[][] m) {
        int n = m.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) a[i] = m[i].clone();
        double s = 0;
        for (int k = 0; k < n; k++) {
            int piv = k;
            for (int i = k + 1; i < n; i++) if (Math.abs(a[i][k]) > Math.abs(a[piv][k])) piv = i;
            double[] t = a[k];
            a[k] = a[piv];
            a[piv] = t;
            s += Math.log(Math.abs(a[k][k]));
            for (int i = k + 1; i < n; i++) {
                double r = a[i][k] / a[k][k];
                for (int j = k; j < n; j++) a[i][j] -= r * a[k][j];
            }
        }
        return s;
    }

    @Test
    void squeezeIsSpaceToDepthAndUnsqueezeInvertsIt() {
        Rng.seed(12);
        Tensor x = Tensor.randn(DType.FLOAT64, Device.CPU, 2, 3, 4, 6);
        Tensor s = ImageFlow.squeeze(x);
        assertThat(s.shape()).containsExactly(2, 12, 2, 3);
        double[] xs = x.toDoubleArray(), ss = s.toDoubleArray();
        for (int n = 0; n < 2; n++) for (int c = 0; c < 3; c++) for (int a = 0; a < 2; a++) for (int b = 0; b < 2; b++)
            for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) {
                double got = ss[((n * 12 + 4 * c + 2 * a + b) * 2 + i) * 3 + j];
                double want = xs[((n * 3 + c) * 4 + 2 * i + a) * 6 + 2 * j + b];
                assertThat(got).isEqualTo(want);
            }
        assertThat(ImageFlow.unsqueeze(s).sub(x).abs().max().item()).isZero();
        assertThat(ImageFlow.squeeze(ImageFlow.unsqueeze(s)).sub(s).abs().max().item()).isZero();
    }

    /** −(log p/d − log 256)/log 2 with log p = log N(logit(s)) + Σ[log(1−2α) − log s − log(1−s)], s = α + (1−2α)x. */
    static double closedFormBitsPerDim(double[] x, int from, int d) {
        double a = ImageFlow.ALPHA, logp = 0;
        for (int k = from; k < from + d; k++) {
            double s = a + (1 - 2 * a) * x[k], y = Math.log(s / (1 - s));
            logp += -0.5 * y * y - 0.5 * Math.log(2 * Math.PI) + Math.log(1 - 2 * a) - Math.log(s) - Math.log(1 - s);
        }
        return -(logp / d - Math.log(256)) / Math.log(2);
    }

    @Test
    void untrainedFlowIsTheIdentityWithClosedFormBitsPerDim() {
        Rng.seed(13);
        ImageFlow f = tiny(Divergence.RADEMACHER, false).dequantize(false);
        Tensor x = pixels(3, 1, 4, 4);
        FlowModel.Stats st = f.evaluate(x, SolverOptions.dopri5(1e-6, 1e-6));
        double[] xs = x.toDoubleArray(), bpd = st.nll().toDoubleArray();
        for (int n = 0; n < 3; n++) assertThat(bpd[n]).isCloseTo(closedFormBitsPerDim(xs, 16 * n, 16), within(1e-10));
        assertThat(st.kinetic().abs().max().item()).isZero();
        // The default model on 28×28 images (float32): the same closed form.
        ImageFlow big = new ImageFlow(new long[]{1, 28, 28}, 64, 2, Divergence.RADEMACHER, 1.0).dequantize(false);
        Tensor img = pixels(2, 1, 28, 28).to(DType.FLOAT32);
        double[] is = img.toDoubleArray(), bigBpd = big.evaluate(img, SolverOptions.fixed(dev.tikhon.ode.Method.EULER, 1.0))
                .nll().toDoubleArray();
        for (int n = 0; n < 2; n++) assertThat(bigBpd[n]).isCloseTo(closedFormBitsPerDim(is, 784 * n, 784), within(1e-4));
        assertThat(big.latentShapes().get(0)).containsExactly(2, 14, 14);
        assertThat(big.latentShapes().get(1)).containsExactly(8, 7, 7);
    }

    @Test
    void samplingInvertsTheFlow() {
        Rng.seed(14);
        ImageFlow f = tiny(Divergence.RADEMACHER, true).dequantize(false);
        List<Tensor> latents = new ArrayList<>();
        for (long[] s : f.latentShapes()) latents.add(Tensor.randn(DType.FLOAT64, Device.CPU, 4, s[0], s[1], s[2]));
        Tensor x = f.decode(latents, TIGHT);
        assertThat(x.shape()).containsExactly(4, 1, 4, 4);
        List<Tensor> back = f.latents(x, TIGHT);
        for (int i = 0; i < latents.size(); i++) {
            assertThat(back.get(i).sub(latents.get(i)).abs().max().item()).as("latent %d", i).isLessThan(1e-6);
        }
        ImageFlow identity = tiny(Divergence.RADEMACHER, false).dequantize(false);
        assertThat(identity.decode(latents, TIGHT).sub(x).abs().max().item()).as("the flow moved the images").isGreaterThan(1e-3);
    }

    @Test
    void adjointAndBackpropGiveTheSameGradient() {
        List<double[]> grads = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        for (ContinuousFlow.Gradient mode : ContinuousFlow.Gradient.values()) {
            Rng.seed(15);
            ImageFlow f = tiny(Divergence.RADEMACHER, true);
            Tensor x = pixels(3, 1, 4, 4);
            Rng.seed(16);   // the same dequantization and Hutchinson noise in both runs
            FlowModel.Step s = f.trainStep(x, TIGHT, mode, FlowConfig.rnode(0.1, 0.1));
            losses.add(s.loss().item());
            if (mode == ContinuousFlow.Gradient.ADJOINT) assertThat(s.stats().backwardNfe()).isPositive();
            List<Double> flat = new ArrayList<>();
            for (Parameter q : f.module().parameters()) for (double v : q.grad().toDoubleArray()) flat.add(v);
            grads.add(flat.stream().mapToDouble(Double::doubleValue).toArray());
        }
        assertThat(losses.get(1)).isCloseTo(losses.get(0), within(1e-9));
        double diff = 0, norm = 0;
        for (int i = 0; i < grads.get(0).length; i++) {
            diff += Math.pow(grads.get(0)[i] - grads.get(1)[i], 2);
            norm += Math.pow(grads.get(0)[i], 2);
        }
        assertThat(norm).isPositive();
        assertThat(Math.sqrt(diff / norm)).as("adjoint vs backprop").isLessThan(1e-5);
    }
}
