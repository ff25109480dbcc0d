package dev.tikhon.ode;

import dev.tikhon.engine.Tensor;

import java.util.List;

/**
 * The state at t1 and what it cost: function evaluations (NFE), accepted and rejected steps.
 */
public record OdeSolution(List<Tensor> state, int nfe, int acceptedSteps, int rejectedSteps) {
    public Tensor get(int i) { return state.get(i); }
}
