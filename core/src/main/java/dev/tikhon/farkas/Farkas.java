package dev.tikhon.farkas;

import dev.tikhon.engine.Tensor;

import java.util.List;

/**
 * The two operations every Farkas layer shares (Pooladian, Finlay, Hoheisel &amp; Oberman, "Farkas
 * layers: don't shift the data, fix the geometry"; docs/methods.md §8), and the count that shows what they
 * guarantee.
 *
 * <p>Given the out − 1 learned responses y of a layer, the layer outputs
 * ReLU([y, ȳ] + b̃) with ȳ = mean(−y) over the channels and b̃ the bias with its last entry replaced
 * by max(−mean(b₁…b_{out−1}), b_out). Then the mean of the first out − 1 pre-activations plus the
 * last one is mean(b₁…b_{out−1}) + b̃_out ≥ 0, so at least one unit is non-negative for every
 * input: (Gordan's/Farkas' alternative) the layer can never be entirely inactive.
 */
public final class Farkas {
    private Farkas() {}

    /** [y, mean over dimension 1 of (−y)]: one more channel (or feature) holding the negated mean. */
    public static Tensor appendNegativeMean(Tensor y) {
        return Tensor.cat(List.of(y, y.mean(1, true).neg()), 1);
    }

    /**
     * The out − 1 learned kernels (or rows) W with a last one appended, −mean(W) over the first
     * dimension: by linearity a convolution (or product) with it yields [y, mean(−y)] in one pass,
     * y = W ∗ x, without the activation-sized mean and concatenation.
     */
    public static Tensor kernels(Tensor w) {
        return Tensor.cat(List.of(w, w.mean(0, true).neg()), 0);
    }

    /** The bias {@code b} (length out) with its last entry replaced by max(−mean(b₁…b_{out−1}), b_out). */
    public static Tensor bias(Tensor b) {
        long n = b.size(0);
        Tensor head = b.narrow(0, 0, n - 1);
        Tensor last = head.mean().neg().maximum(b.narrow(0, n - 1, 1));
        return Tensor.cat(List.of(head, last), 0);
    }

    /** ReLU([y, mean(−y)] + bias(b)) for y of shape [N, out−1] or [N, out−1, H, W]. */
    public static Tensor output(Tensor y, Tensor b) {
        Tensor z = appendNegativeMean(y);
        Tensor bb = bias(b);
        if (z.dim() == 4) bb = bb.reshape(1, bb.size(0), 1, 1);
        return z.add(bb).relu();
    }

    /**
     * How many positions have no active unit: examples of an [N, C] activation, or (example, row,
     * column) positions of an [N, C, H, W] one, whose C values are all ≤ 0. Zero for every Farkas
     * layer's output, whatever the input and weights.
     */
    public static long inactivePositions(Tensor activations) {
        return (long) activations.amax(1, false).le(0).sum().item();
    }

    /** The number of positions {@link #inactivePositions} counts over: N, or N·H·W. */
    public static long positions(Tensor activations) {
        return activations.numel() / activations.size(1);
    }
}
