package dev.tikhon.nn;

import dev.tikhon.engine.Tensor;

/**
 * A trainable tensor of a module. {@code decay} says whether weight decay applies: by the usual
 * convention it does for weight matrices and kernels and not for biases or normalization scales.
 */
public final class Parameter {
    private final String name;
    private final boolean decay;
    private Tensor value;

    Parameter(String name, Tensor value, boolean decay) {
        this.name = name;
        this.decay = decay;
        set(value);
    }

    public String name() { return name; }

    public boolean decay() { return decay; }

    public Tensor value() { return value; }

    /** The accumulated gradient, or null before the first backward pass. */
    public Tensor grad() { return value.grad(); }

    /** Replaces the tensor (dtype or device change); the new tensor is kept alive beyond any scope. */
    void set(Tensor v) {
        this.value = v.keep().requiresGrad(true);
    }

    @Override public String toString() { return name + value; }
}
