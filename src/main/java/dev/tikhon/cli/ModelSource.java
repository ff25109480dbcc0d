package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.ScriptedModel;
import dev.tikhon.nn.models.ModelSpec;
import dev.tikhon.nn.models.Models;
import dev.tikhon.train.Checkpoint;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A model given as a Tikhon checkpoint or a TorchScript file. A heat-smoothed TorchScript model's
 * checkpoint names the original file (arch "torchscript", option "file"), so it loads too.
 */
final class ModelSource {
    static final String TORCHSCRIPT = "torchscript";

    @Option(names = "--checkpoint", paramLabel = "PATH", required = true,
            description = "A checkpoint.tkn, or the run directory that holds it.")
    Path checkpoint;

    @Option(names = "--torchscript", paramLabel = "FILE", required = true,
            description = "A TorchScript model (torch.jit.script(model).save(FILE)) taking [N,C,H,W] inputs in [0,1] and returning logits.")
    Path torchscript;

    /** The loaded model, how to build another instance of it, and what is known of its training. */
    record Loaded(Module model, Supplier<Module> fresh, Checkpoint.Meta meta, String name) {}

    Loaded load() {
        if (checkpoint != null) {
            Checkpoint.Loaded ck = Checkpoint.load(checkpoint);
            ModelSpec spec = ck.meta().model();
            Supplier<Module> fresh = builder(spec);
            Module m = fresh.get();
            m.loadStateDict(ck.model());
            return new Loaded(m, fresh, ck.meta(), spec.arch() + " " + spec.options());
        }
        Path file = torchscript.toAbsolutePath();
        return new Loaded(ScriptedModel.load(file), () -> ScriptedModel.load(file), null, "TorchScript " + torchscript);
    }

    static Supplier<Module> builder(ModelSpec spec) {
        if (spec.arch().equals(TORCHSCRIPT)) {
            Object file = spec.options().get("file");
            if (file == null) throw new UserError("checkpoint of a TorchScript model without its file name");
            Path p = Path.of(file.toString());
            return () -> ScriptedModel.load(p);
        }
        return () -> Models.build(spec);
    }

    /** The spec recorded for a TorchScript model trained in place. */
    static ModelSpec torchscriptSpec(Path file, List<Long> inputShape, int numClasses) {
        return new ModelSpec(TORCHSCRIPT, inputShape, numClasses, Map.of("file", file.toAbsolutePath().toString()));
    }

    boolean isTorchscript() { return torchscript != null; }
}
