package dev.tikhon.transport;

import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.flow.FlowConfig;
import dev.tikhon.flow.FlowTraining;
import dev.tikhon.optim.Adam;
import dev.tikhon.optim.Optimizer;
import dev.tikhon.report.Charts;
import dev.tikhon.report.CsvWriter;
import dev.tikhon.train.Checkpoint;
import dev.tikhon.train.TrainingDivergedException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Alternating stochastic ascent on the entropic dual (SPEC §7): each iteration draws a data batch x
 * (by index, as {@link FlowTraining}), Gaussian points y and heat noise, takes one Adam step on φ
 * (ψ fixed) and then one on ψ (φ fixed, updated), each on −D + α·E_N(ψ + φ^H)². Every iteration runs in
 * its own {@link Scope} and reseeds from (seed, iteration), so a resumed run continues exactly. The
 * checkpoint is a {@link FlowTraining} checkpoint (same file, format and metadata; the optimizer state of
 * both Adams under "phi/" and "psi/"), so {@code flow eval}, {@code flow sample} and
 * {@link dev.tikhon.flow.FlowRuns#load} read it unchanged.
 */
public final class EkTraining {
    private EkTraining() {}

    public static final List<String> HEADER = List.of("iteration", "loss", "dual", "penalty", "mass", "iteration_seconds", "seconds");

    /** One iteration's draws: Gaussian points y [B, d] and heat noise [B, M, d]. */
    static Tensor[] draws(int batch, int dim, int mc, Tensor like) {
        Tensor y = Tensor.randn(like.dtype(), like.device(), batch, dim);
        Tensor noise = Tensor.randn(like.dtype(), like.device(), batch, mc, dim);
        return new Tensor[]{y, noise};
    }

    public static FlowTraining.Outcome run(EkFlow model, FlowConfig config, FlowTraining.Batches batches, Path outDir, boolean resume,
                                           FlowTraining.Listener listener) {
        EkField field = model.field();
        FlowConfig.Ek ek = config.ek();
        double eps = ek.epsilon(), alpha = ek.alpha();
        Optimizer optPhi = new Adam(field.phi().parameters(), config.lr(), 0.9, 0.999, 1e-8, config.weightDecay(), false, false);
        Optimizer optPsi = new Adam(field.psi().parameters(), config.lr(), 0.9, 0.999, 1e-8, config.weightDecay(), false, false);
        Path checkpoint = outDir.resolve(FlowTraining.CHECKPOINT);
        int start = 0;
        double seconds = 0;
        List<Map<String, Object>> history = new ArrayList<>();
        if (resume && Files.exists(checkpoint)) {
            FlowTraining.Loaded l = FlowTraining.load(checkpoint);
            field.loadStateDict(l.model());
            optPhi.loadState(prefixed(l.optimizer(), "phi/"));
            optPsi.loadState(prefixed(l.optimizer(), "psi/"));
            start = l.meta().iteration();
            seconds = l.meta().seconds();
            history.addAll(l.meta().history());
        }
        listener.onStart(start, config.iterations());
        long startNanos = System.nanoTime();
        double secondsBefore = seconds;
        int dim = (int) field.noise().size(1);
        try (CsvWriter csv = FlowTraining.openHistory(outDir, HEADER, history)) {
            for (int it = start; it < config.iterations(); it++) {
                long t0 = System.nanoTime();
                Map<String, Object> row;
                try (Scope step = Scope.open()) {
                    Rng.seed(Rng.derive(config.seed(), 1, it));
                    Tensor x = batches.batch(it);
                    Tensor[] d = draws(config.batchSize(), dim, ek.mcSamples(), x);
                    Ascent r = ascend(field.phi(), field.psi(), optPhi, optPsi, x, d[0], d[1], eps, alpha);
                    if (!Double.isFinite(r.loss()) || !Double.isFinite(r.dual())) {
                        throw new TrainingDivergedException(0, it, Double.isFinite(r.loss()) ? r.dual() : r.loss(),
                                "lower --lr or raise --epsilon; resume from the last checkpoint with --resume");
                    }
                    double iterSeconds = (System.nanoTime() - t0) / 1e9;
                    seconds = secondsBefore + (System.nanoTime() - startNanos) / 1e9;
                    row = new LinkedHashMap<>();
                    row.put("iteration", it + 1);
                    row.put("loss", r.loss());
                    row.put("dual", r.dual());
                    row.put("penalty", r.penalty());
                    row.put("mass", r.mass());
                    row.put("iteration_seconds", iterSeconds);
                    row.put("seconds", seconds);
                }
                history.add(row);
                csv.writeRow(row);
                listener.onIteration(row);
                boolean last = it + 1 == config.iterations();
                if (last || (config.checkpointEvery() > 0 && (it + 1) % config.checkpointEvery() == 0)) {
                    Map<String, Tensor> opt = new LinkedHashMap<>();
                    optPhi.state().forEach((k, v) -> opt.put("phi/" + k, v));
                    optPsi.state().forEach((k, v) -> opt.put("psi/" + k, v));
                    FlowTraining.Meta meta = new FlowTraining.Meta(config, model.unit().name(), it + 1, seconds, history,
                            dev.tikhon.Version.VERSION);
                    try {
                        Checkpoint.saveArchive(checkpoint, FlowTraining.FORMAT, FlowTraining.VERSION, meta, field.stateDict(), opt);
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot write checkpoint " + checkpoint, e);
                    }
                }
            }
        } finally {
            listener.onEnd();
        }
        return new FlowTraining.Outcome(config, history, seconds);
    }

    /** One alternating step: the φ step's loss, then the dual, penalty and coupling mass after the ψ step's evaluation. */
    public record Ascent(double loss, double dual, double penalty, double mass) {}

    /**
     * One iteration of alternating ascent: an Adam step on φ (ψ fixed) and then on ψ (φ fixed, updated),
     * each on −D + α·E_N(ψ + φ^H)², with data x, Gaussian points y and heat noise ([B, M, d] or [M, d]).
     */
    public static Ascent ascend(Potential phi, Potential psi, Optimizer optPhi, Optimizer optPsi, Tensor x, Tensor y, Tensor noise,
                                double eps, double alpha) {
        optPhi.zeroGrad();
        optPsi.zeroGrad();
        EntropicDual.Terms a = EntropicDual.evaluate(phi, psi, x, y, noise, eps, false);
        Tensor lossPhi = a.dual().neg().add(a.penalty().mul(alpha));
        lossPhi.backward();
        optPhi.step();
        optPhi.zeroGrad();
        optPsi.zeroGrad();
        EntropicDual.Terms b = EntropicDual.evaluate(phi, psi, x, y, noise, eps, true);
        Tensor lossPsi = b.dual().neg().add(b.penalty().mul(alpha));
        lossPsi.backward();
        optPsi.step();
        optPsi.zeroGrad();
        return new Ascent(lossPhi.item(), b.dual().item(), b.penalty().item(), Math.exp(b.logMass().item()));
    }

    static Map<String, Tensor> prefixed(Map<String, Tensor> all, String prefix) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        all.forEach((k, v) -> {
            if (k.startsWith(prefix)) out.put(k.substring(prefix.length()), v);
        });
        return out;
    }

    /** dual.png: the dual objective and the coupling's mass over training. */
    public static List<String> historyPlot(Path dir, List<Map<String, Object>> history) {
        int n = history.size();
        double[] it = new double[n], dual = new double[n], mass = new double[n];
        for (int i = 0; i < n; i++) {
            it[i] = ((Number) history.get(i).get("iteration")).doubleValue();
            dual[i] = ((Number) history.get(i).get("dual")).doubleValue();
            mass[i] = ((Number) history.get(i).get("mass")).doubleValue();
        }
        Charts.line(dir.resolve("dual.png"), "Entropic dual D(φ, ψ) (batch estimate)", "iteration", "value",
                List.of(new Charts.Series("dual", it, dual), new Charts.Series("coupling mass", it, mass)));
        return List.of("dual.png");
    }
}
