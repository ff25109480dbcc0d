package dev.tikhon.attack;

/**
 * The smallest step from a point p of the input domain's box (the [0, 1] box of images, or all of ℝᴰ:
 * {@link InputDomain}) onto a hyperplane {z : w·z = b} within the box, in ℓ∞ or ℓ2: min ‖δ‖ subject to
 * w·(p + δ) = b, p + δ ∈ [lo, hi]ᴰ. The minimizer moves every coordinate
 * towards the hyperplane, sign(vᵢ)·min(t·sᵢ, roomᵢ) with v = ±w pointing towards it, roomᵢ the distance
 * to the box face in that direction, and sᵢ = 1 (ℓ∞) or |vᵢ| (ℓ2; t is then the Lagrange multiplier of
 * the hyperplane constraint). v·δ(t) is piecewise linear and increasing in t, with a breakpoint where
 * each coordinate reaches its face: sorting the breakpoints below t and walking them gives t exactly.
 * When no point of the box lies on the hyperplane, the step goes to the box corner closest to it (every
 * coordinate at its face). This is the projection FAB (Croce &amp; Hein 2020) takes at every
 * step; it runs on the host, in double precision.
 */
final class BoxProjection {
    private final Norm norm;
    private final double lo, hi;
    private final double[] room, slope, breakpoint;
    private final long[] order;

    /**
     * Scratch space for projecting points of dimension {@code dim}, reused across calls (one instance per thread), within
     * the input domain in force. An unbounded side leaves infinite room: no coordinate ever saturates on it.
     */
    BoxProjection(Norm norm, int dim) {
        this.norm = norm;
        InputDomain domain = InputDomain.current();
        this.lo = domain.lo();
        this.hi = domain.hi();
        room = new double[dim];
        slope = new double[dim];
        breakpoint = new double[dim];
        order = new long[dim];
    }

    /**
     * @param p one point, in the domain's box
     * @return δ with p + δ the projection of p onto {w·z = b} ∩ the box in {@code norm}
     */
    static double[] project(Norm norm, double[] p, double[] w, double b) {
        double[] delta = new double[p.length];
        new BoxProjection(norm, p.length).project(p, 0, w, 0, b, delta, 0);
        return delta;
    }

    /**
     * Projects the point p[po … po+D) onto {z : w[wo … wo+D)·z = b} ∩ [lo, hi]ᴰ, writing δ into out[oo … oo+D).
     *
     * @return ‖δ‖ in the norm
     */
    double project(double[] p, int po, double[] w, int wo, double b, double[] out, int oo) {
        int d = room.length;
        double gap = b;
        for (int i = 0; i < d; i++) gap -= w[wo + i] * p[po + i];
        double sign = gap >= 0 ? 1 : -1;
        double c = Math.abs(gap);   // v·δ must reach c, v = sign·w
        java.util.Arrays.fill(out, oo, oo + d, 0);
        if (c == 0) return 0;
        double allSlope = 0, reach = 0;   // v·δ(t) grows at allSlope while no coordinate is at its face, up to reach
        for (int i = 0; i < d; i++) {
            double v = sign * w[wo + i];
            if (v == 0) continue;
            room[i] = v > 0 ? hi - p[po + i] : p[po + i] - lo;
            double a = Math.abs(v);
            slope[i] = norm == Norm.LINF ? a : a * a;                    // d(v·δ)/dt while coordinate i is free
            breakpoint[i] = norm == Norm.LINF ? room[i] : room[i] / a;   // t at which coordinate i reaches its face
            if (room[i] > 0) allSlope += slope[i];   // a coordinate at its face is saturated from the start
            reach += a * room[i];
        }
        double t = reach < c || allSlope == 0 ? Double.POSITIVE_INFINITY : crossing(w, wo, c, allSlope);
        double size = 0;
        for (int i = 0; i < d; i++) {
            double v = sign * w[wo + i];
            if (v == 0) continue;
            double step = norm == Norm.LINF ? t : t * Math.abs(v);
            double delta = Math.signum(v) * Math.min(step, room[i]);
            out[oo + i] = delta;
            size = norm == Norm.LINF ? Math.max(size, Math.abs(delta)) : size + delta * delta;
        }
        return norm == Norm.LINF ? size : Math.sqrt(size);
    }

    /**
     * The t at which v·δ(t) reaches c (c ≤ reach). Only the breakpoints below t matter, and a step usually saturates
     * few coordinates: so an upper bound on t is found first (starting from c / allSlope, where no coordinate would be
     * saturated, and doubling), and only the breakpoints below it are sorted and walked. The rest stay free throughout.
     */
    private double crossing(double[] w, int wo, double c, double allSlope) {
        int d = room.length;
        double bound = c / allSlope;
        for (int doubling = 0; valueAt(w, wo, bound) < c; doubling++) {
            if (doubling == 64) {   // not reached in floating point: walk every breakpoint
                bound = Double.POSITIVE_INFINITY;
                break;
            }
            bound *= 2;
        }
        int m = 0;
        for (int i = 0; i < d; i++) {
            if (w[wo + i] == 0 || !(room[i] > 0) || !(breakpoint[i] < bound)) continue;
            // Sort key: the breakpoint's float bits (monotone for non-negative floats) above the index.
            order[m++] = ((long) Float.floatToIntBits((float) Math.max(breakpoint[i], 0)) << 32) | i;
        }
        java.util.Arrays.sort(order, 0, m);
        double saturated = 0, freeSlope = allSlope;
        for (int k = 0; k < m; k++) {
            int i = (int) order[k];
            double at = saturated + freeSlope * breakpoint[i];
            if (at >= c) return freeSlope > 0 ? (c - saturated) / freeSlope : breakpoint[i];
            saturated += Math.abs(w[wo + i]) * room[i];
            freeSlope -= slope[i];
            if (freeSlope < 0) freeSlope = 0;
        }
        // Past the last breakpoint below the bound: the coordinates still free reach c before the bound.
        return freeSlope > 0 ? (c - saturated) / freeSlope : Double.POSITIVE_INFINITY;
    }

    /** v·δ(t) = Σ slopeᵢ·t over the free coordinates plus |vᵢ|·roomᵢ over those at their face. */
    private double valueAt(double[] w, int wo, double t) {
        double f = 0;
        for (int i = 0; i < room.length; i++) {
            if (w[wo + i] == 0) continue;
            f += t < breakpoint[i] ? slope[i] * t : Math.abs(w[wo + i]) * room[i];
        }
        return f;
    }

    /** ‖δ‖ in the norm. */
    static double size(Norm norm, double[] delta) {
        double s = 0;
        for (double v : delta) s = norm == Norm.LINF ? Math.max(s, Math.abs(v)) : s + v * v;
        return norm == Norm.LINF ? s : Math.sqrt(s);
    }
}
