package dev.tikhon.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon reproduce rnode}: its options and console report; the experiment itself is in {@code experiments/}. */
@Command(name = "rnode", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Continuous normalizing flows on 2-D toy sets (and, with --datasets fashion-mnist, the multiscale image flow), unregularized against RNODE (kinetic + Jacobian, "
                + "λ_K = λ_J = --lambda; the paper's claim is for 0.01), same seed, batches, solver and iterations: NFE per iteration over "
                + "training, wall time (after an untimed warm-up of both variants), held-out NLL with Dopri5 at 1e-5 and its NFE "
                + "(2-D sets: NLL in nats with the exact divergence; images: bits/dim, a Hutchinson estimate with Rademacher noise), "
                + "density and sample plots. Resumable: rerun to continue."})
final class ReproduceRnode implements Callable<Integer> {
    @Option(names = "--datasets", split = ",", defaultValue = "8gaussians,checkerboard,rings",
            description = "2-D toy sets and/or fashion-mnist or mnist (the multiscale image flow). Default: ${DEFAULT-VALUE}.")
    List<String> datasets;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Where the image sets are (default: the usual places).")
    Path dataDir;

    @Option(names = "--image-iterations", defaultValue = "150", description = "Iterations of the image runs. Default: ${DEFAULT-VALUE}.")
    int imageIterations;

    @Option(names = "--image-batch-size", defaultValue = "32", description = "Default: ${DEFAULT-VALUE}.")
    int imageBatchSize;

    @Option(names = "--image-channels", defaultValue = "32", description = "Conv width of the image model (the paper: 64). Default: ${DEFAULT-VALUE}.")
    int imageChannels;

    @Option(names = "--image-held-out", defaultValue = "200", description = "Test images for the held-out bits/dim. Default: ${DEFAULT-VALUE}.")
    int imageHeldOut;

    @Option(names = "--iterations", defaultValue = "1000", description = "Default: ${DEFAULT-VALUE}.")
    int iterations;

    @Option(names = "--batch-size", defaultValue = "512", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--solver", defaultValue = "dopri5",
            description = "Training solver: dopri5 (adaptive: NFE shows how hard the dynamics are) or rk4. Default: ${DEFAULT-VALUE}.")
    String solver;

    @Option(names = "--step", defaultValue = "0.25", description = "Step of a fixed-step training solver. Default: ${DEFAULT-VALUE}.")
    double step;

    @Option(names = "--tolerance", defaultValue = "1e-5", description = "atol = rtol of an adaptive training solver. Default: ${DEFAULT-VALUE}.")
    double tolerance;

    @Option(names = "--lambda", defaultValue = "0.01", description = "λ_K = λ_J of the RNODE runs. Default: ${DEFAULT-VALUE}.")
    double lambda;

    @Option(names = "--held-out", defaultValue = "5000", description = "Default: ${DEFAULT-VALUE}.")
    int heldOut;

    @Option(names = "--seed", defaultValue = "0", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Mixin ReproduceOptions reproduce = new ReproduceOptions();

    /** The λ_K = λ_J of Finlay et al.'s claim. */
    static final double PAPER_LAMBDA = 0.01;

    static final String CLAIM = "RNODE (λ_K = λ_J = " + PAPER_LAMBDA + " in the paper) needs at least 2× fewer function evaluations "
            + "and less wall time at equal or better NLL";

    static final String WALL_TIME_NOTE = "wall_time_ratio: RNODE ÷ unregularized training seconds, each timed after an untimed "
            + "warm-up of both variants (" + dev.tikhon.experiments.RnodeExperiment.WARMUP_ITERATIONS + " iterations each)";

    /** Runs shorter than this get a note that their wall-time ratio is noisy. */
    static final int SHORT_RUN = 100;

    /** "NLL difference (nats)" or "bits/dim difference (Hutchinson estimate)", after the unit the evaluation reported. */
    static String differenceLabel(String unit) {
        return unit.contains("bits") ? "bits/dim difference (Hutchinson estimate)" : unit.contains("nats") ? "NLL difference (nats)"
                : "difference (" + unit + ")";
    }

    /** The fewest iterations of any data set's runs. */
    private int shortest() {
        return datasets.stream().mapToInt(d -> dev.tikhon.flow.Flows.isImages(d) ? imageIterations : iterations).min().orElse(iterations);
    }

    @Override public Integer call() {
        ReproduceOptions.Reproduction run = reproduce.start("rnode");
        for (String d : datasets) dev.tikhon.flow.Flows.exampleShape(d);   // fail early on a bad name
        dev.tikhon.experiments.RnodeExperiment.Budget budget = new dev.tikhon.experiments.RnodeExperiment.Budget(datasets,
                iterations, batchSize, solver, step, tolerance, lambda, heldOut, seed, imageIterations, imageBatchSize, imageChannels,
                imageHeldOut);
        dev.tikhon.experiments.RnodeExperiment.Result result;
        try {
            result = new dev.tikhon.experiments.RnodeExperiment(budget, run.device(), run.run().path(), dataDir).run(ResumableBar::new);
        } catch (dev.tikhon.train.TrainingDivergedException e) {
            // the flows train with Adam at lr 1e-3 here: the way out is the solver's settings (or λ for the RNODE runs)
            throw ReproduceOptions.diverged(e, "a smaller --step (fixed-step --solver), a smaller --tolerance (dopri5) or --solver dopri5"
                    + (e.dir != null && e.dir.getFileName().toString().endsWith("-rnode") ? ", or a larger --lambda" : ""));
        }
        Map<String, Object> metrics = run.metrics();
        metrics.put("claim", CLAIM);
        if (lambda != PAPER_LAMBDA) {
            metrics.put("lambda_note", "this run tests λ_K = λ_J = " + lambda + ", not the paper's " + PAPER_LAMBDA
                    + ": the claim is the paper's, for " + PAPER_LAMBDA);
        }
        metrics.put("wall_time_note", WALL_TIME_NOTE + (shortest() < SHORT_RUN
                ? "; with fewer than " + SHORT_RUN + " iterations the wall-time ratio is noisy" : ""));
        metrics.put("nfe_note", dev.tikhon.experiments.RnodeExperiment.NFE_NOTE);
        metrics.put("budget", result.budget());
        Map<String, Object> typed = dev.tikhon.report.Json.toMap(result);
        metrics.put("results", typed.get("results"));
        metrics.put("ratios", typed.get("ratios"));
        run.write(metrics, "CNF on " + String.join(", ", datasets) + ", " + iterations + " iterations, " + solver + " training");
        for (dev.tikhon.experiments.RnodeExperiment.Ratio r : result.ratios()) {
            System.out.printf(Locale.ROOT, "%-13s RNODE/unregularized: forward NFE %.2f (last 10%%: %.2f), wall time %.2f (after warm-up), "
                            + "eval NFE %.2f; held-out %s %+.4f%n",
                    r.data(), r.nfeTotalRatio(), r.nfeLast10pctRatio(), r.wallTimeRatio(), r.evalNfeRatio(), differenceLabel(r.unit()),
                    r.nllDifference());
        }
        run.outputs("index.html, results.csv, nfe-DATA.png, one run directory per data set and variant");
        return 0;
    }
}
