package dev.tikhon.attack;

import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Engine;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Module;
import dev.tikhon.train.Checkpoint;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * Carlini–Wagner untargeted against Carlini–Wagner towards each of the k classes ranked highest after the true one
 * (cw-t), on the first N Fashion-MNIST test images of a checkpoint: per image both smallest ℓ2 distances, their ratio
 * and the time of each. Usage: CwTargets RUN_DIR [images 50] [steps 1000] [targets 3] [threads 2] [data dir].
 */
public class CwTargets {
    public static void main(String[] a) {
        Path run = Path.of(a[0]);
        int images = a.length > 1 ? Integer.parseInt(a[1]) : 50, steps = a.length > 2 ? Integer.parseInt(a[2]) : 1000;
        int targets = a.length > 3 ? Integer.parseInt(a[3]) : 3, threads = a.length > 4 ? Integer.parseInt(a[4]) : 2;
        Path data = Path.of(a.length > 5 ? a[5] : "/usr/share/datasets/fashion-mnist");
        Engine.setThreads(threads);
        Checkpoint.Loaded ck = Checkpoint.load(run);
        Module m = Models.build(ck.meta().model());
        m.loadStateDict(ck.model());
        m.train(false);
        Dataset test = DataSets.load("fashion-mnist", data, Map.of(), 0).test().head(images);
        Tensor idx = Tensor.arange(images, DType.INT64, Device.CPU);
        Tensor x = test.batchInputs(idx), y = test.batchLabels(idx);
        long t0 = System.nanoTime();
        Attack.Result plain = CarliniWagner.standard(steps).attack(m, x, y);
        long t1 = System.nanoTime();
        Attack.Result towards = CarliniWagner.standard(steps).withTargets(targets).attack(m, x, y);
        long t2 = System.nanoTime();
        boolean[] correct = m.forward(x).argmax(1).eq(y).toBooleanArray();
        double[] ratio = new double[images];
        int n = 0, smaller = 0, smallerBy1 = 0;
        for (int i = 0; i < images; i++) {
            if (!correct[i] || !plain.success()[i] || !towards.success()[i]) continue;
            double r = towards.distance()[i] / plain.distance()[i];
            ratio[n++] = r;
            if (r < 1) smaller++;
            if (r < 0.99) smallerBy1++;
            System.out.printf(Locale.ROOT, "image %d: cw %.5f, cw-t %.5f, ratio %.4f%n", i, plain.distance()[i], towards.distance()[i], r);
        }
        double[] rs = Arrays.copyOf(ratio, n);
        Arrays.sort(rs);
        System.out.printf(Locale.ROOT, "{\"images\": %d, \"compared\": %d, \"steps\": %d, \"targets\": %d, \"threads\": %d, "
                        + "\"median_ratio\": %.5f, \"min_ratio\": %.5f, \"max_ratio\": %.5f, \"cw_t_smaller\": %d, \"cw_t_smaller_by_1pct\": %d, "
                        + "\"cw_ms_per_image\": %.0f, \"cw_t_ms_per_image\": %.0f}%n", images, n, steps, targets, threads,
                rs[n / 2], rs[0], rs[n - 1], smaller, smallerBy1, (t1 - t0) / 1e6 / images, (t2 - t1) / 1e6 / images);
    }
}
