package dev.tikhon.ode;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Oracle: adjoint gradients equal backprop-through-solver gradients in float64. */
class AdjointTest {

    /** ż = W₂ tanh(W₁ z + b₁ + t·c) , with a second state u̇ = ‖z‖² that does not feed back. */
    record Net(Tensor w1, Tensor b1, Tensor c, Tensor w2) {
        static Net random(int d, int h) {
            return new Net(Tensor.randn(DType.FLOAT64, Device.CPU, h, d).mul(0.5).requiresGrad(true),
                    Tensor.randn(DType.FLOAT64, Device.CPU, h).mul(0.1).requiresGrad(true),
                    Tensor.randn(DType.FLOAT64, Device.CPU, h).requiresGrad(true),
                    Tensor.randn(DType.FLOAT64, Device.CPU, d, h).mul(0.5).requiresGrad(true));
        }

        List<Tensor> params() { return List.of(w1, b1, c, w2); }

        Dynamics dynamics() {
            return (t, y) -> {
                Tensor z = y.get(0);
                Tensor hidden = z.matmul(w1.t()).add(b1).add(c.mul(t)).tanh();
                return List.of(hidden.matmul(w2.t()), z.square().sum(1, false));
            };
        }
    }

    /** L = Σ sin(z(1)) + 0.3 Σ u(1). */
    static Tensor loss(List<Tensor> end) {
        return end.get(0).sin().sum().add(end.get(1).sum().mul(0.3));
    }

    @Test
    void adjointMatchesBackpropThroughTheSolver() {
        Rng.seed(11);
        Net net = Net.random(3, 16);
        Tensor z0 = Tensor.randn(DType.FLOAT64, Device.CPU, 5, 3);
        Tensor u0 = Tensor.zeros(DType.FLOAT64, Device.CPU, 5);
        SolverOptions o = SolverOptions.dopri5(1e-11, 1e-11);

        // Backprop through every step.
        Tensor z0Leaf = z0.copy().requiresGrad(true);
        OdeSolution direct = OdeSolver.solve(net.dynamics(), List.of(z0Leaf, u0), 0, 1, o);
        List<Tensor> inputs = new ArrayList<>(net.params());
        inputs.add(z0Leaf);
        List<Tensor> expected = Autograd.grad(List.of(loss(direct.state())), inputs, null, false, false);

        OdeSolution[] forward = new OdeSolution[1];
        Adjoint.Gradients adj = adjoint(net, z0, u0, o, forward);

        for (int i = 0; i < net.params().size(); i++) {
            assertThat(relativeError(adj.parameters().get(i), expected.get(i))).as("parameter %d", i).isLessThan(1e-5);
        }
        assertThat(relativeError(adj.initialState().get(0), expected.get(4))).as("∂L/∂z(0)").isLessThan(1e-5);
        assertThat(adj.nfe()).isGreaterThan(0);
        assertThat(forward[0].nfe()).isGreaterThan(0);
    }

    @Test
    void accumulateAddsToParameterGradients() {
        Tensor p = Tensor.zeros(DType.FLOAT64, Device.CPU, 2).requiresGrad(true);
        Adjoint.accumulate(List.of(p), List.of(Tensor.fromDoubles(new double[]{1, 2}, 2)));
        Adjoint.accumulate(List.of(p), List.of(Tensor.fromDoubles(new double[]{0.5, 0.5}, 2)));
        assertThat(p.grad().toDoubleArray()).containsExactly(1.5, 2.5);
    }

    @Test
    void fixedStepAdjointConvergesToTheSameGradient() {
        Rng.seed(12);
        Net net = Net.random(2, 8);
        Tensor z0 = Tensor.randn(DType.FLOAT64, Device.CPU, 4, 2);
        Tensor u0 = Tensor.zeros(DType.FLOAT64, Device.CPU, 4);
        Tensor z0Leaf = z0.copy().requiresGrad(true);
        OdeSolution direct = OdeSolver.solve(net.dynamics(), List.of(z0Leaf, u0), 0, 1, SolverOptions.dopri5(1e-11, 1e-11));
        Tensor expected = Autograd.grad(List.of(loss(direct.state())), List.of(net.w1()), null, false, false).get(0);
        double previous = Double.POSITIVE_INFINITY;
        for (double h : new double[]{0.25, 0.125, 0.0625}) {
            SolverOptions o = SolverOptions.fixed(Method.RK4, h);
            Adjoint.Gradients adj = adjoint(net, z0, u0, o, new OdeSolution[1]);
            double e = relativeError(adj.parameters().get(0), expected);
            assertThat(e).isLessThan(previous / 8);   // RK4: at least 3rd order in h
            previous = e;
            assertThat(adj.nfe()).isEqualTo(4 * (int) Math.round(1 / h));
        }
    }

    /** Adjoint: forward without a graph (its solution into {@code forward[0]}), ∂L/∂y(1) on the end state, then the backward solve. */
    static Adjoint.Gradients adjoint(Net net, Tensor z0, Tensor u0, SolverOptions o, OdeSolution[] forward) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            forward[0] = OdeSolver.solve(net.dynamics(), List.of(z0, u0), 0, 1, o);
        }
        List<Tensor> end = new ArrayList<>();
        for (Tensor y : forward[0].state()) end.add(y.detach().requiresGrad(true));
        List<Tensor> grad1 = Autograd.grad(List.of(loss(end)), end, null, false, false);
        return Adjoint.backward(net.dynamics(), net.params(), forward[0].state(), grad1, 0, 1, o);
    }

    static double relativeError(Tensor a, Tensor b) {
        return a.sub(b).norm(2).item() / b.norm(2).item();
    }
}
