package dev.tikhon.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Engine;
import dev.tikhon.engine.FlopCount;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.models.ModelSpec;
import dev.tikhon.nn.models.Models;
import dev.tikhon.optim.Sgd;
import dev.tikhon.report.RunDirectory;
import dev.tikhon.train.Objective;
import dev.tikhon.train.TrainStep;
import dev.tikhon.train.ObjectiveSpec;
import dev.tikhon.regularize.Regularizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon bench}: micro-benchmarks that print JSON. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks that print JSON (compare ratios measured in one run; machines are noisy).",
        subcommands = {BenchCommand.TrainStepBench.class, BenchCommand.AttackBench.class, BenchCommand.ConvBench.class,
                BenchCommand.FlowStepBench.class, ConvCheckBench.class, MatmulBench.class})
final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Steps per second of one training step on a fixed random batch, as bench/train_step.py does in PyTorch. */
    @Command(name = "train-step", mixinStandardHelpOptions = true,
            description = {"Time one training step (forward, backward, SGD momentum update) of a model at a batch size.",
                    "With --reg, also the regularized step, in alternating blocks, and print their ratio.",
                    "With --versus MODEL, also MODEL's plain step (same --depth, --width), in alternating blocks, and the ratio."})
    static final class TrainStepBench implements Callable<Integer> {
        @Option(names = "--model", defaultValue = "cnn", description = "mlp, cnn, resnet or farkas-resnet. Default: ${DEFAULT-VALUE}.")
        String model;

        @Option(names = "--versus", paramLabel = "MODEL", description = "A second model to time against --model (e.g. resnet against farkas-resnet).")
        String versus;

        @Option(names = "--depth", description = "ResNet depth (resnet, farkas-resnet). Default: 20.")
        Integer depth;

        @Option(names = "--width", description = "ResNet base width. Default: 16.")
        Integer width;

        @Option(names = "--batch-norm", negatable = true, description = "resnet with batch norm (--no-batch-norm without). Default: on.")
        Boolean batchNorm;

        @Option(names = "--block", description = "farkas-resnet blocks: basic or bottleneck. Default: basic.")
        String block;

        @Option(names = "--batch", defaultValue = "128", description = "Default: ${DEFAULT-VALUE}.")
        int batch;

        @Option(names = "--steps", defaultValue = "50", description = "Timed steps. Default: ${DEFAULT-VALUE}.")
        int steps;

        @Option(names = "--warmup", defaultValue = "5", description = "Untimed steps first. Default: ${DEFAULT-VALUE}.")
        int warmup;

        @Option(names = "--out", paramLabel = "DIR", description = "Also write DIR/metrics.json.")
        Path out;

        @Option(names = "--ceiling", negatable = true, defaultValue = "true",
                description = "Also time a float32 matmul (--ceiling-size²) between blocks and report the step's fraction of its GFLOP/s (--no-ceiling: skip). Default: on.")
        boolean ceiling;

        @Option(names = "--ceiling-size", defaultValue = "2048", description = "Matmul side for --ceiling. Default: ${DEFAULT-VALUE}.")
        int ceilingSize;

        @Mixin RuntimeOptions runtime = new RuntimeOptions();

        @Mixin RegularizationOptions regularization = new RegularizationOptions();

        @Override public Integer call() throws Exception {
            Device device = runtime.apply();
            ModelSpec spec = Models.spec(model, List.of(1L, 28L, 28L), 10, options(model));
            Tensor x = Tensor.rand(batch, 1, 28, 28).to(device).keep();
            Tensor y = Tensor.randint(10, device, batch).keep();
            ObjectiveSpec reg = regularization.spec();
            boolean regularize = !reg.reg().equals("none");
            if (regularize && versus != null) throw new dev.tikhon.UserError("bench train-step: use --reg or --versus, not both");
            boolean compare = regularize || versus != null;
            // The plain and the regularized (or the other model's) step run in alternating blocks, so that both see the
            // same machine conditions.
            TrainStep plain = step(spec, Objective.crossEntropy(), device);
            Objective regObjective = regularize ? Regularizers.build(reg) : null;
            ModelSpec versusSpec = versus == null ? null : Models.spec(versus, List.of(1L, 28L, 28L), 10, options(versus));
            TrainStep regularized = regularize ? step(spec, regObjective, device)
                    : versus != null ? step(versusSpec, Objective.crossEntropy(), device) : null;
            time(plain, x, y, warmup);
            if (compare) time(regularized, x, y, warmup);
            FlopCount.start();
            time(plain, x, y, 1);
            long[] flops = FlopCount.stop();
            // Blocks alternate the step(s) with the matmul ceiling, so that all see the same machine conditions.
            int blocks = compare || ceiling ? 5 : 1;
            double plainSecs = 0, regSecs = 0;
            double[] ceilings = new double[ceiling ? blocks : 0];
            for (int b = 0; b < blocks; b++) {
                int n = steps / blocks + (b < steps % blocks ? 1 : 0);
                plainSecs += time(plain, x, y, n);
                if (compare) regSecs += time(regularized, x, y, n);
                if (ceiling) ceilings[b] = MatmulBench.gflops(ceilingSize, device, 3);
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
            double gflopPerStep = (flops[0] + flops[1]) / 1e9;
            r.put("gflop_per_step", gflopPerStep);
            r.put("gflop_per_step_note", "conv2d and linear, forward and backward (2 per multiply-add); not element-wise ops or the update");
            r.put("gflops", gflopPerStep * steps / plainSecs);
            if (ceiling) {
                double median = MatmulBench.median(ceilings);
                r.put("matmul_ceiling_gflops", median);
                r.put("matmul_ceiling_size", ceilingSize);
                r.put("fraction_of_ceiling", gflopPerStep * steps / plainSecs / median);
            }
            if (versus != null) {
                r.put("versus", versus);
                r.put("versus_options", versusSpec.options());
                r.put("versus_steps_per_second", steps / regSecs);
                r.put("versus_ms_per_step", 1000 * regSecs / steps);
                r.put("ratio", plainSecs / regSecs);
            } else if (compare) {
                r.put("reg", reg.reg());
                r.put("objective", regObjective.describe());
                r.put("plain_steps_per_second", steps / plainSecs);
                r.put("reg_steps_per_second", steps / regSecs);
                r.put("ratio", regSecs / plainSecs);
            }
            System.out.println(new ObjectMapper().writeValueAsString(r));
            if (out != null) {
                Map<String, Object> metrics = RunReport.header("bench train-step", device);
                metrics.putAll(r);
                RunDirectory.create(out).writeMetrics(metrics);
            }
            return 0;
        }

        /** Architecture options for {@code arch}: depth and width where given; batch norm only for the plain resnet. */
        private Map<String, Object> options(String arch) {
            Map<String, Object> o = new LinkedHashMap<>();
            if (depth != null) o.put("depth", depth);
            if (width != null) o.put("width", width);
            if (batchNorm != null && arch.equals("resnet")) o.put("batch_norm", batchNorm);
            if (block != null && arch.equals("farkas-resnet")) o.put("block", block);
            return o;
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
    }

    /**
     * Milliseconds per image of PGD-K (ℓ∞, random start, step 2.5ε/K, success tracked at every iterate) on the first N
     * Fashion-MNIST test images, as bench/pgd_attack.py does in PyTorch. The model is the small CNN, seeded; its weights
     * do not change the work of a fixed-step attack.
     */
    @Command(name = "attack", mixinStandardHelpOptions = true,
            description = "Time per image of PGD on Fashion-MNIST test images with the small CNN (peer: bench/pgd_attack.py).")
    static final class AttackBench implements Callable<Integer> {
        @Option(names = "--images", defaultValue = "1000", description = "Default: ${DEFAULT-VALUE}.")
        int images;

        @Option(names = "--steps", defaultValue = "20", description = "PGD steps. Default: ${DEFAULT-VALUE}.")
        int steps;

        @Option(names = "--eps", defaultValue = "0.1", description = "ℓ∞ radius. Default: ${DEFAULT-VALUE}.")
        double eps;

        @Option(names = "--batch", defaultValue = "250", description = "Default: ${DEFAULT-VALUE}.")
        int batch;

        @Mixin DataOptions data = new DataOptions();

        @Mixin RuntimeOptions runtime = new RuntimeOptions();

        @Override public Integer call() throws Exception {
            Device device = runtime.apply();
            dev.tikhon.data.Dataset test = dev.tikhon.data.DataSets.load(data.nameOr(DataOptions.DEFAULT), data.dir, System.getenv(), 0).test();
            test = test.head(Math.min(images, test.size()));
            Rng.seed(0);
            Module m = Models.build(Models.spec("cnn", List.of(1L, 28L, 28L), 10, Map.of()));
            m.to(device);
            m.train(false);
            dev.tikhon.attack.Pgd pgd = dev.tikhon.attack.Pgd.madry(dev.tikhon.attack.Norm.LINF, eps, steps);
            dev.tikhon.data.DataLoader loader = new dev.tikhon.data.DataLoader(test, batch, false, 0, device);
            // One untimed batch warms up the allocator and the kernels.
            for (dev.tikhon.data.DataLoader.Batch b : loader.epoch(0)) {
                try (Scope s = Scope.open()) {
                    pgd.attack(m, b.x(), b.y());
                }
                break;
            }
            long broken = 0;
            long t0 = System.nanoTime();
            for (dev.tikhon.data.DataLoader.Batch b : loader.epoch(0)) {
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
            r.put("threads", Engine.threads());
            r.put("device", device.toString());
            r.put("ms_per_image", 1000 * secs / test.size());
            r.put("fooled", broken);
            System.out.println(new ObjectMapper().writeValueAsString(r));
            return 0;
        }
    }

    /** Time per batch of the small CNN's two convolutions (forward, or forward and backward): the engine's hot spot. */
    @Command(name = "conv", mixinStandardHelpOptions = true,
            description = "Time conv3x3(1→32) → relu → conv3x3(32→64) → relu on 28×28 inputs, per batch.")
    static final class ConvBench implements Callable<Integer> {
        @Option(names = "--batch", defaultValue = "128", description = "Default: ${DEFAULT-VALUE}.")
        int batch;

        @Option(names = "--steps", defaultValue = "20", description = "Timed repetitions. Default: ${DEFAULT-VALUE}.")
        int steps;

        @Option(names = "--backward", description = "Also backpropagate to the input and the weights.")
        boolean backward;

        @Mixin RuntimeOptions runtime = new RuntimeOptions();

        @Override public Integer call() throws Exception {
            Device device = runtime.apply();
            Rng.seed(0);
            Tensor x = Tensor.rand(batch, 1, 28, 28).to(device).keep();
            dev.tikhon.nn.Conv2d c1 = new dev.tikhon.nn.Conv2d(1, 32, 3, 1, 0, true), c2 = new dev.tikhon.nn.Conv2d(32, 64, 3, 1, 0, true);
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
            java.util.Arrays.sort(ms);
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("impl", "tikhon");
            r.put("benchmark", backward ? "conv forward+backward" : "conv forward");
            r.put("batch", batch);
            r.put("threads", Engine.threads());
            r.put("kernels", Engine.kernels());
            r.put("malloc_mmap_threshold", String.valueOf(System.getenv("MALLOC_MMAP_THRESHOLD_")));
            r.put("median_ms", ms[steps / 2]);
            r.put("min_ms", ms[0]);
            r.put("max_ms", ms[steps - 1]);
            System.out.println(new ObjectMapper().writeValueAsString(r));
            return 0;
        }
    }

    /**
     * One CNF training iteration (peer: bench/flow_step.py), backprop through RK4 (4 steps per block),
     * kinetic and Jacobian terms in the loss, Adam step. 2-D: MLP field 2→64→64→64→2 with t at every
     * layer, softplus, exact divergence. Image: the multiscale flow on 1×28×28 (two blocks of four
     * 3×3 convolutions, --channels wide), dequantization, logit, Rademacher divergence.
     */
    @Command(name = "flow-step", mixinStandardHelpOptions = true,
            description = "Iterations per second of a continuous normalizing flow's training step (peer: bench/flow_step.py).")
    static final class FlowStepBench implements Callable<Integer> {
        @Option(names = "--data", defaultValue = "2d", description = "2d or image. Default: ${DEFAULT-VALUE}.")
        String data;

        @Option(names = "--batch", description = "Default: 512 (2d), 16 (image).")
        Integer batch;

        @Option(names = "--channels", defaultValue = "64", description = "Conv width of the image model. Default: ${DEFAULT-VALUE}.")
        int channels;

        @Option(names = "--steps", defaultValue = "30", description = "Timed iterations. Default: ${DEFAULT-VALUE}.")
        int steps;

        @Option(names = "--warmup", defaultValue = "5", description = "Untimed iterations first. Default: ${DEFAULT-VALUE}.")
        int warmup;

        @Mixin RuntimeOptions runtime = new RuntimeOptions();

        @Override public Integer call() throws Exception {
            Device device = runtime.apply();
            Rng.seed(0);
            boolean image = data.equals("image");
            if (!image && !data.equals("2d")) throw new dev.tikhon.UserError("--data must be 2d or image, got '" + data + "'");
            int b = batch != null ? batch : image ? 16 : 512;
            dev.tikhon.flow.FlowModel flow;
            Tensor x;
            if (image) {
                flow = new dev.tikhon.flow.ImageFlow(new long[]{1, 28, 28}, channels, 2, dev.tikhon.flow.Divergence.RADEMACHER, 1.0);
                x = Tensor.randint(256, Device.CPU, b, 1, 28, 28).to(dev.tikhon.engine.DType.FLOAT32).div(255);
            } else {
                flow = new dev.tikhon.flow.ToyFlow(new dev.tikhon.flow.ConcatMlpField(2, new int[]{64, 64, 64},
                        dev.tikhon.nn.Activation.parse("softplus")), 2, dev.tikhon.flow.Divergence.EXACT, 1.0);
                x = dev.tikhon.data.ToyData.generate("checkerboard", b, 0).inputs();
            }
            x = x.to(device).keep();
            flow.module().to(device);
            dev.tikhon.optim.Adam adam = new dev.tikhon.optim.Adam(flow.module().parameters(), 1e-3);
            dev.tikhon.ode.SolverOptions rk4 = dev.tikhon.ode.SolverOptions.fixed(dev.tikhon.ode.Method.RK4, 0.25);
            double[] ms = new double[steps];
            int nfe = 0;
            for (int i = -warmup; i < steps; i++) {
                long t0 = System.nanoTime();
                try (Scope s = Scope.open()) {
                    adam.zeroGrad();
                    var step = flow.trainStep(x, rk4, dev.tikhon.flow.ContinuousFlow.Gradient.BACKPROP, 0.01, 0.01);
                    adam.step();
                    step.loss().item();
                    nfe = step.stats().nfe();
                }
                if (i >= 0) ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            double total = java.util.Arrays.stream(ms).sum();
            java.util.Arrays.sort(ms);
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("impl", "tikhon");
            r.put("benchmark", image ? "cnf train step image (multiscale, " + channels + " channels, rademacher, rk4 x4 per block, backprop)"
                    : "cnf train step 2-D (mlp 64x3, exact divergence, rk4 x4, backprop)");
            r.put("batch", b);
            r.put("threads", Engine.threads());
            r.put("device", device.toString());
            r.put("nfe", nfe);
            r.put("median_ms", ms[steps / 2]);
            r.put("steps_per_second", 1000.0 * steps / total);
            System.out.println(new ObjectMapper().writeValueAsString(r));
            return 0;
        }
    }
}
