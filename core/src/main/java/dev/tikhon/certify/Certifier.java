package dev.tikhon.certify;

import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

/**
 * The certification seam: (model, input) → predicted class or abstain, and a radius with its kind.
 * Every certificate of Tikhon — Cohen's randomized smoothing, the single-pass Gaussian-average
 * radii — is one of these.
 */
public interface Certifier {

    /**
     * @param x     one input, without a batch dimension ([C, H, W] or [D])
     * @param index the input's position in its data set: random certifiers derive their noise from
     *              (seed, index), so a result does not depend on which other inputs were certified,
     *              in which order, or how the work was partitioned
     */
    Certificate certify(Module model, Tensor x, long index);

    String describe();
}
