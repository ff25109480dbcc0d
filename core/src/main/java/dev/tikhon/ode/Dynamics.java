package dev.tikhon.ode;

import dev.tikhon.engine.Tensor;

import java.util.List;

/**
 * The right-hand side of ẏ = f(t, y) for a state that is a tuple of tensors (as in torchdiffeq):
 * a continuous normalizing flow integrates (z, Δlog p, kinetic energy, Jacobian norm) together.
 * Returns one rate per state tensor, each of the same shape as its state.
 */
@FunctionalInterface
public interface Dynamics {
    List<Tensor> rate(double t, List<Tensor> state);
}
