package dev.tikhon.ode;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Oracles: exact solutions of ż = −z and of the harmonic oscillator, in float64. */
class OdeSolverTest {
    static Tensor scalar(double v) { return Tensor.fromDoubles(new double[]{v}, 1); }

    static final Dynamics DECAY = (t, y) -> List.of(y.get(0).neg());
    /** ẋ = v, v̇ = −x: x(t) = cos t, v(t) = −sin t from (1, 0). */
    static final Dynamics OSCILLATOR = (t, y) -> List.of(y.get(1), y.get(0).neg());

    static double decayError(SolverOptions o) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            OdeSolution s = OdeSolver.solve(DECAY, List.of(scalar(1)), 0, 1, o);
            return Math.abs(s.get(0).item() - Math.exp(-1));
        }
    }

    static double oscillatorError(SolverOptions o, double t1) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            OdeSolution s = OdeSolver.solve(OSCILLATOR, List.of(scalar(1), scalar(0)), 0, t1, o);
            return Math.hypot(s.get(0).item() - Math.cos(t1), s.get(1).item() + Math.sin(t1));
        }
    }

    /** Least-squares slope of log(error) against log(step). */
    static double slope(double[] steps, double[] errors) {
        double mx = 0, my = 0;
        for (int i = 0; i < steps.length; i++) { mx += Math.log(steps[i]); my += Math.log(errors[i]); }
        mx /= steps.length; my /= steps.length;
        double sxy = 0, sxx = 0;
        for (int i = 0; i < steps.length; i++) {
            double dx = Math.log(steps[i]) - mx;
            sxy += dx * (Math.log(errors[i]) - my);
            sxx += dx * dx;
        }
        return sxy / sxx;
    }

    @ParameterizedTest
    @EnumSource(value = Method.class, names = {"EULER", "MIDPOINT", "RK4"})
    void fixedStepMethodsReachTheirOrder(Method m) {
        double[] steps = {0.1, 0.05, 0.025, 0.0125};
        double[] decay = new double[steps.length], osc = new double[steps.length];
        for (int i = 0; i < steps.length; i++) {
            decay[i] = decayError(SolverOptions.fixed(m, steps[i]));
            osc[i] = oscillatorError(SolverOptions.fixed(m, steps[i]), 2.0);
        }
        assertThat(slope(steps, decay)).as("order on ż = −z").isCloseTo(m.order, within(0.15));
        assertThat(slope(steps, osc)).as("order on the oscillator").isCloseTo(m.order, within(0.15));
    }

    @Test
    void dopri5IsFifthOrderWithFixedSteps() {
        // Forcing the step (first step = whole interval / n, tolerance loose enough to accept all) exposes the order.
        double[] steps = {0.5, 0.25, 0.125};
        double[] errors = new double[steps.length];
        for (int i = 0; i < steps.length; i++) {
            SolverOptions o = new SolverOptions(Method.DOPRI5, 0, 1e3, 0, steps[i], 1000, null);
            errors[i] = oscillatorError(o, 2.0);
        }
        // A huge tolerance lets the step grow after the first, so measure with the first step only.
        for (int i = 0; i < steps.length; i++) {
            SolverOptions o = new SolverOptions(Method.DOPRI5, 0, 1e3, 0, steps[i], 1000, null);
            try (Autograd.Guard g = Autograd.noGrad()) {
                OdeSolution s = OdeSolver.solve(OSCILLATOR, List.of(scalar(1), scalar(0)), 0, steps[i], o);
                errors[i] = Math.hypot(s.get(0).item() - Math.cos(steps[i]), s.get(1).item() + Math.sin(steps[i]));
            }
        }
        // Local error of an order-5 method is O(h⁶).
        assertThat(slope(steps, errors)).isCloseTo(6, within(0.3));
    }

    @Test
    void dopri5MeetsItsTolerance() {
        double previous = Double.POSITIVE_INFINITY;
        int previousNfe = 0;
        for (double tol : new double[]{1e-4, 1e-6, 1e-8, 1e-10}) {
            SolverOptions o = SolverOptions.dopri5(tol, tol);
            double e1 = decayError(o), e2 = oscillatorError(o, 10.0);
            assertThat(e1).as("ż = −z at tol %s", tol).isLessThan(10 * tol);
            assertThat(e2).as("oscillator to t = 10 at tol %s", tol).isLessThan(10 * 10 * tol);
            assertThat(e2).isLessThan(previous);
            previous = e2;
            try (Autograd.Guard g = Autograd.noGrad()) {
                OdeSolution s = OdeSolver.solve(OSCILLATOR, List.of(scalar(1), scalar(0)), 0, 10, o);
                // FSAL: 6 evaluations per attempted step, plus the first rate and the starting-step probe.
                assertThat(s.nfe()).isEqualTo(6 * (s.acceptedSteps() + s.rejectedSteps()) + 2);
                assertThat(s.nfe()).isGreaterThan(previousNfe);
                previousNfe = s.nfe();
            }
        }
    }

    @Test
    void integratesBackwardsInTime() {
        try (Autograd.Guard g = Autograd.noGrad()) {
            OdeSolution s = OdeSolver.solve(DECAY, List.of(scalar(Math.exp(-1))), 1, 0, SolverOptions.dopri5(1e-9, 1e-9));
            assertThat(s.get(0).item()).isCloseTo(1.0, within(1e-8));
            OdeSolution r = OdeSolver.solve(DECAY, List.of(scalar(Math.exp(-1))), 1, 0, SolverOptions.fixed(Method.RK4, 0.01));
            assertThat(r.get(0).item()).isCloseTo(1.0, within(1e-8));
            assertThat(r.nfe()).isEqualTo(4 * 100);
        }
    }

    @Test
    void fixedStepsLandExactlyOnTheEndTime() {
        try (Autograd.Guard g = Autograd.noGrad()) {
            // Step 0.3 on [0, 1] becomes four steps of 0.25: Euler on ż = 1 is exact.
            OdeSolution s = OdeSolver.solve((t, y) -> List.of(y.get(0).onesLike()), List.of(scalar(0)), 0, 1,
                    SolverOptions.fixed(Method.EULER, 0.3));
            assertThat(s.get(0).item()).isCloseTo(1.0, within(1e-15));
            assertThat(s.acceptedSteps()).isEqualTo(4);
        }
    }

    @Test
    void uncontrolledStateDoesNotDriveTheStepSize() {
        // A fast oscillating passenger w does not feed back into z; left out of error control it costs no steps.
        Dynamics withPassenger = (t, y) -> List.of(y.get(0).neg(), y.get(0).onesLike().mul(1000 * Math.cos(1000 * t)));
        SolverOptions o = SolverOptions.dopri5(1e-6, 1e-6);
        try (Autograd.Guard g = Autograd.noGrad()) {
            OdeSolution alone = OdeSolver.solve(DECAY, List.of(scalar(1)), 0, 1, o);
            OdeSolution free = OdeSolver.solve(withPassenger, List.of(scalar(1), scalar(0)), 0, 1, o.controlling(true, false));
            OdeSolution all = OdeSolver.solve(withPassenger, List.of(scalar(1), scalar(0)), 0, 1, o);
            assertThat(free.acceptedSteps()).isEqualTo(alone.acceptedSteps());
            assertThat(free.get(0).item()).isEqualTo(alone.get(0).item());
            assertThat(all.acceptedSteps()).isGreaterThan(10 * alone.acceptedSteps());
        }
    }

    @Test
    void blowUpGivesAClearUnderflowError() {
        // ż = z² from 1 blows up at t = 1.
        Dynamics blowUp = (t, y) -> List.of(y.get(0).square());
        assertThatThrownBy(() -> {
            try (Autograd.Guard g = Autograd.noGrad()) {
                OdeSolver.solve(blowUp, List.of(scalar(1)), 0, 2, SolverOptions.dopri5(1e-6, 1e-6));
            }
        }).isInstanceOfSatisfying(StepSizeUnderflowException.class,
                        e -> assertThat(e.t).as("where it stopped").isCloseTo(1.0, within(1e-3)))
                .hasMessageContaining("step size underflow").hasMessageContaining("Try looser tolerances");
    }

    /** A rate of NaN at the start (a diverged field) fails at once, naming it, rather than rejecting NaN steps 10000 times. */
    @Test
    void nonFiniteDynamicsFailAtOnce() {
        int[] calls = {0};
        Dynamics nan = (t, y) -> {
            calls[0]++;
            return List.of(y.get(0).mul(Double.NaN));
        };
        assertThatThrownBy(() -> {
            try (Autograd.Guard g = Autograd.noGrad()) {
                OdeSolver.solve(nan, List.of(scalar(1)), 0, 1, SolverOptions.dopri5(1e-5, 1e-5));
            }
        }).isInstanceOf(StepSizeUnderflowException.class).hasMessageContaining("NaN or ±Inf").hasMessageContaining("not finite")
                .hasMessageNotContaining("stiff");
        assertThat(calls[0]).as("evaluations before failing").isLessThan(10);
        // an infinite starting state likewise
        assertThatThrownBy(() -> {
            try (Autograd.Guard g = Autograd.noGrad()) {
                OdeSolver.solve(DECAY, List.of(scalar(Double.POSITIVE_INFINITY)), 0, 1, SolverOptions.dopri5(1e-5, 1e-5));
            }
        }).isInstanceOf(StepSizeUnderflowException.class).hasMessageContaining("NaN or ±Inf");
    }

    @Test
    void backpropagatesThroughTheSteps() {
        // ż = θz: z(1) = z₀e^θ, ∂z(1)/∂θ = z₀e^θ, ∂z(1)/∂z₀ = e^θ.
        Tensor theta = scalar(0.7).requiresGrad(true);
        Tensor z0 = scalar(1.5).requiresGrad(true);
        OdeSolution s = OdeSolver.solve((t, y) -> List.of(y.get(0).mul(theta)), List.of(z0), 0, 1, SolverOptions.dopri5(1e-10, 1e-10));
        List<Tensor> g = Autograd.grad(List.of(s.get(0).sum()), List.of(theta, z0), null, false, false);
        assertThat(g.get(0).item()).isCloseTo(1.5 * Math.exp(0.7), within(1e-8));
        assertThat(g.get(1).item()).isCloseTo(Math.exp(0.7), within(1e-8));
    }

    @Test
    void worksOnBatchesInSinglePrecision() {
        Tensor z0 = Tensor.randn(DType.FLOAT32, Device.CPU, 64, 3);
        try (Autograd.Guard g = Autograd.noGrad()) {
            OdeSolution s = OdeSolver.solve(DECAY, List.of(z0), 0, 1, SolverOptions.dopri5(1e-5, 1e-5));
            assertThat(s.get(0).sub(z0.mul(Math.exp(-1))).abs().max().item()).isLessThan(1e-4);
            assertThat(s.get(0).dtype()).isEqualTo(DType.FLOAT32);
        }
    }
}
