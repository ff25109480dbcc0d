package dev.tikhon.optim;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Parameter;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Updates parameters from their accumulated gradients. State (momentum buffers, moment
 * estimates, step counts) is exposed as named tensors so that checkpoints restore it exactly.
 */
public abstract class Optimizer {
    protected final List<Parameter> params;
    protected double lr;
    /**
     * Whether this optimizer's steps may take libtorch's fused kernels ({@link #updateAll}): decided at the first step
     * by {@link FusedUpdateCheck#trusted} for the parameters' device, else one tensor at a time.
     */
    private Boolean fused;

    protected Optimizer(List<Parameter> params, double lr) {
        if (!(lr > 0)) throw new IllegalArgumentException("learning rate must be positive, got " + lr);
        this.params = List.copyOf(params);
        this.lr = lr;
    }

    public final double lr() { return lr; }

    public final void setLr(double lr) { this.lr = lr; }

    /** Drops every parameter's gradient (cheaper than zeroing: the next backward allocates fresh). */
    public final void zeroGrad() {
        for (Parameter p : params) p.value().clearGrad();
    }

    /**
     * One update from the current gradients; parameters without a gradient are left alone. The update's own
     * temporaries are freed here; a step taken outside any {@link Scope} after tensors were made outside one is
     * reported ({@link Scope#checkStep}).
     */
    public final void step() {
        Scope.checkStep(getClass().getSimpleName() + ".step()");
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            beforeStep();
            List<Integer> indices = new ArrayList<>(params.size());
            List<Tensor> grads = new ArrayList<>(params.size());
            for (int i = 0; i < params.size(); i++) {
                Tensor grad = params.get(i).grad();
                if (grad != null) {
                    indices.add(i);
                    grads.add(grad);
                }
            }
            if (fused == null) fused = params.isEmpty() || FusedUpdateCheck.trusted(params.get(0).value().device());
            if (fused) updateAll(indices, grads);
            else updateEach(indices, grads);
            afterStep();
        }
    }

    /**
     * Updates the parameters at {@code indices}, whose gradients are {@code grads}: one by one through {@link #update},
     * unless an optimizer updates them all at once (a fused kernel, taken only where {@link FusedUpdateCheck} found it
     * right on the device).
     */
    protected void updateAll(List<Integer> indices, List<Tensor> grads) {
        updateEach(indices, grads);
    }

    /** Updates the parameters at {@code indices} one by one through {@link #update}. */
    final void updateEach(List<Integer> indices, List<Tensor> grads) {
        for (int k = 0; k < indices.size(); k++) update(indices.get(k), params.get(indices.get(k)), grads.get(k));
    }

    /** Whether this optimizer's steps take the fused kernels: null before its first step. */
    final Boolean usesFusedKernels() { return fused; }

    /**
     * The positions k in {@code indices} split into two groups for fused updates, which take one weight decay per call:
     * those whose parameter {@code decays}, then the others.
     */
    protected final List<List<Integer>> byDecay(List<Integer> indices, java.util.function.Predicate<Parameter> decays) {
        List<Integer> decayed = new ArrayList<>(indices.size()), plain = new ArrayList<>(indices.size());
        for (int k = 0; k < indices.size(); k++) (decays.test(params.get(indices.get(k))) ? decayed : plain).add(k);
        return List.of(decayed, plain);
    }

    /** Updates parameter i in place; {@code grad} may be modified. */
    protected abstract void update(int i, Parameter p, Tensor grad);

    protected void beforeStep() {}

    protected void afterStep() {}

    /** Named state tensors (live references). */
    public abstract Map<String, Tensor> state();

    /** Restores state saved by {@link #state()}. */
    public final void loadState(Map<String, Tensor> saved) {
        Map<String, Tensor> mine = state();
        if (!mine.keySet().equals(saved.keySet())) {
            throw new dev.tikhon.UserError("saved optimizer state does not fit: expected " + mine.keySet().size()
                    + " tensors (" + getClass().getSimpleName() + "), found " + saved.keySet().size());
        }
        try (Autograd.Guard g = Autograd.noGrad()) {
            for (Map.Entry<String, Tensor> e : mine.entrySet()) {
                e.getValue().copy_(saved.get(e.getKey()).to(e.getValue().device(), e.getValue().dtype()));
            }
        }
        afterLoad();
    }

    /** Called once restored state is in place: an optimizer that mirrors some of it on the host reads it back here. */
    protected void afterLoad() {}

    public abstract String describe();
}
