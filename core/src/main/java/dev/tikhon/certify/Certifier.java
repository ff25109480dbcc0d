package dev.tikhon.certify;

import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.ArrayList;
import java.util.List;

/**
 * The certification seam: (model, input) → predicted class or abstain, and a radius with its kind.
 * Every certificate of Tikhon — Cohen's randomized smoothing, the single-pass Gaussian-average
 * radii — is one of these. A {@link CertificationRun} runs certifiers as {@link CertificationStep}s, each
 * column with its kind; {@link CertificationMethods} names the runs {@code certify --method} offers.
 */
public interface Certifier {

    /**
     * @param x     one input, without a batch dimension ([C, H, W] or [D])
     * @param index the input's position in its data set: random certifiers derive their noise from
     *              (seed, index), so a result does not depend on which other inputs were certified,
     *              in which order, or how the work was partitioned
     */
    Certificate certify(Module model, Tensor x, long index);

    /**
     * Certifies a batch {@code xs} [B, ...] whose rows are the data set's inputs {@code indices}. The default
     * certifies the rows one at a time; a one-pass certificate overrides it with one forward pass of the batch.
     */
    default List<Certificate> certifyBatch(Module model, Tensor xs, long[] indices) {
        List<Certificate> out = new ArrayList<>(indices.length);
        for (int i = 0; i < indices.length; i++) out.add(certify(model, xs.select(0, i), indices[i]));
        return out;
    }

    String describe();
}
