package dev.tikhon.verify;

import dev.tikhon.attack.Norm;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Engine;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.scaleout.ModelRef;
import dev.tikhon.nn.Module;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What each part of branch and bound's domain bounds buys: on the correctly classified test images among the first N that
 * the root (the best of CROWN, IBP and α-CROWN) leaves unverified, the search under several settings, each from the same
 * root bound, with the number verified, the median final bound, the domains and the time per image.
 * Usage: BabSettings RUN_DIR [images 100] [norm linf] [eps 0.1] [threads 2] [domains 1024]
 * [configs beta-height,beta-intercept,alpha-height,alpha-intercept; a third part sets the Adam steps per batch, a fourth
 * "cold" starts every domain from CROWN's slopes and β = 0: alpha-intercept-20-cold].
 */
public class BabSettings {
    public static void main(String[] a) {
        Path run = Path.of(a[0]);
        int images = a.length > 1 ? Integer.parseInt(a[1]) : 100;
        Norm norm = Norm.parse(a.length > 2 ? a[2] : "linf");
        double eps = a.length > 3 ? Double.parseDouble(a[3]) : 0.1;
        Engine.setThreads(a.length > 4 ? Integer.parseInt(a[4]) : 2);
        int domains = a.length > 5 ? Integer.parseInt(a[5]) : BranchAndBound.DEFAULT_DOMAINS;
        String[] configs = (a.length > 6 ? a[6] : "beta-height,beta-intercept,alpha-height,alpha-intercept").split(",");
        Module m = ModelRef.checkpoint(run).load();
        m.train(false);
        Dataset test = DataSets.load("fashion-mnist", Path.of("/usr/share/datasets/fashion-mnist"), Map.of(), 0).test().head(images);
        Tensor idx = Tensor.arange(images, DType.INT64, Device.CPU);
        Tensor x = test.batchInputs(idx), y = test.batchLabels(idx);
        int classes = 10;
        try (Autograd.Guard g = Autograd.noGrad(); Scope s = Scope.open()) {
            BoundedNetwork net = BoundedNetwork.of(m);
            boolean[] correct = m.forward(x).argmax(1).eq(y).toBooleanArray();
            InputRegion region = InputRegion.images(x, Tensor.full(eps, x.dtype(), x.device(), images), norm);
            Tensor spec = BoundedNetwork.marginsOverOthers(y, classes, x);
            long t0 = System.nanoTime();
            double[] root = net.crownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, LowerSlope.ADAPTIVE)
                    .maximum(net.ibp(region, spec).lo()).maximum(net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS,
                            Verification.ALPHA_STEPS, Verification.ALPHA_LR)).minWithIndex(1)[0].toDoubleArray();
            List<Integer> open = new ArrayList<>();
            int rootVerified = 0, nCorrect = 0;
            for (int i = 0; i < images; i++) {
                if (!correct[i]) continue;
                nCorrect++;
                if (root[i] > 0) rootVerified++;
                else open.add(i);
            }
            System.out.printf(Locale.ROOT, "%s, %s eps %.3f: %d correct of %d; root (max of CROWN, IBP, alpha-CROWN) verifies %d (%.2f s); "
                    + "searching %d, median root bound %.4f; %d domains per image%n", run, norm, eps, nCorrect, images, rootVerified,
                    (System.nanoTime() - t0) / 1e9, open.size(), median(open.stream().mapToDouble(i -> root[i]).toArray()), domains);
            for (String c : configs) {
                String[] parts = c.split("-");   // alpha|beta - height|intercept [- steps]
                BranchAndBound.Settings settings = BranchAndBound.Settings.DEFAULT.withDomains(domains).withDomainAlpha(parts[0].equals("alpha"))
                        .withBranching(parts[1].equals("height") ? BranchAndBound.Branching.HEIGHT : BranchAndBound.Branching.INTERCEPT);
                if (parts.length > 2) settings = settings.withSteps(Integer.parseInt(parts[2]));
                if (parts.length > 3) settings = settings.withWarmStart(!parts[3].equals("cold"));
                double[] bound = new double[open.size()];
                int verified = 0, raised = 0;
                long used = 0, t = System.nanoTime();
                for (int j = 0; j < open.size(); j++) {
                    int i = open.get(j);
                    BranchAndBound.Outcome o = BranchAndBound.search(net, region, spec, i, BoundedNetwork.DEFAULT_CROWN_UNITS, settings, root[i]);
                    bound[j] = o.lower();
                    used += o.domains();
                    if (o.lower() > 0) verified++;
                    if (o.lower() > root[i] + 1e-6) raised++;
                }
                double seconds = (System.nanoTime() - t) / 1e9 / Math.max(1, open.size());
                System.out.printf(Locale.ROOT, "%-16s verified %d more (of %d), raised %d, median bound %.4f, mean domains %.0f, %.2f s/image%n",
                        c, verified, open.size(), raised, median(bound), (double) used / Math.max(1, open.size()), seconds);
            }
        }
    }

    static double median(double[] v) {
        if (v.length == 0) return Double.NaN;
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
