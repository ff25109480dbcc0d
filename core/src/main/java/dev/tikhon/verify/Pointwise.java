package dev.tikhon.verify;

import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.ElementwiseAffine;
import dev.tikhon.nn.Graph;
import dev.tikhon.nn.Module;
import dev.tikhon.onnx.OnnxLayers;

import java.util.List;
import java.util.function.DoubleSupplier;
import java.util.function.UnaryOperator;

/**
 * A scalar activation of an imported model, described for bound propagation: f and f′ elementwise, the pieces of the
 * real line on which f is linear, convex or concave, where f has its minimum, and a bound on |f′| (its Lipschitz
 * constant). Clip (ReLU6, Hardtanh), HardSigmoid, LeakyRelu, PRelu, Elu, HardSwish, and the products x·g(x) that
 * {@link Graph#asChain} reads as one layer: SiLU (x·sigmoid(x)), HardSwish at operator set 13 (x·HardSigmoid(x)), GELU
 * (x·(1 + erf(x/√2)), its ½ a following layer) and tanh-GELU (x·(1 + tanh(C(x + Ax³))), its ½ likewise); also Tikhon's
 * own tanh and sigmoid (convex below 0, concave above), for their CROWN lines ({@link Relaxation#of}).
 *
 * <p><b>Intervals</b> ({@link #ibp}): every one of these f is non-decreasing, non-increasing, or non-increasing then
 * non-decreasing around one minimum (SiLU, GELU, tanh-GELU, HardSwish; PRelu and LeakyRelu with a negative slope, Elu
 * with a negative α: at 0). So over [l, u] its largest value is max(f(l), f(u)), and its smallest is min(f(l), f(u)), or the
 * minimum's value where [l, u] reaches the interval known to hold the minimizer. The minimum's value is a constant
 * computed in float64 and rounded down, again to float32 for float32 bounds (docs/verification.md gives the digits).
 *
 * <p><b>Lines</b> ({@link #relaxation}): any slope k gives sound lines k·z + c as soon as the intercepts bound
 * g(z) = f(z) − k·z over [l, u], below and above. They are computed piece by piece on [a, b] = [l, u] ∩ piece, with
 * p = (a + b)/2 and s = g′(p): on a linear piece g is linear and its extremes are g(a), g(b); on a convex piece its
 * largest value is max(g(a), g(b)) (a convex function peaks at an end) and its values are ≥ g(p) + s·(z − p) ≥
 * g(p) − |s|·(b − a)/2 (it lies above its tangent); on a concave piece the same with the roles swapped. The slopes are
 * CROWN's (Zhang et al. 2018) choices for convex and concave functions: on an interval inside one concave piece the
 * chord below and the tangent at the midpoint above; everywhere else the tangent at the midpoint below and the chord
 * (f(u) − f(l))/(u − l) above. With these slopes the intercepts above are the tangent and the chord themselves where
 * the function is convex or concave on [l, u], exact on a linear piece, and for a piecewise-linear f (Clip, LeakyRelu,
 * PRelu, HardSigmoid) the triangle relaxation: the chord above and below the line of the piece holding the midpoint
 * (for LeakyRelu through the origin, CROWN's adaptive slope). Where [l, u] crosses a change of curvature (SiLU, GELU,
 * tanh-GELU around ±2.40, ±√2, ±1.4185; HardSwish, Elu at their kinks) the lines are the same slopes moved until they
 * hold on every piece. α-CROWN moves these lines ({@link #alphaLines}): where f′ is continuous (tanh, sigmoid, SiLU, GELU,
 * tanh-GELU, Elu with α = 1) to tangents at points it optimizes, for a piecewise-linear or kinked f (Clip, HardSigmoid,
 * LeakyRelu, PRelu; HardSwish, Elu with α ≠ 1) to slopes it optimizes, their intercepts by this same rule; branch and
 * bound cuts their input intervals ({@link Splits}), each part relaxed again by these rules.
 */
public final class Pointwise {
    enum Curvature { LINEAR, CONVEX, CONCAVE }

    /** f's curvature on [from, to]. */
    record Piece(double from, double to, Curvature curvature) {}

    /** SiLU's inflection points ±C: c·tanh(c/2) = 2 (f″ = σ(1 − σ)(2 − x·tanh(x/2))), to float64 precision. */
    static final double SILU_INFLECTION = 2.399357280515468;
    /** SiLU's minimizer (1 + x(1 − σ(x)) = 0) and value x* + 1, rounded down. */
    static final double SILU_ARGMIN = -1.278464542761074, SILU_MIN = -0.27846454276107385 - 1e-12;
    /** GELU's minimizer (Φ(x) + xφ(x) = 0) and value, rounded down. */
    static final double GELU_ARGMIN = -0.7517915246935645, GELU_MIN = -0.16997120747990369 - 1e-12;
    /**
     * tanh-GELU ½x(1 + tanh(u)), u = C(x + Ax³), with the constants as the floats PyTorch writes and ONNX Runtime computes
     * with: C = √(2/π), A = 0.044715. Its f″ = sech²(u)·(C(1 + 6Ax²) − x·tanh(u)·C²(1 + 3Ax²)²) (even in x) changes sign
     * once on x &gt; 0, at the inflection point (to float64 precision: bench/tanh_gelu_constants.py, in 40 digits); the
     * minimizer (f′ = 0) and value, rounded down.
     */
    static final double TANH_GELU_A = (float) 0.044715, TANH_GELU_C = (float) Math.sqrt(2 / Math.PI);
    static final double TANH_GELU_INFLECTION = 1.418503977128071;
    static final double TANH_GELU_ARGMIN = -0.7524614044087227, TANH_GELU_MIN = -0.17004074610559433 - 1e-12;
    /**
     * sup |f′|, rounded up: SiLU's 1.09984 at its inflection point, GELU's 1.12890 at √2, tanh-GELU's 1.128993 at its
     * inflection point, HardSwish's (2x + 3)/6 at 3.
     */
    static final double SILU_LIPSCHITZ = 1.0999, GELU_LIPSCHITZ = 1.1290, TANH_GELU_LIPSCHITZ = 1.1290, HARD_SWISH_LIPSCHITZ = 1.5;
    /** How far from a minimizer known to float64 precision its bracket reaches. */
    private static final double BRACKET = 1e-9;
    /** Intervals narrower than this take the tangent slope above too: a chord of a tiny interval is rounding noise. */
    private static final double NARROW = 1e-6;

    private final String name;
    private final UnaryOperator<Tensor> f, slope;
    private final List<Piece> pieces;
    /** {lo, hi, value}: f is non-increasing before lo, non-decreasing after hi, ≥ value on [lo, hi]; null: monotone. */
    private final double[] minimum;
    private final DoubleSupplier lipschitz;
    /** The r ≥ 0 with f′(r) = k, for f′ even (tanh, sigmoid): where α-CROWN's tangent points start; null for the others. */
    private UnaryOperator<Tensor> inverseSlope;
    /** Whether f′ is continuous (no kink): on every [l, u] the tangent points reach every slope CROWN takes. */
    private boolean smooth;
    /**
     * For a kinked f with one curved piece (HardSwish, Elu with α ≠ 1, 0): the point of that piece where f′ = k, any finite
     * value where there is none (its tangent then is only a worse bound, clamped into the piece); null for the others.
     */
    private UnaryOperator<Tensor> curveInverse;

    /**
     * α-CROWN's variables for this activation ({@link #alphaLines}): the points of tangency of the lower and upper lines where
     * f′ is continuous and f curved somewhere (tanh, sigmoid, SiLU, GELU, tanh-GELU, Elu with α = 1); the two lines' slopes
     * where f is piecewise linear (Clip, HardSigmoid, LeakyRelu, PRelu) or kinked with one curved piece whose f′ has an
     * inverse (HardSwish, Elu with α ≠ 1, 0: a chord's slope may be no f′ on [l, u], so no tangent point gives CROWN's
     * line); none for a linear f.
     */
    enum Alpha { TANGENT_POINTS, SLOPES, NONE }

    private Pointwise(String name, UnaryOperator<Tensor> f, UnaryOperator<Tensor> slope, List<Piece> pieces, double[] minimum,
                      DoubleSupplier lipschitz) {
        this.name = name;
        this.f = f;
        this.slope = slope;
        this.pieces = List.copyOf(pieces);
        this.minimum = minimum;
        this.lipschitz = lipschitz;
    }

    /** The activation {@code m} computes, or null where it is not one of these. */
    public static Pointwise of(Module m) {
        if (m instanceof OnnxLayers.Clip c) return clip(c.lo(), c.hi());
        if (m instanceof OnnxLayers.HardSigmoid h) return h.swish() ? hardSwish(h.alpha(), h.beta()) : hardSigmoid(h.alpha(), h.beta());
        if (m instanceof OnnxLayers.LeakyRelu r) return leaky("leaky-relu", r::forward, z -> z.zerosLike().add(r.alpha()),
                () -> Math.max(1, Math.abs(r.alpha())));
        if (m instanceof OnnxLayers.PRelu p) {
            Tensor a = p.slope().value();
            return leaky("prelu", p::forward, z -> a.to(z.dtype()), () -> Math.max(1, a.abs().max().item()));
        }
        if (m instanceof OnnxLayers.Elu e) return elu(e.alpha());
        if (m instanceof Graph.Gate g) return gate(g.gate());
        if (m instanceof Activation a) return of(a.kind());
        return null;
    }

    /**
     * Tikhon's own tanh and sigmoid (whose intervals {@link Layers.Act} passes through their endpoints and whose CROWN lines
     * are these), or null for the other kinds (ReLU, the convex smooth ReLU and softplus, the identity: {@link Relaxation}).
     */
    static Pointwise of(Activation.Kind kind) {
        switch (kind) {
            case TANH: return tanh();
            case SIGMOID: return sigmoid();
            default: return null;
        }
    }

    public String name() { return name; }

    /** A bound on |f′| over the real line (rounded up): f's Lipschitz constant. */
    public double lipschitz() { return lipschitz.getAsDouble(); }

    /** Which variables α-CROWN gives this activation. */
    Alpha alpha() {
        if (pieces.stream().allMatch(p -> p.curvature == Curvature.LINEAR)) return pieces.size() > 1 ? Alpha.SLOPES : Alpha.NONE;
        return smooth ? Alpha.TANGENT_POINTS : curveInverse != null ? Alpha.SLOPES : Alpha.NONE;
    }

    Tensor apply(Tensor z) { return f.apply(z); }

    // ------------------------------------------------------------------ the activations

    /** min(max(z, lo), hi): linear on each side of lo and of hi. */
    static Pointwise clip(double lo, double hi) {
        if (!(lo <= hi)) return null;
        return new Pointwise("clip(" + lo + ", " + hi + ")", new OnnxLayers.Clip(lo, hi)::forward, z -> z.gt(lo).logicalAnd(z.lt(hi)).to(z.dtype()),
                linear(lo, hi), null, () -> 1);
    }

    /** max(0, min(1, αz + β)): linear on each side of its two corners. */
    static Pointwise hardSigmoid(double alpha, double beta) {
        double c0 = alpha == 0 ? Double.NEGATIVE_INFINITY : Math.min(-beta / alpha, (1 - beta) / alpha);
        double c1 = alpha == 0 ? Double.NEGATIVE_INFINITY : Math.max(-beta / alpha, (1 - beta) / alpha);
        UnaryOperator<Tensor> f = new OnnxLayers.HardSigmoid(alpha, beta, false)::forward;
        UnaryOperator<Tensor> df = z -> { Tensor y = z.mul(alpha).add(beta); return y.gt(0).logicalAnd(y.lt(1)).to(z.dtype()).mul(alpha); };
        return new Pointwise("hard-sigmoid(" + (float) alpha + ", " + (float) beta + ")", f, df, alpha == 0 ? linear() : linear(c0, c1), null,
                () -> Math.abs(alpha));
    }

    /**
     * max(z, 0) + s·min(z, 0), {@code f} the layer's own forward pass, {@code negativeSlope} s (LeakyRelu, PRelu): linear on
     * each side of 0, 0 at 0.
     */
    private static Pointwise leaky(String name, UnaryOperator<Tensor> f, UnaryOperator<Tensor> negativeSlope, DoubleSupplier lipschitz) {
        return new Pointwise(name, f,
                z -> Tensor.where(z.ge(0), z.onesLike(), negativeSlope.apply(z)), linear(0), new double[]{0, 0, 0}, lipschitz);
    }

    /** z for z &gt; 0, α(eᶻ − 1) otherwise: linear above 0, convex below for α ≥ 0 (f″ = αeᶻ), concave for α &lt; 0. */
    static Pointwise elu(double alpha) {
        List<Piece> pieces = List.of(new Piece(Double.NEGATIVE_INFINITY, 0, alpha >= 0 ? Curvature.CONVEX : Curvature.CONCAVE),
                new Piece(0, Double.POSITIVE_INFINITY, Curvature.LINEAR));
        // the minimum at 0 (value 0) only matters for α < 0; for α ≥ 0, f(l) ≤ 0 wherever 0 is in [l, u]
        Pointwise p = new Pointwise("elu(" + (float) alpha + ")", new OnnxLayers.Elu(alpha)::forward,
                z -> Tensor.where(z.ge(0), z.onesLike(), z.clampMax(0).exp().mul(alpha)), pieces, new double[]{0, 0, 0},
                () -> Math.max(1, Math.abs(alpha)));
        p.smooth = alpha == 1;   // f′(0⁻) = α, f′(0⁺) = 1
        // αeᶻ = k below 0: z = log(k/α), k/α kept positive so that the log is finite (any point is sound)
        if (alpha != 0) p.curveInverse = k -> k.div(alpha).clampMin(1e-30).log().clampMax(0);
        return p;
    }

    /** z·max(0, min(1, z/6 + ½)): 0 below −3, z above 3, z(z + 3)/6 (convex) between, least −0.375 at −1.5. */
    static Pointwise hardSwish() {
        List<Piece> pieces = List.of(new Piece(Double.NEGATIVE_INFINITY, -3, Curvature.LINEAR), new Piece(-3, 3, Curvature.CONVEX),
                new Piece(3, Double.POSITIVE_INFINITY, Curvature.LINEAR));
        Pointwise p = new Pointwise("hard-swish", z -> z.mul(z.div(6).add(0.5).clamp(0, 1)),
                z -> Tensor.where(z.lt(-3), z.zerosLike(), Tensor.where(z.gt(3), z.onesLike(), z.mul(2).add(3).div(6))), pieces,
                new double[]{-1.5, -1.5, -0.375}, () -> HARD_SWISH_LIPSCHITZ);
        p.curveInverse = k -> k.mul(3).sub(1.5);   // (2z + 3)/6 = k on [−3, 3]
        return p;
    }

    /** tanh: f″ = −2 tanh(z)(1 − tanh²(z)), convex below 0, concave above; increasing; sup f′ = f′(0) = 1. */
    static Pointwise tanh() {
        Pointwise p = new Pointwise("tanh", Tensor::tanh, z -> z.tanh().square().neg().add(1), convexConcave(), null, () -> 1);
        p.inverseSlope = k -> atanh(k.neg().add(1).clamp(0, 1).sqrt());   // 1 − tanh²(r) = k
        p.smooth = true;
        return p;
    }

    /** σ(z) = 1/(1 + e⁻ᶻ): f″ = σ(1 − σ)(1 − 2σ), convex below 0, concave above; increasing; sup f′ = f′(0) = ¼. */
    static Pointwise sigmoid() {
        Pointwise p = new Pointwise("sigmoid", Tensor::sigmoid, z -> { Tensor s = z.sigmoid(); return s.mul(s.neg().add(1)); }, convexConcave(),
                null, () -> 0.25);
        p.inverseSlope = k -> atanh(k.mul(-4).add(1).clamp(0, 1).sqrt()).mul(2);   // σ(r)(1 − σ(r)) = k: tanh(r/2) = √(1 − 4k)
        p.smooth = true;
        return p;
    }

    /** atanh(x) = ½ log((1 + x)/(1 − x)), x kept below 1 (a start point only: any value is sound). */
    private static Tensor atanh(Tensor x) {
        Tensor c = x.clampMax(1 - 1e-6);
        return c.add(1).div(c.neg().add(1)).log().mul(0.5);
    }

    private static List<Piece> convexConcave() {
        return List.of(new Piece(Double.NEGATIVE_INFINITY, 0, Curvature.CONVEX), new Piece(0, Double.POSITIVE_INFINITY, Curvature.CONCAVE));
    }

    /** z·σ(z): concave below −C, convex on [−C, C], concave above. */
    static Pointwise silu() {
        return smooth(new Pointwise("silu", z -> z.mul(z.sigmoid()), z -> { Tensor s = z.sigmoid(); return s.mul(z.mul(s.neg().add(1)).add(1)); },
                concaveConvexConcave(SILU_INFLECTION), new double[]{SILU_ARGMIN - BRACKET, SILU_ARGMIN + BRACKET, SILU_MIN}, () -> SILU_LIPSCHITZ));
    }

    /** z·Φ(z): f″ = φ(z)(2 − z²), concave below −√2, convex on [−√2, √2], concave above. */
    static Pointwise gelu() {
        double r = Math.sqrt(0.5), density = 1 / Math.sqrt(2 * Math.PI);
        return smooth(new Pointwise("gelu", z -> z.mul(z.mul(r).erf().add(1).mul(0.5)),
                z -> z.mul(r).erf().add(1).mul(0.5).add(z.mul(z.square().mul(-0.5).exp()).mul(density)),
                concaveConvexConcave(Math.sqrt(2)), new double[]{GELU_ARGMIN - BRACKET, GELU_ARGMIN + BRACKET, GELU_MIN}, () -> GELU_LIPSCHITZ));
    }

    /**
     * ½z(1 + tanh(C(z + Az³))): concave below −r, convex on [−r, r], concave above (r {@link #TANH_GELU_INFLECTION}); f′ =
     * ½(1 + tanh u) + ½z(1 − tanh²u)·C(1 + 3Az²), and f′(−z) = 1 − f′(z), so inf f′ = 1 − sup f′ &gt; −sup f′.
     */
    static Pointwise tanhGelu() {
        double a = TANH_GELU_A, c = TANH_GELU_C;
        UnaryOperator<Tensor> tanhU = z -> z.add(z.mul(z).mul(z).mul(a)).mul(c).tanh();
        return smooth(new Pointwise("tanh-gelu", z -> z.mul(tanhU.apply(z).add(1)).mul(0.5),
                z -> {
                    Tensor t = tanhU.apply(z);
                    return t.add(1).mul(0.5).add(z.mul(t.square().neg().add(1)).mul(z.square().mul(3 * a).add(1)).mul(0.5 * c));
                },
                concaveConvexConcave(TANH_GELU_INFLECTION), new double[]{TANH_GELU_ARGMIN - BRACKET, TANH_GELU_ARGMIN + BRACKET, TANH_GELU_MIN},
                () -> TANH_GELU_LIPSCHITZ));
    }

    private static Pointwise smooth(Pointwise p) {
        p.smooth = true;
        return p;
    }

    /** x·clamp(αx + β, 0, 1): HardSwish for β = ½ and α &gt; 0, as hardSwish(6αx)/(6α). */
    private static Pointwise hardSwish(double alpha, double beta) {
        return beta == 0.5 && alpha > 0 ? hardSwish().scaled(6 * alpha, 1 / (6 * alpha)) : null;
    }

    /**
     * x·g(x): SiLU for g = sigmoid; HardSwish for g a hard sigmoid with β = ½; for g = (x·s, erf, + 1) with s &gt; 0 a
     * scalar, x·(1 + erf(sx)) = √2·gelu(√2·s·x)/s (GELU as PyTorch writes it, s = 1/√2, before its ½); for g the graph
     * 1 + tanh(C(x + A·x³)) ({@link #tanhGeluGate}), 2·tanhGelu(x).
     */
    private static Pointwise gate(List<Module> g) {
        if (g.size() == 1 && g.get(0) instanceof Activation a && a.kind() == Activation.Kind.SIGMOID) return silu();
        if (g.size() == 1 && g.get(0) instanceof OnnxLayers.HardSigmoid h && !h.swish()) return hardSwish(h.alpha(), h.beta());
        if (g.size() == 3 && g.get(1) instanceof OnnxLayers.Erf) {
            double[] first = scalarAffine(g.get(0)), last = scalarAffine(g.get(2));
            if (first != null && last != null && first[0] > 0 && first[1] == 0 && last[0] == 1 && last[1] == 1) {
                double s = first[0];
                return gelu().scaled(Math.sqrt(2) * s, Math.sqrt(2) / s);
            }
        }
        if (g.size() == 1 && g.get(0) instanceof Graph sub && tanhGeluGate(sub)) return tanhGelu().scaled(1, 2);
        return null;
    }

    /**
     * Whether graph {@code g} computes 1 + tanh(C·(x + A·x³)) with exactly {@link #TANH_GELU_C} and {@link #TANH_GELU_A}
     * (the bounds' constants hold for those only), as PyTorch writes it: x·x·x by two Muls (either order) or Pow(x, 3),
     * then ·A, x + that, ·C, Tanh, + 1.
     */
    static boolean tanhGeluGate(Graph g) {
        int v = g.output();
        if (!affine(g, v, 1, 1)) return false;
        v = g.nodes().get(v - 1).inputs()[0];
        if (v == 0 || !(g.nodes().get(v - 1).module() instanceof Activation t && t.kind() == Activation.Kind.TANH)) return false;
        v = g.nodes().get(v - 1).inputs()[0];
        if (!affine(g, v, TANH_GELU_C, 0)) return false;
        v = g.nodes().get(v - 1).inputs()[0];
        if (v == 0 || g.nodes().get(v - 1).op() != Graph.Op.ADD) return false;
        int[] sum = g.nodes().get(v - 1).inputs();
        int cubic = sum[0] == 0 ? sum[1] : sum[1] == 0 ? sum[0] : 0;   // x + A·x³ in either order
        if (!affine(g, cubic, TANH_GELU_A, 0)) return false;
        return power(g, g.nodes().get(cubic - 1).inputs()[0]) == 3;
    }

    /** Whether value v of g is an applied layer x·scale + shift, one number each, with these two. */
    private static boolean affine(Graph g, int v, double scale, double shift) {
        if (v == 0 || g.nodes().get(v - 1).op() != Graph.Op.APPLY) return false;
        double[] e = scalarAffine(g.nodes().get(v - 1).module());
        return e != null && e[0] == scale && e[1] == shift;
    }

    /** k where value v of g is xᵏ (the input, products of such values, or Pow by a whole number), else −1. */
    private static int power(Graph g, int v) {
        if (v == 0) return 1;
        Graph.Node n = g.nodes().get(v - 1);
        if (n.op() == Graph.Op.MUL) {
            int a = power(g, n.inputs()[0]), b = power(g, n.inputs()[1]);
            return a < 0 || b < 0 ? -1 : a + b;
        }
        if (n.op() == Graph.Op.APPLY && n.module() instanceof OnnxLayers.ConstantOp c && c.kind() == OnnxLayers.ConstantOp.Kind.POW) {
            double e = c.constant().item();
            int a = power(g, n.inputs()[0]);
            return a < 0 || e != Math.rint(e) || e < 1 || e > 8 ? -1 : a * (int) e;
        }
        return -1;
    }

    /** {scale, shift} of a module that is x·scale + shift with one number each, or null. */
    private static double[] scalarAffine(Module m) {
        Tensor[] e = m instanceof ElementwiseAffine a ? a.elementwiseAffine() : null;
        if (e == null || e[0].numel() != 1 || e[1].numel() != 1) return null;
        return new double[]{e[0].item(), e[1].item()};
    }

    /**
     * Where branch and bound cuts [l, u]: its midpoint, or for a kinked f (Clip, HardSigmoid, LeakyRelu, PRelu, HardSwish,
     * Elu with α ≠ 1) the piece boundary inside (l, u) nearest the midpoint, so that each side of the kink gets its own lines.
     */
    Tensor splitPoints(Tensor l, Tensor u) {
        Tensor mid = l.add(u).mul(0.5), point = mid, distance = null;
        if (smooth) return mid;
        for (Piece piece : pieces) {
            double c = piece.to;
            if (!Double.isFinite(c)) continue;
            Tensor d = mid.sub(c).abs(), inside = l.lt(c).logicalAnd(u.gt(c));
            Tensor better = distance == null ? inside : inside.logicalAnd(d.lt(distance));
            point = Tensor.where(better, mid.zerosLike().add(c), point);
            distance = distance == null ? Tensor.where(inside, d, d.add(Double.POSITIVE_INFINITY)) : Tensor.where(better, d, distance);
        }
        return point;
    }

    /** post·f(pre·z), pre, post &gt; 0: the pieces and the minimizer divided by pre, values times post. */
    Pointwise scaled(double pre, double post) {
        if (pre == 1 && post == 1) return this;
        List<Piece> p = pieces.stream().map(q -> new Piece(q.from / pre, q.to / pre, q.curvature)).toList();
        double[] m = minimum == null ? null   // each end moved one step outward: the quotients and the product are rounded
                : new double[]{Math.nextDown(minimum[0] / pre), Math.nextUp(minimum[1] / pre), Math.nextDown(minimum[2] * post)};
        Pointwise out = new Pointwise(post + "·" + name + "(" + pre + "·x)", z -> f.apply(z.mul(pre)).mul(post),
                z -> slope.apply(z.mul(pre)).mul(pre * post), p, m,
                () -> Math.nextUp(Math.nextUp(lipschitz.getAsDouble() * pre * post)));   // two products' rounding, upward
        out.smooth = smooth;
        if (curveInverse != null) out.curveInverse = k -> curveInverse.apply(k.div(pre * post)).div(pre);   // pre·post·f′(pre·z) = k
        return out;
    }

    /** Linear pieces split at the given points (in increasing order; infinite ones are no split). */
    private static List<Piece> linear(double... at) {
        java.util.ArrayList<Piece> out = new java.util.ArrayList<>();
        double from = Double.NEGATIVE_INFINITY;
        for (double c : at) {
            if (Double.isInfinite(c) || c <= from) continue;
            out.add(new Piece(from, c, Curvature.LINEAR));
            from = c;
        }
        out.add(new Piece(from, Double.POSITIVE_INFINITY, Curvature.LINEAR));
        return out;
    }

    private static List<Piece> concaveConvexConcave(double c) {
        return List.of(new Piece(Double.NEGATIVE_INFINITY, -c, Curvature.CONCAVE), new Piece(-c, c, Curvature.CONVEX),
                new Piece(c, Double.POSITIVE_INFINITY, Curvature.CONCAVE));
    }

    // ------------------------------------------------------------------ bounds

    /** The exact image of [l, u] (up to the rounding of f's evaluation). */
    Interval ibp(Interval in) {
        Tensor l = in.lo(), u = in.hi();
        Tensor fl = f.apply(l), fu = f.apply(u);
        Tensor lower = fl.minimum(fu), upper = fl.maximum(fu);
        if (minimum != null) {   // f falls then rises: the minimum's value where [l, u] reaches its bracket
            Tensor reaches = l.le(minimum[1]).logicalAnd(u.ge(minimum[0]));
            lower = Tensor.where(reaches, lower.clampMax(down(minimum[2], l.dtype())), lower);
        }
        return new Interval(lower, upper);
    }

    /** v rounded down to the tensors' type: a float32 tensor would take the float nearest to v, which may lie above it. */
    static double down(double v, dev.tikhon.engine.DType dtype) {
        if (dtype != dev.tikhon.engine.DType.FLOAT32) return v;
        float f = (float) v;
        return f > v ? Math.nextDown(f) : f;
    }

    /** Lines below and above f over each unit's [l, u] (see the class comment for why they hold). */
    Relaxation relaxation(Interval pre) {
        Tensor l = pre.lo().contiguous(), u = pre.hi().contiguous();
        Tensor[] k = crownSlopes(l, u);
        Tensor tangent = k[0], chord = k[1];
        Tensor concave = insideConcave(l, u);
        Tensor lowerSlope = Tensor.where(concave, chord, tangent), upperSlope = Tensor.where(concave, tangent, chord);
        return new Relaxation(lowerSlope, intercept(l, u, lowerSlope, false, null), upperSlope, intercept(l, u, upperSlope, true, null), false);
    }

    /** CROWN's two slopes, {f′ at the midpoint, the chord (f′ at the midpoint on intervals narrower than 10⁻⁶)}. */
    private Tensor[] crownSlopes(Tensor l, Tensor u) {
        Tensor wide = u.sub(l).gt(NARROW);
        Tensor tangent = slope.apply(l.add(u).mul(0.5));
        return new Tensor[]{tangent, Tensor.where(wide, f.apply(u).sub(f.apply(l)).div(Tensor.where(wide, u.sub(l), l.onesLike())), tangent)};
    }

    /** Where [l, u] lies inside one concave piece: CROWN's chord is the lower line there, the tangent the upper. */
    private Tensor insideConcave(Tensor l, Tensor u) {
        Tensor concave = l.zerosLike().gt(0);
        for (Piece p : pieces) {
            if (p.curvature == Curvature.CONCAVE) concave = concave.logicalOr(l.ge(p.from).logicalAnd(u.le(p.to)));
        }
        return concave;
    }

    /**
     * α-CROWN's lines from its variables ({@link #alpha}), fractions of each unit's [l, u] or slope range, [N, R, …] each,
     * clamped into [0, 1] here (the lines' soundness does not rest on the ascent's projection). Tangent points: the point
     * l + t·(u − l) of each line, {@link #tangentLines}. Slopes: each line's slope k = (1 − t)·k₋ + t·k₊, k₋ and k₊ the least and
     * largest slope of f's pieces that meet [l, u] ({@link #slopeRange}), its intercept {@link #intercept}'s bound for k, exact
     * on linear pieces: the lowest (highest) line of that slope; on a kinked f's curved piece also with g's tangent at the
     * point where f′ = k. Any k gives sound lines; k₋ ≤ k ≤ k₊ holds the useful ones (for LeakyRelu, ReLU's α range
     * [s, 1]). Lines of all four parts per row.
     */
    Relaxation alphaLines(Interval pre, Tensor lowerT, Tensor upperT) {
        Tensor tl = lowerT.clamp(0, 1), tu = upperT.clamp(0, 1);
        Tensor l = Layers.rows(pre.lo().contiguous()), u = Layers.rows(pre.hi().contiguous());
        if (alpha() == Alpha.TANGENT_POINTS) {
            Tensor width = u.sub(l);
            return tangentLines(pre, l.add(tl.mul(width)), l.add(tu.mul(width)));
        }
        if (alpha() != Alpha.SLOPES) throw new IllegalStateException(name + " has no α-CROWN variables");
        Tensor[] range = slopeRange(pre.lo().contiguous(), pre.hi().contiguous());
        Tensor least = Layers.rows(range[0]), largest = Layers.rows(range[1]);   // (1 − t)·k₋ + t·k₊: k₋ and k₊ exactly at 0 and 1
        Tensor lowerSlope = least.mul(tl.neg().add(1)).add(largest.mul(tl)), upperSlope = least.mul(tu.neg().add(1)).add(largest.mul(tu));
        // the tangent point of the curved piece, outside the graph (any point is sound; at the optimum g′ = 0 there anyway)
        UnaryOperator<Tensor> at = curveInverse == null ? k -> null : k -> curveInverse.apply(k.detach());
        return new Relaxation(lowerSlope, intercept(l, u, lowerSlope, false, at.apply(lowerSlope)), upperSlope,
                intercept(l, u, upperSlope, true, at.apply(upperSlope)), false, true, true);
    }

    /**
     * {k₋, k₊}: the least and largest slope of f on [l, u], [N, …] each, over the pieces that meet it: f′ at the middle of
     * [l, u] ∩ piece on a linear piece, at its ends on a curved one (f′ is monotone there); and CROWN's two slopes, so that
     * its lines are in the family even where f′ at a piece's end is the next piece's (Elu's f′(0) = 1, not α).
     */
    Tensor[] slopeRange(Tensor l, Tensor u) {
        Tensor[] crown = crownSlopes(l, u);
        Tensor least = crown[0].minimum(crown[1]), largest = crown[0].maximum(crown[1]);
        for (Piece piece : pieces) {
            Tensor a = l.clamp(piece.from, piece.to), b = u.clamp(piece.from, piece.to);
            Tensor k = slope.apply(a.add(b).mul(0.5)), kLo = k, kHi = k;
            if (piece.curvature != Curvature.LINEAR) {
                Tensor ka = slope.apply(a), kb = slope.apply(b);
                kLo = ka.minimum(kb);
                kHi = ka.maximum(kb);
            }
            Tensor meets = l.le(piece.to).logicalAnd(u.ge(piece.from));
            Tensor lo = Tensor.where(meets, kLo, k.zerosLike().add(Double.POSITIVE_INFINITY));
            Tensor hi = Tensor.where(meets, kHi, k.zerosLike().add(Double.NEGATIVE_INFINITY));
            least = least.minimum(lo);
            largest = largest.maximum(hi);
        }
        return new Tensor[]{least, largest};
    }

    /**
     * α-CROWN's lines (tanh and sigmoid): below, the tangent at {@code lowerAt} clamped into [l, u]; above, the tangent at
     * {@code upperAt} clamped likewise ([N, R, …] each, any values, one per specification row); each slope's intercept is
     * {@link #intercept}'s bound for that slope, with the tangent point as a second point of tangency on each curved piece.
     * So every line holds on [l, u] whatever the points: on a convex (concave) stretch the tangent is the line itself, and
     * where [l, u] crosses 0 it is moved until it holds on both pieces. Lines of all four parts per row.
     */
    Relaxation tangentLines(Interval pre, Tensor lowerAt, Tensor upperAt) {
        Tensor l = Layers.rows(pre.lo().contiguous()), u = Layers.rows(pre.hi().contiguous());
        Tensor lowerSlope = slope.apply(lowerAt.maximum(l).minimum(u)), upperSlope = slope.apply(upperAt.maximum(l).minimum(u));
        return new Relaxation(lowerSlope, intercept(l, u, lowerSlope, false, lowerAt), upperSlope, intercept(l, u, upperSlope, true, upperAt),
                false, true, true);
    }

    /**
     * Where α-CROWN's variables ({@link #alphaLines}) start, {lower, upper}, [N, …] each: at CROWN's lines ({@link #relaxation}).
     * Tangent points, as fractions of [l, u]: ½ for the midpoint tangent, and for the chord the point of [l, u] where f′
     * equals it (one exists: f′ is continuous and the chord its mean over [l, u]); for tanh and sigmoid f′ is even, ±r with
     * r its inverse; for the others it is found by bisection on a piece of [l, u] where f′ is monotone (as f is convex,
     * concave or linear there) and whose ends' f′ bracket the chord, in float64. Slopes: CROWN's slopes as fractions of the
     * slope range (the line is then CROWN's: the same slope, the same intercept rule).
     */
    Tensor[] startFractions(Interval pre) {
        Tensor l = pre.lo().contiguous(), u = pre.hi().contiguous();
        Tensor half = l.zerosLike().add(0.5);
        if (alpha() == Alpha.SLOPES) {
            Relaxation crown = relaxation(pre);
            Tensor[] range = slopeRange(l, u);
            Tensor span = range[1].sub(range[0]), some = span.gt(0);
            Tensor safe = Tensor.where(some, span, span.onesLike());
            return new Tensor[]{Tensor.where(some, crown.lowerSlope().sub(range[0]).div(safe).clamp(0, 1), half),
                    Tensor.where(some, crown.upperSlope().sub(range[0]).div(safe).clamp(0, 1), half)};
        }
        Tensor wide = u.sub(l).gt(NARROW);
        Tensor width = Tensor.where(wide, u.sub(l), l.onesLike());
        Tensor chord = f.apply(u).sub(f.apply(l)).div(width);
        Tensor d;
        if (inverseSlope != null) {
            Tensor r = inverseSlope.apply(chord);
            d = Tensor.where(r.le(u).logicalAnd(l.le(r)), r, r.neg());
        } else {
            dev.tikhon.engine.DType f64 = dev.tikhon.engine.DType.FLOAT64;
            d = pointWithSlope(l.to(f64), u.to(f64), chord.to(f64)).to(l.dtype());
        }
        Tensor atChord = Tensor.where(wide, d.sub(l).div(width).clamp(0, 1), half);
        Tensor concave = insideConcave(l, u);   // CROWN's chord is the lower line there, the upper elsewhere
        return new Tensor[]{Tensor.where(concave, atChord, half), Tensor.where(concave, half, atChord)};
    }

    /**
     * A point of [l, u] where f′ = k: on the first piece whose part [a, b] of [l, u] has k between f′(a) and f′(b) (f′ is
     * monotone there), by 60 halvings of [a, b]; the midpoint of [l, u] where no piece brackets k (rounding: f′ then differs
     * from k by about that much everywhere on [l, u]). A start point only: any point gives sound lines.
     */
    private Tensor pointWithSlope(Tensor l, Tensor u, Tensor k) {
        Tensor out = l.add(u).mul(0.5), found = l.zerosLike().gt(0);
        for (Piece piece : pieces) {
            Tensor a = l.clamp(piece.from, piece.to), b = u.clamp(piece.from, piece.to);
            Tensor sa = slope.apply(a), sb = slope.apply(b);
            Tensor brackets = l.le(piece.to).logicalAnd(u.ge(piece.from)).logicalAnd(sa.minimum(sb).le(k)).logicalAnd(k.le(sa.maximum(sb)));
            Tensor rising = sa.le(sb), lo = a, hi = b;
            for (int i = 0; i < 60; i++) {
                Tensor m = lo.add(hi).mul(0.5);
                Tensor right = slope.apply(m).lt(k).eq(rising);   // the slope k lies to the right of m
                lo = Tensor.where(right, m, lo);
                hi = Tensor.where(right, hi, m);
            }
            out = Tensor.where(brackets.logicalAnd(found.logicalNot()), lo.add(hi).mul(0.5), out);
            found = found.logicalOr(brackets);
        }
        return out;
    }

    /**
     * A bound on g(z) = f(z) − k·z over [l, u]: its minimum from below ({@code upper} false) or its maximum from above,
     * the extreme of the pieces' bounds.
     */
    private Tensor intercept(Tensor l, Tensor u, Tensor k, boolean upper, Tensor at) {
        Tensor out = null;
        for (Piece piece : pieces) {
            Tensor a = l.clamp(piece.from, piece.to), b = u.clamp(piece.from, piece.to);   // [l, u] ∩ piece where it meets it
            Tensor ga = f.apply(a).sub(k.mul(a)), gb = f.apply(b).sub(k.mul(b));
            Tensor bound;
            boolean ends = piece.curvature == Curvature.LINEAR || (piece.curvature == Curvature.CONVEX) == upper;
            if (ends) {   // linear, or the side a convex (concave) function takes at an end: the larger (smaller) end
                bound = upper ? ga.maximum(gb) : ga.minimum(gb);
            } else {      // the tangent at the middle p, moved by |g′(p)|·(b − a)/2: g(p) ± |s|(b − a)/2
                Tensor p = a.add(b).mul(0.5);
                Tensor s = slope.apply(p).sub(k).abs().mul(b.sub(a)).mul(0.5);
                Tensor gp = f.apply(p).sub(k.mul(p));
                bound = upper ? gp.add(s) : gp.sub(s);
                if (at != null) {   // the same with g's tangent at the given point clamped into [a, b]: its worse end
                    Tensor q = at.maximum(a).minimum(b);
                    Tensor sq = slope.apply(q).sub(k), gq = f.apply(q).sub(k.mul(q));
                    Tensor ea = sq.mul(a.sub(q)), eb = sq.mul(b.sub(q));
                    bound = upper ? bound.minimum(gq.add(ea.maximum(eb))) : bound.maximum(gq.add(ea.minimum(eb)));
                }
            }
            Tensor meets = l.le(piece.to).logicalAnd(u.ge(piece.from));
            bound = Tensor.where(meets, bound, bound.zerosLike().add(upper ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY));
            out = out == null ? bound : upper ? out.maximum(bound) : out.minimum(bound);
        }
        return out;
    }
}
