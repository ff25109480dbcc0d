package dev.tikhon.attack;

import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.List;

/**
 * Several models as one, for crafting transfer attacks on an ensemble of sources (Liu, Chen, Liu &amp; Song, "Delving
 * into transferable adversarial examples and black-box attacks", ICLR 2017; Tramèr et al., ICLR 2018): the output is
 * log((1/k) Σᵢ softmax(fᵢ(x))), the log of the models' mean class probabilities, so its argmax is the soft-voting
 * prediction and cross-entropy on it is the ensemble's loss. A point that fools several models at once transfers to a
 * further one more often than a point made on one.
 */
public final class MeanOfModels extends Module {
    private final List<Module> models;

    public MeanOfModels(List<Module> models) {
        if (models.isEmpty()) throw new IllegalArgumentException("an ensemble of models needs at least one model");
        this.models = List.copyOf(models);
    }

    @Override public Tensor forward(Tensor x) {
        Tensor sum = null;
        for (Module m : models) {
            Tensor p = m.forward(x).softmax(1);
            sum = sum == null ? p : sum.add(p);
        }
        return sum.div(models.size()).clampMin(1e-12).log();
    }

    @Override public Module train(boolean on) {
        for (Module m : models) m.train(on);
        return super.train(on);
    }

    @Override public String describe() {
        StringBuilder s = new StringBuilder("mean of (");
        for (int i = 0; i < models.size(); i++) s.append(i == 0 ? "" : ", ").append(models.get(i).describe());
        return s.append(')').toString();
    }
}
