package dev.tikhon.cli;

import dev.tikhon.robustness.RobustnessEvaluation;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code tikhon bounds}: per-image lower bounds on the adversarial distance, checked against DDN. */
@Command(name = "bounds", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Per-image lower bounds on the adversarial distance: the L-bound max(−ℓ,0)/L and, for smooth models, the C-bound "
                + "from the largest Hessian eigenvalue (Lanczos on Hessian-vector products), ℓ the softmax margin loss.",
                "L and C are estimated as maxima over the evaluated images, so the bounds are estimates, not proofs; each is checked "
                        + "against the smallest adversarial example DDN finds, and any violation is reported."})
final class BoundsCommand implements Callable<Integer> {
    @ArgGroup(exclusive = true, multiplicity = "1")
    ModelSource source;

    @Mixin DataOptions data = new DataOptions();

    @Option(names = "--lanczos", paramLabel = "K", defaultValue = "20",
            description = "Lanczos steps for the C-bound (0: L-bound only). Default: ${DEFAULT-VALUE}.")
    int lanczos;

    @Option(names = "--check", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Check the bounds against DDN's smallest adversarial examples. Default: on.")
    boolean check;

    @Mixin RobustnessOptions options = new RobustnessOptions();

    @Mixin RuntimeOptions runtime = new RuntimeOptions();

    @Mixin ClusterOptions cluster = new ClusterOptions();

    @Override public Integer call() {
        RobustnessEvaluation.Config config = new RobustnessEvaluation.Config(options.norm, new double[0], "none", options.steps,
                options.restarts, options.targets, options.queries, options.ddnSteps, check, true, lanczos, options.batchSize, options.seed);
        return AttackCommand.evaluate("bounds", "Tikhon robustness bounds", source, data, options, runtime, cluster, config, Path.of("runs", "bounds"));
    }
}
