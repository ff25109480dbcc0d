package dev.tikhon.certify;

import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.nn.Module;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.train.DataInfo;
import dev.tikhon.train.Evaluator;
import dev.tikhon.train.TrainConfig;
import dev.tikhon.train.Trainer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Heat smoothing of a trained model, label-free: n_T implicit Euler steps, each a training run
 * of {@link HeatSmoothing} by the ordinary {@link Trainer} (checkpoints, resume, progress), warm
 * started from the previous step's model with the previous step frozen as f^k. With n_T = 1 the
 * run directory is {@code out}; otherwise step k runs in {@code out/step-k}. With {@code resume},
 * finished steps are loaded and the unfinished one continues from its checkpoint.
 */
public final class HeatSmoother {

    /** @param model v after the last step; {@code steps} one outcome per step */
    public record Outcome(Module model, List<Trainer.Outcome> steps, Evaluator.Result test, double trainSeconds) {}

    private HeatSmoother() {}

    /**
     * @param base      the trained model f⁰, trained in place into v
     * @param fresh     builds another instance of the same model (for the frozen copy f^k)
     * @param spec      names the model in the checkpoints
     * @param train     optimizer, learning rate, batch size and seed; its epochs are ignored
     *                  (the config's epochsPerStep wins)
     * @param listeners a progress listener per step name ("step 1/5"), or null
     */
    public static Outcome run(Module base, Supplier<Module> fresh, ModelSpec spec, HeatConfig heat, TrainConfig train,
                              Dataset data, Dataset test, DataInfo info, Device device, Path out,
                              Function<String, Trainer.Listener> listeners, boolean resume) {
        return run(base, fresh, spec, heat, train, data, test, info, device, out, listeners, resume, false);
    }

    /**
     * As above; with {@code onlySameSettings}, a step's checkpoint is continued or reused only when it was trained with
     * the same settings ({@link Trainer#onlySameSettings}), as a reproduction needs.
     */
    public static Outcome run(Module base, Supplier<Module> fresh, ModelSpec spec, HeatConfig heat, TrainConfig train,
                              Dataset data, Dataset test, DataInfo info, Device device, Path out,
                              Function<String, Trainer.Listener> listeners, boolean resume, boolean onlySameSettings) {
        Module current = base;
        current.to(device);
        List<Trainer.Outcome> outcomes = new ArrayList<>();
        double seconds = 0;
        Evaluator.Result last = null;
        for (int k = 0; k < heat.steps(); k++) {
            Module frozen = fresh.get();
            frozen.loadStateDict(current.stateDict());
            frozen.to(device);
            frozen.train(false);
            TrainConfig c = TrainConfig.builder().epochs(heat.epochsPerStep()).batchSize(train.batchSize())
                    .optimizer(train.optimizer()).lr(train.lr()).momentum(train.momentum()).nesterov(train.nesterov())
                    .weightDecay(train.weightDecay()).schedule(train.schedule()).seed(train.seed() + k)
                    .checkpointEvery(train.checkpointEvery()).evalBatchSize(train.evalBatchSize()).objective(heat.toSpec())
                    .build();
            Path dir = heat.steps() == 1 ? out : out.resolve("step-" + (k + 1));
            String name = heat.steps() == 1 ? "smooth" : "step " + (k + 1) + "/" + heat.steps();
            Module start = current;
            Trainer t = new Trainer(spec, new HeatSmoothing(heat, frozen), c, data, null, test, info, device, dir,
                    listeners == null ? null : listeners.apply(name)).startFrom(() -> start);
            Trainer.Outcome o = (onlySameSettings ? t.onlySameSettings() : t).run(resume);
            outcomes.add(o);
            seconds += o.trainSeconds();
            current = o.model();
            last = o.test();
        }
        return new Outcome(current, outcomes, last, seconds);
    }
}
