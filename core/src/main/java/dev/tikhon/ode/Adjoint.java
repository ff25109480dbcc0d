package dev.tikhon.ode;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Gradients of a loss on the end state of an ODE solve by the adjoint method (Pontryagin; Chen et
 * al. 2018), in memory that does not grow with the number of steps: instead of keeping the forward
 * graph, integrate backwards from t1 to t0 the augmented system
 * <pre>
 *   ẏ = f(t, y),   ȧ = −aᵀ ∂f/∂y,   ȧ_θ = −aᵀ ∂f/∂θ,
 *   y(t1) from the forward solve,  a(t1) = ∂L/∂y(t1),  a_θ(t1) = 0,
 * </pre>
 * giving a(t0) = ∂L/∂y(t0) and a_θ(t0) = ∂L/∂θ. Each backward evaluation is one forward pass of f
 * and one vector–Jacobian product. The parameter adjoints do not enter the step-size control
 * (Kidger et al.'s "seminorm"): they only accumulate.
 */
public final class Adjoint {
    private Adjoint() {}

    /** ∂L/∂y(t0) per state tensor, ∂L/∂θ per parameter, and the cost of the backward solve. */
    public record Gradients(List<Tensor> initialState, List<Tensor> parameters, int nfe, int acceptedSteps, int rejectedSteps) {}

    /**
     * Runs the backward solve.
     *
     * @param f      the dynamics of the forward solve (the same closure: same noise, same parameters)
     * @param params the parameters θ that f depends on, as leaf tensors
     * @param y1     the state at t1 from the forward solve
     * @param grad1  ∂L/∂y(t1), one per state tensor
     */
    public static Gradients backward(Dynamics f, List<Tensor> params, List<Tensor> y1, List<Tensor> grad1,
                                     double t0, double t1, SolverOptions options) {
        int n = y1.size(), p = params.size();
        if (grad1.size() != n) throw new IllegalArgumentException(grad1.size() + " gradients for " + n + " state tensors");
        List<Tensor> start = new ArrayList<>(2 * n + p);
        for (Tensor y : y1) start.add(y.detach());
        for (Tensor g : grad1) start.add(g.detach());
        for (Tensor q : params) start.add(q.detach().zerosLike());
        boolean[] mask = new boolean[2 * n + p];
        for (int i = 0; i < n; i++) mask[i] = mask[n + i] = options.isControlled(i);
        Dynamics augmented = (t, s) -> augmentedRate(f, params, n, t, s);
        OdeSolution back;
        try (Autograd.Guard g = Autograd.noGrad()) {
            back = OdeSolver.solve(augmented, start, t1, t0, options.controlling(mask));
        }
        return new Gradients(back.state().subList(n, 2 * n), back.state().subList(2 * n, 2 * n + p),
                back.nfe(), back.acceptedSteps(), back.rejectedSteps());
    }

    private static List<Tensor> augmentedRate(Dynamics f, List<Tensor> params, int n, double t, List<Tensor> s) {
        try (Autograd.Guard g = Autograd.enableGrad()) {
            List<Tensor> y = new ArrayList<>(n);
            for (int i = 0; i < n; i++) y.add(s.get(i).detach().requiresGrad(true));
            List<Tensor> rate = f.rate(t, y);
            // Only rates that depend on something differentiable take part in the product.
            List<Tensor> outs = new ArrayList<>(), vs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (rate.get(i).requiresGrad()) {
                    outs.add(rate.get(i));
                    vs.add(s.get(n + i));
                }
            }
            List<Tensor> inputs = new ArrayList<>(y);
            inputs.addAll(params);
            List<Tensor> vjp = outs.isEmpty() ? zeros(inputs) : Autograd.grad(outs, inputs, vs, false, false);
            List<Tensor> out = new ArrayList<>(s.size());
            for (Tensor r : rate) out.add(r.detach());
            for (Tensor v : vjp) out.add(v.neg());
            return out;
        }
    }

    private static List<Tensor> zeros(List<Tensor> like) {
        List<Tensor> out = new ArrayList<>(like.size());
        for (Tensor t : like) out.add(t.detach().zerosLike());
        return out;
    }

    /** Adds each gradient to its parameter's {@code .grad}, as {@code backward()} would. */
    public static void accumulate(List<Tensor> params, List<Tensor> grads) {
        Tensor surrogate = null;
        for (int i = 0; i < params.size(); i++) {
            Tensor term = params.get(i).mul(grads.get(i).detach()).sum();
            surrogate = surrogate == null ? term : surrogate.add(term);
        }
        if (surrogate != null) surrogate.backward();
    }
}
