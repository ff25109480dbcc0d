package dev.tikhon.transport;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.ode.SolverOptions;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The recovered flow as a field: a fixed function (fixed heat noise), unit mass of its density, heat averages at t = 0, 1. */
class EkFieldTest {
    static EkFlow flow() {
        Rng.seed(4);
        Potential phi = Potential.mlp(2, new int[]{16, 16}, Activation.parse("softplus"));
        Potential psi = Potential.mlp(2, new int[]{16, 16}, Activation.parse("softplus"));
        EkField f = new EkField(phi, psi, 2, 1.0, 8);
        f.to(DType.FLOAT64);
        return new EkFlow(f, 2);
    }

    @Test void fieldIsDeterministicAndHeatAveragesDegenerateAtTheEnds() {
        EkFlow m = flow();
        Tensor z = Tensor.randn(DType.FLOAT64, Device.CPU, 5, 2);
        try (Autograd.Guard g = Autograd.noGrad()) {
            double[] a = m.field().velocity(0.3, z).toDoubleArray(), b = m.field().velocity(0.3, z).toDoubleArray();
            assertThat(a).containsExactly(b);
            // φ₀ = φ (no averaging at t = 0); ψ₁ = ψ + ε log N (no averaging at t = 1)
            double[] phi0 = m.field().phiAt(0, z).toDoubleArray(), phi = m.field().phi().value(z).toDoubleArray();
            double[] psi1 = m.field().psiAt(1, z).toDoubleArray(), psi = m.field().psi().value(z).add(EntropicDual.logStandardNormal(z)).toDoubleArray();
            for (int i = 0; i < 5; i++) {
                assertThat(phi0[i]).isCloseTo(phi[i], within(1e-12));
                assertThat(psi1[i]).isCloseTo(psi[i], within(1e-12));
            }
        }
    }

    @Test void densityOfTheRecoveredFlowHasUnitMass() {
        EkFlow m = flow();
        int grid = 41;
        double r = 6, h = 2 * r / grid;
        double[] pts = new double[grid * grid * 2];
        for (int i = 0; i < grid; i++) for (int j = 0; j < grid; j++) {
            pts[2 * (i * grid + j)] = -r + (j + 0.5) * h;
            pts[2 * (i * grid + j) + 1] = -r + (i + 0.5) * h;
        }
        double[] nll = m.evaluate(Tensor.fromDoubles(pts, grid * grid, 2), SolverOptions.dopri5(1e-6, 1e-6)).nll().toDoubleArray();
        double mass = 0;
        for (double v : nll) mass += Math.exp(-v) * h * h;
        assertThat(mass).isCloseTo(1.0, within(2e-2));
    }

    /**
     * ψₜ against closed forms: H_s[e^{ψ/ε} N](z) = N(z; 0, (1 + s)I) e^{c/ε} for ψ ≡ c (exact with any draws: the
     * Gaussian factor is integrated, not sampled), and N(z; 0, (1 + s)I) exp(aᵀz/((1 + s)ε) + |a|² s/(2(1 + s)ε²))
     * for ψ(z) = aᵀz (Monte Carlo, 20,000 draws), s = (1 − t)ε.
     */
    @Test void psiHeatAverageMatchesClosedForms() {
        Rng.seed(6);
        double eps = 0.7, c = 0.4;
        double[] a = {0.5, -0.3};
        Potential constant = Potential.quadratic(2), linear = Potential.quadratic(2);
        constant.to(DType.FLOAT64);
        linear.to(DType.FLOAT64);
        try (Autograd.Guard g = Autograd.noGrad()) {
            constant.namedParameters().get("c").value().fill_(c);
            linear.namedParameters().get("b").value().copy_(Tensor.fromDoubles(a, 2));
        }
        EkField few = new EkField(Potential.quadratic(2), constant, 2, eps, 8);
        EkField many = new EkField(Potential.quadratic(2), linear, 2, eps, 20000);
        few.to(DType.FLOAT64);
        many.to(DType.FLOAT64);
        Tensor z = Tensor.fromDoubles(new double[]{0, 0, 3.5, -2, -1, 4, 0.3, 0.2}, 4, 2);
        try (Autograd.Guard g = Autograd.noGrad()) {
            for (double t : new double[]{0, 0.3, 0.8}) {
                double s = (1 - t) * eps;
                double[] got = few.psiAt(t, z).toDoubleArray(), gotLinear = many.psiAt(t, z).toDoubleArray();
                double[] zz = z.toDoubleArray();
                for (int i = 0; i < 4; i++) {
                    double x = zz[2 * i], y = zz[2 * i + 1];
                    double logN = -(x * x + y * y) / (2 * (1 + s)) - Math.log(2 * Math.PI * (1 + s));
                    assertThat(got[i]).isCloseTo(c + eps * logN, within(1e-12));
                    double az = a[0] * x + a[1] * y, aa = a[0] * a[0] + a[1] * a[1];
                    double expected = eps * (logN + az / ((1 + s) * eps) + aa * s / (2 * (1 + s) * eps * eps));
                    assertThat(gotLinear[i]).as("t %s, z (%s, %s)", t, x, y).isCloseTo(expected, within(0.02));
                }
            }
        }
    }
}
