package dev.tikhon.attack;

import java.util.Arrays;
import java.util.Comparator;

/**
 * Oracle: the exact smallest adversarial perturbation of a multi-class linear classifier z = Wx + b for
 * inputs confined to the [0, 1] box, in ℓ2 and ℓ∞. For each competing class j the adversarial set
 * {z_j ≥ z_y} is a halfspace v·δ ≥ c with v = w_j − w_y, c = z_y − z_j; the answer is the smallest of
 * the per-class distances from x to halfspace ∩ box (+∞ where the box misses the halfspace).
 * <ul>
 *   <li>ℓ2: by KKT the minimizer is δ(λ) = clip(x + λv, 0, 1) − x for the Lagrange multiplier λ ≥ 0 at
 *       which v·δ(λ) = c; v·δ(λ) increases with λ, so λ is found by bisection (to double precision,
 *       reported from the feasible side).</li>
 *   <li>ℓ∞: δᵢ(t) = sign(vᵢ) min(t, roomᵢ), roomᵢ the distance to the box face in the direction of vᵢ;
 *       v·δ(t) is piecewise linear in t with breakpoints at the rooms, walked in sorted order.</li>
 * </ul>
 * Deliberately a different algorithm from the attacks' own projection ({@link BoxProjection}, which
 * sorts the ℓ2 breakpoints too), and written for clarity, not speed.
 */
final class ExactLinearDistances {
    private ExactLinearDistances() {}

    /** Per example, the exact minimum distance; w is [K][D], x is [N][D], y the (correct) labels. */
    static double[] of(Norm norm, double[][] w, double[] b, double[][] x, int[] y) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double best = Double.POSITIVE_INFINITY;
            double zy = dot(w[y[i]], x[i]) + b[y[i]];
            for (int j = 0; j < w.length; j++) {
                if (j == y[i]) continue;
                double[] v = new double[x[i].length];
                for (int k = 0; k < v.length; k++) v[k] = w[j][k] - w[y[i]][k];
                double c = zy - (dot(w[j], x[i]) + b[j]);
                best = Math.min(best, norm == Norm.L2 ? halfspaceL2(x[i], v, c) : halfspaceLinf(x[i], v, c));
            }
            out[i] = best;
        }
        return out;
    }

    /** min ‖δ‖₂ s.t. v·δ ≥ c, x + δ ∈ [0, 1]ᴰ, by bisection on the Lagrange multiplier. */
    static double halfspaceL2(double[] x, double[] v, double c) {
        if (c <= 0) return 0;
        if (reach(x, v, Double.POSITIVE_INFINITY) < c) return Double.POSITIVE_INFINITY;
        double lo = 0, hi = 1;
        while (reach(x, v, hi) < c) hi *= 2;
        for (int k = 0; k < 400 && hi - lo > 0; k++) {
            double mid = 0.5 * (lo + hi);
            if (mid == lo || mid == hi) break;
            if (reach(x, v, mid) >= c) hi = mid; else lo = mid;
        }
        double s = 0;
        for (int k = 0; k < x.length; k++) {
            double d = clip(x[k] + hi * v[k]) - x[k];
            s += d * d;
        }
        return Math.sqrt(s);
    }

    /** v·(clip(x + λv) − x); λ = +∞ moves every coordinate with vᵢ ≠ 0 to its face. */
    private static double reach(double[] x, double[] v, double lambda) {
        double s = 0;
        for (int k = 0; k < x.length; k++) {
            double z = Double.isInfinite(lambda) ? (v[k] > 0 ? 1 : v[k] < 0 ? 0 : x[k]) : clip(x[k] + lambda * v[k]);
            s += v[k] * (z - x[k]);
        }
        return s;
    }

    /** min ‖δ‖∞ s.t. v·δ ≥ c, x + δ ∈ [0, 1]ᴰ, by walking the sorted rooms. */
    static double halfspaceLinf(double[] x, double[] v, double c) {
        if (c <= 0) return 0;
        Integer[] idx = new Integer[x.length];
        double[] room = new double[x.length];
        double slope = 0;
        for (int k = 0; k < x.length; k++) {
            idx[k] = k;
            room[k] = v[k] > 0 ? 1 - x[k] : v[k] < 0 ? x[k] : Double.POSITIVE_INFINITY;
            slope += Math.abs(v[k]);
        }
        Arrays.sort(idx, Comparator.comparingDouble(k -> room[k]));
        double saturated = 0;   // Σ |vᵢ| roomᵢ over coordinates already at their face
        for (int k : idx) {
            if (v[k] == 0) break;   // rooms of +∞ sort last
            if (saturated + slope * room[k] >= c) return (c - saturated) / slope;
            saturated += Math.abs(v[k]) * room[k];
            slope -= Math.abs(v[k]);
        }
        return Double.POSITIVE_INFINITY;
    }

    private static double clip(double z) {
        return Math.min(Math.max(z, 0), 1);
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int k = 0; k < a.length; k++) s += a[k] * b[k];
        return s;
    }
}
