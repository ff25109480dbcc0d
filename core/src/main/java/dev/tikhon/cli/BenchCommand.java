package dev.tikhon.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.bench.Workloads;
import dev.tikhon.engine.Device;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import dev.tikhon.report.RunDirectory;
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
                BenchCommand.FlowStepBench.class, ConvCheckBench.class, MatmulBench.class, CertifyBench.class})
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

        @Option(names = "--depth", description = "ResNet depth (resnet, farkas-resnet), or the mlp's hidden layers "
                + "(0: a linear model). Default: 20 (resnet); the mlp's own 512, 256 when neither --depth nor --width is given, else 2.")
        Integer depth;

        @Option(names = "--width", description = "ResNet base width, or the width of each of the mlp's hidden layers. "
                + "Default: 16 (resnet), 256 (mlp with --depth).")
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

        @Option(names = "--epoch", defaultValue = "1.5",
                description = "With --reg: the point of training, in epochs, whose objective is timed. It sets schedules such as ibp's and "
                        + "crown-ibp's ramps of ε, κ and β: after the default warm-up of 1 epoch, 1.5 is inside the ramp, "
                        + "so ε > 0 and crown-ibp's CROWN part runs; 0 would time the clean warm-up. Default: ${DEFAULT-VALUE}.")
        double epoch;

        @Option(names = "--ceiling", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "Also time float32 matmuls (--ceiling-size²) between blocks; report the step's fraction of their GFLOP/s (--no-ceiling: skip). Default: on.")
        boolean ceiling;

        @Option(names = "--ceiling-size", defaultValue = "2048", description = "Matmul side for --ceiling. Default: ${DEFAULT-VALUE}.")
        int ceilingSize;

        @Mixin RuntimeOptions runtime = new RuntimeOptions();

        @Mixin RegularizationOptions regularization = new RegularizationOptions();

        @Override public Integer call() throws Exception {
            Device device = runtime.apply();
            ModelSpec spec = Models.spec(model, List.of(1L, 28L, 28L), 10, options(model));
            ObjectiveSpec reg = regularization.spec();
            boolean regularize = !reg.reg().equals("none");
            if (regularize && versus != null) throw new dev.tikhon.UserError("bench train-step: use --reg or --versus, not both");
            ModelSpec versusSpec = versus == null ? null : Models.spec(versus, List.of(1L, 28L, 28L), 10, options(versus));
            dev.tikhon.train.Objective objective = regularize ? Regularizers.build(reg) : null;
            if (objective != null) {
                objective.progress(epoch);
                objective.check(Models.build(spec));   // as train does: no timing of a model the objective refuses to train
            }
            // a --out that cannot be a folder (a file there) fails before the timing, not after it was printed
            RunDirectory outDir = out == null ? null : RunDirectory.create(out);
            Map<String, Object> r = Workloads.trainStep(spec, model, objective, reg.reg(), versusSpec,
                    versus, batch, steps, warmup, ceiling ? ceilingSize : 0, device);
            if (objective != null) r.put("epoch", epoch);
            if (objective instanceof dev.tikhon.verify.CertifiedTraining c) {
                r.put("eps_at_epoch", c.epsAt(epoch));
                r.put("beta_at_epoch", c.betaAt(epoch));
            }
            System.out.println(new ObjectMapper().writeValueAsString(r));
            if (out != null) {
                Map<String, Object> metrics = RunReport.header("bench train-step", device);
                metrics.putAll(r);
                outDir.writeMetrics(metrics);
            }
            return 0;
        }

        /**
         * Architecture options for {@code arch}: depth and width where given (for the mlp, {@code depth} hidden layers of
         * {@code width}: a small mlp times the host's cost of issuing a step, as on a launch-bound GPU); batch norm only
         * for the plain resnet.
         */
        private Map<String, Object> options(String arch) {
            Map<String, Object> o = new LinkedHashMap<>();
            if (arch.equals("mlp")) {
                if (depth != null || width != null) {
                    int d = depth == null ? 2 : depth, w = width == null ? 256 : width;
                    if (d < 0 || w < 1) throw new dev.tikhon.UserError("bench train-step: the mlp needs --depth ≥ 0 and --width ≥ 1");
                    o.put("hidden", java.util.Collections.nCopies(d, w));
                }
                return o;
            }
            if (depth != null) o.put("depth", depth);
            if (width != null) o.put("width", width);
            if (batchNorm != null && arch.equals("resnet")) o.put("batch_norm", batchNorm);
            if (block != null && arch.equals("farkas-resnet")) o.put("block", block);
            return o;
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

        @Option(names = "--model", defaultValue = "cnn",
                description = "cnn (the small CNN), or linear (fc 784→10: almost no arithmetic, so small batches time the "
                        + "cost of issuing operations, as on a launch-bound GPU). Default: ${DEFAULT-VALUE}.")
        String model;

        @Mixin DataOptions data = new DataOptions();

        @Mixin RuntimeOptions runtime = new RuntimeOptions();

        @Override public Integer call() throws Exception {
            Workloads.attackModel(model);   // a misspelt model fails before the data are read
            Device device = runtime.apply();
            System.out.println(new ObjectMapper().writeValueAsString(Workloads.pgdAttack(data.testHead(images), steps, eps, batch, model, device)));
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
            System.out.println(new ObjectMapper().writeValueAsString(Workloads.conv(batch, steps, backward, device)));
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
            boolean image = data.equals("image");
            if (!image && !data.equals("2d")) throw new dev.tikhon.UserError("--data must be 2d or image, got '" + data + "'");
            int b = batch != null ? batch : image ? 16 : 512;
            System.out.println(new ObjectMapper().writeValueAsString(Workloads.flowStep(image, b, channels, steps, warmup, device)));
            return 0;
        }
    }
}
