package dev.tikhon.verify;

import dev.tikhon.attack.InputDomain;
import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Engine;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Sequential;

import java.util.Locale;

/**
 * Input splitting against ReLU splitting by input dimension: per D, random D-32-32-2 networks (float32, PyTorch's default
 * init) and one ℓ∞ box each around a random point, the radius 0.9 of the largest at which 4,000 sampled points and the
 * centre keep class 0 ahead (by bisection in [0, 1]; boxes with no such edge below 1 are skipped): true-looking, near its edge. Counts the boxes proved by
 * CROWN, α-CROWN, ReLU branch and bound, and input splitting with the smear and the width rule, each with a budget of
 * DOMAINS, and seconds per box.
 * Usage: InputSplitDims [dims 2,4,8,16] [networks 20] [domains 1024] [activation relu] [threads 1]
 */
public class InputSplitDims {
    public static void main(String[] a) {
        String[] dims = (a.length > 0 ? a[0] : "2,4,8,16").split(",");
        int networks = a.length > 1 ? Integer.parseInt(a[1]) : 20;
        int domains = a.length > 2 ? Integer.parseInt(a[2]) : 1024;
        String activation = a.length > 3 ? a[3] : "relu";
        Engine.setThreads(a.length > 4 ? Integer.parseInt(a[4]) : 1);
        InputDomain.within(InputDomain.UNBOUNDED, () -> {
            for (String ds : dims) run(Integer.parseInt(ds), networks, domains, activation);
        });
    }

    static void run(int d, int networks, int domains, String activation) {
        String[] names = {"crown", "alpha-crown", "bab", "bab-input smear", "bab-input width"};
        int[] proved = new int[names.length];
        double[] seconds = new double[names.length];
        int boxes = 0;
        for (int k = 0; k < networks; k++) {
            Rng.seed(1000L * d + k);
            Sequential f = new Sequential(new Linear(d, 32), Activation.parse(activation), new Linear(32, 32), Activation.parse(activation),
                    new Linear(32, 2));
            f.train(false);
            try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
                Tensor x = Tensor.randn(DType.FLOAT32, Device.CPU, 1, d);
                Tensor z = f.forward(x);
                if (z.select(1, 0).item() <= z.select(1, 1).item()) {   // class 0 ahead at the centre: otherwise compare the other way
                    Linear last = (Linear) f.layers().get(4);
                    Tensor swap = Tensor.fromLongs(new long[]{1, 0}, 2);
                    last.weight().value().copy_(last.weight().value().indexSelect(0, swap));
                    last.bias().value().copy_(last.bias().value().indexSelect(0, swap));
                }
                double lo = 0, hi = 1;   // the sampled edge, by bisection: 0.9 of it
                if (minSampled(f, x, hi) > 0) continue;
                for (int j = 0; j < 12; j++) {
                    double mid = (lo + hi) / 2;
                    if (minSampled(f, x, mid) > 0) lo = mid;
                    else hi = mid;
                }
                double eps = 0.9 * lo;
                if (eps <= 1e-4) continue;
                boxes++;
                Tensor y = Tensor.fromLongs(new long[]{0}, 1), e = Tensor.full(eps, DType.FLOAT32, Device.CPU, 1);
                BranchAndBound.Settings bab = BranchAndBound.Settings.DEFAULT.withDomains(domains);
                BoundedNetwork net = BoundedNetwork.of(f);
                InputRegion region = InputRegion.inDomain(x, e, Norm.LINF);
                Tensor spec = BoundedNetwork.marginsOverOthers(y, 2, x);
                for (int m = 0; m < names.length; m++) {
                    long t0 = System.nanoTime();
                    double bound = switch (m) {
                        case 0 -> Verification.worstMargin(f, Verification.Method.CROWN, x, y, e, Norm.LINF, 2, bab).item();
                        case 1 -> Verification.worstMargin(f, Verification.Method.ALPHA_CROWN, x, y, e, Norm.LINF, 2, bab).item();
                        case 2 -> Verification.worstMargin(f, Verification.Method.BAB, x, y, e, Norm.LINF, 2, bab).item();
                        default -> InputSplitting.worstLower(net, region, spec, InputSplitting.Settings.DEFAULT.withDomains(domains)
                                .withBranching(m == 3 ? InputSplitting.Branching.SMEAR : InputSplitting.Branching.WIDTH), 0, () -> false).item();
                    };
                    seconds[m] += (System.nanoTime() - t0) / 1e9;
                    if (bound > 0) proved[m]++;
                }
            }
        }
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "D = %d (%s): %d boxes;", d, activation, boxes));
        for (int m = 0; m < names.length; m++) {
            b.append(String.format(Locale.ROOT, " %s %d (%.3f s/box);", names[m], proved[m], seconds[m] / Math.max(1, boxes)));
        }
        System.out.println(b);
    }

    /**
     * The smallest margin z₀ − z₁ found in the box: over the centre and 4,000 uniform points, then 50 sign-gradient steps
     * (PGD) from the 64 lowest of them.
     */
    static double minSampled(Sequential f, Tensor x, double eps) {
        Tensor pts = Tensor.cat(java.util.List.of(x, x.add(Tensor.rand(DType.FLOAT32, Device.CPU, 4000, x.size(1)).mul(2 * eps).sub(eps))), 0);
        Tensor z = f.forward(pts), m = z.select(1, 0).sub(z.select(1, 1));
        double best = m.min().item();
        Tensor start = pts.indexSelect(0, m.neg().topk(64, 0)[1]);   // the 64 lowest margins
        Tensor lo = x.sub(eps), hi = x.add(eps);
        for (int t = 0; t < 50 && best > 0; t++) {
            try (Autograd.Guard g = Autograd.enableGrad()) {
                Tensor p = start.detach().requiresGrad(true);
                Tensor zz = f.forward(p);
                Tensor margin = zz.select(1, 0).sub(zz.select(1, 1));
                best = Math.min(best, margin.min().item());
                Tensor grad = Autograd.grad(margin.sum(), p, false);
                start = p.detach().sub(grad.sign().mul(eps / 10)).maximum(lo).minimum(hi);
            }
        }
        return best;
    }
}
