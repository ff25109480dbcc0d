package dev.tikhon.scaleout;

import dev.tikhon.UserError;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Normalize;
import dev.tikhon.nn.ScriptedModel;
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
 * shipped there. Exactly one of {@code checkpoint} (a Tikhon checkpoint file) and {@code torchscript} (a
 * TorchScript file) is set. A checkpoint of a TorchScript model (heat-smoothed, say) names its script, which is
 * then one of the files too.
 */
public record ModelRef(String checkpoint, String torchscript, Normalize.Stats normalize) implements Serializable {
    public static final String TORCHSCRIPT_ARCH = "torchscript";

    /**
     * @param normalize an input normalization put in front of a TorchScript file's model (null: none; a checkpoint
     *                  records its own)
     */
    public ModelRef {
        if ((checkpoint == null) == (torchscript == null)) throw new IllegalArgumentException("exactly one of checkpoint, torchscript");
        if (normalize != null && checkpoint != null) throw new IllegalArgumentException("a checkpoint records its own normalization");
    }

    public ModelRef(String checkpoint, String torchscript) {
        this(checkpoint, torchscript, null);
    }

    /** A checkpoint file, or the run directory that holds one. */
    public static ModelRef checkpoint(Path fileOrRunDir) {
        Path file = Files.isDirectory(fileOrRunDir) ? fileOrRunDir.resolve(Checkpoint.FILE_NAME) : fileOrRunDir;
        return new ModelRef(file.toAbsolutePath().toString(), null);
    }

    public static ModelRef torchscript(Path file) {
        return torchscript(file, null);
    }

    /** A TorchScript file behind an input normalization (null: none). */
    public static ModelRef torchscript(Path file, Normalize.Stats normalize) {
        return new ModelRef(null, file.toAbsolutePath().toString(), normalize);
    }

    /** Every file the model needs, to ship. */
    public List<Path> files() {
        if (torchscript != null) return List.of(Path.of(torchscript));
        List<Path> out = new ArrayList<>(List.of(Path.of(checkpoint)));
        ModelSpec spec = Checkpoint.load(Path.of(checkpoint)).meta().model();
        if (spec.arch().equals(TORCHSCRIPT_ARCH)) out.add(scriptOf(spec));
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
        } else {
            Checkpoint.Loaded ck = Checkpoint.load(resolve.apply(name(checkpoint)));
            m = builder(ck.meta().model(), p -> resolve.apply(p.getFileName().toString())).get();
            m.loadStateDict(ck.model());
        }
        m.train(false);
        return m;
    }

    /** How to build a fresh model of {@code spec}; a TorchScript model's script is found by {@code resolve}. */
    public static Supplier<Module> builder(ModelSpec spec, Function<Path, Path> resolve) {
        if (spec.arch().equals(TORCHSCRIPT_ARCH)) {
            Path p = resolve.apply(scriptOf(spec));
            return () -> Models.withNormalization(spec, ScriptedModel.load(p));
        }
        return () -> Models.build(spec);
    }

    private static Path scriptOf(ModelSpec spec) {
        Object file = spec.options().get("file");
        if (file == null) throw new UserError("checkpoint of a TorchScript model without its file name");
        return Path.of(file.toString());
    }

    /** The name a file is shipped under. */
    public static String name(String path) {
        return Path.of(path).getFileName().toString();
    }
}
