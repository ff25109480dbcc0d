package dev.tikhon.flow;

import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

/**
 * A time-dependent vector field f(z, t) with trainable parameters: the dynamics ż = f(z, t) of a
 * continuous normalizing flow. The output has the shape of z.
 */
public abstract class TimeField extends Module {
    public abstract Tensor velocity(double t, Tensor z);

    /** The field at t = 0 (a {@link Module} takes one input; flows call {@link #velocity}). */
    @Override public final Tensor forward(Tensor z) { return velocity(0, z); }
}
