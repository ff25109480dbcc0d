package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.robustness.RobustnessEvaluation.Transfers;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** {@code --transfer-from}: transfer attacks crafted on other models, after the white-box members (docs/robustness.md). */
final class TransferOptions {
    @Option(names = "--transfer-from", paramLabel = "MODEL[,MODEL…]", split = ",",
            description = "Also attack with points crafted on these source models and scored on the model under attack (transfer attacks, "
                    + "the check for gradient masking): each a Tikhon checkpoint or run directory, an .onnx file, or a TorchScript file "
                    + "(.pt, .pth, .ts). They run after the white-box members, each on the points those missed; a point only they break "
                    + "is reported as possible gradient masking. With --attack none they are the only attacks.")
    List<Path> from;

    @Option(names = "--transfer-attack", paramLabel = "NAME", defaultValue = "pgd",
            description = "The attack run on each source: pgd or fgsm keep their last iterate (the ball's highest-loss point on the source, "
                    + "the classic transfer attack); any other registered attack gives the point it finds. Default: ${DEFAULT-VALUE}.")
    String attack;

    @Option(names = "--transfer-confidence", paramLabel = "KAPPA", defaultValue = "0",
            description = "Carlini–Wagner's confidence κ for --transfer-attack cw or cw-t: the source's margin the points must reach; "
                    + "larger κ transfers better (Carlini & Wagner 2017). Default: ${DEFAULT-VALUE}.")
    double confidence;

    @Option(names = "--transfer-fused",
            description = "Craft on all --transfer-from models at once, as one model (the log of their mean softmax; Liu et al. 2017): one "
                    + "member transfer-ATTACK:A+B+… instead of one per source. Points that fool several models transfer more often.")
    boolean fused;

    /** What {@link #load} loaded, for the report's header: the crafting attack and each source's name and model. */
    private final java.util.Map<String, Object> loaded = new java.util.LinkedHashMap<>();

    boolean enabled() { return from != null && !from.isEmpty(); }

    /** The report's description of the transfer attacks (empty before {@link #load} or without --transfer-from). */
    java.util.Map<String, Object> describe() { return loaded; }

    /**
     * Before anything is written: fails on options that need --transfer-from without it, on a run that cannot carry it, on
     * a missing source, and on a crafting attack the threat norm or the confidence rule out.
     */
    void check(boolean spark, dev.tikhon.attack.Norm norm) {
        if (!enabled()) {
            if (!attack.equals("pgd") || confidence != 0 || fused) {
                throw new UserError("--transfer-attack, --transfer-confidence and --transfer-fused configure --transfer-from MODEL: add it, or drop them");
            }
            return;
        }
        if (fused && from.size() < 2) throw new UserError("--transfer-fused crafts on several --transfer-from models at once: give two or more, or drop it");
        if (spark) throw new UserError("--transfer-from runs on this machine only (its source models are not sent to executors): drop --spark, or --transfer-from");
        for (Path p : from) {
            if (!Files.exists(p)) throw new UserError("--transfer-from " + p + ": no such file or directory (a checkpoint, run directory, .onnx or TorchScript file)");
        }
        Transfers.check(attack.toLowerCase(Locale.ROOT), norm, confidence);
    }

    /** The source models, on {@code device} in evaluation mode, each checked against the data; none without --transfer-from. */
    Transfers load(Device device, Dataset set, String dataName) {
        if (!enabled()) return Transfers.none();
        List<Transfers.Source> sources = new ArrayList<>();
        java.util.Map<String, String> described = new java.util.LinkedHashMap<>();
        Set<String> names = new HashSet<>();
        for (Path p : from) {
            ModelSource.Loaded model = source(p).load(device);
            model.checkFitsAsSource(set, dataName, "--transfer-from");   // its fix is another source, not other --data
            String name = nameOf(p);
            for (int i = 2; !names.add(name); i++) name = nameOf(p) + "-" + i;
            System.out.println("transfer source " + name + ": " + model.description());
            sources.add(new Transfers.Source(name, model.model()));
            described.put(name, model.description() + " (" + p + ")");
        }
        if (fused) {
            String name = String.join("+", sources.stream().map(Transfers.Source::name).toList());
            sources = List.of(new Transfers.Source(name, new dev.tikhon.attack.MeanOfModels(sources.stream().map(Transfers.Source::model).toList())));
            loaded.put("fused", true);
        }
        loaded.put("attack", attack.toLowerCase(Locale.ROOT));
        if (confidence > 0) loaded.put("confidence", confidence);
        loaded.put("sources", described);
        return new Transfers(attack.toLowerCase(Locale.ROOT), confidence, sources);
    }

    /** A model source for a path: an ONNX or TorchScript file by its extension, else a checkpoint or run directory. */
    static ModelSource source(Path p) {
        ModelSource s = new ModelSource();
        String file = p.getFileName().toString().toLowerCase(Locale.ROOT);
        if (file.endsWith(".onnx")) s.which.onnx = p;
        else if (file.endsWith(".pt") || file.endsWith(".pth") || file.endsWith(".ts")) s.which.torchscript = p;
        else s.which.checkpoint = p;
        return s;
    }

    /** The name reports give a source: its run directory's (for a checkpoint.tkn, the folder holding it) or file's name. */
    static String nameOf(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        String file = abs.getFileName() == null ? "source" : abs.getFileName().toString();
        if (file.equals("checkpoint.tkn") && abs.getParent() != null && abs.getParent().getFileName() != null) {
            return abs.getParent().getFileName().toString();
        }
        return file;
    }
}
