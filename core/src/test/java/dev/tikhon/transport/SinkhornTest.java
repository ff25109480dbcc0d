package dev.tikhon.transport;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The log-domain Sinkhorn solver on its own: marginals, primal = dual, a 2 × 2 closed form, the ε → 0 limit. */
class SinkhornTest {
    static Tensor points(double... xy) { return Tensor.fromDoubles(xy, xy.length / 2, 2); }

    @Test void twoByTwoPlanMatchesClosedForm() {
        Tensor x = points(0, 0, 1, 0), y = points(0.2, 0, 1.5, 0.3);
        double eps = 0.5;
        Sinkhorn.Result r = Sinkhorn.solve(x, y, eps, 1e-13, 10_000);
        double[] c = Sinkhorn.cost(x, y).toDoubleArray();
        // Uniform marginals force π = [[p, q], [q, p]], p + q = ½; π11π22/(π12π21) = K11K22/(K12K21) gives p/q = e^{−Δ/(2ε)}.
        double delta = c[0] + c[3] - c[1] - c[2], ratio = Math.exp(-delta / (2 * eps));
        double p = 0.5 * ratio / (1 + ratio), q = 0.5 - p;
        double[] plan = r.plan().toDoubleArray();
        assertThat(plan[0]).isCloseTo(p, within(1e-10));
        assertThat(plan[3]).isCloseTo(p, within(1e-10));
        assertThat(plan[1]).isCloseTo(q, within(1e-10));
        assertThat(plan[2]).isCloseTo(q, within(1e-10));
        double value = p * (c[0] + c[3]) + q * (c[1] + c[2]) + eps * 2 * (p * Math.log(4 * p) + q * Math.log(4 * q));
        assertThat(r.primal()).isCloseTo(value, within(1e-10));
        assertThat(r.dual()).isCloseTo(value, within(1e-10));
    }

    @Test void marginalsMetAndDualEqualsPrimalOnRandomClouds() {
        Rng.seed(11);
        Tensor x = Tensor.randn(DType.FLOAT64, Device.CPU, 60, 2).mul(1.5).add(0.7);
        Tensor y = Tensor.randn(DType.FLOAT64, Device.CPU, 40, 2);
        for (double eps : new double[]{1.0, 0.1}) {
            Sinkhorn.Result r = Sinkhorn.solve(x, y, eps, 1e-11, 200_000);
            assertThat(r.converged()).as("ε %s", eps).isTrue();
            assertThat(r.marginalError()).as("ε %s", eps).isLessThan(1e-10);
            Tensor plan = r.plan();
            assertThat(plan.sum(0, false).sub(1.0 / 40).abs().max().item()).isLessThan(1e-12);
            assertThat(r.dual()).as("ε %s", eps).isCloseTo(r.primal(), within(1e-8 * Math.max(1, Math.abs(r.primal()))));
            // the paper-form dual evaluated on the potentials is the same number
            assertThat(Sinkhorn.dual(r.f(), r.g(), Sinkhorn.cost(x, y), eps)).isCloseTo(r.dual(), within(1e-9));
            if (eps < 1) continue;   // at ε = 1 every plan entry is large enough for a visible perturbation
            // a marginal-preserving perturbation of the plan raises the (strictly convex) primal
            double[] pl = plan.toDoubleArray(), cost = Sinkhorn.cost(x, y).toDoubleArray();
            int j1 = (int) plan.select(0, 0).argmax(0).itemLong(), j2 = (int) plan.select(0, 1).argmax(0).itemLong();
            if (j2 == j1) j2 = (j1 + 1) % 40;
            int a = j1, b = j2, c = 40 + j1, e = 40 + j2;
            double d = 0.3 * Math.min(pl[b], pl[c]);
            double base = primal(pl, cost, 60, 40, eps);
            pl[a] += d; pl[b] -= d; pl[c] -= d; pl[e] += d;
            assertThat(primal(pl, cost, 60, 40, eps) - base).as("ε %s", eps).isGreaterThan(1e-12);
        }
    }

    static double primal(double[] plan, double[] cost, int n, int m, double eps) {
        double v = 0, mass = 0, prod = 1.0 / (n * m);
        for (int i = 0; i < plan.length; i++) {
            v += plan[i] * cost[i] + (plan[i] > 0 ? eps * plan[i] * Math.log(plan[i] / prod) : 0);
            mass += plan[i];
        }
        return v + eps * (1 - mass);
    }

    @Test void smallEpsilonApproachesAssignmentPlusEpsLogN() {
        Rng.seed(3);
        int n = 5;
        Tensor x = Tensor.randn(DType.FLOAT64, Device.CPU, n, 2), y = Tensor.randn(DType.FLOAT64, Device.CPU, n, 2).add(2);
        double[] c = Sinkhorn.cost(x, y).toDoubleArray();
        double best = bestAssignment(c, n, new int[n], new boolean[n], 0);
        double eps = 2e-3;
        Sinkhorn.Result r = Sinkhorn.solve(x, y, eps, 1e-9, 20_000);
        assertThat(Double.isFinite(r.primal())).isTrue();
        // the plan concentrates on the optimal permutation (mass 1/n each): KL(π | a⊗b) = log n
        assertThat(r.primal()).isCloseTo(best + eps * Math.log(n), within(1e-5));
        assertThat(r.dual()).isCloseTo(r.primal(), within(1e-5));
    }

    /** Minimum over permutations σ of (1/n) Σ C_{iσ(i)}, by brute force. */
    static double bestAssignment(double[] c, int n, int[] perm, boolean[] used, int i) {
        if (i == n) {
            double s = 0;
            for (int k = 0; k < n; k++) s += c[k * n + perm[k]];
            return s / n;
        }
        double best = Double.POSITIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            if (used[j]) continue;
            used[j] = true;
            perm[i] = j;
            best = Math.min(best, bestAssignment(c, n, perm, used, i + 1));
            used[j] = false;
        }
        return best;
    }
}
