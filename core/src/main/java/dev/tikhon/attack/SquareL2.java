package dev.tikhon.attack;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.Random;

/**
 * Square Attack in ℓ2 (Andriushchenko et al., ECCV 2020, section 3.2), as AutoAttack runs it: a
 * score-based random search on the sphere of radius ε. The start tiles the image with "pseudo-Gaussian"
 * squares (concentric rectangles weighted 1/(k+1)², positive on one half, negative on the other) of
 * random sign per channel. Each query moves mass between two random windows of side s: the first gets
 * a fresh pseudo-Gaussian bump plus its old (normalized) content, rescaled so that it absorbs the
 * second window's mass and whatever the budget ε² − ‖δ‖² leaves; the second is zeroed; the whole δ is
 * put back on the ε-sphere and clipped to the box. A change is kept when the margin z_y − max_{i≠y} zᵢ
 * goes down. s² is a fraction p of the pixels, on the same halving schedule as {@link SquareAttack};
 * each query runs only on the points not yet fooled. Inputs that are not images ([N, D]) are treated
 * as [N, 1, 1, D].
 *
 * @param queries model evaluations per example (AutoAttack standard: 5,000)
 * @param pInit   initial fraction of pixels per window (AutoAttack: 0.8)
 */
public record SquareL2(double eps, int queries, double pInit) implements Attack {

    public SquareL2 {
        SquareAttack.check(eps, queries, pInit);
    }

    @Override public String name() { return "square"; }

    @Override public Norm norm() { return Norm.L2; }

    public SquareL2 withEps(double e) { return new SquareL2(e, queries, pInit); }

    @Override
    public Result attack(Module model, Tensor x, Tensor y) {
        Attacks.checkInputs(x, y, name());
        long[] shape = x.shape();
        Tensor x0 = SquareAttack.asImages(x);
        int n = (int) x0.size(0), c = (int) x0.size(1), h = (int) x0.size(2), w = (int) x0.size(3);
        Module image = SquareAttack.reshaping(model, shape);
        Tracker tracker = new Tracker(Norm.L2, x0, y);
        // Window positions and shapes come from a Java stream seeded by the (seeded) libtorch stream: reproducible, one draw.
        Random random = new Random(Double.doubleToLongBits(Tensor.rand(1).item()));
        try (Autograd.Guard noGrad = Autograd.noGrad()) {
            Tensor best = onSphere(x0, initialDelta(x0, random)).copy();
            Tensor margin = margin(image.forward(best), y).copy();
            for (int q = 1; q < queries && !Budget.exhausted(); q++) {
                boolean[] open = margin.gt(0).toBooleanArray();
                int[] idx = java.util.stream.IntStream.range(0, n).filter(i -> open[i]).toArray();
                if (idx.length == 0) break;
                try (Scope it = Scope.open()) {
                    Tensor xc = Attacks.rows(x0, idx), bestC = Attacks.rows(best, idx), marginC = Attacks.rows(margin, idx);
                    Tensor candidate = propose(xc, bestC.sub(xc), q, c, h, w, random);
                    Tensor m = margin(image.forward(candidate), Attacks.rows(y, idx));
                    Tensor better = m.lt(marginC).logicalOr(m.le(0));
                    Tensor index = Attacks.index(idx, x0);
                    best.copy_(best.indexCopy(0, index, Tensor.where(Pgd.perExample(better, xc), candidate, bestC)));
                    margin.copy_(margin.indexCopy(0, index, Tensor.where(better, m, marginC)));
                }
            }
            tracker.offer(best, image.forward(best));
        }
        Result r = tracker.result();
        return new Result(r.adversarial().reshape(shape), r.success(), r.distance());
    }

    /** z_y − max_{i≠y} zᵢ: positive while correctly classified. */
    private static Tensor margin(Tensor logits, Tensor y) {
        return AttackLoss.MARGIN.perExample(logits, y).neg();
    }

    /** One query's candidate: δ with a new bump in one window and the mass of another window moved into it, on the ε-sphere. */
    private Tensor propose(Tensor xc, Tensor delta, int q, int c, int h, int w, Random random) {
        int m = (int) xc.size(0);
        double p = SquareAttack.fraction(pInit, q, queries);
        int s = (int) Math.max(Math.round(Math.sqrt(p * h * w)), 3);
        if (s % 2 == 0) s++;
        int sh = Math.min(s, h), sw = Math.min(s, w);
        int vh = random.nextInt(h - sh + 1), vw = random.nextInt(w - sw + 1);
        int vh2 = random.nextInt(h - sh + 1), vw2 = random.nextInt(w - sw + 1);
        Tensor window1 = delta.narrow(2, vh, sh).narrow(3, vw, sw);
        Tensor normWindow1 = sumHW(window1.square()).sqrt();   // [m, c, 1, 1]
        Tensor normImage = delta.normPerExample(2);
        Tensor both = mask(delta, vh, vw, sh, sw).logicalOr(mask(delta, vh2, vw2, sh, sw));
        Tensor normWindows = delta.mul(both.to(delta.dtype())).normPerExample(2);
        Tensor bump = bump(sh, sw, random, delta).mul(signs(m, c, delta));
        Tensor fresh = bump.add(window1.div(normWindow1.add(1e-12)));
        Tensor budget = normImage.square().neg().add(eps * eps).clampMin(0).div(c).add(normWindows.square()).sqrt();
        fresh = fresh.div(sumHW(fresh.square()).sqrt().clampMin(1e-12)).mul(Pgd.perExample(budget, fresh));
        Tensor moved = delta.copy();
        moved.narrow(2, vh2, sh).narrow(3, vw2, sw).zero_();
        moved.narrow(2, vh, sh).narrow(3, vw, sw).copy_(fresh);
        return onSphere(xc, moved);
    }

    /** x + ε δ/‖δ‖₂, clipped to the box. */
    private Tensor onSphere(Tensor x, Tensor delta) {
        Tensor norms = Pgd.perExample(delta.normPerExample(2).clampMin(1e-12), delta);
        return InputDomain.current().clamp_(x.add(delta.div(norms).mul(eps)));
    }

    /** AutoAttack's start: tiles of side ⌊h/5⌋ × ⌊w/5⌋, centred, each a pseudo-Gaussian bump of random sign per example and channel. */
    private static Tensor initialDelta(Tensor x0, Random random) {
        int n = (int) x0.size(0), c = (int) x0.size(1), h = (int) x0.size(2), w = (int) x0.size(3);
        int sh = Math.max(h / 5, 1), sw = Math.max(w / 5, 1);
        int top = Math.max((h - sh * 5) / 2, 0), left = Math.max((w - sw * 5) / 2, 0);
        float[] d = new float[n * c * h * w];
        for (int vh = top; vh + sh <= h; vh += sh) {
            for (int vw = left; vw + sw <= w; vw += sw) {
                double[] b = pseudoGaussian(sh, sw, random);
                for (int i = 0; i < n * c; i++) {
                    double sign = random.nextBoolean() ? 1 : -1;
                    for (int a = 0; a < sh; a++) for (int e = 0; e < sw; e++) d[i * h * w + (vh + a) * w + vw + e] += (float) (sign * b[a * sw + e]);
                }
            }
        }
        return Tensor.fromFloats(d, n, c, h, w).to(x0.device(), x0.dtype());
    }

    private static Tensor bump(int sh, int sw, Random random, Tensor like) {
        double[] b = pseudoGaussian(sh, sw, random);
        float[] f = new float[b.length];
        for (int i = 0; i < b.length; i++) f[i] = (float) b[i];
        return Tensor.fromFloats(f, 1, 1, sh, sw).to(like.device(), like.dtype());
    }

    private static Tensor signs(int m, int c, Tensor like) {
        return Tensor.rand(like.dtype(), like.device(), m, c, 1, 1).lt(0.5).to(like.dtype()).mul(2).sub(1);
    }

    /** AutoAttack's meta_pseudo_gaussian_pert: +rectangles on the top half, − on the bottom, unit ℓ2 norm, transposed half the time when square. */
    static double[] pseudoGaussian(int sh, int sw, Random random) {
        double[] d = new double[sh * sw];
        double[] top = rectangles(sh / 2, sw), bottom = rectangles(sh - sh / 2, sw);
        for (int i = 0; i < top.length; i++) d[i] = top[i];
        for (int i = 0; i < bottom.length; i++) d[top.length + i] = -bottom[i];
        normalize(d);
        if (sh == sw && random.nextDouble() > 0.5) {
            double[] t = new double[d.length];
            for (int a = 0; a < sh; a++) for (int e = 0; e < sw; e++) t[e * sh + a] = d[a * sw + e];
            return t;
        }
        return d;
    }

    /** AutoAttack's eta_rectangles: concentric rectangles around the centre, the k-th weighted 1/(k+1)², unit ℓ2 norm. */
    private static double[] rectangles(int x, int y) {
        double[] d = new double[x * y];
        if (d.length == 0) return d;
        int xc = x / 2 + 1, yc = y / 2 + 1;
        int r0 = xc - 1, c0 = yc - 1;
        for (int k = 0; k < Math.max(xc, yc); k++) {
            for (int a = Math.max(r0, 0); a < Math.min(r0 + 2 * k + 1, x); a++) {
                for (int b = Math.max(c0, 0); b < Math.min(c0 + 2 * k + 1, y); b++) d[a * y + b] += 1.0 / ((k + 1) * (k + 1));
            }
            r0--;
            c0--;
        }
        normalize(d);
        return d;
    }

    private static void normalize(double[] d) {
        double s = 0;
        for (double v : d) s += v * v;
        s = Math.sqrt(s);
        if (s > 0) for (int i = 0; i < d.length; i++) d[i] /= s;
    }

    private static Tensor sumHW(Tensor t) {
        return t.sum(3, true).sum(2, true);
    }

    private static Tensor mask(Tensor like, int top, int left, int sh, int sw) {
        long h = like.size(2), w = like.size(3);
        float[] m = new float[(int) (h * w)];
        for (int i = top; i < top + sh; i++) for (int j = left; j < left + sw; j++) m[(int) (i * w + j)] = 1;
        return Tensor.fromFloats(m, 1, 1, h, w).to(like.device()).eq(1);
    }
}
