package dev.tikhon.flow;

import dev.tikhon.UserError;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Parameter;
import dev.tikhon.ode.Adjoint;
import dev.tikhon.ode.OdeSolution;
import dev.tikhon.ode.OdeSolver;
import dev.tikhon.ode.SolverOptions;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The multiscale continuous normalizing flow for images (FFJORD/RNODE, docs/methods.md §6), in bits/dim.
 *
 * <p><b>Data to latents.</b> An image batch x ∈ [0,1]^{N×C×H×W} (pixel values k/255):
 * <ol>
 *   <li>dequantize: u = (255·x + U[0,1)) / 256, fresh noise per call (switchable off for tests);</li>
 *   <li>logit: y = logit(α + (1−2α)u), α = 1e-5, log-det Σ [log(1−2α) − log s − log(1−s)], s = α + (1−2α)u;</li>
 *   <li>for each scale i = 0 … S−1: squeeze the scale's input h_i (space to depth, [c, h, w] →
 *       [4c, h/2, w/2], channel 4c'+2a+b of the output holds pixel (2i+a, 2j+b) of channel c'),
 *       solve one {@link ContinuousFlow} block from t = 0 to T on it, and — except at the last scale —
 *       factor out: the first half of the channels of z_i(T) is a latent scored by N(0, I), the second
 *       half is the next scale's input h_{i+1}. The last scale's whole z(T) is a latent.</li>
 * </ol>
 * With the default two scales on 1×28×28: squeeze to 4×14×14, CNF, latent 2×14×14 out; squeeze the
 * other 2×14×14 to 8×7×7, CNF, latent 8×7×7. (FFJORD's odenvp also runs a CNF before the first squeeze;
 * here there is one block per scale.) Squeezes and factor-outs are permutations: log-det 0. So
 * <pre>  log p(u) = Σ_i log N(latent_i) + Σ_i ∫₀ᵀ div f_i dt + Σ log dy/du,   bpd = −(log p(u)/d − log 256) / log 2 </pre>
 * per example, d = C·H·W. Why + log 256: the model is a density on u ∈ [0,1]^d; the discrete pixels
 * k ∈ {0…255}^d are dequantized as v = k + U on [0,256)^d, whose density is p(u = v/256)·256^{−d}, and
 * log P(k) ≥ E_U log p_v(k + U) (Jensen). So −log₂ P(k)/d ≤ −(log p(u)/d − log 256)/log 2, the bound
 * FFJORD and RNODE report.
 *
 * <p>Divergences: each block uses the configured estimator (Hutchinson with Rademacher noise for images),
 * noise drawn once per solve. Evaluation uses the same estimator: it is unbiased for log p (and for the
 * bits/dim, which is affine in log p), with the standard error over examples absorbing its variance.
 * The regularizer terms ({@link FlowRegularizer}s) are summed over the blocks; the training loss is
 * mean(bpd) + λ_K·mean(ΣE) + λ_J·mean(Σn).
 *
 * <p>Gradients: backprop builds one graph through all blocks. The adjoint runs the blocks forward
 * without a graph, takes ∂L/∂(end state) of every block from the loss, and goes back from the last
 * block to the first with {@link Adjoint#backward}; the adjoint of a block's initial z, un-squeezed,
 * is added to the kept half of the previous block's end-state gradient.
 */
public final class ImageFlow implements FlowModel {
    public static final double ALPHA = 1e-5;
    static final double LOG256 = Math.log(256);

    private final long[] shape;
    private final List<ContinuousFlow> blocks = new ArrayList<>();
    /** The [C, H, W] each block integrates. */
    private final List<long[]> blockShapes = new ArrayList<>();
    private final Fields fields;
    private final long dims;
    private boolean dequantize = true;
    private final Divergence divergence;

    /**
     * @param shape   one example, [C, H, W]
     * @param width   conv channels of every field (the paper: 64)
     * @param scales  number of squeeze–CNF(–factor-out) stages; H and W must stay even for every squeeze
     */
    public ImageFlow(long[] shape, int width, int scales, Divergence divergence, double endTime) {
        if (shape.length != 3) {
            throw new UserError("the multiscale flow takes images [C, H, W], not examples of shape " + Arrays.toString(shape)
                    + ": use --model mlp for vectors");
        }
        if (scales < 1) throw new UserError("--scales must be at least 1, got " + scales);
        if (width < 1) throw new UserError("--channels must be at least 1, got " + width);
        this.shape = shape.clone();
        this.divergence = divergence;
        this.dims = shape[0] * shape[1] * shape[2];
        long c = shape[0], h = shape[1], w = shape[2];
        List<ConvTimeField> fs = new ArrayList<>();
        for (int i = 0; i < scales; i++) {
            if (h % 2 != 0 || w % 2 != 0) {
                throw new UserError("a " + shape[1] + "×" + shape[2] + " image can be squeezed (halved) only " + i
                        + " times, so it takes at most --scales " + i + ", got " + scales);
            }
            c *= 4;
            h /= 2;
            w /= 2;
            blockShapes.add(new long[]{c, h, w});
            ConvTimeField f = new ConvTimeField((int) c, width);
            fs.add(f);
            blocks.add(new ContinuousFlow(f, divergence, endTime));
            c /= 2;
        }
        this.fields = new Fields(fs);
    }

    /** All fields, one child per scale ("scales.i"): what is trained and checkpointed. */
    static final class Fields extends Module {
        final List<ConvTimeField> fields;

        Fields(List<ConvTimeField> fields) {
            this.fields = fields;
            for (int i = 0; i < fields.size(); i++) child("scales." + i, fields.get(i));
        }

        /** The fields only make sense inside an ODE solve: {@link ImageFlow} runs them. */
        @Override public Tensor forward(Tensor x) {
            throw new UnsupportedOperationException("the multiscale flow's fields are integrated by ImageFlow, not called directly");
        }

        @Override public String describe() {
            StringBuilder s = new StringBuilder("MultiscaleCNF(");
            for (int i = 0; i < fields.size(); i++) s.append(i == 0 ? "" : "; ").append("scale ").append(i + 1).append(": ")
                    .append(fields.get(i).describe());
            return s.append(")").toString();
        }
    }

    @Override public Module module() { return fields; }

    @Override public Unit unit() { return Unit.BITS_PER_DIM; }

    @Override public String estimate() {
        return (divergence == Divergence.EXACT ? "exact divergence" : "Hutchinson estimate (" + divergence.cliName() + " noise, one draw "
                + "per batch) of the divergence, unbiased for log p") + "; NFE summed over the " + blocks.size() + " blocks; of dequantized "
                + "images: an upper bound (in expectation) on the discrete code length −log₂P(x)/d";
    }

    public List<ContinuousFlow> blocks() { return blocks; }

    public long dims() { return dims; }

    /** Whether inputs are dequantized with uniform noise (on by default; off for exact-inverse tests). */
    public ImageFlow dequantize(boolean on) {
        this.dequantize = on;
        return this;
    }

    // ------------------------------------------------------------------ transforms

    /** u = (255·x + U[0,1)) / 256. */
    static Tensor dequantized(Tensor x) {
        return x.mul(255).add(x.randLike()).div(256);
    }

    /** y = logit(α + (1−2α)u) and the per-example log-det Σ log dy/du = Σ [log(1−2α) − log s − log(1−s)]. */
    static Tensor[] logit(Tensor u) {
        Tensor s = u.mul(1 - 2 * ALPHA).add(ALPHA);
        Tensor logS = s.log(), log1mS = s.neg().add(1).log();
        Tensor logDet = logS.add(log1mS).neg().add(Math.log(1 - 2 * ALPHA)).flatten(1, -1).sum(1, false);
        return new Tensor[]{logS.sub(log1mS), logDet};
    }

    /** The inverse of {@link #logit} without its log-det: u = (sigmoid(y) − α) / (1 − 2α). */
    static Tensor inverseLogit(Tensor y) {
        return y.sigmoid().sub(ALPHA).div(1 - 2 * ALPHA);
    }

    /** Space to depth: [N, C, H, W] → [N, 4C, H/2, W/2], channel 4c + 2a + b holding pixels (2i + a, 2j + b) of channel c. */
    static Tensor squeeze(Tensor x) {
        long n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        return x.reshape(n, c, h / 2, 2, w / 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(n, 4 * c, h / 2, w / 2);
    }

    /** Depth to space, the inverse of {@link #squeeze}. */
    static Tensor unsqueeze(Tensor x) {
        long n = x.size(0), c = x.size(1) / 4, h = x.size(2), w = x.size(3);
        return x.reshape(n, c, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c, 2 * h, 2 * w);
    }

    /** The first block's input for data x (after the optional dequantization) and the log-det of the transforms. */
    Tensor[] preprocess(Tensor x) {
        Tensor u = x.to(fields.dtype());
        if (dequantize) u = dequantized(u);
        Tensor[] t = logit(u);
        return new Tensor[]{squeeze(t[0]), t[1]};
    }

    // ------------------------------------------------------------------ passes

    /** Every block's end state (z, Δlog p, E, n), its dynamics (with its noise), the transforms' log-det and the NFE. */
    private record Forward(List<List<Tensor>> ends, List<CnfDynamics> dynamics, Tensor logDet, int nfe) {}

    private Forward forward(Tensor x, SolverOptions options) {
        SolverOptions o = ContinuousFlow.controlled(options);
        Tensor[] p = preprocess(x);
        Tensor z0 = p[0];
        List<List<Tensor>> ends = new ArrayList<>();
        List<CnfDynamics> dyns = new ArrayList<>();
        int nfe = 0;
        for (int i = 0; i < blocks.size(); i++) {
            if (i > 0) {
                Tensor z = ends.get(i - 1).get(0);
                long c = z.size(1);
                z0 = squeeze(z.narrow(1, c / 2, c - c / 2));
            }
            ContinuousFlow b = blocks.get(i);
            CnfDynamics dyn = new CnfDynamics(b.field(), b.divergence());
            dyn.drawNoise(z0);
            OdeSolution s = OdeSolver.solve(dyn, CnfDynamics.initialState(z0), 0, b.endTime(), o);
            ends.add(s.state());
            dyns.add(dyn);
            nfe += s.nfe();
        }
        return new Forward(ends, dyns, p[1], nfe);
    }

    /** Per-example bits/dim and the regularizers summed over blocks, from the blocks' end states. */
    private record Head(Tensor bitsPerDim, List<Tensor> terms) {
        Tensor loss(Map<String, Double> regularizers) {
            return FlowRegularizer.penalized(bitsPerDim.mean(), terms, regularizers);
        }
    }

    private Head head(List<List<Tensor>> ends, Tensor logDet) {
        Tensor logp = logDet;
        Tensor[] terms = new Tensor[CnfDynamics.WIDTH - 2];
        for (int i = 0; i < ends.size(); i++) {
            List<Tensor> e = ends.get(i);
            Tensor z = e.get(0);
            Tensor latent = i < ends.size() - 1 ? z.narrow(1, 0, z.size(1) / 2) : z;
            logp = logp.add(ContinuousFlow.standardNormalLogDensity(latent)).sub(e.get(1));
            for (int k = 0; k < terms.length; k++) terms[k] = terms[k] == null ? e.get(2 + k) : terms[k].add(e.get(2 + k));
        }
        return new Head(bitsPerDim(logp, dims), List.of(terms));
    }

    /** bpd = −(log p / d − log 256) / log 2, per example. */
    static Tensor bitsPerDim(Tensor logp, long dims) {
        return logp.div(-(double) dims).add(LOG256).div(Math.log(2));
    }

    @Override public Step trainStep(Tensor x, SolverOptions options, ContinuousFlow.Gradient gradient,
                                    Map<String, Double> regularizers) {
        if (gradient == ContinuousFlow.Gradient.BACKPROP) {
            Forward f = forward(x, options);
            Head h = head(f.ends(), f.logDet());
            Tensor loss = h.loss(regularizers);
            loss.backward();
            return new Step(new Stats(h.bitsPerDim().detach(), FlowRegularizer.detached(h.terms()), f.nfe(), 0),
                    loss.detach());
        }
        Forward f;
        try (Autograd.Guard g = Autograd.noGrad()) {
            f = forward(x, options);
        }
        int n = blocks.size();
        int width = CnfDynamics.WIDTH;
        List<Tensor> leaves = new ArrayList<>(width * n);
        List<List<Tensor>> ends = new ArrayList<>(n);
        for (List<Tensor> e : f.ends()) {
            List<Tensor> l = new ArrayList<>(width);
            for (Tensor y : e) l.add(y.detach().requiresGrad(true));
            ends.add(l);
            leaves.addAll(l);
        }
        Head h = head(ends, f.logDet());
        Tensor loss = h.loss(regularizers);
        List<Tensor> direct = Autograd.grad(List.of(loss), leaves, null, false, false);
        SolverOptions o = ContinuousFlow.controlled(options);
        Tensor carried = null;   // ∂L/∂(initial z) of block i + 1
        int backwardNfe = 0;
        for (int i = n - 1; i >= 0; i--) {
            List<Tensor> grad1 = new ArrayList<>(direct.subList(width * i, width * i + width));
            if (carried != null) {
                Tensor gz = grad1.get(0);
                long c = gz.size(1);
                Tensor kept = unsqueeze(carried);
                grad1.set(0, gz.add(Tensor.cat(List.of(kept.zerosLike().narrow(1, 0, c / 2), kept), 1)));
            }
            List<Tensor> params = new ArrayList<>();
            for (Parameter q : blocks.get(i).field().parameters()) params.add(q.value());
            Adjoint.Gradients g = Adjoint.backward(f.dynamics().get(i), params, f.ends().get(i), grad1, 0,
                    blocks.get(i).endTime(), o);
            Adjoint.accumulate(params, g.parameters());
            carried = g.initialState().get(0);
            backwardNfe += g.nfe();
        }
        return new Step(new Stats(h.bitsPerDim().detach(), FlowRegularizer.detached(h.terms()), f.nfe(), backwardNfe),
                loss.detach());
    }

    @Override public Stats evaluate(Tensor x, SolverOptions options) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            Forward f = forward(x, options);
            Head h = head(f.ends(), f.logDet());
            return new Stats(h.bitsPerDim(), h.terms(), f.nfe(), 0);
        }
    }

    /** The latents of x, one per scale (first half of each non-last block's end state, the last block's whole). */
    List<Tensor> latents(Tensor x, SolverOptions options) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            List<List<Tensor>> ends = forward(x, options).ends();
            List<Tensor> out = new ArrayList<>();
            for (int i = 0; i < ends.size(); i++) {
                Tensor z = ends.get(i).get(0);
                out.add(i < ends.size() - 1 ? z.narrow(1, 0, z.size(1) / 2) : z);
            }
            return out;
        }
    }

    /** The shape [C, H, W] of each scale's latent. */
    public List<long[]> latentShapes() {
        List<long[]> out = new ArrayList<>();
        for (int i = 0; i < blockShapes.size(); i++) {
            long[] s = blockShapes.get(i).clone();
            if (i < blockShapes.size() - 1) s[0] /= 2;
            out.add(s);
        }
        return out;
    }

    /** Data (before clamping, in [0,1] up to the inverse logit's range) for the given latents: the blocks run backwards. */
    Tensor decode(List<Tensor> latents, SolverOptions options) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            Tensor kept = null;
            for (int i = blocks.size() - 1; i >= 0; i--) {
                Tensor z = kept == null ? latents.get(i) : Tensor.cat(List.of(latents.get(i), kept), 1);
                kept = unsqueeze(blocks.get(i).sample(z, options));
            }
            return inverseLogit(kept);
        }
    }

    @Override public Tensor sample(int n, SolverOptions options) {
        List<Tensor> latents = new ArrayList<>();
        for (long[] s : latentShapes()) latents.add(Tensor.randn(fields.dtype(), fields.device(), n, s[0], s[1], s[2]));
        return decode(latents, options).clamp(0, 1);
    }

    public long[] exampleShape() { return shape.clone(); }
}
