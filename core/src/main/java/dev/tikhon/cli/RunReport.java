package dev.tikhon.cli;

import dev.tikhon.Version;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Engine;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.train.DataInfo;
import dev.tikhon.train.Evaluator;
import dev.tikhon.train.Objective;
import dev.tikhon.train.TrainConfig;
import dev.tikhon.train.Trainer;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The metrics.json layouts the commands share. */
final class RunReport {
    private RunReport() {}

    /** When the command now running began ({@link Main#execute} sets it); null outside a command. */
    private static volatile Instant commandStarted;

    /** Marks the start of a command: every header until {@link #commandEnded} gives it as "started". */
    static void commandStarted(Instant at) { commandStarted = at; }

    static void commandEnded() { commandStarted = null; }

    /** The start of the command now running, or now when none is marked (a header built outside {@link Main#execute}). */
    static Instant started() {
        Instant at = commandStarted;
        return at != null ? at : Instant.now();
    }

    static Map<String, Object> header(String command, Device device) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", command);
        m.put("tikhon_version", Version.VERSION);
        m.put("started", started().toString());   // when the command began, not when its report is written
        m.put("finished", Instant.now().toString());   // the end time: RunDirectory.writeMetrics sets it when the metrics are written
        m.put("device", device.toString());
        m.put("engine", Engine.describe());
        return m;
    }

    static Map<String, Object> trainingMetrics(String command, ModelSpec spec, Trainer.Outcome o, TrainConfig config,
                                               Objective objective, DataInfo data, Device device, double wallSeconds) {
        Map<String, Object> m = header(command, device);
        m.put("data", data);
        m.put("model", spec);
        m.put("parameters", o.model().parameterCount());
        m.put("objective", objective.describe());
        m.put("config", config);
        Map<String, Object> last = o.history().isEmpty() ? Map.of() : o.history().get(o.history().size() - 1);
        Map<String, Object> fin = new LinkedHashMap<>();
        for (String k : List.of("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc")) {
            if (last.containsKey(k)) fin.put(k, last.get(k));
        }
        m.put("final", fin);
        m.put("epochs", o.history().size());
        m.put("train_seconds", o.trainSeconds());
        m.put("wall_seconds", wallSeconds);
        m.put("steps_per_second", o.stepsPerSecond());
        m.put("resumed", o.resumed());
        if (o.test() != null) m.put("test", evaluation(o.test()));
        return m;
    }

    static Map<String, Object> evaluation(Evaluator.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("n", r.n());
        m.put("loss", r.loss());
        m.put("accuracy", r.accuracy());
        m.put("per_class_accuracy", r.perClassAccuracy());
        m.put("seconds", r.seconds());
        m.put("ms_per_example", 1000 * r.seconds() / r.n());
        return m;
    }
}
