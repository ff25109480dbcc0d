package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.loss.Loss;
import dev.tikhon.loss.Losses;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Normalize;
import dev.tikhon.nn.Sequential;
import dev.tikhon.nn.ScriptedModel;
import dev.tikhon.onnx.OnnxImport;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.train.Checkpoint;
import dev.tikhon.train.InputFit;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The model a command works on: a Tikhon checkpoint, a TorchScript model from PyTorch or an ONNX model (exactly one).
 * A heat-smoothed TorchScript or ONNX model's checkpoint names the original file (arch "torchscript" or "onnx", option
 * "file"), so it loads too. An imported model that expects normalized inputs takes {@code --normalize} (a checkpoint
 * records its own).
 */
final class ModelSource {
    static final String TORCHSCRIPT = dev.tikhon.scaleout.ModelRef.TORCHSCRIPT_ARCH;
    static final String ONNX = dev.tikhon.scaleout.ModelRef.ONNX_ARCH;

    /** Where the model comes from: exactly one of these. */
    static final class Which {
        @Option(names = "--checkpoint", paramLabel = "PATH", required = true,
                description = "A checkpoint.tkn, or the run directory that holds it.")
        Path checkpoint;

        @Option(names = "--torchscript", paramLabel = "FILE", required = true,
                description = "A TorchScript model (torch.jit.script(model).save(FILE)) taking [N,C,H,W] inputs in [0,1] and returning logits.")
        Path torchscript;

        @Option(names = "--onnx", paramLabel = "FILE", required = true,
                description = "An ONNX model (torch.onnx.export, tf2onnx, tikhon export) taking [N,C,H,W] float inputs in [0,1] and "
                        + "returning logits (a final Softmax is dropped); its layers become Tikhon's, see docs/interop.md.")
        Path onnx;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Which which = new Which();

    @Option(names = "--normalize", paramLabel = "MEAN/STD",
            description = "An imported model expects normalized inputs: put (x - mean)/std per channel in front of it, so that attacks "
                    + "and certificates stay in [0,1] pixel space. " + Normalize.SYNTAX + ". A Tikhon checkpoint records its own.")
    String normalize;

    /**
     * The loaded model, how to build another instance of it, what is known of its training (null for a TorchScript file),
     * a description, the loss it was trained with (cross-entropy for TorchScript models), the file it came from and the
     * --normalize put in front of an imported model (null: none).
     */
    record Loaded(Module model, Supplier<Module> fresh, Checkpoint.Meta meta, String name, Loss trainedLoss, Path file, String normalize) {
        String description() { return name; }

        /** Whether nothing is known of the model but its file (TorchScript or ONNX): the input shape and classes are probed. */
        boolean scripted() { return meta == null || meta.model().arch().equals(TORCHSCRIPT) || meta.model().arch().equals(ONNX); }

        /** Whether its layers are hidden from Tikhon (TorchScript): no Lipschitz composition or verifier applies. */
        boolean opaque() { return model.modules().stream().anyMatch(m -> m instanceof ScriptedModel); }

        /**
         * A split of the data and the data's description (name, source), with the data set's name, the split's name and
         * the seed it was generated or split with, for its {@link #identity}.
         */
        record Data(Dataset set, String description, String name, String split, long seed) {
            /** What a run records of the data it computed on, its first {@code used} examples (metrics.json {@code data_set}). */
            Map<String, Object> identity(int used) {
                return dev.tikhon.data.DataIdentity.of(name, split, set, used, seed).toMap();
            }
        }

        /** The requested split of the data given by the options, or else of the data the model was trained on; named on stdout. */
        Data split(DataOptions data, String split, long seed) {
            DataOptions.Choice choice = data.choose(meta != null ? meta.data() : null, meta != null ? meta.config().seed() : null);
            DataSets.Loaded loaded = choice.load(seed);
            Dataset set;
            switch (split) {
                case "test": set = loaded.test(); break;
                case "train": set = loaded.train(); break;
                default: throw new UserError("unknown --split '" + split + "': use test or train");
            }
            checkFits(set, loaded.description(), choice);
            System.out.println("data:  " + loaded.description() + " [" + split + ", " + set.size() + " examples]");
            System.out.println("model: " + name);
            return new Data(set, loaded.description() + " [" + split + "]", choice.name(), split, choice.seedFor(seed));
        }

        /** A one-line error before any forward pass when the model cannot take {@code set}'s examples (see {@link InputFit}). */
        void checkFits(Dataset set, String dataName) {
            checkFits(set, dataName, null);
        }

        /** The same, naming the --image-size that fits when {@code choice} (null: unknown) is a folder of other-sized images. */
        void checkFits(Dataset set, String dataName, DataOptions.Choice choice) {
            OptionChecks.checkNormalize(normalize, set, choice != null ? choice.name() : dataName);
            ModelSpec spec = scripted() ? null : meta.model();
            InputFit.check(model, spec, set, meta == null ? name : name + " (" + file + ")", dataName, model.device(),
                    spec == null || choice == null ? null : choice.refit(spec.inputShape(), set.inputShape()));
        }

        /**
         * The same for a model that only crafts attacks on data chosen for another ({@code option} names where it came
         * from): every mismatch names that option's fix, not other --data.
         */
        void checkFitsAsSource(Dataset set, String dataName, String option) {
            ModelSpec spec = scripted() ? null : meta.model();
            InputFit.check(model, spec, set, option + " " + (meta == null ? name : name + " (" + file + ")"), dataName, model.device(), null,
                    "give " + option + " models made for the attacked model's data");
        }

        /** Turns a forward failure of a TorchScript model into an error that says which shapes it was given. */
        RuntimeException explain(RuntimeException e, Dataset set) {
            if (!scripted()) return e;
            String first = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
            return new UserError(name + ": forward failed on inputs of shape " + Arrays.toString(set.inputShape())
                    + " (batched, " + InputFit.valuesOf(set) + "): " + first, e);
        }
    }

    Loaded load() {
        Path checkpoint = which.checkpoint, torchscript = which.torchscript, onnx = which.onnx;
        if (checkpoint != null) {
            if (normalize != null) {
                throw new UserError("--normalize applies to an imported model (--torchscript, --onnx); the checkpoint " + checkpoint
                        + " records its own normalization (train --normalize)");
            }
            Checkpoint.Loaded ck = Checkpoint.load(checkpoint);
            ModelSpec spec = ck.meta().model();
            Supplier<Module> fresh = builder(spec);
            Module m = fresh.get();
            m.loadStateDict(ck.model());
            Checkpoint.requireFinite(Checkpoint.fileIn(checkpoint, Checkpoint.FILE_NAME), m);
            return new Loaded(m, fresh, ck.meta(), spec.describe(), Losses.parse(ck.meta().config().objective().loss()),
                    checkpoint, null);
        }
        Normalize.Stats stats = normalization();
        if (onnx != null) {
            Path file = onnx.toAbsolutePath();
            OnnxImport.Result r = OnnxImport.load(onnx);
            requireFinite("ONNX model " + onnx, r.model());
            r.notes().forEach(n -> System.out.println("note:  " + onnx + ": " + n));
            if (stats != null && r.model() instanceof dev.tikhon.nn.Sequential seq && !seq.layers().isEmpty()
                    && seq.layers().get(0) instanceof Normalize own) {
                // a model exported with its normalization (Tikhon's export, or PyTorch's with it in forward) normalized twice
                System.err.println("note:   " + onnx + " normalizes its input itself (its first nodes compute (x − mean)/std, "
                        + own.stats() + "), and --normalize " + normalize + " puts a second normalization in front of it: drop "
                        + "--normalize unless the model was trained on inputs normalized twice");
            }
            Supplier<Module> fresh = () -> dev.tikhon.scaleout.ModelRef.behind(stats, OnnxImport.load(file).model());
            return new Loaded(dev.tikhon.scaleout.ModelRef.behind(stats, r.model()), fresh, null,
                    "ONNX " + onnx + (stats == null ? "" : " behind Normalize(" + stats + ")"), Loss.CROSS_ENTROPY, onnx, normalize);
        }
        Path file = torchscript.toAbsolutePath();
        Supplier<Module> fresh = () -> stats == null ? ScriptedModel.load(file) : new Sequential(new Normalize(stats), ScriptedModel.load(file));
        Module scripted = fresh.get();
        requireFinite("TorchScript model " + torchscript, scripted);
        return new Loaded(scripted, fresh, null, "TorchScript " + torchscript + (stats == null ? "" : " behind Normalize(" + stats + ")"),
                Loss.CROSS_ENTROPY, torchscript, normalize);
    }

    /** An imported model whose weights hold NaN or ±Inf: refused like such a checkpoint ({@link Checkpoint#requireFinite}). */
    static void requireFinite(String what, Module m) {
        String bad = m.firstNonFinite();
        if (bad != null) {
            throw new UserError(what + ": " + bad + "; nothing computed from it would mean anything: export it again from a model with "
                    + "finite weights");
        }
    }

    /** Applied to the model {@link #load(Device)} returns (null: none); see {@link #smoothed}. */
    private java.util.function.UnaryOperator<Loaded> wrap;

    /** Loads the model onto {@code device}, in evaluation mode. */
    Loaded load(Device device) {
        Loaded l = load();
        l.model().to(device);
        l.model().train(false);
        return wrap == null ? l : wrap.apply(l);
    }

    /**
     * From now on {@link #load(Device)} returns Cohen's smoothed classifier of the model as an attackable module
     * ({@link dev.tikhon.attack.SmoothedClassifier}: log of the Monte Carlo mean softmax over {@code samples} noise draws,
     * fresh on every forward pass), at {@code sigma}, or when null at the σ the checkpoint was noise-trained or heat-smoothed with.
     */
    ModelSource smoothed(Double sigma, int samples) {
        wrap = l -> {
            double s = sigma != null ? sigma : CertifyCommand.sigmaOf(l);
            Module m = new dev.tikhon.attack.SmoothedClassifier(l.model(), s, samples);
            m.train(false);
            return new Loaded(m, () -> new dev.tikhon.attack.SmoothedClassifier(l.fresh().get(), s, samples), l.meta(),
                    l.name() + ", smoothed (σ " + s + ", " + samples + " Monte Carlo samples per forward pass)", l.trainedLoss(), l.file(),
                    l.normalize());
        };
        return this;
    }

    static Supplier<Module> builder(ModelSpec spec) {
        return dev.tikhon.scaleout.ModelRef.builder(spec, p -> p);
    }

    /** The normalization given with {@code --normalize}, or null. */
    Normalize.Stats normalization() {
        return normalize == null ? null : Normalize.parse(normalize);
    }

    /** The spec recorded for a TorchScript or ONNX model trained in place (heat smoothing), with its {@code --normalize} if any. */
    ModelSpec fileSpec(List<Long> inputShape, int numClasses) {
        Path file = which.onnx != null ? which.onnx : which.torchscript;
        ModelSpec spec = new ModelSpec(which.onnx != null ? ONNX : TORCHSCRIPT, inputShape, numClasses, Map.of("file", file.toAbsolutePath().toString()));
        Normalize.Stats stats = normalization();
        return stats == null ? spec : Models.withNormalization(spec, stats.forChannels(inputShape.get(0).intValue(), "the data"));
    }

    boolean isTorchscript() { return which.torchscript != null; }

    boolean isOnnx() { return which.onnx != null; }

    /** The model by its files, to load again elsewhere (a cluster's executors). */
    dev.tikhon.scaleout.ModelRef ref() {
        if (which.checkpoint != null) return dev.tikhon.scaleout.ModelRef.checkpoint(which.checkpoint);
        return which.onnx != null ? dev.tikhon.scaleout.ModelRef.onnx(which.onnx, normalization())
                : dev.tikhon.scaleout.ModelRef.torchscript(which.torchscript, normalization());
    }
}
