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
import dev.tikhon.models.Models;
import dev.tikhon.nn.Module;
import dev.tikhon.train.Checkpoint;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * How α-CROWN's bound depends on its budget: the worst-margin lower bounds of the first N test images at one radius,
 * by CROWN and by α-CROWN at several (steps, step size), with the number verified and the mean gain over CROWN.
 * Usage: AlphaSteps RUN_DIR [images 50] [norm l2] [eps 0.75] [threads 1] [steps,… 20,100,300] [lr,… 0.1,0.5].
 */
public class AlphaSteps {
    public static void main(String[] a) {
        Path run = Path.of(a[0]);
        int images = a.length > 1 ? Integer.parseInt(a[1]) : 50;
        Norm norm = Norm.parse(a.length > 2 ? a[2] : "l2");
        double eps = a.length > 3 ? Double.parseDouble(a[3]) : 0.75;
        Engine.setThreads(a.length > 4 ? Integer.parseInt(a[4]) : 1);
        Checkpoint.Loaded ck = Checkpoint.load(run);
        Module m = Models.build(ck.meta().model());
        m.loadStateDict(ck.model());
        m.train(false);
        Dataset test = DataSets.load("fashion-mnist", Path.of("/usr/share/datasets/fashion-mnist"), Map.of(), 0).test().head(images);
        Tensor idx = Tensor.arange(images, DType.INT64, Device.CPU);
        Tensor x = test.batchInputs(idx), y = test.batchLabels(idx);
        int classes = (int) ck.meta().model().numClasses();
        double[] crown = worst(m, x, y, eps, norm, classes, 0, 0);
        report("crown", crown, crown, 0);
        double[] lrs = java.util.Arrays.stream((a.length > 6 ? a[6] : "0.1,0.5").split(",")).mapToDouble(Double::parseDouble).toArray();
        int[] budgets = java.util.Arrays.stream((a.length > 5 ? a[5] : "20,100,300").split(",")).mapToInt(Integer::parseInt).toArray();
        for (double lr : lrs) {
            for (int steps : budgets) {
                long t0 = System.nanoTime();
                double[] alpha = worst(m, x, y, eps, norm, classes, steps, lr);
                report(String.format(Locale.ROOT, "alpha-crown %d steps, lr %.1f", steps, lr), alpha, crown, (System.nanoTime() - t0) / 1e9 / images);
            }
        }
    }

    static double[] worst(Module m, Tensor x, Tensor y, double eps, Norm norm, int classes, int steps, double lr) {
        try (Autograd.Guard g = Autograd.noGrad(); Scope s = Scope.open()) {
            BoundedNetwork net = BoundedNetwork.of(m);
            Tensor spec = BoundedNetwork.margins(y, classes, x);
            InputRegion region = InputRegion.images(x, Tensor.full(eps, x.dtype(), x.device(), x.size(0)), norm);
            Tensor lower = steps == 0 ? net.crownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, LowerSlope.ADAPTIVE)
                    : net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, steps, lr);
            return lower.maskedFill(y.oneHot(classes).eq(1), Double.POSITIVE_INFINITY).minWithIndex(1)[0].toDoubleArray();
        }
    }

    static void report(String what, double[] bound, double[] crown, double seconds) {
        int verified = 0;
        double gain = 0;
        for (int i = 0; i < bound.length; i++) {
            if (bound[i] > 0) verified++;
            gain += bound[i] - crown[i];
        }
        System.out.printf(Locale.ROOT, "%-28s verified %d of %d, mean gain over CROWN %.5f, %.3f s/image%n", what, verified, bound.length,
                gain / bound.length, seconds);
    }
}
