package dev.tikhon.transport;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.flow.FlowConfig;
import dev.tikhon.flow.FlowTraining;
import dev.tikhon.optim.Adam;
import dev.tikhon.optim.Optimizer;
import dev.tikhon.report.Charts;
import dev.tikhon.train.TrainingDivergedException;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Alternating stochastic ascent on the entropic dual (docs/methods.md §7): each iteration draws a data batch x
 * (by index, as {@link FlowTraining}), Gaussian points y and heat noise, takes one Adam step on φ
 * (ψ fixed) and then one on ψ (φ fixed, updated), each on −D + α·E_N(ψ + φ^H)². Every iteration runs in
 * its own {@link Scope} and reseeds from (seed, iteration), so a resumed run continues exactly. The
 * checkpoint is a {@link FlowTraining} checkpoint (same file, format and metadata; the optimizer state of
 * both Adams under "phi/" and "psi/"), so {@code flow eval}, {@code flow sample} and
 * {@code pipeline.FlowRuns.load} read it unchanged.
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
        Optimizer optPhi = new Adam(field.phi().parameters(), config.training().lr(), 0.9, 0.999, 1e-8, config.training().weightDecay(), false, false);
        Optimizer optPsi = new Adam(field.psi().parameters(), config.training().lr(), 0.9, 0.999, 1e-8, config.training().weightDecay(), false, false);
        int dim = (int) field.noise().size(1);
        FlowTraining.OptimizerState both = new FlowTraining.OptimizerState() {
            @Override public Map<String, Tensor> state() {
                Map<String, Tensor> opt = new LinkedHashMap<>();
                optPhi.state().forEach((k, v) -> opt.put("phi/" + k, v));
                optPsi.state().forEach((k, v) -> opt.put("psi/" + k, v));
                return opt;
            }

            @Override public void load(Map<String, Tensor> saved) {
                optPhi.loadState(prefixed(saved, "phi/"));
                optPsi.loadState(prefixed(saved, "psi/"));
            }
        };
        return FlowTraining.loop(field, model.unit().name(), both, config, batches, outDir, resume, listener, HEADER, (it, x) -> {
            Tensor[] d = draws(config.training().batchSize(), dim, ek.mcSamples(), x);
            Ascent r = ascend(field.phi(), field.psi(), optPhi, optPsi, x, d[0], d[1], eps, alpha, ek.profiled());
            if (!Double.isFinite(r.loss()) || !Double.isFinite(r.dual())) {
                throw TrainingDivergedException.atIteration(it, Double.isFinite(r.loss()) ? r.dual() : r.loss(),
                        "lower --lr or raise --epsilon");
            }
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("loss", r.loss());
            row.put("dual", r.dual());
            row.put("penalty", r.penalty());
            row.put("mass", r.mass());
            return row;
        });
    }

    /**
     * One alternating step: the φ step's loss, then the dual, the twin penalty and the coupling mass ∫π on the
     * iteration's batch (for the profiled form: after the ψ step and before the constant is set, so the mass
     * shows how far one step moved it from 1, while dual and penalty are those of the normalised pair).
     */
    public record Ascent(double loss, double dual, double penalty, double mass) {}

    /**
     * One iteration of alternating ascent: an Adam step on φ (ψ fixed) and then on ψ (φ fixed, updated),
     * each on −D + α·E_N(ψ + φ^H)², with data x, Gaussian points y and heat noise ([B, M, d] or [M, d]).
     *
     * <p>{@code profiled}: the steps differentiate the profiled dual E φ + E ψ − ε log ∫π, i.e. D maximised
     * over the constant c of ψ + c (D is concave in c with maximum at c = −ε log ∫π, where both are equal), and
     * after the ψ step that maximising constant is added to ψ exactly, computed on the same batch. The
     * potentials' maximiser is the same as D's (up to the constant, which this sets); the gradient of the mass
     * term becomes a self-normalised weighted mean, which neither vanishes when the mass estimate is tiny nor
     * explodes when one heat draw dominates it (docs/ek.md: the paper's form, {@code profiled = false},
     * collapses on the toy sets).
     */
    public static Ascent ascend(Potential phi, Potential psi, Optimizer optPhi, Optimizer optPsi, Tensor x, Tensor y, Tensor noise,
                                double eps, double alpha, boolean profiled) {
        optPhi.zeroGrad();
        optPsi.zeroGrad();
        EntropicDual.Terms a = EntropicDual.evaluate(phi, psi, x, y, noise, eps, false);
        Tensor lossPhi = (profiled ? a.profiled() : a.dual()).neg().add(a.penalty().mul(alpha));
        lossPhi.backward();
        optPhi.step();
        optPhi.zeroGrad();
        optPsi.zeroGrad();
        EntropicDual.Terms b = EntropicDual.evaluate(phi, psi, x, y, noise, eps, true);
        Tensor lossPsi = (profiled ? b.profiled() : b.dual()).neg().add(b.penalty().mul(alpha));
        lossPsi.backward();
        optPsi.step();
        optPsi.zeroGrad();
        if (!profiled) return new Ascent(lossPhi.item(), b.dual().item(), b.penalty().item(), Math.exp(b.logMass().item()));
        try (Autograd.Guard g = Autograd.noGrad()) {
            Tensor phiX = phi.value(x), psiY = psi.value(y), phiH = b.phiH().detach();
            double logMass = psiY.add(phiH).div(eps).logsumexp(0, false).sub(Math.log(y.size(0))).item();
            double c = -eps * logMass;
            psi.shift(c);
            double dual = phiX.mean().item() + psiY.mean().item() + c;   // = D(φ, ψ + c) = the profiled dual
            double penalty = psiY.add(c).add(phiH).square().mean().item();
            return new Ascent(lossPhi.item(), dual, penalty, Math.exp(logMass));
        }
    }

    static Map<String, Tensor> prefixed(Map<String, Tensor> all, String prefix) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        all.forEach((k, v) -> {
            if (k.startsWith(prefix)) out.put(k.substring(prefix.length()), v);
        });
        return out;
    }

    /**
     * dual.png (the dual objective) and mass.png (the coupling's mass ∫π, for the profiled form as it was before the constant was
     * reset to make it 1) over training: two charts, as the dual (often ~1e-3) on the mass's axis (~1) would be a flat line.
     */
    public static List<String> historyPlot(Path dir, List<Map<String, Object>> history) {
        int n = history.size();
        double[] it = new double[n], dual = new double[n], mass = new double[n];
        for (int i = 0; i < n; i++) {
            it[i] = ((Number) history.get(i).get("iteration")).doubleValue();
            dual[i] = ((Number) history.get(i).get("dual")).doubleValue();
            mass[i] = ((Number) history.get(i).get("mass")).doubleValue();
        }
        Charts.line(dir.resolve("dual.png"), "Entropic dual D(φ, ψ) (batch estimate)", "iteration", "dual",
                List.of(new Charts.Series("dual", it, dual)));
        Charts.line(dir.resolve("mass.png"), "Coupling mass ∫π (batch estimate; profiled dual: before the reset to 1)", "iteration",
                "mass", List.of(new Charts.Series("mass (before the reset)", it, mass)));
        return List.of("dual.png", "mass.png");
    }
}
