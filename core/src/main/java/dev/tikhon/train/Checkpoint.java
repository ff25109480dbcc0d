package dev.tikhon.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.tikhon.UserError;
import dev.tikhon.engine.Tensor;
import dev.tikhon.engine.TensorIO;
import dev.tikhon.io.AtomicFiles;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.nn.Module;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * A training checkpoint: a zip of {@code meta.json} (model spec, configuration, position in the
 * run, history) and {@code tensors.bin} (model and optimizer state). Written to a temporary file,
 * flushed to disk, then renamed over the old one, so a kill at any moment leaves either the
 * previous checkpoint or the new one, never a torn file.
 */
public final class Checkpoint {
    public static final String FILE_NAME = "checkpoint.tkn";

    /** A checkpoint file that cannot be read to its end (a copy cut short, a full disk): a command may name its own way out. */
    public static final class Corrupt extends UserError {
        public final Path file;
        public final String detail;

        Corrupt(Path file, Throwable cause) {
            this(file, detail(cause), cause);
        }

        private Corrupt(Path file, String detail, Throwable cause) {
            super(file + ": corrupt or truncated checkpoint (" + detail + "); restore it from a copy, or train it again", cause);
            this.file = file;
            this.detail = detail;
        }

        /** What went wrong in words: the exception's message, or what its kind means where it has none (an EOF's). */
        private static String detail(Throwable e) {
            String m = e.getMessage();
            if (m != null && !m.isBlank()) return m;
            if (e instanceof java.io.EOFException) return "its tensors end before the last one is complete";
            return e.getClass().getSimpleName();
        }
    }

    /**
     * Refuses a model whose parameters or buffers hold NaN or ±Inf, loaded from {@code file} to be used (evaluated,
     * attacked, certified, exported): every result from it would be meaningless (accuracy of a constant classifier,
     * certificates of argmax NaN, a failing SVD). Not for resuming a training run, which diverges by its own rules.
     */
    public static void requireFinite(Path file, Module model) {
        requireFinite(file, model, "a smaller --lr, or --warmup");
    }

    /** As {@link #requireFinite(Path, Module)}, naming {@code remedy} (the options of the training command that wrote it) as the way out. */
    public static void requireFinite(Path file, Module model, String remedy) {
        String bad = model.firstNonFinite();
        if (bad != null) {
            throw new UserError("checkpoint " + file + ": " + bad + "; the run that wrote it diverged (or the file was altered), so "
                    + "nothing computed from it would mean anything: train it again (" + remedy + "), or use an earlier checkpoint");
        }
    }
    private static final String FORMAT = "tikhon-checkpoint";
    private static final int VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * Where a run stands.
     *
     * @param data        which data the model was trained on
     * @param epoch       epochs completed (the next epoch to run is this one)
     * @param batch       batches completed within {@code epoch}
     * @param partial     running sums of the unfinished epoch (loss_sum, correct, count, seconds)
     * @param history     one row per completed epoch
     * @param trainExamples how many training examples it saw (null in checkpoints written before it was recorded): a
     *                      reproduction that trains on a subset reuses the run only for the same subset
     */
    public record Meta(ModelSpec model, TrainConfig config, String objective, DataInfo data, int epoch, int batch,
                       Map<String, Double> partial, List<Map<String, Object>> history, String tikhonVersion,
                       @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
                       Integer trainExamples) {
        /** Without the training-set size. */
        public Meta(ModelSpec model, TrainConfig config, String objective, DataInfo data, int epoch, int batch,
                    Map<String, Double> partial, List<Map<String, Object>> history, String tikhonVersion) {
            this(model, config, objective, data, epoch, batch, partial, history, tikhonVersion, null);
        }
    }

    /** A checkpoint read back: its metadata and the model's and optimizer's tensors. */
    public record Loaded(Meta meta, Map<String, Tensor> model, Map<String, Tensor> optimizer) {}

    private Checkpoint() {}

    public static void save(Path file, Meta meta, Map<String, Tensor> model, Map<String, Tensor> optimizer) throws IOException {
        saveArchive(file, FORMAT, VERSION, meta, model, optimizer);
    }

    /**
     * The checkpoint file layout, shared by every kind of run (classifier, flow): a zip of
     * {@code meta.json} ({"format", "version", "meta"}) and {@code tensors.bin} (model/… and optim/…
     * tensors), written atomically and durably ({@link AtomicFiles}). An {@link java.io.UncheckedIOException} when it
     * cannot be written.
     */
    public static void saveArchive(Path file, String format, int version, Object meta, Map<String, Tensor> model,
                                   Map<String, Tensor> optimizer) throws IOException {
        AtomicFiles.write(file, fileOut -> {
            ZipOutputStream zip = new ZipOutputStream(new BufferedOutputStream(fileOut));
            zip.putNextEntry(new ZipEntry("meta.json"));
            Map<String, Object> head = new LinkedHashMap<>();
            head.put("format", format);
            head.put("version", version);
            head.put("meta", meta);
            zip.write(JSON.writeValueAsBytes(head));
            zip.closeEntry();
            zip.putNextEntry(new ZipEntry("tensors.bin"));
            Map<String, Tensor> all = new LinkedHashMap<>();
            model.forEach((k, v) -> all.put("model/" + k, v));
            optimizer.forEach((k, v) -> all.put("optim/" + k, v));
            DataOutputStream data = new DataOutputStream(zip);
            TensorIO.write(data, all);
            data.flush();
            zip.closeEntry();
            zip.finish();
            zip.flush();
        });
    }

    /** Reads a checkpoint file, or the checkpoint inside a run directory. */
    public static Loaded load(Path fileOrRunDir) {
        Archive a = loadArchive(fileOrRunDir, FILE_NAME, FORMAT, VERSION);
        try {
            return new Loaded(JSON.treeToValue(a.meta(), Meta.class), a.model(), a.optimizer());
        } catch (IOException e) {
            throw new UserError(a.file() + ": cannot read checkpoint metadata: " + e.getMessage(), e);
        }
    }

    /** An archive read back: its metadata (as JSON) and the model's and optimizer's tensors. */
    public record Archive(Path file, com.fasterxml.jackson.databind.JsonNode meta, Map<String, Tensor> model,
                          Map<String, Tensor> optimizer) {}

    /** The archive a path names: the file itself, or {@code fileName} in the run directory it names. */
    public static Path fileIn(Path fileOrRunDir, String fileName) {
        return Files.isDirectory(fileOrRunDir) ? fileOrRunDir.resolve(fileName) : fileOrRunDir;
    }

    /** The command recorded in {@code dir}'s run.json or metrics.json ("kernel fit"), or null when neither names one. */
    private static String recordedCommand(Path dir) {
        for (String name : List.of("run.json", "metrics.json")) {
            Path file = dir.resolve(name);
            if (!Files.isRegularFile(file)) continue;
            try {
                String c = dev.tikhon.report.Json.readTree(file).path("command").asText("");
                if (!c.isBlank()) return c;
            } catch (RuntimeException unreadable) {
                // say what the folder lacks, as before
            }
        }
        return null;
    }

    /** Reads an archive written by {@link #saveArchive}, checking its format name and version. */
    public static Archive loadArchive(Path fileOrRunDir, String fileName, String format, int version) {
        Path file = fileIn(fileOrRunDir, fileName);
        com.fasterxml.jackson.databind.JsonNode meta = null;
        Map<String, Tensor> tensors = null;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file));
             ZipInputStream zip = new ZipInputStream(in)) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                if (e.getName().equals("meta.json")) meta = readMeta(zip.readAllBytes(), file, format, version);
                else if (e.getName().equals("tensors.bin")) tensors = TensorIO.read(new DataInputStream(zip), file.toString());
            }
        } catch (NoSuchFileException e) {
            String other = Files.isDirectory(fileOrRunDir) ? recordedCommand(fileOrRunDir) : null;
            boolean flow = "tikhon-flow-checkpoint".equals(format);
            if (other != null && !(flow ? List.of("flow train") : List.of("train", "smooth")).contains(other)) {   // another command's run folder (kernel fit, certify, ...) was asked whether training had started
                throw new UserError(file + ": no such checkpoint: " + fileOrRunDir + " holds a 'tikhon " + other + "' run, which writes no "
                        + fileName + "; give the folder of a run that does (" + (flow ? "flow train"
                        : "train, smooth, or a reproduction's model") + ")");
            }
            throw new UserError(file + ": no such checkpoint" + (Files.isDirectory(fileOrRunDir)
                    ? " (the run directory has no " + fileName + "; was training started with this --out?)" : ""));
        } catch (ZipException | java.io.EOFException e) {
            throw new Corrupt(file, e);
        } catch (IOException e) {
            throw new UserError(file + ": cannot read checkpoint: " + e.getMessage(), e);
        }
        if (meta == null || tensors == null) {
            throw new UserError(file + ": not a Tikhon checkpoint (missing " + (meta == null ? "meta.json" : "tensors.bin") + ")");
        }
        Map<String, Tensor> model = new LinkedHashMap<>(), optim = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> t : tensors.entrySet()) {
            if (t.getKey().startsWith("model/")) model.put(t.getKey().substring(6), t.getValue().keep());
            else if (t.getKey().startsWith("optim/")) optim.put(t.getKey().substring(6), t.getValue().keep());
        }
        return new Archive(file, meta, model, optim);
    }

    private static com.fasterxml.jackson.databind.JsonNode readMeta(byte[] json, Path file, String format, int version)
            throws IOException {
        var node = JSON.readTree(json);
        String found = node.path("format").asText();
        if (!format.equals(found)) {
            throw new UserError(file + ": not a " + format + " file" + (found.isEmpty() ? "" : " (it is a " + found
                    + "; use the command that reads those)"));
        }
        int v = node.path("version").asInt();
        if (v != version) {
            throw new UserError(file + ": checkpoint format version " + v + " (this Tikhon reads version " + version + ")");
        }
        return node.get("meta");
    }
}
