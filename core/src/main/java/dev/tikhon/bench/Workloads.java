package dev.tikhon.bench;

import dev.tikhon.attack.Norm;
import dev.tikhon.attack.Pgd;
import dev.tikhon.certify.Certificate;
import dev.tikhon.certify.RandomizedSmoothing;
import dev.tikhon.data.DataLoader;
import dev.tikhon.data.Dataset;
import dev.tikhon.data.ToyData;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Engine;
import dev.tikhon.engine.FlopCount;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.flow.ConcatMlpField;
import dev.tikhon.flow.ContinuousFlow;
import dev.tikhon.flow.Divergence;
import dev.tikhon.flow.FlowConfig;
import dev.tikhon.flow.FlowModel;
import dev.tikhon.flow.ImageFlow;
import dev.tikhon.flow.ToyFlow;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Conv2d;
import dev.tikhon.nn.Module;
import dev.tikhon.ode.Method;
import dev.tikhon.ode.SolverOptions;
import dev.tikhon.optim.Adam;
import dev.tikhon.optim.Sgd;
import dev.tikhon.train.Objective;
import dev.tikhon.train.TrainStep;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The workloads of {@code tikhon bench}: each times one piece of work on this process and returns the figures as
 * an ordered map (printed as JSON by the command). Speed is measured here, never in unit tests.
 */
public final class Workloads {
    private Workloads() {}

    /**
     * Steps per second of one training step (forward, backward, SGD momentum update) on a fixed random batch of
     * 1×28×28 inputs, as bench/train_step.py does in PyTorch. With {@code other} (a regularized objective on the
     * same model, or another model's plain step) both run in alternating blocks, so that both see the same machine
     * conditions, and the ratio is reported.
     *
     * @param regularized the regularized objective to compare (null: none)
     * @param versus      another model to compare (null: none); not with {@code regularized}
     */
    public static Map<String, Object> trainStep(ModelSpec spec, String model, Objective regularized, String reg,
                                                ModelSpec versus, String versusName, int batch, int steps, int warmup, int ceilingSize,
                                                Device device) {
        Tensor x = Tensor.rand(batch, 1, 28, 28).to(device).keep();
        Tensor y = Tensor.randint(10, device, batch).keep();
        boolean compare = regularized != null || versus != null;
        TrainStep plain = step(spec, Objective.crossEntropy(), device);
        TrainStep other = regularized != null ? step(spec, regularized, device)
                : versus != null ? step(versus, Objective.crossEntropy(), device) : null;
        time(plain, x, y, warmup);
        if (compare) time(other, x, y, warmup);
        FlopCount.start();
        time(plain, x, y, 1);
        long[] flops = FlopCount.stop();
        // Blocks alternate the step(s) and the matmul ceiling, so that all see the same machine conditions.
        boolean ceiling = ceilingSize > 0;
        int blocks = compare || ceiling ? 5 : 1;
        double plainSecs = 0, otherSecs = 0;
        double[] ceilings = new double[ceiling ? blocks : 0];
        for (int b = 0; b < blocks; b++) {
            int n = steps / blocks + (b < steps % blocks ? 1 : 0);
            plainSecs += time(plain, x, y, n);
            if (compare) otherSecs += time(other, x, y, n);
            if (ceiling) ceilings[b] = matmulGflops(ceilingSize, device, 3);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("impl", "tikhon");
        r.put("benchmark", "train-step");
        r.put("model", model);
        r.put("batch", batch);
        r.put("threads", Engine.threads());
        r.put("device", device.toString());
        r.put("steps", steps);
        r.put("steps_per_second", steps / plainSecs);
        r.put("ms_per_step", 1000 * plainSecs / steps);
        r.put("options", spec.options());
        r.put("kernels", Engine.kernels());
        r.put("malloc_arena_max", String.valueOf(System.getenv("MALLOC_ARENA_MAX")));
        double gflopPerStep = (flops[0] + flops[1]) / 1e9;
        r.put("gflop_per_step", gflopPerStep);
        r.put("gflop_per_step_counts", "conv2d and linear, forward and backward, 2 per multiply-add; not element-wise ops or the update");
        r.put("gflops", gflopPerStep * steps / plainSecs);
        if (ceiling) {
            double median = median(ceilings);
            r.put("matmul_ceiling_gflops", median);
            r.put("matmul_ceiling_size", ceilingSize);
            r.put("fraction_of_ceiling", gflopPerStep * steps / plainSecs / median);
        }
        if (versus != null) {
            r.put("versus", versusName);
            r.put("versus_options", versus.options());
            r.put("versus_steps_per_second", steps / otherSecs);
            r.put("versus_ms_per_step", 1000 * otherSecs / steps);
            r.put("ratio", plainSecs / otherSecs);
        } else if (compare) {
            r.put("reg", reg);
            r.put("objective", regularized.describe());
            r.put("plain_steps_per_second", steps / plainSecs);
            r.put("reg_steps_per_second", steps / otherSecs);
            r.put("ratio", otherSecs / plainSecs);
        }
        return r;
    }

    /**
     * GFLOP/s of {@code reps} float32 products of two n×n random matrices (2n³ operations each), over their total time,
     * as a step's rate is: the machine's ceiling for dense layers and convolutions. On the CPU the product runs at the
     * step's thread count (OpenBLAS may otherwise be held to one thread, which would make a one-core ceiling).
     */
    public static double matmulGflops(int n, Device device, int reps) {
        if (!device.isCuda()) return Engine.withBlasThreads(Engine.threads(), () -> timeMatmul(n, device, reps));
        return timeMatmul(n, device, reps);
    }

    private static double timeMatmul(int n, Device device, int reps) {
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.randn(DType.FLOAT32, device, n, n), b = Tensor.randn(DType.FLOAT32, device, n, n);
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) a.matmul(b).sum().item();
            return 2.0 * n * n * n * reps / ((System.nanoTime() - t0) / 1e9) / 1e9;
        }
    }

    public static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static TrainStep step(ModelSpec spec, Objective objective, Device device) {
        Rng.seed(0);
        Module m = Models.build(spec);
        m.to(device);
        return new TrainStep(m, objective, new Sgd(m.parameters(), 0.01, 0.9, false, 0, false));
    }

    /** Seconds for n steps, each in its own scope. */
    private static double time(TrainStep step, Tensor x, Tensor y, int n) {
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            try (Scope s = Scope.open()) {
                step.run(x, y);
            }
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /**
     * Images per second of Cohen et al.'s CERTIFY (N0 = 100 selection samples, then N estimation samples, in noise
     * batches of {@code noiseBatch}, the copies of {@code imagesPerBatch} images sharing each forward pass) on the first
     * images of {@code test}, with the small CNN, seeded. Its weights do not change the work: CERTIFY always classifies
     * N0 + N noisy copies. One untimed group first.
     */
    public static Map<String, Object> cohenCertify(Dataset test, int n, double sigma, int noiseBatch, int imagesPerBatch, Device device) {
        Rng.seed(0);
        Module m = Models.build(Models.spec("cnn", List.of(1L, 28L, 28L), 10, Map.of()));
        m.to(device);
        m.train(false);
        RandomizedSmoothing rs = new RandomizedSmoothing(RandomizedSmoothing.Config.defaults(sigma).withN(n).withBatchSize(noiseBatch)
                .withImagesPerBatch(imagesPerBatch));
        Tensor xs = test.batchInputs(Tensor.arange(test.size(), DType.INT64, Device.CPU)).to(device).keep();
        long[] indices = new long[test.size()];
        for (int i = 0; i < indices.length; i++) indices[i] = i;
        int warm = Math.min(imagesPerBatch, test.size());
        try (Scope s = Scope.open()) {
            rs.certifyBatch(m, xs.narrow(0, 0, warm), java.util.Arrays.copyOf(indices, warm));
        }
        int certified = 0;
        long t0 = System.nanoTime();
        try (Scope s = Scope.open()) {   // the certifier takes the images imagesPerBatch at a time
            for (Certificate c : rs.certifyBatch(m, xs, indices)) if (!c.abstained()) certified++;
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("impl", "tikhon");
        r.put("benchmark", "certify cohen");
        r.put("images", test.size());
        r.put("n0", rs.config().n0());
        r.put("n", n);
        r.put("sigma", sigma);
        r.put("noise_batch", noiseBatch);
        r.put("images_per_batch", imagesPerBatch);
        r.put("threads", Engine.threads());
        r.put("device", device.toString());
        r.put("kernels", Engine.kernels());
        r.put("images_per_second", test.size() / secs);
        r.put("ms_per_image", 1000 * secs / test.size());
        r.put("certified_untrained", certified);
        return r;
    }

    /**
     * Milliseconds per image of PGD-K (ℓ∞, random start, step 2.5ε/K, success tracked at every iterate) on
     * {@code test}, as bench/pgd_attack.py does in PyTorch. The model is the small CNN, seeded; its weights do not
     * change the work of a fixed-step attack.
     */
    public static Map<String, Object> pgdAttack(Dataset test, int steps, double eps, int batch, String model, Device device) {
        Rng.seed(0);
        Module m = Models.build(attackModel(model));
        m.to(device);
        m.train(false);
        Pgd pgd = Pgd.madry(Norm.LINF, eps, steps);
        DataLoader loader = new DataLoader(test, batch, false, 0, device);
        // One untimed batch warms up the allocator and the kernels.
        for (DataLoader.Batch b : loader.epoch(0)) {
            try (Scope s = Scope.open()) {
                pgd.attack(m, b.x(), b.y());
            }
            break;
        }
        long broken = 0;
        long t0 = System.nanoTime();
        for (DataLoader.Batch b : loader.epoch(0)) {
            try (Scope s = Scope.open()) {
                broken += pgd.attack(m, b.x(), b.y()).successes();
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("impl", "tikhon");
        r.put("benchmark", "attack pgd-linf");
        r.put("images", test.size());
        r.put("steps", steps);
        r.put("eps", eps);
        r.put("batch", batch);
        r.put("model", model);
        r.put("threads", Engine.threads());
        r.put("device", device.toString());
        r.put("ms_per_image", 1000 * secs / test.size());
        r.put("fooled", broken);
        return r;
    }

    /**
     * The attacked model: the small CNN, or {@code linear} (flatten → fc(784→10)), whose arithmetic is negligible, so
     * that at small batches the time per PGD iteration is the host's cost of issuing its operations: the regime in
     * which a GPU run is launch-bound.
     */
    public static ModelSpec attackModel(String model) {
        switch (model) {
            case "cnn": return Models.spec("cnn", List.of(1L, 28L, 28L), 10, Map.of());
            case "linear": return Models.spec("mlp", List.of(1L, 28L, 28L), 10, Map.of("hidden", List.of()));
            default: throw new IllegalArgumentException("unknown --model '" + model + "' for bench attack: use cnn or linear");
        }
    }

    /** Time per batch of conv3x3(1→32) → relu → conv3x3(32→64) → relu on 28×28 inputs (forward, or with backward). */
    public static Map<String, Object> conv(int batch, int steps, boolean backward, Device device) {
        Rng.seed(0);
        Tensor x = Tensor.rand(batch, 1, 28, 28).to(device).keep();
        Conv2d c1 = new Conv2d(1, 32, 3, 1, 0, true), c2 = new Conv2d(32, 64, 3, 1, 0, true);
        c1.to(device);
        c2.to(device);
        double[] ms = new double[steps];
        for (int i = -2; i < steps; i++) {
            long t0 = System.nanoTime();
            try (Scope s = Scope.open()) {
                Tensor in = backward ? x.copy().requiresGrad(true) : x;
                Tensor y = c2.forward(c1.forward(in).relu()).relu().sum();
                if (backward) y.backward();
                y.item();
            }
            if (i >= 0) ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("impl", "tikhon");
        r.put("benchmark", backward ? "conv forward+backward" : "conv forward");
        r.put("batch", batch);
        r.put("threads", Engine.threads());
        r.put("kernels", Engine.kernels());
        r.put("malloc_mmap_threshold", String.valueOf(System.getenv("MALLOC_MMAP_THRESHOLD_")));
        r.put("malloc_arena_max", String.valueOf(System.getenv("MALLOC_ARENA_MAX")));
        r.put("median_ms", ms[steps / 2]);
        r.put("min_ms", ms[0]);
        r.put("max_ms", ms[steps - 1]);
        return r;
    }

    /**
     * One CNF training iteration (peer: bench/flow_step.py), backprop through RK4 (4 steps per block), kinetic and
     * Jacobian terms in the loss (0.01 each), Adam step. 2-D: MLP field 2→64→64→64→2 with t at every layer,
     * softplus, exact divergence. Image: the multiscale flow on 1×28×28 (two blocks of four 3×3 convolutions,
     * {@code channels} wide), dequantization, logit, Rademacher divergence.
     */
    public static Map<String, Object> flowStep(boolean image, int batch, int channels, int steps, int warmup, Device device) {
        Rng.seed(0);
        FlowModel flow;
        Tensor x;
        if (image) {
            flow = new ImageFlow(new long[]{1, 28, 28}, channels, 2, Divergence.RADEMACHER, 1.0);
            x = Tensor.randint(256, Device.CPU, batch, 1, 28, 28).to(DType.FLOAT32).div(255);
        } else {
            flow = new ToyFlow(new ConcatMlpField(2, new int[]{64, 64, 64}, Activation.parse("softplus")), 2, Divergence.EXACT, 1.0);
            x = ToyData.generate("checkerboard", batch, 0).inputs();
        }
        x = x.to(device).keep();
        flow.module().to(device);
        Adam adam = new Adam(flow.module().parameters(), 1e-3);
        SolverOptions rk4 = SolverOptions.fixed(Method.RK4, 0.25);
        double[] ms = new double[steps];
        int nfe = 0;
        for (int i = -warmup; i < steps; i++) {
            long t0 = System.nanoTime();
            try (Scope s = Scope.open()) {
                adam.zeroGrad();
                FlowModel.Step step = flow.trainStep(x, rk4, ContinuousFlow.Gradient.BACKPROP, FlowConfig.rnode(0.01, 0.01));
                adam.step();
                step.loss().item();
                nfe = step.stats().nfe();
            }
            if (i >= 0) ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        double total = Arrays.stream(ms).sum();
        Arrays.sort(ms);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("impl", "tikhon");
        r.put("benchmark", image ? "cnf train step image (multiscale, " + channels + " channels, rademacher, rk4 x4 per block, backprop)"
                : "cnf train step 2-D (mlp 64x3, exact divergence, rk4 x4, backprop)");
        r.put("batch", batch);
        r.put("threads", Engine.threads());
        r.put("device", device.toString());
        r.put("nfe", nfe);
        r.put("median_ms", ms[steps / 2]);
        r.put("steps_per_second", 1000.0 * steps / total);
        return r;
    }
}
