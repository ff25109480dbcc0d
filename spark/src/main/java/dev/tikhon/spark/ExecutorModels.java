package dev.tikhon.spark;

import dev.tikhon.engine.Device;
import dev.tikhon.nn.Module;
import dev.tikhon.scaleout.ModelRef;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.function.Function;

/**
 * The models an executor JVM has loaded, kept across tasks so that a model is loaded once per task slot, not once
 * per task. A task borrows an instance for itself alone (tasks of one executor run as threads, and a model's
 * training flag and autograd state are not to be shared) and gives it back.
 */
final class ExecutorModels {
    private static final Map<String, ConcurrentLinkedDeque<Module>> IDLE = new ConcurrentHashMap<>();

    private ExecutorModels() {}

    /** An idle instance of the model under {@code key}, or a newly loaded one; {@code loaded} is told when it was loaded. */
    static Module borrow(String key, ModelRef ref, Function<String, Path> resolve, Device device, Runnable loaded) {
        Module m = IDLE.computeIfAbsent(key, k -> new ConcurrentLinkedDeque<>()).pollFirst();
        if (m != null) return m;
        m = ref.load(resolve);
        m.to(device);
        loaded.run();
        return m;
    }

    static void giveBack(String key, Module m) {
        IDLE.computeIfAbsent(key, k -> new ConcurrentLinkedDeque<>()).addFirst(m);
    }

    /** Forgets every model (the driver's JVM in local mode, when its cluster closes). */
    static void clear() {
        IDLE.clear();
    }

    /** The shipped file's place, size and time: two runs with different models under one name do not mix. */
    static String key(ModelRef ref, Function<String, Path> resolve, Device device) {
        Path p = resolve.apply(ModelRef.name(ref.file()));
        java.io.File f = p.toFile();
        return ref + "|" + p.toAbsolutePath() + "|" + f.length() + "|" + f.lastModified() + "|" + device;
    }
}
