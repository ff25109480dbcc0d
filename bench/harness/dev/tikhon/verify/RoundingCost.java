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
 * What `verify --account-rounding` costs, split: IBP's and CROWN's worst-margin bounds of the first N test images at one ℓ∞
 * radius in float32 (the default), in float64 without the rounding terms, and in float64 with them, alternating in each
 * round; seconds per image. Usage: RoundingCost RUN_DIR [images 50] [eps 0.02] [threads 1] [rounds 3] [data fashion-mnist-sample].
 */
public class RoundingCost {
    public static void main(String[] a) {
        Path run = Path.of(a[0]);
        int images = a.length > 1 ? Integer.parseInt(a[1]) : 50;
        double eps = a.length > 2 ? Double.parseDouble(a[2]) : 0.02;
        int threads = a.length > 3 ? Integer.parseInt(a[3]) : 1;
        int rounds = a.length > 4 ? Integer.parseInt(a[4]) : 3;
        String data = a.length > 5 ? a[5] : "fashion-mnist-sample";
        Engine.setThreads(threads);
        Checkpoint.Loaded ck = Checkpoint.load(run);
        Module single = Models.build(ck.meta().model()), dbl = Models.build(ck.meta().model());
        single.loadStateDict(ck.model());
        dbl.loadStateDict(ck.model());
        single.train(false);
        dbl.to(DType.FLOAT64);
        dbl.train(false);
        Dataset test = DataSets.load(data, Path.of("/usr/share/datasets/fashion-mnist"), Map.of(), 0).test().head(images);
        Tensor idx = Tensor.arange(images, DType.INT64, Device.CPU);
        Tensor x = test.batchInputs(idx), y = test.batchLabels(idx);
        int classes = (int) ck.meta().model().numClasses();
        String[] modes = {"float32", "float64", "float64 accounted"};
        for (int r = 1; r <= rounds; r++) {
            for (boolean crown : new boolean[]{false, true}) {
                double[] seconds = new double[3];
                for (int m = 0; m < 3; m++) {
                    Module model = m == 0 ? single : dbl;
                    Tensor xs = m == 0 ? x : x.to(DType.FLOAT64);
                    long t0 = System.nanoTime();
                    if (m == 2) Rounding.accounted(() -> bound(model, xs, y, eps, classes, crown));
                    else bound(model, xs, y, eps, classes, crown);
                    seconds[m] = (System.nanoTime() - t0) / 1e9 / images;
                }
                System.out.printf(Locale.ROOT, "{\"round\": %d, \"method\": \"%s\", \"threads\": %d, \"images\": %d, \"s_per_image\": "
                                + "{\"%s\": %.5f, \"%s\": %.5f, \"%s\": %.5f}, \"float64_over_float32\": %.2f, \"accounted_over_float64\": %.2f}%n",
                        r, crown ? "crown" : "ibp", threads, images, modes[0], seconds[0], modes[1], seconds[1], modes[2], seconds[2],
                        seconds[1] / seconds[0], seconds[2] / seconds[1]);
            }
        }
    }

    static double bound(Module m, Tensor x, Tensor y, double eps, int classes, boolean crown) {
        try (Autograd.Guard g = Autograd.noGrad(); Scope s = Scope.open()) {
            BoundedNetwork net = BoundedNetwork.of(m);
            Tensor spec = BoundedNetwork.margins(y, classes, x);
            InputRegion region = InputRegion.images(x, Tensor.full(eps, x.dtype(), x.device(), x.size(0)), Norm.LINF);
            Tensor lower = crown ? net.crownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, LowerSlope.ADAPTIVE)
                    : net.ibp(region, spec).lo();
            return lower.min().item();
        }
    }
}
