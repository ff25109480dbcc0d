package dev.tikhon.cli;

import dev.tikhon.data.Augmentation;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Engine;
import dev.tikhon.engine.Scope;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.nn.Module;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Normalize;
import dev.tikhon.regularize.Regularizers;
import dev.tikhon.report.RunDirectory;
import dev.tikhon.train.Checkpoint;
import dev.tikhon.train.DataInfo;
import dev.tikhon.train.Objective;
import dev.tikhon.train.TrainConfig;
import dev.tikhon.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon train}: trains a classifier, with checkpoints, history, plots and a report. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a classifier. Writes checkpoint.tkn (every epoch, atomically), history.csv, metrics.json, "
                + "loss/accuracy plots and index.html into --out; --resume continues a killed run exactly."})
final class TrainCommand implements Callable<Integer>, RunFolder.Owner {
    @Mixin DataOptions data = new DataOptions();

    @Mixin RegularizationOptions regularization = new RegularizationOptions();

    @Option(names = "--steps", paramLabel = "K", description = "Same as --pgd-steps (PGD adversarial training, TRADES's ascent).")
    void pgdSteps(int k) {
        regularization.steps = k;
    }

    @Option(names = "--model", defaultValue = "cnn", description = "mlp, cnn, resnet or farkas-resnet. farkas-resnet (no normalization) stalled at chance in every "
            + "recipe docs/farkas.md tried (lr 0.1 and 0.01, zero-last, warm-up; depths 20 and 56, 63 steps at width 4), as plain "
            + "resnet --no-batch-norm did; at depth 8 plain resnet --no-batch-norm trained where farkas-resnet stalled or diverged; "
            + "see there before relying on it. Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--hidden", split = ",", paramLabel = "N,N", description = "MLP hidden widths. Default: 512,256.")
    List<Integer> hidden;

    @Option(names = "--depth", description = "ResNet depth, 6n+2 (8, 14, 20, 32, 44, 56, 110; farkas-resnet with "
            + "--block bottleneck: 9n+2). Default: 20.")
    Integer depth;

    @Option(names = "--width", description = "ResNet base width (channels of the first stage). Default: 16.")
    Integer width;

    @Option(names = "--block", description = "farkas-resnet blocks: basic or bottleneck. Default: basic.")
    String block;

    @Option(names = "--batch-norm", negatable = true, description = "ResNet with batch norm (--no-batch-norm without). Default: on (farkas-resnet: none).")
    Boolean batchNorm;

    @Option(names = "--activation", description = "relu, softplus, smooth-relu, tanh (MLP and CNN). Default: relu.")
    String activation;

    @Option(names = "--init", defaultValue = "standard", description = "standard, xavier, kaiming or ibp (Shi et al. 2021, for --reg ibp|crown-ibp: interval radii keep their size through the layers at initialization). Default: ${DEFAULT-VALUE}.")
    String init;

    @Option(names = "--zero-last", description = "Zero the last layer of each residual branch and the classifier.")
    boolean zeroLast;

    @Option(names = "--onnx", paramLabel = "FILE", description = "Start from this ONNX model (exported by PyTorch or another tool) "
            + "instead of a fresh --model: its layers become Tikhon's and train with any --reg (fine-tuning, adversarial or certified "
            + "training); the checkpoint names the file, which eval, certify, verify and export read its layers from "
            + "(docs/interop.md). Not with --model or its shape options.")
    Path onnx;

    /** The --onnx file, imported once by {@link #checkNewRun} for a new run; null otherwise. */
    private dev.tikhon.onnx.OnnxImport.Result imported;

    @Option(names = "--normalize", paramLabel = "MEAN/STD", description = "Put (x - mean)/std per channel in front of the model, "
            + "recorded in the checkpoint; inputs, attacks and certificates stay in [0,1] pixels. " + Normalize.SYNTAX + ".")
    String normalize;

    @Option(names = "--augment", paramLabel = "LIST", description = "Augment training images: " + Augmentation.SYNTAX
            + "; e.g. crop,flip (the CIFAR recipe). Seeded by (seed, epoch, batch). Default: none.")
    String augment;

    @Option(names = "--epochs", defaultValue = "3", description = "Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "128", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--optimizer", defaultValue = "sgd", description = "sgd, adam or adamw. Default: ${DEFAULT-VALUE}.")
    String optimizer;

    @Option(names = "--lr", defaultValue = "0.05", description = "Learning rate. Default: ${DEFAULT-VALUE}.")
    double lr;

    @Option(names = "--momentum", defaultValue = "0.9", description = "SGD momentum. Default: ${DEFAULT-VALUE}.")
    double momentum;

    @Option(names = "--nesterov", description = "Nesterov momentum.")
    boolean nesterov;

    @Option(names = "--weight-decay", defaultValue = "0", description = "L2 weight decay (weights only). Default: ${DEFAULT-VALUE}.")
    double weightDecay;

    @Option(names = "--decay-biases", description = "Apply weight decay to biases and normalization scales too.")
    boolean decayBiases;

    @Option(names = "--schedule", defaultValue = "cosine", description = "constant, piecewise or cosine. Default: ${DEFAULT-VALUE}.")
    String schedule;

    @Option(names = "--milestones", split = ",", defaultValue = "0.5,0.75",
            description = "Piecewise milestones, as fractions of the epochs. Default: ${DEFAULT-VALUE}.")
    List<Double> milestones;

    @Option(names = "--gamma", defaultValue = "0.1", description = "Piecewise factor at each milestone, above 0. Default: ${DEFAULT-VALUE}.")
    double gamma;

    @Option(names = "--warmup", defaultValue = "0", paramLabel = "EPOCHS", description = "Linear warm-up length in epochs, shorter than --epochs. Default: ${DEFAULT-VALUE}.")
    double warmup;

    @Option(names = "--val-fraction", defaultValue = "0", description = "Training data held out for validation. Default: ${DEFAULT-VALUE}.")
    double valFraction;

    @Option(names = "--seed", defaultValue = "0", description = "Seed for initialization, shuffling and noise. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--checkpoint-every", defaultValue = "0", paramLabel = "STEPS",
            description = "Also checkpoint every STEPS steps within an epoch (0: at epoch ends only). Default: ${DEFAULT-VALUE}.")
    int checkpointEvery;

    @Option(names = "--eval-batch-size", defaultValue = "256", description = "Default: ${DEFAULT-VALUE}.")
    int evalBatchSize;

    @Mixin ResumeOptions resumeOptions = new ResumeOptions();

    @Option(names = "--out", paramLabel = "DIR", description = "Run directory. Default: runs/train-<model>.")
    Path out;

    @Mixin RuntimeOptions runtime = new RuntimeOptions();

    @Spec CommandSpec command;

    @Override public Path outDir() {
        return out != null ? out : Path.of("runs", "train-" + model);
    }

    @Override public Integer call() {
        Device device = runtime.apply();
        Path outDir = outDir();
        RunDirectory run = RunDirectory.create(outDir);
        boolean resuming = resumeOptions.resume && Files.exists(outDir.resolve(Checkpoint.FILE_NAME));
        Checkpoint.Meta previous;
        try {
            previous = resuming ? Checkpoint.load(outDir).meta() : null;
        } catch (Checkpoint.Corrupt e) {
            throw RunFolder.unreadable(e);
        }

        // a resumed run reads the data it was started on, resized as it was (its recorded command line gives the same)
        DataOptions.Choice choice = previous != null ? new DataOptions().choose(previous.data(), previous.config().seed()) : data.choose();
        String dataName = choice.name();
        long runSeed = previous != null ? previous.config().seed() : seed;
        TrainConfig config = previous != null ? previous.config().withEpochs(Math.max(epochs, previous.config().epochs()))
                : new TrainConfig(epochs, batchSize, optimizer, lr, momentum, nesterov, weightDecay, decayBiases, schedule,
                milestones, gamma, warmup, seed, valFraction, checkpointEvery, evalBatchSize, regularization.spec(epochs), augment);
        if (previous == null) checkNewRun();   // first: its messages name the option (--milestones), the library's do not
        Trainer.checkNames(config);   // a misspelt --optimizer or --schedule fails before the data set is read
        if (previous == null) OptionChecks.noteLongWarmup(warmup, epochs, lr, Trainer.schedule(config));
        Objective objective = Regularizers.build(config.objective());   // its settings' checks, too, before the data is read
        DataSets.Loaded loaded = choice.load(runSeed);
        Dataset train = loaded.train(), val = null;
        if (previous == null) OptionChecks.checkNormalize(normalize, train, dataName);   // before the model is built from it
        if (config.valFraction() > 0) {
            Dataset.Split split = train.split(config.valFraction(), config.seed());
            if (previous == null && split.rest().size() < config.batchSize()) {   // trained on a handful of examples, silently
                System.err.println("note:   --val-fraction " + config.valFraction() + " leaves " + split.rest().size() + " of " + train.size()
                        + " examples to train on, fewer than one --batch-size " + config.batchSize() + ": hold out less");
            }
            train = split.rest();
            val = split.heldOut();
        }
        ModelSpec spec = previous != null ? previous.model()
                : onnx != null ? importedSpec(boxed(train.inputShape()), train.numClasses())
                : Models.spec(model, boxed(train.inputShape()), train.numClasses(), modelOptions());
        // the --onnx file as checkNewRun imported it (read once): its notes are printed, and the run trains that model
        Module start = imported == null ? null : Models.withNormalization(spec, imported.model());
        try (Scope s = Scope.open()) {   // validate the architecture against the data and the objective before any output
            Module m = start != null ? start : Models.build(spec);
            if (spec.arch().equals(Models.ONNX)) requireFits(m, spec);
            objective.check(m);
        }
        config.augmentation().check(train.inputShape(), dataName);

        System.out.println("data:   " + loaded.description());
        System.out.println("model:  " + spec.arch() + " " + spec.options() + " on " + device + ", " + Engine.threads() + " thread(s)");
        System.out.println("loss:   " + objective.describe());
        if (!config.augmentation().isNone()) System.out.println("augment: " + config.augment());
        if (previous != null) {
            System.out.println("resume: " + outDir + " at epoch " + (previous.epoch() + 1) + ", batch " + previous.batch()
                    + " (its settings are used; --epochs " + config.epochs() + ")");
        } else if (resumeOptions.resume) {
            System.out.println("resume: no checkpoint in " + outDir + " yet; " + (RunFolder.continued()
                    ? "starting over with the settings recorded in its " + RunFolder.SETTINGS : "starting a new run"));
        }

        DataInfo info = choice.info(loaded.description(), runSeed);
        ProgressListener progress = new ProgressListener("train " + spec.arch());
        Trainer trainer = new Trainer(spec, objective, config, train, val, loaded.test(), info, device, outDir, progress);
        if (start != null) trainer.startFrom(() -> Trainer.initialModel(trainer.config().seed(), () -> start));
        long t0 = System.nanoTime();
        Trainer.Outcome outcome;
        try {
            outcome = trainer.run(resumeOptions.resume);
        } catch (dev.tikhon.train.TrainingDivergedException e) {
            throw RunFolder.diverged(e, "a smaller --lr (or --warmup EPOCHS)");
        } finally {
            progress.close();
        }
        double wall = (System.nanoTime() - t0) / 1e9;

        Map<String, Object> metrics = RunReport.trainingMetrics("train", spec, outcome, trainer.config(), objective, info,
                device, wall);
        if (outcome.test() != null) {   // before the report files: a full disk still shows the result
            System.out.printf("test accuracy %.4f, test loss %.4f after %d epochs (%.1f s training, %.1f s total)%n",
                    outcome.test().accuracy(), outcome.test().loss(), trainer.config().epochs(), outcome.trainSeconds(), wall);
            String chance = dev.tikhon.train.Chance.note(outcome.test().accuracy(), outcome.test().n(), loaded.test(),
                    "history.csv shows its loss per epoch; try another --lr, a smaller --weight-decay, a lighter regularizer or more --epochs");
            if (chance != null) System.err.println("note:   " + chance);
        }
        run.writeMetrics(metrics);
        run.writeIndex("Tikhon training run: " + spec.arch(), loaded.description(), metrics);
        System.out.println("outputs: " + outDir.toAbsolutePath() + " (index.html, metrics.json, history.csv, checkpoint.tkn)");
        return 0;
    }

    /** The architectures each model option shapes; given with another --model, it is noted and left out of the spec. */
    private static final Map<String, List<String>> MODEL_OPTIONS = Map.of("--hidden", List.of("mlp"),
            "--depth", List.of("resnet", "farkas-resnet"), "--width", List.of("resnet", "farkas-resnet"),
            "--block", List.of("farkas-resnet"), "--batch-norm", List.of("resnet", "farkas-resnet"),
            "--activation", List.of("mlp", "cnn"));

    /** Whether {@code option} was on the command line (not its default). */
    private boolean given(String option) {
        return OptionChecks.given(command, option);
    }

    private boolean applies(String option) {
        return !MODEL_OPTIONS.containsKey(option) || MODEL_OPTIONS.get(option).contains(model);
    }

    /**
     * A new run's settings, before the data set is read: an unknown --model and unsorted --milestones are errors; an option
     * that does nothing with the chosen model, optimizer or schedule is a note on stderr (stdout may be JSON), not an
     * error, so that runs recorded with it still resume.
     */
    private void checkNewRun() {
        if (onnx != null) {
            for (String option : List.of("--model", "--hidden", "--depth", "--width", "--block", "--batch-norm", "--activation", "--init", "--zero-last")) {
                if (given(option)) {
                    throw new dev.tikhon.UserError("--onnx " + onnx + " is the model to train: drop " + option + ", which shapes or initializes a fresh one");
                }
            }
            if (!java.nio.file.Files.isRegularFile(onnx)) throw new dev.tikhon.UserError("--onnx " + onnx + ": no such file");
            // what the import changed (a dropped Softmax, an NHWC input read as NCHW), said as eval and verify say it
            imported = dev.tikhon.onnx.OnnxImport.load(onnx);
            imported.notes().forEach(n -> System.err.println("note:   --onnx " + onnx + ": " + n));
        }
        if (!Models.ARCHITECTURES.contains(model)) {
            throw new dev.tikhon.UserError("unknown --model '" + model + "': use one of " + String.join(", ", Models.ARCHITECTURES));
        }
        for (String option : List.of("--hidden", "--depth", "--width", "--block", "--batch-norm", "--activation")) {
            if (given(option) && !applies(option)) {
                String shown = option.equals("--batch-norm") && Boolean.FALSE.equals(batchNorm) ? "--no-batch-norm" : option;
                OptionChecks.noteIgnored(shown, "--model " + model);
            }
        }
        String opt = optimizer.toLowerCase(java.util.Locale.ROOT);
        if (!opt.equals("sgd")) {   // Adam's moment estimates take the place of SGD's momentum
            if (given("--momentum")) OptionChecks.noteIgnored("--momentum", "--optimizer " + optimizer);
            if (given("--nesterov")) OptionChecks.noteIgnored("--nesterov", "--optimizer " + optimizer);
        } else if (nesterov && momentum == 0) {
            throw new dev.tikhon.UserError("--nesterov needs momentum: drop --momentum 0, or drop --nesterov");
        }
        if (decayBiases && weightDecay == 0 && given("--decay-biases")) OptionChecks.noteIgnored("--decay-biases", "--weight-decay 0");
        OptionChecks.checkPiecewise(command, "--schedule", schedule, milestones, gamma);
        if (model.equals("farkas-resnet")) {   // a note, not a change: the run trains as asked
            System.err.println("note:   --model farkas-resnet stalled at chance (test accuracy 0.095) in every recipe docs/farkas.md tried "
                    + "(lr 0.1 and 0.01, zero-last, warm-up; depths 20 and 56), as did resnet --no-batch-norm; only resnet with batch norm "
                    + "trained there; at depth 8 (3 epochs of fashion-mnist-sample, lr 0.1, 3 seeds) resnet --no-batch-norm trained (test accuracy "
                    + "0.64-0.73) while farkas-resnet stalled or diverged. Expect chance-level accuracy unless your recipe differs from those "
                    + "(see docs/farkas.md)");
        }
    }

    /** The spec of a run that starts from --onnx: the file by its absolute path, and --normalize in front if given. */
    private ModelSpec importedSpec(List<Long> inputShape, int numClasses) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("file", onnx.toAbsolutePath().normalize().toString());
        if (normalize != null) o.put(Models.NORMALIZE, Normalize.parse(normalize));
        return new ModelSpec(Models.ONNX, inputShape, numClasses, o);
    }

    /** An imported model must take the data set's images and give one logit per class: said here, before any training. */
    private static void requireFits(Module m, ModelSpec spec) {
        long[] shape = new long[spec.inputShape().size() + 1];
        shape[0] = 2;
        for (int i = 1; i < shape.length; i++) shape[i] = spec.inputShape().get(i - 1);
        long[] out;
        try (dev.tikhon.engine.Autograd.Guard g = dev.tikhon.engine.Autograd.noGrad()) {
            m.train(false);
            out = m.forward(dev.tikhon.engine.Tensor.zeros(shape)).shape();
        } catch (RuntimeException e) {
            if (e instanceof dev.tikhon.UserError) throw e;
            throw new dev.tikhon.UserError("--onnx " + spec.options().get("file") + " does not take the data set's images "
                    + spec.inputShape() + ": " + e.getMessage().lines().findFirst().orElse("") + "; export it for inputs of that shape, "
                    + "or choose a data set (or --image-size) the model takes");
        }
        if (out.length != 2 || out[1] != spec.numClasses()) {
            throw new dev.tikhon.UserError("--onnx " + spec.options().get("file") + " gives outputs of shape " + Arrays.toString(out)
                    + " on a batch of 2 images, but the data set has " + spec.numClasses() + " classes: train needs one logit per class");
        }
    }

    private Map<String, Object> modelOptions() {
        Map<String, Object> o = new LinkedHashMap<>();
        if (hidden != null && applies("--hidden")) o.put("hidden", hidden);
        if (depth != null && applies("--depth")) o.put("depth", depth);
        if (width != null && applies("--width")) o.put("width", width);
        if (block != null && applies("--block")) o.put("block", block);
        if (batchNorm != null && applies("--batch-norm")) o.put("batch_norm", batchNorm);
        if (activation != null && applies("--activation")) o.put("activation", activation);
        if (normalize != null) o.put(Models.NORMALIZE, Normalize.parse(normalize));
        o.put("init", init);
        o.put("zero_last", zeroLast);
        return o;
    }

    static List<Long> boxed(long[] shape) {
        return Arrays.stream(shape).boxed().toList();
    }
}
