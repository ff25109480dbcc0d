package dev.tikhon.cli;

import dev.tikhon.engine.Device;
import dev.tikhon.flow.FlowConfig;
import dev.tikhon.pipeline.FlowRuns;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon flow train}. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a continuous normalizing flow by maximum likelihood; the progress bar and history.csv show the "
                + "function evaluations (NFE) of every iteration. Writes flow-checkpoint.tkn (atomically, every "
                + "--checkpoint-every iterations; --resume continues), history.csv, metrics.json (held-out NLL with Dopri5 "
                + "at 1e-5), density.png, samples.png, data.png, nfe.png, loss.png and index.html."})
final class FlowTrain implements Callable<Integer>, RunFolder.Owner {
    @Option(names = "--method", defaultValue = "cnf",
            description = "cnf (maximum likelihood through the ODE) or ek (entropy–Kantorovich potentials φ, ψ trained on the entropic "
                    + "dual, the flow recovered from them; 2-D toy sets; --hidden/--activation shape φ and ψ). Default: ${DEFAULT-VALUE}.")
    String method;

    @Option(names = "--epsilon", defaultValue = "1", description = "ek: entropic regularization ε. Default: ${DEFAULT-VALUE}.")
    double epsilon;

    @Option(names = "--mc-samples", defaultValue = "100", description = "ek: Monte Carlo samples per heat average in training. Default: ${DEFAULT-VALUE}.")
    int mcSamples;

    @Option(names = "--alpha", defaultValue = "1e-5", description = "ek: weight of the twin penalty α‖φ^(c,ε) − ψ‖². Default: ${DEFAULT-VALUE}.")
    double alpha;

    @Option(names = "--flow-samples", defaultValue = "100",
            description = "ek: Monte Carlo samples (drawn once, fixed) per heat average of the recovered flow. Default: ${DEFAULT-VALUE}.")
    int flowSamples;

    @Option(names = "--dual-form", defaultValue = "profiled",
            description = "ek: the objective the ascent differentiates: profiled (E φ + E ψ − ε log ∫π, the dual maximised over the free "
                    + "constant, which is set exactly after each step) or spec (E φ + E ψ − ε ∫π + ε, the paper's form, docs/methods.md §7; it collapses on "
                    + "the toy sets, docs/ek.md). Same maximiser. Default: ${DEFAULT-VALUE}.")
    String dualForm;

    @Option(names = "--data", defaultValue = "checkerboard",
            description = "A 2-D toy set (8gaussians, checkerboard, 2spirals, pinwheel, moons, circles, rings, swissroll; --model mlp) "
                    + "or 28×28 images (fashion-mnist, fashion-mnist-sample, mnist; --model multiscale, bits/dim). Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Folder with the IDX files of an image set. Default: $TIKHON_DATA, then /usr/share/datasets/<name>.")
    Path dataDir;

    @Option(names = "--model", defaultValue = "mlp",
            description = "mlp (2-D data) or multiscale (images: squeeze, conv CNF, factor-out per scale). Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--hidden", split = ",", defaultValue = "64,64,64", description = "Hidden widths of the MLP field. Default: ${DEFAULT-VALUE}.")
    int[] hidden;

    @Option(names = "--activation", defaultValue = "softplus", description = "softplus or tanh. Default: ${DEFAULT-VALUE}.")
    String activation;

    @Option(names = "--channels", defaultValue = "64", description = "Conv width of the multiscale field. Default: ${DEFAULT-VALUE}.")
    int channels;

    @Option(names = "--scales", defaultValue = "2", description = "Scales of the multiscale model. Default: ${DEFAULT-VALUE}.")
    int scales;

    @Option(names = "--end-time", defaultValue = "1", description = "Integration time T. Default: ${DEFAULT-VALUE}.")
    double endTime;

    @Option(names = "--divergence",
            description = "exact, gaussian or rademacher (Hutchinson, noise drawn once per solve). Default: exact (mlp), rademacher (multiscale).")
    String divergence;

    @Option(names = "--solver", defaultValue = "rk4", description = "euler, midpoint, rk4 (fixed --step) or dopri5 (--atol, --rtol). Default: ${DEFAULT-VALUE}.")
    String solver;

    @Option(names = "--step", defaultValue = "0.25", description = "Step of the fixed-step solvers. Default: ${DEFAULT-VALUE}.")
    double step;

    @Option(names = "--atol", defaultValue = "1e-5", description = "Dopri5 absolute tolerance in training. Default: ${DEFAULT-VALUE}.")
    double atol;

    @Option(names = "--rtol", defaultValue = "1e-5", description = "Dopri5 relative tolerance in training. Default: ${DEFAULT-VALUE}.")
    double rtol;

    @Option(names = "--gradient", defaultValue = "backprop",
            description = "backprop (through the solver steps) or adjoint (constant memory). Default: ${DEFAULT-VALUE}.")
    String gradient;

    @Option(names = "--reg-kinetic", defaultValue = "0", paramLabel = "K", description = "λ_K of the kinetic energy (RNODE: 0.01). Default: ${DEFAULT-VALUE}.")
    double regKinetic;

    @Option(names = "--reg-jacobian", defaultValue = "0", paramLabel = "J", description = "λ_J of the Jacobian Frobenius norm (RNODE: 0.01). Default: ${DEFAULT-VALUE}.")
    double regJacobian;

    @Option(names = "--flow-reg", paramLabel = "NAME=WEIGHT",
            description = "The weight of any flow regularizer by name (repeatable; kinetic and jacobian also have the options above).")
    Map<String, Double> flowRegs = new java.util.LinkedHashMap<>();

    @Option(names = "--iterations", defaultValue = "1000", description = "Default: ${DEFAULT-VALUE}.")
    int iterations;

    @Option(names = "--batch-size", defaultValue = "512", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--lr", defaultValue = "1e-3", description = "Adam learning rate. Default: ${DEFAULT-VALUE}.")
    double lr;

    @Option(names = "--weight-decay", defaultValue = "0", description = "Default: ${DEFAULT-VALUE}.")
    double weightDecay;

    @Option(names = "--seed", defaultValue = "0", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--checkpoint-every", defaultValue = "100", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
    int checkpointEvery;

    @Option(names = "--held-out", defaultValue = "5000", paramLabel = "N",
            description = "Held-out examples for the final NLL. Default: ${DEFAULT-VALUE}.")
    int heldOut;

    // an EK flow's 100 × 100 density.png cost some 15 minutes on one core with the default --flow-samples, with no way to shrink it
    @Option(names = "--grid", defaultValue = "" + FlowRuns.DENSITY_GRID,
            description = "2-D data: cells per side of density.png (each cell costs one held-out point's evaluation; an EK flow's are "
                    + "costly, docs/ek.md). Default: ${DEFAULT-VALUE}.")
    int grid;

    @picocli.CommandLine.Mixin ResumeOptions resumeOptions = new ResumeOptions();

    @Option(names = "--out", paramLabel = "DIR", description = "Run directory. Default: runs/flow-<data>.")
    Path out;

    @Mixin RuntimeOptions runtime = new RuntimeOptions();

    /**
     * The flow regularizers' weights: --reg-kinetic, --reg-jacobian, then any --flow-reg; a weight given both ways is an error
     * (which one won was silent).
     */
    Map<String, Double> regularizers() {
        for (String name : List.of("kinetic", "jacobian")) {
            if (flowRegs.containsKey(name) && OptionChecks.given(spec, "--reg-" + name)) {
                throw new dev.tikhon.UserError("--flow-reg " + name + "=" + flowRegs.get(name) + " and --reg-" + name + " "
                        + (name.equals("kinetic") ? regKinetic : regJacobian) + " both set the " + name + " weight: give one of them");
            }
        }
        Map<String, Double> m = new java.util.LinkedHashMap<>(FlowConfig.rnode(regKinetic, regJacobian));
        m.putAll(flowRegs);
        return m;
    }

    /**
     * A --data-dir that nothing is read from: a toy set is generated, and the Fashion-MNIST sample is bundled (that one went
     * unnoted, so a folder meant for the full set passed unseen, as train's does not).
     */
    static void noteDataDirUnread(String data) {
        if (dev.tikhon.flow.Flows.isToy(data)) OptionChecks.noteIgnored("--data-dir", "--data " + data + " (a generated 2-D set)");
        else if (dev.tikhon.data.DataSets.SAMPLE_NAME.equals(data)) {
            OptionChecks.noteIgnored("--data-dir", "--data " + data + " (bundled with Tikhon; for the full set from a folder, give --data fashion-mnist)");
        }
    }

    /** Options that, given, do nothing with the chosen method and model: a note each (they stay valid, and runs with them resume). */
    private void noteInapplicable(boolean ek) {
        String image = "multiscale".equals(model) ? "--model multiscale" : "--model " + model;
        if (ek) {
            for (String o : List.of("--reg-kinetic", "--reg-jacobian", "--flow-reg", "--end-time", "--solver", "--step", "--atol", "--rtol",
                    "--gradient", "--channels", "--scales")) {
                if (OptionChecks.given(spec, o)) OptionChecks.noteIgnored(o, "--method ek (the flow recovered from φ, ψ runs on [0, 1] with Dopri5)");
            }
            return;
        }
        for (String o : List.of("--epsilon", "--mc-samples", "--alpha", "--flow-samples", "--dual-form")) {
            if (OptionChecks.given(spec, o)) OptionChecks.noteIgnored(o, "--method " + method);
        }
        for (String o : "multiscale".equals(model) ? List.of("--hidden", "--activation") : List.of("--channels", "--scales")) {
            if (OptionChecks.given(spec, o)) OptionChecks.noteIgnored(o, image);
        }
        noteSolverOptions();
    }

    /** The field's activation: smooth (softplus, tanh), as the change of variables needs; ReLU is refused. */
    private void checkActivation() {
        String a = activation.toLowerCase(Locale.ROOT);
        if (a.equals("softplus") || a.equals("tanh")) return;
        if (a.equals("relu")) {
            throw new dev.tikhon.UserError("--activation relu: a ReLU " + ("ek".equals(method) ? "potential's flow" : "field")
                    + " has a divergence with a singular part the change of variables misses, so its NLL would not be a likelihood "
                    + "(docs/ek.md): use softplus or tanh");
        }
        throw new dev.tikhon.UserError("unknown --activation '" + activation + "': use softplus or tanh");
    }

    @Override public Path outDir() {
        return out != null ? out : Path.of("runs", "flow-" + data);
    }

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    /** The solver options the chosen solver never reads, and a --step that does not divide the time, are noted. */
    private void noteSolverOptions() {
        boolean adaptive = dev.tikhon.ode.Method.parse(solver).adaptive();
        for (String o : adaptive ? List.of("--step") : List.of("--atol", "--rtol")) {
            if (OptionChecks.given(spec, o)) OptionChecks.noteIgnored(o, "--solver " + solver);
        }
        int n = (int) Math.max(1, Math.ceil(endTime / step - 1e-9));   // the fixed-step solver's equal steps (OdeSolver)
        if (!adaptive && Math.abs(n * step - endTime) > 1e-9 * endTime) {
            System.err.printf(Locale.ROOT, "note:   --step %s does not divide --end-time %s: the solver takes %d equal steps of %.6g%n",
                    step, endTime, n, endTime / n);
        }
    }

    @Override public Integer call() {
        Device device = runtime.apply();
        boolean ek = "ek".equals(method);
        if (!"multiscale".equals(model)) checkActivation();
        Map<String, Double> regularizers = regularizers();
        noteInapplicable(ek);
        if (dataDir != null && OptionChecks.given(spec, "--data-dir")) noteDataDirUnread(data);
        if (OptionChecks.given(spec, "--grid") && !dev.tikhon.flow.Flows.isToy(data)) {
            OptionChecks.noteIgnored("--grid", "--data " + data + " (an image flow draws no density grid)");
        }
        String divergence = this.divergence != null ? this.divergence : dev.tikhon.flow.Divergence.defaultFor(model);
        // an EK flow reads none of the CNF's ODE, solver, regularizer or conv settings: its checkpoint keeps their defaults, not
        // what was given and ignored
        // (an EK flow with another model keeps it, for FlowConfig to refuse)
        FlowConfig.Field field = ek && "mlp".equals(model) ? FlowConfig.Field.mlp(hidden, activation)
                : new FlowConfig.Field(model, hidden, activation, channels, scales);
        FlowConfig.Ode ode = ek ? new FlowConfig.Ode(1, divergence, new FlowConfig.Solver("dopri5", 0.25, 1e-5, 1e-5), "backprop")
                : new FlowConfig.Ode(endTime, divergence, new FlowConfig.Solver(solver, step, atol, rtol), gradient);
        FlowConfig config = new FlowConfig(method, data, field, ode, ek ? FlowConfig.rnode(0, 0) : regularizers,
                new FlowConfig.Training(iterations, batchSize, lr, weightDecay, seed, checkpointEvery),
                ek ? new FlowConfig.Ek(epsilon, mcSamples, alpha, flowSamples, dualForm) : null);
        Path outDir = outDir();
        System.out.println("flow:   " + config.describe());
        FlowRuns.Trained t;
        try {
            t = FlowRuns.train(config, device, outDir, resumeOptions.resume, heldOut, dataDir, grid, new ResumableBar("flow " + data));
        } catch (dev.tikhon.train.TrainingDivergedException e) {
            // --resume repeats the recorded settings (another --lr is refused): the way out is a new run, as for train
            throw RunFolder.diverged(e, ek ? "a smaller --lr (or a larger --epsilon)" : "a smaller --lr (or --reg-kinetic, --reg-jacobian)");
        }
        if (t.metrics().get("data") != null) System.out.println("data:   " + t.metrics().get("data"));
        FlowRuns.Evaluation e = t.heldOut();
        if (config.methodIsEk()) {
            System.out.printf(Locale.ROOT, "held-out %s %.4f ± %.4f (%d points, %s, %s); %.1f s training, final dual %.4f%n",
                    e.unit(), e.nll(), e.standardError(), e.examples(), e.solver(), e.nfeText(), t.outcome().seconds(),
                    t.metric("final_dual"));
        } else System.out.printf(Locale.ROOT, "held-out %s %.4f ± %.4f (%d points, %s, %s); %.1f s training, mean %.1f forward NFE per "
                        + "iteration over the last 10%%%s%s%n",
                e.unit(), e.nll(), e.standardError(), e.examples(), e.solver(), e.nfeText(), t.outcome().seconds(),
                t.metric("nfe_forward_last_10pct"), "multiscale".equals(model) ? " (summed over the blocks)" : "",
                config.gradientMode() == dev.tikhon.flow.ContinuousFlow.Gradient.ADJOINT ? ""
                        : "; backward: backprop through the solver (no NFE counted)");
        System.out.println("        " + e.estimate());
        System.out.println("outputs: " + outDir + " (flow-checkpoint.tkn, history.csv, metrics.json, index.html); next: tikhon flow "
                + "eval --checkpoint " + outDir);
        return 0;
    }
}
