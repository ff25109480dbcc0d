package dev.tikhon.regularize;

import dev.tikhon.attack.Norm;
import dev.tikhon.attack.TradesPerturbation;
import dev.tikhon.engine.Tensor;
import dev.tikhon.loss.Loss;
import dev.tikhon.nn.Module;
import dev.tikhon.train.Objective;
import dev.tikhon.train.ObjectiveSpec;

import java.util.Map;

/**
 * TRADES (Zhang et al., ICML 2019): the clean loss plus β times the KL divergence between the model's output
 * distributions at x and at the worst point of the ε-ball found by {@link TradesPerturbation},
 *
 * <pre>
 * loss = mean ℓ(f(x), y) + β · mean KL(softmax f(x) ‖ softmax f(x'))
 * </pre>
 *
 * The divergence is a smoothness penalty: it asks the output to stay put within ε, whatever the label, so β trades
 * clean accuracy for robustness. As in the authors' code the ascent runs with the model in evaluation mode (batch
 * norm on its running statistics), the loss in the caller's mode, and the divergence is differentiated in both of its
 * arguments. Training accuracy is measured on the clean inputs.
 */
public final class Trades implements Objective {
    /**
     * Its settings: the ascent's norm (linf or l2), radius ε, steps, step size (0: 2.5 ε / steps, as for PGD) and the
     * weight β of the divergence. Defaults: linf, ε 0.1, 10 steps, step 0, β 6 (the paper's CIFAR-10 setting; its
     * MNIST runs used 1).
     */
    public record Settings(String norm, double eps, int steps, double stepSize, double beta) {
        public static Settings parse(RegularizerOptions o) {
            return new Settings(o.text("norm", "linf"), o.number("eps", 0.1), Regularizers.ascentSteps(o, 10, "trades"), o.number("step-size", 0),
                    o.number("beta", 6));
        }
    }

    private final Settings settings;
    private final TradesPerturbation ascent;
    private final Loss loss;

    public Trades(Settings s, Loss loss) {
        if (!(s.beta() >= 0)) throw new IllegalArgumentException("--beta must be ≥ 0, got " + s.beta());
        this.settings = s;
        this.ascent = new TradesPerturbation(Norm.parse(s.norm()), s.eps(), s.steps(),
                s.stepSize() > 0 ? s.stepSize() : 2.5 * s.eps() / s.steps());
        this.loss = loss;
    }

    @Override public Result evaluate(Module model, Tensor x, Tensor y) {
        return evaluateAt(model, x, y, perturb(model, x));
    }

    /** The ascent's point, found with the model in evaluation mode; the model's mode is restored after it. */
    Tensor perturb(Module model, Tensor x) {
        boolean training = model.isTraining();
        model.train(false);
        try {
            return ascent.perturb(model, x, null);
        } finally {
            model.train(training);
        }
    }

    /** The loss at a given adversarial point {@code adv} (detached): what {@link #evaluate} backpropagates. */
    Result evaluateAt(Module model, Tensor x, Tensor y, Tensor adv) {
        Tensor logits = model.forward(x);
        Tensor clean = loss.mean(logits, y);
        Tensor divergence = TradesPerturbation.klDivergence(logits.logSoftmax(1), model.forward(adv.detach()).logSoftmax(1)).mean();
        return new Result(clean.add(divergence, settings.beta()), logits, Map.of("clean", clean, "kl", divergence));
    }

    /** The ascent this objective trains against. */
    public TradesPerturbation ascent() { return ascent; }

    @Override public String describe() {
        return "TRADES (β " + settings.beta() + " · KL at " + ascent.describe() + ")"
                + (loss == Loss.CROSS_ENTROPY ? "" : ", loss " + loss.describe());
    }

    @Override public ObjectiveSpec spec() { return ObjectiveSpec.of("trades", settings, loss.name()); }
}
