package dev.tikhon.flow;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Parameter;
import dev.tikhon.ode.Adjoint;
import dev.tikhon.ode.Dynamics;
import dev.tikhon.ode.OdeSolution;
import dev.tikhon.ode.OdeSolver;
import dev.tikhon.ode.SolverOptions;

import java.util.ArrayList;
import java.util.List;

/**
 * A continuous normalizing flow: data x at t = 0 flows along ż = f(z, t) to z(T), which should be
 * standard normal. By the instantaneous change of variables,
 * <pre>  log p(x) = log N(z(T); 0, I) + ∫₀ᵀ div f dt = log N(z(T)) − Δlog p(T). </pre>
 * Sampling runs the same ODE backwards from z ~ N(0, I) at T. The regularizer states
 * ({@link FlowRegularizer}s) never enter the step-size control.
 */
public final class ContinuousFlow {
    /** How the parameter gradients of a training loss are obtained. */
    public enum Gradient { BACKPROP, ADJOINT }

    private final TimeField field;
    private final Divergence divergence;
    private final double endTime;

    public ContinuousFlow(TimeField field, Divergence divergence, double endTime) {
        this.field = field;
        this.divergence = divergence;
        this.endTime = endTime;
    }

    public TimeField field() { return field; }

    public Divergence divergence() { return divergence; }

    public double endTime() { return endTime; }

    /**
     * Per-example log-likelihood and regularizers of a batch, with the function evaluations spent.
     * {@code backwardNfe} is filled in by {@link #trainStep} for the adjoint method.
     */
    public record Pass(Tensor logLikelihood, List<Tensor> terms, Tensor endState, int nfe, int backwardNfe) {
        /** The integral of regularizer {@code r}, per example. */
        public Tensor term(FlowRegularizer r) { return terms.get(FlowRegularizer.ALL.indexOf(r)); }

        public Tensor kinetic() { return term(FlowRegularizer.KINETIC); }

        public Tensor jacobian() { return term(FlowRegularizer.JACOBIAN); }
    }

    /** Log-likelihood of x; differentiable (backprop through the solver) when autograd records. */
    public Pass logLikelihood(Tensor x, SolverOptions options) {
        return logLikelihood(x, options, divergence);
    }

    /** As {@link #logLikelihood(Tensor, SolverOptions)} with another divergence estimator (exact for evaluation). */
    public Pass logLikelihood(Tensor x, SolverOptions options, Divergence how) {
        CnfDynamics dynamics = new CnfDynamics(field, how);
        dynamics.drawNoise(x);
        OdeSolution s = OdeSolver.solve(dynamics, CnfDynamics.initialState(x), 0, endTime, controlled(options));
        return pass(s.state(), s.nfe(), 0);
    }

    private static Pass pass(List<Tensor> end, int nfe, int backwardNfe) {
        Tensor z = end.get(0);
        return new Pass(standardNormalLogDensity(z).sub(end.get(1)), List.copyOf(end.subList(2, end.size())), z, nfe, backwardNfe);
    }

    /** Only z and Δlog p decide the step size. */
    static SolverOptions controlled(SolverOptions options) {
        boolean[] which = new boolean[CnfDynamics.WIDTH];
        which[0] = which[1] = true;
        return options.controlling(which);
    }

    /** The batch's pass and its loss (detached). */
    public record Step(Pass pass, Tensor loss) {}

    /**
     * A loss on a batch, turned into parameter gradients (accumulated into {@code .grad}) by backprop
     * through the solver or by the adjoint method. {@code loss} maps the batch's {@link Pass} to a
     * scalar; it is evaluated on the end state only, so the adjoint needs no forward graph.
     */
    public Step trainStep(Tensor x, SolverOptions options, Gradient gradient, java.util.function.Function<Pass, Tensor> loss) {
        CnfDynamics dynamics = new CnfDynamics(field, divergence);
        dynamics.drawNoise(x);
        SolverOptions o = controlled(options);
        if (gradient == Gradient.BACKPROP) {
            OdeSolution s = OdeSolver.solve(dynamics, CnfDynamics.initialState(x), 0, endTime, o);
            Pass p = pass(s.state(), s.nfe(), 0);
            Tensor l = loss.apply(p);
            l.backward();
            return new Step(p, l.detach());
        }
        OdeSolution forward;
        try (Autograd.Guard g = Autograd.noGrad()) {
            forward = OdeSolver.solve(dynamics, CnfDynamics.initialState(x), 0, endTime, o);
        }
        List<Tensor> end = new ArrayList<>(CnfDynamics.WIDTH);
        for (Tensor y : forward.state()) end.add(y.detach().requiresGrad(true));
        Pass p = pass(end, forward.nfe(), 0);
        Tensor l = loss.apply(p);
        List<Tensor> grad1 = Autograd.grad(List.of(l), end, null, false, false);
        List<Tensor> params = parameterTensors();
        Adjoint.Gradients g = Adjoint.backward(dynamics, params, forward.state(), grad1, 0, endTime, o);
        Adjoint.accumulate(params, g.parameters());
        return new Step(new Pass(p.logLikelihood().detach(), FlowRegularizer.detached(p.terms()),
                p.endState().detach(), forward.nfe(), g.nfe()), l.detach());
    }

    private List<Tensor> parameterTensors() {
        List<Tensor> out = new ArrayList<>();
        for (Parameter q : field.parameters()) out.add(q.value());
        return out;
    }

    /** Samples: z ~ N(0, I) of the given shape at T, carried back to t = 0 (no divergence needed). */
    public Tensor sample(Tensor z, SolverOptions options) {
        Dynamics back = (t, y) -> List.of(field.velocity(t, y.get(0)));
        try (Autograd.Guard g = Autograd.noGrad()) {
            return OdeSolver.solve(back, List.of(z), endTime, 0, options.controlling(true)).get(0);
        }
    }

    /** log N(z; 0, I) per example: −½‖z‖² − (d/2) log 2π. */
    public static Tensor standardNormalLogDensity(Tensor z) {
        Tensor flat = z.flatten(1, -1);
        double d = flat.size(1);
        return flat.square().sum(1, false).mul(-0.5).sub(0.5 * d * Math.log(2 * Math.PI));
    }
}
