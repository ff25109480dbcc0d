package dev.tikhon.nn;

import dev.tikhon.engine.Tensor;

/**
 * A layer that may be an elementwise affine map y = x·scale + shift, scale and shift broadcasting against its input
 * [N, …] without changing its shape (an imported Add, Sub, Mul or Div by a constant): what bound propagation and the
 * Lipschitz composition rules need to pass through it.
 */
public interface ElementwiseAffine {
    /** {scale, shift}, or null where this layer is not affine (then the bounds refuse it as any layer without a rule). */
    Tensor[] elementwiseAffine();
}
