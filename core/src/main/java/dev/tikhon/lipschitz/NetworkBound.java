package dev.tikhon.lipschitz;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.ConvGeometry;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Sequential;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A sound upper bound on a network's ℓ2 Lipschitz constants, in the pairwise form of Tsuzuku, Sato and Sugiyama
 * (2018) and Leino, Wang and Fredrikson (2021, GloRo).
 *
 * <p>When the network ends in a linear layer z = W g(x) + b (rows w_k) on top of a body g with Lipschitz bound L_g
 * ({@link Composition}, layer by layer with {@link OperatorNorms}), the margin z_c − z_j = (w_c − w_j)ᵀ g(x) + const is
 * L_cj-Lipschitz with L_cj = ‖w_c − w_j‖₂ · L_g. Then no x' with ‖x' − x‖₂ &lt; r = min_{j≠c} (z_c − z_j)/L_cj can make
 * any z_j overtake z_c: each margin shrinks by less than its own value. Without a final linear layer the bound is
 * L_cj = √2 · L (L the bound of the whole logit map, since ‖e_c − e_j‖ = √2). The ℓ∞ radius follows from
 * ‖δ‖₂ ≤ √d ‖δ‖∞: r∞ = r₂ / √d.
 *
 * <p>The radius is a proof for the network in exact arithmetic with the checkpoint's weights; logits are evaluated
 * in float64 ({@link LipschitzCertifier}) so that rounding (≈10⁻¹⁶ relative) is far below any margin we report.
 */
public final class NetworkBound {
    /** One bounded layer: the sound upper bound and, when computed, a power-iteration lower bound on the same norm. */
    public record Layer(String name, String kind, double upper, double lower) {}

    private final List<Layer> layers;
    private final double body;
    private final double[][] last;    // float64 rows w_k of the final linear layer, or null
    private final double total;
    private final long inputSize;

    private NetworkBound(List<Layer> layers, double body, double[][] last, double total, long inputSize) {
        this.layers = layers;
        this.body = body;
        this.last = last;
        this.total = total;
        this.inputSize = inputSize;
    }

    /**
     * Walks the model's layers on inputs of {@code inputShape} as {@link #of} does, without computing any norm: a
     * {@link dev.tikhon.UserError} naming the first layer without a composition rule (or a shape it cannot take), at
     * the cost of a few small tensors, before a run spends anything on the bound.
     */
    public static void check(Module model, long[] inputShape) {
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            new Composition<Double>() {
                @Override protected Double dense(String name, Tensor weight) { return 1.0; }

                @Override protected Double conv(String name, Tensor kernel, Tensor scale, ConvGeometry g, long h, long w) { return 1.0; }

                @Override protected Double constant(double c) { return c; }

                @Override protected Double times(Double a, Double b) { return a * b; }

                @Override protected Double plus(Double a, Double b) { return a + b; }
            }.bound(model, inputShape);
        }
    }

    /**
     * Bounds a model on inputs of the given shape (without the batch dimension).
     *
     * @param powerIterations steps of power iteration for each layer's lower bound (0: no lower bounds)
     * @throws dev.tikhon.UserError when a layer has no composition rule (a TorchScript model)
     */
    public static NetworkBound of(Module model, long[] inputShape, int powerIterations) {
        List<Layer> layers = new ArrayList<>();
        Sound sound = new Sound(layers, powerIterations);
        long d = 1;
        for (long s : inputShape) d *= s;
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            if (model instanceof Sequential && !((Sequential) model).layers().isEmpty()
                    && ((Sequential) model).layers().get(((Sequential) model).layers().size() - 1) instanceof Linear) {
                Sequential seq = (Sequential) model;
                int n = seq.layers().size();
                Composition.Step<Double> body = sound.bound(seq, 0, n - 1, inputShape);
                Linear head = (Linear) seq.layers().get(n - 1);
                double headNorm = sound.dense(Integer.toString(n - 1), head.weight().value());
                Tensor w = head.weight().value().detach().to(DType.FLOAT64).cpu();
                double[][] rows = new double[(int) w.size(0)][];
                for (int k = 0; k < rows.length; k++) rows[k] = w.select(0, k).toDoubleArray();
                return new NetworkBound(Collections.unmodifiableList(layers), body.lipschitz(), rows, headNorm * body.lipschitz(), d);
            }
            double total = sound.bound(model, inputShape).lipschitz();
            return new NetworkBound(Collections.unmodifiableList(layers), total, null, total, d);
        }
    }

    /** Each bounded layer in order (nested blocks by dotted name), with its upper and lower bound. */
    public List<Layer> layers() { return layers; }

    /** The sound bound on the body g (everything below the final linear layer; the whole network without one). */
    public double body() { return body; }

    /** The sound bound on the Lipschitz constant of the whole logit map x ↦ z. */
    public double total() { return total; }

    /** Whether the tighter pairwise form (a final linear layer) is used. */
    public boolean pairwise() { return last != null; }

    /** d, the number of input coordinates (for ℓ∞ radii). */
    public long inputSize() { return inputSize; }

    /** L_cj for every j (0 at j = c): a sound bound on the Lipschitz constant of z_c − z_j. */
    public double[] pairwise(int c) {
        int k = last != null ? last.length : -1;
        if (last == null) throw new IllegalStateException("no final linear layer: use classes(n)");
        double[] out = new double[k];
        for (int j = 0; j < k; j++) {
            if (j == c) continue;
            double s = 0;
            for (int i = 0; i < last[c].length; i++) {
                double diff = last[c][i] - last[j][i];
                s += diff * diff;
            }
            out[j] = Math.sqrt(s) * (1 + OperatorNorms.MARGIN) * body;
        }
        return out;
    }

    /** L_cj for all pairs among {@code classes} outputs. */
    public double[] pairwise(int c, int classes) {
        if (last != null) return pairwise(c);
        double[] out = new double[classes];
        for (int j = 0; j < classes; j++) out[j] = j == c ? 0 : Math.sqrt(2) * total * (1 + OperatorNorms.MARGIN);
        return out;
    }

    /** max over pairs c ≠ j of L_cj among {@code classes} outputs: a bound on every margin's Lipschitz constant. */
    public double maxPairwise(int classes) {
        double m = 0;
        for (int c = 0; c < classes; c++) for (double l : pairwise(c, classes)) m = Math.max(m, l);
        return m;
    }

    /** The certified ℓ2 radius of logits z (float64) with predicted class c = argmax z, and the runner-up's index. */
    public Radius radius(double[] z) {
        int c = 0;
        for (int j = 1; j < z.length; j++) if (z[j] > z[c]) c = j;
        double[] l = pairwise(c, z.length);
        double r = Double.POSITIVE_INFINITY, margin = Double.POSITIVE_INFINITY;
        int runnerUp = -1, binding = -1;
        for (int j = 0; j < z.length; j++) {
            if (j == c) continue;
            double m = z[c] - z[j];
            if (m < margin) {
                margin = m;
                runnerUp = j;
            }
            double rj = m <= 0 ? 0 : l[j] == 0 ? Double.POSITIVE_INFINITY : m / l[j];
            if (binding < 0 || rj < r) binding = j;
            r = Math.min(r, rj);
        }
        if (z.length == 1) r = Double.POSITIVE_INFINITY;
        return new Radius(c, runnerUp, margin, r, runnerUp < 0 ? Double.NaN : l[runnerUp], binding,
                binding < 0 ? Double.NaN : z[c] - z[binding], binding < 0 ? Double.NaN : l[binding]);
    }

    /**
     * @param prediction argmax of the logits
     * @param runnerUp   the class with the next-largest logit
     * @param margin     z_c − z_runnerUp
     * @param l2         the certified ℓ2 radius min_j (z_c − z_j)/L_cj
     * @param runnerUpBound L_c,runnerUp
     * @param binding    the class j that attains the minimum (z_c − z_j)/L_cj, which need not be the runner-up (−1: one class)
     * @param bindingMargin z_c − z_binding
     * @param bindingBound L_c,binding, so that l2 = bindingMargin / bindingBound (or 0 when that margin is ≤ 0)
     */
    public record Radius(int prediction, int runnerUp, double margin, double l2, double runnerUpBound, int binding,
                         double bindingMargin, double bindingBound) {
        /** The certified ℓ∞ radius r₂/√d. */
        public double linf(long inputSize) { return l2 / Math.sqrt(inputSize); }
    }

    /** The sound bounds, computed in float64, recording each layer. */
    private static final class Sound extends Composition<Double> {
        private final List<Layer> layers;
        private final int iterations;

        Sound(List<Layer> layers, int iterations) {
            this.layers = layers;
            this.iterations = iterations;
        }

        @Override protected Double dense(String name, Tensor weight) {
            double up = OperatorNorms.dense(weight);
            double low = iterations > 0 ? OperatorNorms.denseLower(weight, iterations, 0) : Double.NaN;
            layers.add(new Layer(name, "linear " + weight.size(1) + "→" + weight.size(0), up, low));
            return up;
        }

        @Override protected Double conv(String name, Tensor kernel, Tensor scale, ConvGeometry g, long h, long w) {
            Tensor k = kernel.detach().to(DType.FLOAT64);
            if (scale != null) k = k.mul(scale.detach().to(DType.FLOAT64).reshape(k.size(0), 1, 1, 1));
            double up = OperatorNorms.conv(k, g, h, w);
            double low = iterations > 0 ? OperatorNorms.convLower(k, g, h, w, iterations, 0) : Double.NaN;
            String geometry = g.isSquare() ? " s" + g.stride()[0] + " p" + g.padding()[0] : " " + g;
            layers.add(new Layer(name, "conv " + k.size(1) * g.groups() + "→" + k.size(0) + " " + k.size(2) + "×" + k.size(3) + geometry
                    + " on " + h + "×" + w + (scale != null ? " (batch norm folded)" : ""), up, low));
            return up;
        }

        @Override protected Double scaling(String name, String kind, double c) {
            layers.add(new Layer(name, kind, c, iterations > 0 ? c : Double.NaN));   // exact: the largest diagonal entry
            return c;
        }

        @Override protected Double constant(double c) { return c; }

        @Override protected Double times(Double a, Double b) { return a * b; }

        @Override protected Double plus(Double a, Double b) { return a + b; }

        @Override protected Double joined(Double a, Double b) { return Math.hypot(a, b); }
    }
}
