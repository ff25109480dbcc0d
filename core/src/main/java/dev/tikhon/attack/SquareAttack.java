package dev.tikhon.attack;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

/**
 * Square Attack in ℓ∞ (Andriushchenko et al., ECCV 2020): a score-based random search that uses no
 * gradients, so gradient masking cannot hide from it. Start from vertical stripes of ±ε; at each
 * query, redraw ±ε (per channel) on one random square window and keep the change for the examples
 * whose margin z_y − max_{i≠y} zᵢ went down. The window's area is a fraction p of the image, halved on
 * the authors' schedule as queries accumulate. Inputs that are not images ([N, D]) are treated as
 * [N, 1, 1, D], so windows become segments.
 *
 * @param queries model evaluations per example (one forward each; no backward)
 * @param pInit   initial fraction of pixels changed per query (0.8 in the paper for ℓ∞)
 */
public record SquareAttack(double eps, int queries, double pInit) implements Attack {

    public SquareAttack {
        check(eps, queries, pInit);
    }

    /** The budget checks both Square attacks share. */
    static void check(double eps, int queries, double pInit) {
        if (!(eps > 0)) throw new IllegalArgumentException("Square attack needs ε > 0, got " + eps);
        if (queries < 1) throw new IllegalArgumentException("Square attack needs at least one query, got " + queries);
        if (!(pInit > 0 && pInit <= 1)) throw new IllegalArgumentException("Square attack p_init must be in (0, 1], got " + pInit);
    }

    /** Inputs as images: [N, C, H, W] unchanged, anything else [N, D] as [N, 1, 1, D]. */
    static Tensor asImages(Tensor x) {
        return (x.dim() == 4 ? x : x.reshape(x.size(0), 1, 1, x.numel() / x.size(0))).detach();
    }

    @Override public String name() { return "square"; }

    @Override public Norm norm() { return Norm.LINF; }

    public SquareAttack withEps(double e) { return new SquareAttack(e, queries, pInit); }

    @Override
    public Result attack(Module model, Tensor x, Tensor y) {
        Attacks.checkInputs(x, y, name());
        long[] shape = x.shape();
        Tensor x0 = asImages(x);
        long c = x0.size(1), h = x0.size(2), w = x0.size(3);
        Module image = reshaping(model, shape);
        Tracker tracker = new Tracker(Norm.LINF, x0, y);
        try (Autograd.Guard noGrad = Autograd.noGrad()) {
            Tensor stripes = Tensor.rand(x0.dtype(), x0.device(), x0.size(0), c, 1, w).lt(0.5).to(x0.dtype()).mul(2 * eps).sub(eps);
            Tensor current = InputDomain.current().clamp_(x0.add(stripes.expandAs(x0)));
            Tensor margin = Tensor.zeros(x0.dtype(), x0.device(), x0.size(0));
            try (Scope s = Scope.open()) {
                Tensor logits = image.forward(current);
                tracker.offer(current, logits);
                margin.copy_(AttackLoss.MARGIN.perExample(logits, y).neg());
            }
            // Window positions come from a Java stream seeded by the (seeded) libtorch stream: reproducible, one draw.
            java.util.Random windows = new java.util.Random(Double.doubleToLongBits(Tensor.rand(1).item()));
            for (int q = 1; q < queries && !Budget.exhausted(); q++) {
                try (Scope it = Scope.open()) {
                    double p = fraction(pInit, q, queries);
                    int side = (int) Math.max(1, Math.min(Math.round(Math.sqrt(p * h * w)), Math.min(h, w)));
                    int sideH = (int) Math.min(side, h), sideW = (int) Math.min(side, w);
                    int top = windows.nextInt((int) (h - sideH + 1)), left = windows.nextInt((int) (w - sideW + 1));
                    Tensor signs = Tensor.rand(x0.dtype(), x0.device(), x0.size(0), c, 1, 1).lt(0.5).to(x0.dtype()).mul(2 * eps).sub(eps);
                    Tensor window = mask(x0, top, left, sideH, sideW);
                    Tensor candidate = InputDomain.current().clamp(Tensor.where(window, x0.add(signs.expandAs(x0)), current));
                    Tensor logits = image.forward(candidate);
                    tracker.offer(candidate, logits);
                    Tensor m = AttackLoss.MARGIN.perExample(logits, y).neg();
                    Tensor better = m.lt(margin);
                    current.assignWhere_(Pgd.perExample(better, x0), candidate);
                    margin.assignWhere_(better, m);
                }
            }
        }
        Result r = tracker.result();
        return new Result(r.adversarial().reshape(shape), r.success(), r.distance());
    }

    /** The authors' schedule for p, rescaled to the query budget (their breakpoints are for 10,000 queries). */
    static double fraction(double pInit, int q, int queries) {
        int it = (int) ((long) q * 10000 / queries);
        double p = pInit;
        int[] halvings = {10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000};
        for (int b : halvings) if (it > b) p /= 2;
        return p;
    }

    private static Tensor mask(Tensor like, int top, int left, int sideH, int sideW) {
        long h = like.size(2), w = like.size(3);
        float[] m = new float[(int) (h * w)];
        for (int i = top; i < top + sideH; i++) for (int j = left; j < left + sideW; j++) m[(int) (i * w + j)] = 1;
        return Tensor.fromFloats(m, 1, 1, h, w).to(like.device()).eq(1);
    }

    static Module reshaping(Module model, long[] shape) {
        if (shape.length == 4) return model;
        return new Module() {
            @Override public Tensor forward(Tensor x) {
                long[] s = shape.clone();
                s[0] = x.size(0);
                return model.forward(x.reshape(s));
            }
        };
    }
}
