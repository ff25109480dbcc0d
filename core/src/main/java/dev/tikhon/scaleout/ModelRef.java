package dev.tikhon.scaleout;

import dev.tikhon.UserError;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Normalize;
import dev.tikhon.nn.ScriptedModel;
import dev.tikhon.onnx.OnnxImport;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import dev.tikhon.train.Checkpoint;

import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A model by its files, so that it can be loaded again elsewhere: in an executor of a cluster, from the copies
 * shipped there. Exactly one of {@code checkpoint} (a Tikhon checkpoint file), {@code torchscript} (a TorchScript
 * file) and {@code onnx} (an ONNX file) is set. A checkpoint of a TorchScript or ONNX model (heat-smoothed, say) names
 * that file, which is then one of the files too.
 */
public record ModelRef(String checkpoint, String torchscript, String onnx, Normalize.Stats normalize) implements Serializable {
    public static final String TORCHSCRIPT_ARCH = "torchscript";
    public static final String ONNX_ARCH = Models.ONNX;

    /**
     * @param normalize an input normalization put in front of a TorchScript or ONNX file's model (null: none; a
     *                  checkpoint records its own)
     */
    public ModelRef {
        int set = (checkpoint == null ? 0 : 1) + (torchscript == null ? 0 : 1) + (onnx == null ? 0 : 1);
        if (set != 1) throw new IllegalArgumentException("exactly one of checkpoint, torchscript, onnx");
        if (normalize != null && checkpoint != null) throw new IllegalArgumentException("a checkpoint records its own normalization");
    }

    /** A checkpoint file, or the run directory that holds one. */
    public static ModelRef checkpoint(Path fileOrRunDir) {
        Path file = Files.isDirectory(fileOrRunDir) ? fileOrRunDir.resolve(Checkpoint.FILE_NAME) : fileOrRunDir;
        return new ModelRef(file.toAbsolutePath().toString(), null, null, null);
    }

    public static ModelRef torchscript(Path file) {
        return torchscript(file, null);
    }

    /** A TorchScript file behind an input normalization (null: none). */
    public static ModelRef torchscript(Path file, Normalize.Stats normalize) {
        return new ModelRef(null, file.toAbsolutePath().toString(), null, normalize);
    }

    public static ModelRef onnx(Path file) {
        return onnx(file, null);
    }

    /** An ONNX file behind an input normalization (null: none). */
    public static ModelRef onnx(Path file, Normalize.Stats normalize) {
        return new ModelRef(null, null, file.toAbsolutePath().toString(), normalize);
    }

    /** The file named by this reference (a checkpoint, a TorchScript or an ONNX file). */
    public String file() {
        return checkpoint != null ? checkpoint : torchscript != null ? torchscript : onnx;
    }

    /**
     * {@code model} behind the input normalization {@code stats} (none when null), as {@link Models#withNormalization}
     * puts it: an imported chain stays one chain, so the Lipschitz bounds and verifiers still see it whole.
     */
    public static Module behind(Normalize.Stats stats, Module model) {
        if (stats == null) return model;
        return Models.withNormalization(Models.withNormalization(new ModelSpec(ONNX_ARCH, List.of(), 0, java.util.Map.of()), stats), model);
    }

    /** Every file the model needs, to ship. */
    public List<Path> files() {
        if (checkpoint == null) return List.of(Path.of(file()));
        List<Path> out = new ArrayList<>(List.of(Path.of(checkpoint)));
        ModelSpec spec = Checkpoint.load(Path.of(checkpoint)).meta().model();
        if (spec.arch().equals(TORCHSCRIPT_ARCH) || spec.arch().equals(ONNX_ARCH)) out.add(scriptOf(spec));
        return out;
    }

    /** The model in evaluation mode on the CPU, here: its files where this record says they are. */
    public Module load() {
        List<Path> files = files();
        return load(name -> files.stream().filter(f -> f.getFileName().toString().equals(name)).findFirst().orElse(Path.of(name)));
    }

    /**
     * The model in evaluation mode on the CPU, each file found by {@code resolve} from its name (on an executor:
     * where the cluster put the shipped copy).
     */
    public Module load(Function<String, Path> resolve) {
        Module m;
        if (torchscript != null) {
            m = ScriptedModel.load(resolve.apply(name(torchscript)));
            if (normalize != null) m = new dev.tikhon.nn.Sequential(new Normalize(normalize), m);
        } else if (onnx != null) {
            m = behind(normalize, OnnxImport.load(resolve.apply(name(onnx))).model());
        } else {
            Path file = resolve.apply(name(checkpoint));
            Checkpoint.Loaded ck = Checkpoint.load(file);
            m = builder(ck.meta().model(), p -> resolve.apply(p.getFileName().toString())).get();
            m.loadStateDict(ck.model());
            Checkpoint.requireFinite(Checkpoint.fileIn(file, Checkpoint.FILE_NAME), m);
        }
        m.train(false);
        return m;
    }

    /** How to build a fresh model of {@code spec}; a TorchScript or ONNX model's file is found by {@code resolve}. */
    public static Supplier<Module> builder(ModelSpec spec, Function<Path, Path> resolve) {
        if (spec.arch().equals(TORCHSCRIPT_ARCH)) {
            Path p = resolve.apply(scriptOf(spec));
            return () -> Models.withNormalization(spec, ScriptedModel.load(p));
        }
        if (spec.arch().equals(ONNX_ARCH)) {
            Path p = resolve.apply(scriptOf(spec));
            return () -> Models.withNormalization(spec, OnnxImport.load(p).model());
        }
        return () -> Models.build(spec);
    }

    private static Path scriptOf(ModelSpec spec) {
        Object file = spec.options().get("file");
        if (file == null) throw new UserError("checkpoint of a " + spec.arch() + " model without its file name");
        return Path.of(file.toString());
    }

    /** The name a file is shipped under. */
    public static String name(String path) {
        return Path.of(path).getFileName().toString();
    }
}
