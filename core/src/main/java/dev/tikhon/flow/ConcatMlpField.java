package dev.tikhon.flow;

import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Linear;

import java.util.ArrayList;
import java.util.List;

/**
 * f(z, t) for low-dimensional data: an MLP whose every layer sees t as one more input (FFJORD's
 * "concat" layers), with a smooth activation between layers (the flow's Jacobian must be smooth
 * for the divergence and the ODE solver).
 */
public final class ConcatMlpField extends TimeField {
    public final int dim;
    private final List<Linear> layers = new ArrayList<>();
    private final Activation activation;

    public ConcatMlpField(int dim, int[] hidden, Activation activation) {
        this.dim = dim;
        this.activation = activation;
        int in = dim;
        int i = 0;
        for (int h : hidden) {
            layers.add(child("layers." + i++, new Linear(in + 1, h)));
            in = h;
        }
        layers.add(child("layers." + i, new Linear(in + 1, dim)));
    }

    @Override public Tensor velocity(double t, Tensor z) {
        Tensor h = z;
        Tensor time = null;
        for (int i = 0; i < layers.size(); i++) {
            if (time == null) time = Tensor.full(t, z.dtype(), z.device(), z.size(0), 1);
            h = layers.get(i).forward(Tensor.cat(List.of(h, time), 1));
            if (i < layers.size() - 1) h = activation.forward(h);
        }
        return h;
    }

    @Override public String describe() {
        StringBuilder s = new StringBuilder("ConcatMLP(" + dim);
        for (int i = 0; i < layers.size() - 1; i++) s.append("→").append(layers.get(i).out);
        return s.append("→").append(dim).append(", ").append(activation.describe()).append(", t at every layer)").toString();
    }
}
