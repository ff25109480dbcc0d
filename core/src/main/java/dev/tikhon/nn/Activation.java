package dev.tikhon.nn;

import dev.tikhon.engine.Tensor;

import java.util.Locale;

/** Pointwise nonlinearities, as parameterless modules. */
public final class Activation extends Module {
    public enum Kind { RELU, SOFTPLUS, SMOOTH_RELU, TANH, SIGMOID, IDENTITY }

    private final Kind kind;

    public Activation(Kind kind) { this.kind = kind; }

    public static Activation relu() { return new Activation(Kind.RELU); }

    public static Activation parse(String s) {
        switch (s.toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "relu": return new Activation(Kind.RELU);
            case "softplus": return new Activation(Kind.SOFTPLUS);
            case "smooth-relu": case "smoothrelu": return new Activation(Kind.SMOOTH_RELU);
            case "tanh": return new Activation(Kind.TANH);
            case "sigmoid": return new Activation(Kind.SIGMOID);
            case "identity": case "none": return new Activation(Kind.IDENTITY);
            default: throw new IllegalArgumentException("unknown activation '" + s + "': use relu, softplus, smooth-relu, tanh, sigmoid");
        }
    }

    public Kind kind() { return kind; }

    @Override public Tensor forward(Tensor x) {
        switch (kind) {
            case RELU: return x.relu();
            case SOFTPLUS: return x.softplus(1, 20);
            case SMOOTH_RELU: return smoothRelu(x);
            case TANH: return x.tanh();
            case SIGMOID: return x.sigmoid();
            case IDENTITY: return x;
            default: throw new AssertionError(kind);
        }
    }

    /**
     * The C²-smooth ReLU of docs/methods.md §3 (Finlay & Oberman's C-bound needs a bounded Hessian):
     * relu(x) for |x| ≥ ½, and −½(x+½)⁴ + (x+½)³ on |x| &lt; ½. Value, slope and curvature match at ±½.
     */
    public static Tensor smoothRelu(Tensor x) {
        Tensor u = x.add(0.5);
        Tensor poly = u.pow(3).sub(u.pow(4).mul(0.5));
        Tensor inner = x.abs().lt(0.5);
        return Tensor.where(inner, poly, x.relu());
    }

    @Override public String describe() { return kind.name().toLowerCase(Locale.ROOT).replace('_', '-'); }
}
