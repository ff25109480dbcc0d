package dev.tikhon.flow;

import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.ode.SolverOptions;

import java.util.List;
import java.util.Map;

/**
 * A density model trained by maximum likelihood through ODE solves: the 2-D {@link ToyFlow} and
 * the multiscale image flow. {@link FlowTraining} and the {@code flow} commands see only this.
 */
public interface FlowModel {
    /** What the training and evaluation objective is measured in. */
    enum Unit {
        NATS("NLL (nats)"), BITS_PER_DIM("bits/dim");
        public final String label;
        Unit(String label) { this.label = label; }
    }

    /** Per-example negative log-likelihood in {@link #unit()}, the regularizer integrals, and the evaluations spent. */
    record Stats(Tensor nll, List<Tensor> terms, int nfe, int backwardNfe) {
        /** The integral of regularizer {@code r}, per example. */
        public Tensor term(FlowRegularizer r) { return terms.get(FlowRegularizer.ALL.indexOf(r)); }

        public Tensor kinetic() { return term(FlowRegularizer.KINETIC); }

        public Tensor jacobian() { return term(FlowRegularizer.JACOBIAN); }
    }

    /** The result of a training step: the batch's statistics and its loss (both detached). */
    record Step(Stats stats, Tensor loss) {}

    Module module();

    Unit unit();

    /** What the per-example figure of {@link #evaluate} is: exact, or which estimate, and of what (one line, for every report). */
    default String estimate() {
        return "exact divergence (the 2-D trace computed exactly); only the solver's tolerance limits it";
    }

    /**
     * Computes the loss mean(nll) + Σ weight·mean(term) over the {@link FlowRegularizer}s (weights by name, 0
     * when absent) on a batch and accumulates its parameter gradients, by backprop through the solver or by the
     * adjoint method.
     */
    Step trainStep(Tensor x, SolverOptions options, ContinuousFlow.Gradient gradient, Map<String, Double> regularizers);

    /** Per-example statistics without gradients, with the given solver (evaluation uses Dopri5 at 1e-5). */
    Stats evaluate(Tensor x, SolverOptions options);

    /** n samples in data space, carried from the latent Gaussian by the given solver. */
    Tensor sample(int n, SolverOptions options);
}
