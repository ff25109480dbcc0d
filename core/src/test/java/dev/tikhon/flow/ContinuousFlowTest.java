package dev.tikhon.flow;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Parameter;
import dev.tikhon.ode.SolverOptions;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Oracles: the linear flow's closed form, unbiased Hutchinson estimates, adjoint = backprop, invertibility, normalization. */
class ContinuousFlowTest {
    static final SolverOptions TIGHT = SolverOptions.dopri5(1e-10, 1e-10);

    /** ż = Az. */
    static final class LinearField extends TimeField {
        final Parameter a;

        LinearField(double[][] m) {
            int d = m.length;
            double[] flat = new double[d * d];
            for (int i = 0; i < d; i++) System.arraycopy(m[i], 0, flat, i * d, d);
            a = parameter("a", Tensor.fromDoubles(flat, d, d), true);
        }

        @Override public Tensor velocity(double t, Tensor z) { return z.matmul(a.value().t()); }
    }

    static final double[][] A = {{-0.3, 0.8, 0.1}, {-0.5, 0.2, 0.4}, {0.3, -0.2, -0.6}};

    /** e^{M} by scaling and squaring a Taylor series, in double. */
    static double[][] expm(double[][] m) {
        int d = m.length, squarings = 10;
        double scale = Math.pow(2, -squarings);
        double[][] result = identity(d), term = identity(d);
        for (int k = 1; k < 30; k++) {
            term = times(term, m, scale / k);
            for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) result[i][j] += term[i][j];
        }
        for (int s = 0; s < squarings; s++) result = times(result, result, 1);
        return result;
    }

    static double[][] identity(int d) {
        double[][] r = new double[d][d];
        for (int i = 0; i < d; i++) r[i][i] = 1;
        return r;
    }

    static double[][] times(double[][] x, double[][] y, double c) {
        int d = x.length;
        double[][] r = new double[d][d];
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) for (int k = 0; k < d; k++) r[i][j] += c * x[i][k] * y[k][j];
        return r;
    }

    @Test
    void linearFlowHasTheClosedFormLikelihood() {
        Rng.seed(1);
        LinearField field = new LinearField(A);
        double endTime = 1.3, trace = A[0][0] + A[1][1] + A[2][2];
        ContinuousFlow flow = new ContinuousFlow(field, Divergence.EXACT, endTime);
        Tensor x = Tensor.randn(DType.FLOAT64, Device.CPU, 6, 3);
        ContinuousFlow.Pass p;
        try (Autograd.Guard g = Autograd.noGrad()) {
            p = flow.logLikelihood(x, TIGHT);
        }
        double[][] scaled = new double[3][3];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) scaled[i][j] = A[i][j] * endTime;
        double[][] e = expm(scaled);
        double[] xs = x.toDoubleArray(), ll = p.logLikelihood().toDoubleArray();
        for (int n = 0; n < 6; n++) {
            double sq = 0;
            for (int i = 0; i < 3; i++) {
                double zi = 0;
                for (int j = 0; j < 3; j++) zi += e[i][j] * xs[3 * n + j];
                sq += zi * zi;
            }
            double expected = -0.5 * sq - 1.5 * Math.log(2 * Math.PI) + endTime * trace;
            assertThat(ll[n]).isCloseTo(expected, within(1e-8));
        }
        // Δlog p is exactly −T·tr A for every example, and the Jacobian term is ‖A‖²_F / d.
        double frob = 0;
        for (double[] row : A) for (double v : row) frob += v * v;
        assertThat(p.jacobian().toDoubleArray()[0]).isCloseTo(endTime * frob / 3, within(1e-8));
    }

    @Test
    void hutchinsonEstimatesAreUnbiased() {
        Rng.seed(2);
        ConcatMlpField field = new ConcatMlpField(4, new int[]{16, 16}, Activation.parse("tanh"));
        field.to(DType.FLOAT64);
        Tensor z = Tensor.randn(DType.FLOAT64, Device.CPU, 1, 4);
        List<Tensor> state = CnfDynamics.initialState(z);
        List<Tensor> exact;
        try (Autograd.Guard g = Autograd.noGrad()) {
            exact = new CnfDynamics(field, Divergence.EXACT).rate(0.4, state);
        }
        for (Divergence how : new Divergence[]{Divergence.GAUSSIAN, Divergence.RADEMACHER}) {
            CnfDynamics dyn = new CnfDynamics(field, how);
            int draws = 3000;
            double[] div = new double[draws], frob = new double[draws];
            try (Autograd.Guard g = Autograd.noGrad()) {
                for (int k = 0; k < draws; k++) {
                    dyn.drawNoise(z);
                    List<Tensor> r = dyn.rate(0.4, state);
                    div[k] = r.get(1).item();
                    frob[k] = r.get(3).item();
                }
            }
            assertThat(mean(div)).as("%s divergence", how).isCloseTo(exact.get(1).item(), within(4 * stderr(div)));
            assertThat(mean(frob)).as("%s Frobenius", how).isCloseTo(exact.get(3).item(), within(4 * stderr(frob)));
            assertThat(stderr(div)).isGreaterThan(0);
        }
    }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }

    static double stderr(double[] v) {
        double m = mean(v), s = 0;
        for (double x : v) s += (x - m) * (x - m);
        return Math.sqrt(s / (v.length - 1) / v.length);
    }

    @Test
    void adjointAndBackpropGiveTheSameTrainingGradient() {
        for (Divergence how : new Divergence[]{Divergence.EXACT, Divergence.RADEMACHER}) {
            List<double[]> grads = new ArrayList<>();
            for (ContinuousFlow.Gradient mode : ContinuousFlow.Gradient.values()) {
                Rng.seed(3);
                ConcatMlpField field = new ConcatMlpField(2, new int[]{8, 8}, Activation.parse("softplus"));
                field.to(DType.FLOAT64);
                ContinuousFlow flow = new ContinuousFlow(field, how, 1.0);
                Tensor x = Tensor.randn(DType.FLOAT64, Device.CPU, 5, 2);
                Rng.seed(4);   // the same Hutchinson noise in both runs
                flow.trainStep(x, TIGHT, mode,
                        p -> p.logLikelihood().mean().neg().add(p.kinetic().mean().mul(0.1)).add(p.jacobian().mean().mul(0.1)));
                List<Double> flat = new ArrayList<>();
                for (Parameter q : field.parameters()) for (double v : q.grad().toDoubleArray()) flat.add(v);
                grads.add(flat.stream().mapToDouble(Double::doubleValue).toArray());
            }
            double diff = 0, norm = 0;
            for (int i = 0; i < grads.get(0).length; i++) {
                diff += Math.pow(grads.get(0)[i] - grads.get(1)[i], 2);
                norm += Math.pow(grads.get(0)[i], 2);
            }
            assertThat(Math.sqrt(diff / norm)).as("%s: adjoint vs backprop", how).isLessThan(1e-5);
        }
    }

    @Test
    void samplingInvertsTheFlow() {
        Rng.seed(5);
        ConcatMlpField field = new ConcatMlpField(2, new int[]{16}, Activation.parse("tanh"));
        field.to(DType.FLOAT64);
        ContinuousFlow flow = new ContinuousFlow(field, Divergence.EXACT, 1.0);
        Tensor z = Tensor.randn(DType.FLOAT64, Device.CPU, 8, 2);
        try (Autograd.Guard g = Autograd.noGrad()) {
            Tensor x = flow.sample(z, TIGHT);
            Tensor back = flow.logLikelihood(x, TIGHT).endState();
            assertThat(back.sub(z).abs().max().item()).isLessThan(1e-7);
            assertThat(x.sub(z).abs().max().item()).as("the flow moved the points").isGreaterThan(1e-2);
        }
    }

    @Test
    void densityIntegratesToOne() {
        Rng.seed(6);
        ConcatMlpField field = new ConcatMlpField(2, new int[]{16}, Activation.parse("tanh"));
        field.to(DType.FLOAT64);
        ContinuousFlow flow = new ContinuousFlow(field, Divergence.EXACT, 1.0);
        int n = 121;
        double lo = -7, h = 14.0 / (n - 1);
        double[] grid = new double[n * n * 2];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) {
            grid[2 * (i * n + j)] = lo + i * h;
            grid[2 * (i * n + j) + 1] = lo + j * h;
        }
        try (Autograd.Guard g = Autograd.noGrad()) {
            double[] ll = flow.logLikelihood(Tensor.fromDoubles(grid, n * n, 2), SolverOptions.dopri5(1e-7, 1e-7))
                    .logLikelihood().toDoubleArray();
            double mass = 0;
            for (double v : ll) mass += Math.exp(v) * h * h;
            assertThat(mass).isCloseTo(1.0, within(2e-3));
        }
    }
}
