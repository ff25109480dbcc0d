package dev.tikhon.verify;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.OneThread;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Sequential;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Oracles for the radius search: IBP and CROWN give exactly a plain bisection's radii; the bracketed α-CROWN and branch
 * and bound give radii they verify, at least CROWN's, never beyond the exact robust radius of a 2-D network (found on a
 * grid) nor the attack's distance, and α-CROWN's no smaller than a plain bisection's. On these small networks branch and bound's
 * radius closes the bracket: it lies within two bisection steps of the attack's distance.
 */
@ExtendWith(OneThread.class)   // tiny networks: one thread is faster and steadier on a busy machine
class RadiusSearchTest {
    static final double MAX = 1.0;
    static final int STEPS = 8, POINTS = 10, GRID = 401;

    @Test
    void radiiAreVerifiedAndLieBetweenCrownAndTheExactRadius() {
        for (long seed = 2; seed <= 3; seed++) {
            Sequential f = throughTheSquare(seed);
            Rng.seed(100 + seed);
            Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, POINTS, 2);
            Tensor y;
            try (Autograd.Guard g = Autograd.noGrad()) {
                y = f.forward(x).argmax(1);
            }
            Verification.RadiusSearch search = new Verification.RadiusSearch(f, x, y, Norm.L2, 2, MAX, STEPS, BranchAndBound.Settings.DEFAULT);
            double resolution = MAX / (1 << STEPS);
            double[] exact = exactRadius(f, x, y);
            double[] attack = search.adversarialDistance();
            for (Verification.Method m : Verification.Method.values()) {
                if (m == Verification.Method.BAB_INPUT) continue;   // ℓ∞ only (these radii are ℓ2): InputSplittingTest
                // branch and bound's plain bisection costs most of the test: its quality is the bracket's closing, below
                double[] r = search.radius(m), plain = m == Verification.Method.BAB ? null : plainBisection(f, m, x, y);
                for (int i = 0; i < POINTS; i++) {
                    String what = m + ", seed " + seed + ", point " + i;
                    assertThat(r[i]).as(what + ": never beyond the exact radius").isLessThanOrEqualTo(exact[i] + 1.0 / (GRID - 1));
                    assertThat(r[i]).as(what + ": never beyond the attack's distance").isLessThanOrEqualTo(attack[i]);
                    if (r[i] > 0) assertThat(verified(f, m, x, y, i, r[i])).as(what + ": verified at its radius").isTrue();
                    if (m == Verification.Method.IBP || m == Verification.Method.CROWN) {
                        assertThat(r[i]).as(what + ": a plain bisection's radius").isEqualTo(plain[i]);
                    } else {
                        assertThat(r[i]).as(what + ": at least CROWN's").isGreaterThanOrEqualTo(search.radius(Verification.Method.CROWN)[i]);
                    }
                    if (m == Verification.Method.ALPHA_CROWN) {
                        assertThat(r[i]).as(what + ": no less than a plain bisection's").isGreaterThanOrEqualTo(plain[i] - resolution);
                    }
                }
            }
            double[] bab = search.radius(Verification.Method.BAB), crown = search.radius(Verification.Method.CROWN);
            for (int i = 0; i < POINTS; i++) System.out.printf("seed %d point %d: ibp %.4f crown %.4f alpha %.4f bab %.4f exact %.4f attack %.4f%n", seed, i,
                    search.radius(Verification.Method.IBP)[i], crown[i], search.radius(Verification.Method.ALPHA_CROWN)[i], bab[i], exact[i], attack[i]);
            double gainedByBab = 0;
            for (int i = 0; i < POINTS; i++) gainedByBab += bab[i] - crown[i];
            assertThat(gainedByBab).as("seed %d: branch and bound certifies more than CROWN", seed).isPositive();
            for (int i = 0; i < POINTS; i++) {
                assertThat(bab[i]).as("seed %d, point %d: the bracket closes, branch and bound's radius within two steps of the attack's", seed, i)
                        .isGreaterThanOrEqualTo(attack[i] - 2 * resolution);
                assertThat(attack[i]).as("seed %d, point %d: the attack's distance is an upper end of the exact radius", seed, i)
                        .isGreaterThanOrEqualTo(exact[i] - 1.0 / (GRID - 1));
            }
        }
    }

    /**
     * Input splitting's ℓ∞ radii on the same 2-D networks: each verified at its radius, at least CROWN's, never beyond the
     * attack's distance, and (complete on two inputs) within two bisection steps of it.
     */
    @Test
    void inputSplittingRadiiCloseTheBracketInLinf() {
        Sequential f = throughTheSquare(2);
        Rng.seed(102);
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 6, 2), y;
        try (Autograd.Guard g = Autograd.noGrad()) {
            y = f.forward(x).argmax(1);
        }
        Verification.RadiusSearch search = new Verification.RadiusSearch(f, x, y, Norm.LINF, 2, MAX, STEPS, BranchAndBound.Settings.DEFAULT);
        double[] split = search.radius(Verification.Method.BAB_INPUT), crown = search.radius(Verification.Method.CROWN);
        double[] attack = search.adversarialDistance(), exact = exactRadius(f, x, y, Norm.LINF);
        double resolution = MAX / (1 << STEPS), spacing = 1.0 / (GRID - 1);
        for (int i = 0; i < 6; i++) {
            String what = "point " + i;
            assertThat(split[i]).as(what + ": at least CROWN's").isGreaterThanOrEqualTo(crown[i]);
            assertThat(split[i]).as(what + ": never beyond the attack's distance").isLessThanOrEqualTo(attack[i]);
            assertThat(split[i]).as(what + ": never beyond the exact radius").isLessThanOrEqualTo(exact[i] + spacing);
            // complete on two inputs: within two bisection steps of the exact radius (a grid's, so within its spacing too)
            assertThat(split[i]).as(what + ": close to the exact radius").isGreaterThanOrEqualTo(exact[i] - 2 * resolution - spacing);
            if (split[i] > 0) {
                assertThat(Verification.verified(f, Verification.Method.BAB_INPUT, x.narrow(0, i, 1), y.narrow(0, i, 1),
                        Tensor.fromDoubles(new double[]{split[i]}, 1), Norm.LINF, 2)[0]).as(what + ": verified at its radius").isTrue();
            }
        }
    }

    /**
     * A random 2-16-16-2 ReLU network centred on (0.5, 0.5) whose decision boundary passes through that centre, so that
     * the unit square holds both classes.
     */
    static Sequential throughTheSquare(long seed) {
        Rng.seed(seed);
        Linear first = new Linear(2, 16), last = new Linear(16, 2);
        Sequential f = new Sequential(first, Activation.relu(), new Linear(16, 16), Activation.relu(), last);
        f.to(DType.FLOAT64);
        f.train(false);
        try (Autograd.Guard g = Autograd.noGrad()) {
            Tensor centre = Tensor.full(0.5, DType.FLOAT64, Device.CPU, 1, 2);
            Tensor b = first.bias().value();
            b.copy_(b.sub(centre.matmul(first.weight().value().t()).reshape(16)));
            double[] z = f.forward(centre).toDoubleArray();
            Tensor c = last.bias().value();
            c.copy_(c.add(Tensor.fromDoubles(new double[]{-(z[0] - z[1]) / 2, (z[0] - z[1]) / 2}, 2)));
        }
        return f;
    }

    /** The old search: every example bounded at 0, at MAX and at each of STEPS midpoints. */
    private static double[] plainBisection(Module f, Verification.Method m, Tensor x, Tensor y) {
        int n = (int) x.size(0);
        boolean[] atZero = Verification.verified(f, m, x, y, Verification.full(x, 0), Norm.L2, 2);
        boolean[] atMax = Verification.verified(f, m, x, y, Verification.full(x, MAX), Norm.L2, 2);
        double[] lo = new double[n], hi = new double[n];
        for (int i = 0; i < n; i++) {
            hi[i] = MAX;
            lo[i] = atMax[i] ? MAX : 0;
        }
        for (int s = 0; s < STEPS; s++) {
            double[] mid = new double[n];
            for (int i = 0; i < n; i++) mid[i] = (lo[i] + hi[i]) / 2;
            boolean[] ok = Verification.verified(f, m, x, y, Tensor.fromDoubles(mid, n), Norm.L2, 2);
            for (int i = 0; i < n; i++) {
                if (!atZero[i] || atMax[i]) continue;
                if (ok[i]) lo[i] = mid[i];
                else hi[i] = mid[i];
            }
        }
        for (int i = 0; i < n; i++) if (!atZero[i]) lo[i] = 0;
        return lo;
    }

    private static boolean verified(Module f, Verification.Method m, Tensor x, Tensor y, int i, double r) {
        return Verification.verified(f, m, x.narrow(0, i, 1), y.narrow(0, i, 1), Tensor.fromDoubles(new double[]{r}, 1), Norm.L2, 2)[0];
    }

    /** Per point, the ℓ2 distance to the nearest grid point of [0, 1]² classified otherwise (MAX where there is none nearer). */
    private static double[] exactRadius(Module f, Tensor x, Tensor y) {
        return exactRadius(f, x, y, Norm.L2);
    }

    /** The same in {@code norm} (ℓ2 or ℓ∞). */
    private static double[] exactRadius(Module f, Tensor x, Tensor y, Norm norm) {
        double[] grid = new double[2 * GRID * GRID];
        for (int i = 0; i < GRID; i++) {
            for (int j = 0; j < GRID; j++) {
                grid[2 * (i * GRID + j)] = (double) i / (GRID - 1);
                grid[2 * (i * GRID + j) + 1] = (double) j / (GRID - 1);
            }
        }
        long[] cls;
        try (Autograd.Guard g = Autograd.noGrad()) {
            cls = f.forward(Tensor.fromDoubles(grid, (long) GRID * GRID, 2)).argmax(1).toLongArray();
        }
        double[] p = x.toDoubleArray();
        long[] label = y.toLongArray();
        double[] out = new double[label.length];
        for (int k = 0; k < label.length; k++) {
            double best = Double.POSITIVE_INFINITY;
            for (int g = 0; g < cls.length; g++) {
                if (cls[g] == label[k]) continue;
                double dx = Math.abs(grid[2 * g] - p[2 * k]), dy = Math.abs(grid[2 * g + 1] - p[2 * k + 1]);
                best = Math.min(best, norm == Norm.L2 ? Math.hypot(dx, dy) : Math.max(dx, dy));
            }
            out[k] = best;
        }
        return out;
    }
}
