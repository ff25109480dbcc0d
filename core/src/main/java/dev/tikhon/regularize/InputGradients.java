package dev.tikhon.regularize;

import dev.tikhon.attack.Pgd;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;
import dev.tikhon.loss.Loss;
import dev.tikhon.nn.Module;

import java.util.List;

/** The per-example loss ℓ(x) and its input gradient ∇ₓℓ, the quantities every penalty here is built on. */
public final class InputGradients {
    /** Which norm of the gradient a penalty controls (the dual of the attack's norm). */
    public enum Dual {
        /** ‖∇ₓℓ‖₂, against ℓ2 attacks. */
        L2,
        /** ‖∇ₓℓ‖₁, against ℓ∞ attacks. */
        L1
    }

    private InputGradients() {}

    /**
     * ℓ(x) per example, on a fresh leaf copy of x so that ∇ₓ can be taken; the graph reaches the
     * parameters too, so the result can also be backpropagated into them.
     */
    public record Evaluated(Tensor input, Tensor logits, Tensor losses) {
        /** ∇ₓ Σℓ, detached; the forward graph is kept for a later backward. */
        public Tensor gradient() {
            return Autograd.grad(List.of(losses.sum()), List.of(input), null, false, true).get(0);
        }

        /** ∇ₓ Σℓ as part of the graph (double backprop). */
        public Tensor differentiableGradient() {
            return Autograd.grad(List.of(losses.sum()), List.of(input), null, true, true).get(0);
        }
    }

    public static Evaluated evaluate(Module model, Loss loss, Tensor x, Tensor y) {
        Tensor input = x.detach().requiresGrad(true);
        Tensor output = model.forward(input);
        return new Evaluated(input, output, loss.perExample(output, y));
    }

    /** Per-example loss at x without any input gradient. */
    public static Tensor losses(Module model, Loss loss, Tensor x, Tensor y) {
        return loss.perExample(model.forward(x), y);
    }

    /**
     * The unit direction of steepest ascent for a dual norm, per example, detached:
     * ℓ2: g/‖g‖₂ (0 where g = 0); ℓ1: sign(g), scaled by {@code signScale}.
     */
    public static Tensor direction(Tensor g, Dual dual, double signScale) {
        if (dual == Dual.L2) return g.div(Pgd.perExample(g.normPerExample(2), g).clampMin(1e-30));
        return g.sign().mul(signScale);
    }

    /** Per-example dual norm of g, shape [N]. */
    public static Tensor norm(Tensor g, Dual dual) {
        return g.normPerExample(dual == Dual.L2 ? 2 : 1);
    }

    /** Input dimension n of a batch (elements per example). */
    public static long dimension(Tensor x) {
        return x.numel() / x.size(0);
    }
}
