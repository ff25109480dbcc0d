package dev.tikhon.transport;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;
import dev.tikhon.flow.ContinuousFlow;
import dev.tikhon.flow.Divergence;
import dev.tikhon.flow.FlowConfig;
import dev.tikhon.flow.FlowModel;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Module;
import dev.tikhon.ode.SolverOptions;

/**
 * A 2-D density model from entropy–Kantorovich potentials: trained by dual ascent ({@link EkTraining}),
 * evaluated and sampled through the recovered flow {@link EkField} with {@link ContinuousFlow}
 * (T = 1, exact divergence), exactly as a CNF.
 */
public final class EkFlow implements FlowModel {
    private final EkField field;
    private final ContinuousFlow flow;
    private final int dim;

    public EkFlow(EkField field, int dim) {
        this.field = field;
        this.dim = dim;
        this.flow = new ContinuousFlow(field, Divergence.EXACT, 1.0);
    }

    /** The model a configuration describes (the flow noise is drawn from libtorch's current generator). */
    public static EkFlow build(FlowConfig c, int dim) {
        FlowConfig.Ek e = c.ek();
        Activation act = Activation.parse(c.field().activation());
        Potential phi = Potential.mlp(dim, c.field().hidden(), act);
        Potential psi = Potential.mlp(dim, c.field().hidden(), Activation.parse(c.field().activation()));
        return new EkFlow(new EkField(phi, psi, dim, e.epsilon(), e.flowSamples()), dim);
    }

    public EkField field() { return field; }

    public ContinuousFlow flow() { return flow; }

    @Override public Module module() { return field; }

    @Override public Unit unit() { return Unit.NATS; }

    @Override public String estimate() {
        return "exact divergence of the recovered flow (whose heat averages use fixed Monte Carlo samples, --flow-samples); only the "
                + "solver's tolerance limits it";
    }

    /** Not a maximum-likelihood model: EK flows are trained by {@link EkTraining}. */
    @Override public Step trainStep(Tensor x, SolverOptions options, ContinuousFlow.Gradient gradient,
                                    java.util.Map<String, Double> regularizers) {
        throw new UnsupportedOperationException("an EK flow is trained by dual ascent (EkTraining), not by maximum likelihood");
    }

    @Override public Stats evaluate(Tensor x, SolverOptions options) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            ContinuousFlow.Pass p = flow.logLikelihood(x, options, Divergence.EXACT);
            return new Stats(p.logLikelihood().neg(), p.terms(), p.nfe(), 0);
        }
    }

    @Override public Tensor sample(int n, SolverOptions options) {
        return flow.sample(Tensor.randn(field.dtype(), field.device(), n, dim), options);
    }
}
