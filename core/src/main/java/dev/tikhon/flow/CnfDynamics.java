package dev.tikhon.flow;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;
import dev.tikhon.ode.Dynamics;

import java.util.ArrayList;
import java.util.List;

/**
 * The augmented dynamics of a continuous normalizing flow (FFJORD; RNODE's regularizers), state
 * (z, Δlog p, then one term per {@link FlowRegularizer}, in the order of {@link FlowRegularizer#ALL}):
 * <pre>
 *   ż = f(z, t),  d(Δlog p)/dt = −div f,  and each term's rate (kinetic Ė = ½·mean_d f², Jacobian ṅ = mean_d (εᵀ∂f/∂z)²)
 * </pre>
 * With Hutchinson's estimator the single vector–Jacobian product εᵀ∂f/∂z gives both the divergence
 * (εᵀ∂f/∂z)·ε and the Jacobian Frobenius term, so the regularizer is free. The exact mode takes one
 * product per dimension and sums the exact ‖∂f/∂z‖²_F / d.
 *
 * <p>The graph for a training loss is kept (create_graph) exactly when autograd is recording at the
 * call; without recording (evaluation, the adjoint's forward solve) the rates come back detached.
 */
public final class CnfDynamics implements Dynamics {
    private final TimeField field;
    private final Divergence divergence;
    private Tensor noise;

    public CnfDynamics(TimeField field, Divergence divergence) {
        this.field = field;
        this.divergence = divergence;
    }

    /** Draws ε for one solve (Gaussian or Rademacher, the shape of z); kept until the next draw. */
    public void drawNoise(Tensor zLike) {
        if (divergence == Divergence.EXACT) return;
        noise = divergence == Divergence.GAUSSIAN ? zLike.randnLike()
                : Tensor.randint(2, zLike.device(), zLike.shape()).to(zLike.dtype()).mul(2).sub(1);
    }

    public TimeField field() { return field; }

    /** Components of the augmented state: z, Δlog p and the regularizer terms. */
    public static final int WIDTH = 2 + FlowRegularizer.ALL.size();

    /** The initial augmented state for data x: (x, 0, 0, …). */
    public static List<Tensor> initialState(Tensor x) {
        Tensor zero = Tensor.zeros(x.dtype(), x.device(), x.size(0));
        List<Tensor> state = new ArrayList<>(WIDTH);
        state.add(x);
        for (int i = 1; i < WIDTH; i++) state.add(zero);
        return List.copyOf(state);
    }

    @Override public List<Tensor> rate(double t, List<Tensor> state) {
        boolean createGraph = Autograd.isGradEnabled();
        try (Autograd.Guard g = Autograd.enableGrad()) {
            Tensor z = state.get(0);
            if (!z.requiresGrad()) z = z.detach().requiresGrad(true);
            Tensor f = field.velocity(t, z);
            Tensor div, frobenius;
            if (divergence == Divergence.EXACT) {
                Tensor[] exact = exactDivergence(f, z, createGraph);
                div = exact[0];
                frobenius = exact[1];
            } else {
                if (noise == null) throw new IllegalStateException("drawNoise before solving with Hutchinson's estimator");
                Tensor eJ = Autograd.vjp(f, z, noise, createGraph);
                div = perExampleSum(eJ.mul(noise));
                frobenius = perExampleMean(eJ.square());
            }
            FlowRegularizer.Inputs in = new FlowRegularizer.Inputs(z, f, frobenius);
            List<Tensor> rates = new ArrayList<>(WIDTH);
            rates.add(f);
            rates.add(div.neg());
            for (FlowRegularizer r : FlowRegularizer.ALL) rates.add(r.rate().perExample(in));
            return createGraph ? rates : FlowRegularizer.detached(rates);
        }
    }

    /** Exact tr ∂f/∂z and ‖∂f/∂z‖²_F / d from one vector–Jacobian product per dimension. */
    static Tensor[] exactDivergence(Tensor f, Tensor z, boolean createGraph) {
        Tensor flatF = f.flatten(1, -1);
        long d = flatF.size(1);
        Tensor div = null, frob = null;
        for (long i = 0; i < d; i++) {
            Tensor row = Autograd.grad(flatF.select(1, i).sum(), z, createGraph).flatten(1, -1);
            Tensor diag = row.select(1, i);
            Tensor sq = row.square().sum(1, false);
            div = div == null ? diag : div.add(diag);
            frob = frob == null ? sq : frob.add(sq);
        }
        return new Tensor[]{div, frob.div(d)};
    }

    static Tensor perExampleSum(Tensor x) { return x.flatten(1, -1).sum(1, false); }

    static Tensor perExampleMean(Tensor x) { return x.flatten(1, -1).mean(1, false); }
}
