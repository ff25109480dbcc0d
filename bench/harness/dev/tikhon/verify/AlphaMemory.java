package dev.tikhon.verify;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Module;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Peak resident memory of one bound computation on the test zoo's CNN ([1, 8, 8] inputs, 5 classes, float64, the
 * model of BoundPropagationTest): run once per method in a fresh process, since the peak is the process's.
 * Usage: AlphaMemory crown|alpha-crown [images 4] [steps 5] [norm linf].
 */
public class AlphaMemory {
    public static void main(String[] a) throws Exception {
        String method = a[0];
        int images = a.length > 1 ? Integer.parseInt(a[1]) : 4;
        int steps = a.length > 2 ? Integer.parseInt(a[2]) : 5;
        Norm norm = Norm.parse(a.length > 3 ? a[3] : "linf");
        double eps = norm == Norm.LINF ? 0.03 : 0.3;
        Rng.seed(3);
        Module f = Models.build(Models.spec("cnn", List.of(1L, 8L, 8L), 5, Map.of())).to(DType.FLOAT64).train(false);
        long before = peakKb();
        long t0 = System.nanoTime();
        double sum;
        try (Autograd.Guard g = Autograd.noGrad(); Scope s = Scope.open()) {
            Rng.seed(11);
            Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, images, 1, 8, 8);
            Tensor y = f.forward(x).argmax(1);
            Tensor spec = BoundedNetwork.margins(y, 5, x);
            InputRegion region = InputRegion.images(x, eps, norm);
            BoundedNetwork net = BoundedNetwork.of(f);
            Tensor lower = method.equals("crown") ? net.crownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, LowerSlope.ADAPTIVE)
                    : net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, steps, 0.1);
            sum = lower.sum().item();
        }
        System.out.printf(Locale.ROOT, "%s images %d steps %d %s: peak RSS %.0f MB (%.0f MB before), %.2f s, sum of bounds %.12f%n",
                method, images, steps, norm, peakKb() / 1024.0, before / 1024.0, (System.nanoTime() - t0) / 1e9, sum);
    }

    static long peakKb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("\\D", ""));
        }
        return -1;
    }
}
