package dev.tikhon.flow;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.ode.SolverOptions;

import java.util.Map;

/**
 * A continuous normalizing flow on low-dimensional data (the 2-D toy sets): one {@link ContinuousFlow}
 * of an MLP field, NLL in nats. Evaluation uses the exact divergence whatever the training used.
 */
public final class ToyFlow implements FlowModel {
    private final ContinuousFlow flow;
    private final int dim;

    public ToyFlow(TimeField field, int dim, Divergence divergence, double endTime) {
        this.flow = new ContinuousFlow(field, divergence, endTime);
        this.dim = dim;
    }

    public ContinuousFlow flow() { return flow; }

    @Override public Module module() { return flow.field(); }

    @Override public Unit unit() { return Unit.NATS; }

    @Override public Step trainStep(Tensor x, SolverOptions options, ContinuousFlow.Gradient gradient,
                                    Map<String, Double> regularizers) {
        ContinuousFlow.Step s = flow.trainStep(x, options, gradient,
                p -> FlowRegularizer.penalized(p.logLikelihood().mean().neg(), p.terms(), regularizers));
        ContinuousFlow.Pass p = s.pass();
        return new Step(new Stats(p.logLikelihood().detach().neg(), FlowRegularizer.detached(p.terms()),
                p.nfe(), p.backwardNfe()), s.loss());
    }

    @Override public Stats evaluate(Tensor x, SolverOptions options) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            ContinuousFlow.Pass p = flow.logLikelihood(x, options, Divergence.EXACT);
            return new Stats(p.logLikelihood().neg(), p.terms(), p.nfe(), 0);
        }
    }

    @Override public Tensor sample(int n, SolverOptions options) {
        Module m = module();
        return flow.sample(Tensor.randn(m.dtype(), m.device(), n, dim), options);
    }
}
