package dev.tikhon.transport;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Parameter;

import java.util.ArrayList;
import java.util.List;

/** A scalar potential on R^d, batched: [N, d] → [N]. */
public abstract class Potential extends Module {
    public abstract Tensor value(Tensor x);

    @Override public final Tensor forward(Tensor x) { return value(x); }

    /** Adds the constant c to the potential (in place, outside autograd): its output bias. */
    public abstract void shift(double c);

    /**
     * An MLP d → hidden… → 1. The paper uses ReLU (docs/methods.md §7); a flow needs a smooth one (softplus): the
     * velocity is ∇φₜ and its divergence enters the likelihood, and with ReLU ∇φ jumps across every
     * kink (at t = 0 and t = 1 no heat average smooths it).
     */
    public static Potential mlp(int dim, int[] hidden, Activation activation) { return new Mlp(dim, hidden, activation); }

    /** φ(x) = −½ xᵀAx + bᵀx + c with A symmetric (stored as a full matrix, symmetrised): exact for Gaussian data. */
    public static Potential quadratic(int dim) { return new Quadratic(dim); }

    static final class Mlp extends Potential {
        private final List<Linear> layers = new ArrayList<>();
        private final Activation activation;
        private final int dim;

        Mlp(int dim, int[] hidden, Activation activation) {
            this.dim = dim;
            this.activation = activation;
            int in = dim, i = 0;
            for (int h : hidden) {
                layers.add(child("layers." + i++, new Linear(in, h)));
                in = h;
            }
            layers.add(child("layers." + i, new Linear(in, 1)));
        }

        @Override public Tensor value(Tensor x) {
            Tensor h = x;
            for (int i = 0; i < layers.size(); i++) {
                h = layers.get(i).forward(h);
                if (i < layers.size() - 1) h = activation.forward(h);
            }
            return h.squeeze(1);
        }

        @Override public void shift(double c) {
            try (Autograd.Guard g = Autograd.noGrad()) {
                layers.get(layers.size() - 1).bias().value().add_(c);
            }
        }

        @Override public String describe() {
            StringBuilder s = new StringBuilder("MLP potential(" + dim);
            for (int i = 0; i < layers.size(); i++) s.append("→").append(layers.get(i).out);
            return s.append(", ").append(activation.describe()).append(")").toString();
        }
    }

    static final class Quadratic extends Potential {
        private final Parameter a, b, c;

        Quadratic(int dim) {
            a = parameter("a", Tensor.zeros(dim, dim), true);
            b = parameter("b", Tensor.zeros(dim), false);
            c = parameter("c", Tensor.zeros(1), false);
        }

        @Override public Tensor value(Tensor x) {
            Tensor sym = a.value().add(a.value().t()).mul(0.5);
            return x.matmul(sym).mul(x).sum(1, false).mul(-0.5).add(x.matmul(b.value().unsqueeze(1)).squeeze(1)).add(c.value());
        }

        @Override public void shift(double shift) {
            try (Autograd.Guard g = Autograd.noGrad()) {
                c.value().add_(shift);
            }
        }

        /** The symmetric A, as a d × d array. */
        double[][] matrix() {
            try (Autograd.Guard g = Autograd.noGrad()) {
                double[] v = a.value().add(a.value().t()).mul(0.5).cpu().to(dev.tikhon.engine.DType.FLOAT64).toDoubleArray();
                int d = (int) Math.round(Math.sqrt(v.length));
                double[][] m = new double[d][d];
                for (int i = 0; i < d; i++) System.arraycopy(v, i * d, m[i], 0, d);
                return m;
            }
        }

        @Override public String describe() { return "quadratic potential"; }
    }
}
