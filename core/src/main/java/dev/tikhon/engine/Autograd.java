package dev.tikhon.engine;

import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.util.ArrayList;
import java.util.List;

/**
 * Reverse-mode derivatives on demand: {@code torch::autograd::grad}, which (unlike backward)
 * leaves every {@code .grad} untouched and works on non-leaf tensors such as an ODE state.
 */
public final class Autograd {
    static {
        Engine.init();
    }

    private Autograd() {}

    /**
     * Gradients of {@code Σ outputs[i]·gradOutputs[i]} with respect to each input.
     *
     * @param gradOutputs the vectors of the vector–Jacobian product, one per output; null for
     *                    scalar outputs (taken as 1)
     * @param createGraph keep the result differentiable (double backprop)
     * @param retainGraph keep the forward graph for a later backward or grad call
     * @return one gradient per input; an input the outputs do not depend on gets zeros
     */
    public static List<Tensor> grad(List<Tensor> outputs, List<Tensor> inputs, List<Tensor> gradOutputs,
                                    boolean createGraph, boolean retainGraph) {
        TensorVector go = gradOutputs == null ? new TensorVector() : Tensor.vector(gradOutputs);
        TensorVector r = torch.grad(Tensor.vector(outputs), Tensor.vector(inputs), go,
                new BoolOptional(retainGraph), createGraph, true /* allow unused */);
        List<Tensor> out = new ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            // get(i) is a view into the vector: take an owning copy before the vector can be freed.
            org.bytedeco.pytorch.Tensor g = new org.bytedeco.pytorch.Tensor(r.get(i));
            out.add(g.defined() ? new Tensor(g) : inputs.get(i).zerosLike());
        }
        return out;
    }

    /** Gradient of a scalar with respect to one input. The graph is retained. */
    public static Tensor grad(Tensor scalarOutput, Tensor input, boolean createGraph) {
        return grad(List.of(scalarOutput), List.of(input), null, createGraph, true).get(0);
    }

    /** The vector–Jacobian product {@code vᵀ ∂output/∂input}, for any (non-leaf) input. */
    public static Tensor vjp(Tensor output, Tensor input, Tensor v, boolean createGraph) {
        return grad(List.of(output), List.of(input), List.of(v), createGraph, true).get(0);
    }

    public static boolean isGradEnabled() {
        return GradMode.is_enabled();
    }

    /** A section in which no autograd graph is recorded: {@code try (var g = Autograd.noGrad()) {...}}. */
    public static Guard noGrad() {
        return new Guard(false);
    }

    /** A section in which autograd records even inside an enclosing no-grad section. */
    public static Guard enableGrad() {
        return new Guard(true);
    }

    /** Restores the previous (thread-local) grad mode on close. */
    public static final class Guard implements AutoCloseable {
        private final boolean previous;

        private Guard(boolean enabled) {
            this.previous = GradMode.is_enabled();
            GradMode.set_enabled(enabled);
        }

        @Override
        public void close() {
            GradMode.set_enabled(previous);
        }
    }
}
