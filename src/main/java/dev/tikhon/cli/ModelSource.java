package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.loss.Loss;
import dev.tikhon.loss.Losses;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.ScriptedModel;
import dev.tikhon.nn.models.Models;
import dev.tikhon.train.Checkpoint;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;

/** The model a command evaluates: a Tikhon checkpoint or a TorchScript model from PyTorch (exactly one). */
final class ModelSource {
    @Option(names = "--checkpoint", paramLabel = "PATH", required = true,
            description = "A checkpoint.tkn, or the run directory that holds it.")
    Path checkpoint;

    @Option(names = "--torchscript", paramLabel = "FILE", required = true,
            description = "A TorchScript model (torch.jit.script(model).save(FILE)) taking [N,C,H,W] inputs in [0,1] and returning logits.")
    Path torchscript;

    /**
     * The model (on {@code device}, eval mode), a description, the data it was trained on unless overridden, and the loss it
     * was trained with (cross-entropy for TorchScript models).
     */
    record Loaded(Module model, String description, String dataName, Path dataDir, boolean scripted, Loss trainedLoss) {
        /** A split of the data and the data's description (name, source). */
        record Data(Dataset set, String description) {}

        /** Loads the requested split, naming the data and the model on stdout. */
        Data split(String split, long seed) {
            DataSets.Loaded loaded = DataSets.load(dataName, dataDir, System.getenv(), seed);
            Dataset set;
            switch (split) {
                case "test": set = loaded.test(); break;
                case "train": set = loaded.train(); break;
                default: throw new UserError("unknown --split '" + split + "': use test or train");
            }
            System.out.println("data:  " + loaded.description() + " [" + split + ", " + set.size() + " examples]");
            System.out.println("model: " + description);
            return new Data(set, loaded.description() + " [" + split + "]");
        }

        /** Turns a forward failure of a TorchScript model into an error that says which shapes it was given. */
        RuntimeException explain(RuntimeException e, Dataset set) {
            if (!scripted) return e;
            String first = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
            return new UserError(description + ": forward failed on inputs of shape " + Arrays.toString(set.inputShape())
                    + " (batched, float32 in [0,1]): " + first, e);
        }
    }

    Loaded load(DataOptions data, Device device) {
        Module model;
        String dataName, description;
        Path dataDir = data.dir;
        Loss trainedLoss = Loss.CROSS_ENTROPY;
        if (checkpoint != null) {
            Checkpoint.Loaded ck = Checkpoint.load(checkpoint);
            model = Models.build(ck.meta().model());
            model.loadStateDict(ck.model());
            dataName = data.nameOr(ck.meta().data().name());
            if (dataDir == null && data.name == null && ck.meta().data().dir() != null) dataDir = Path.of(ck.meta().data().dir());
            description = ck.meta().model().arch() + " " + ck.meta().model().options();
            trainedLoss = Losses.parse(ck.meta().config().objective().loss());
        } else {
            model = ScriptedModel.load(torchscript);
            dataName = data.nameOr(DataOptions.DEFAULT);
            description = "TorchScript " + torchscript;
        }
        model.to(device);
        model.train(false);
        return new Loaded(model, description, dataName, dataDir, checkpoint == null, trainedLoss);
    }
}
