package dev.tikhon.nn;

import dev.tikhon.UserError;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A differentiable function with named parameters, buffers and child modules. Subclasses
 * register what they own in the constructor and implement {@link #forward}.
 */
public abstract class Module {
    private final Map<String, Parameter> params = new LinkedHashMap<>();
    private final Map<String, Tensor[]> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    public abstract Tensor forward(Tensor x);

    protected final Parameter parameter(String name, Tensor value, boolean decay) {
        Parameter p = new Parameter(name, value, decay);
        params.put(name, p);
        return p;
    }

    /** A non-trainable state tensor (batch-norm running statistics); held in a one-slot array so it can be replaced. */
    protected final Tensor[] buffer(String name, Tensor value) {
        Tensor[] slot = {value.keep()};
        buffers.put(name, slot);
        return slot;
    }

    protected final <M extends Module> M child(String name, M module) {
        children.put(name, module);
        return module;
    }

    /** Direct children, in registration order. */
    public final Map<String, Module> children() { return children; }

    /** Every module in the tree, depth first, this one first. */
    public final List<Module> modules() {
        List<Module> out = new ArrayList<>();
        out.add(this);
        for (Module c : children.values()) out.addAll(c.modules());
        return out;
    }

    /** Parameters of the whole tree keyed by dotted path ("layers.0.weight"). */
    public final Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collectParameters("", out);
        return out;
    }

    private void collectParameters(String prefix, Map<String, Parameter> out) {
        for (Map.Entry<String, Parameter> e : params.entrySet()) out.put(prefix + e.getKey(), e.getValue());
        for (Map.Entry<String, Module> e : children.entrySet()) e.getValue().collectParameters(prefix + e.getKey() + ".", out);
    }

    public final List<Parameter> parameters() { return new ArrayList<>(namedParameters().values()); }

    public final long parameterCount() {
        long n = 0;
        for (Parameter p : parameters()) n += p.value().numel();
        return n;
    }

    /** Parameters and buffers by dotted path: what a checkpoint stores. */
    public final Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collectState("", out);
        return out;
    }

    private void collectState(String prefix, Map<String, Tensor> out) {
        for (Map.Entry<String, Parameter> e : params.entrySet()) out.put(prefix + e.getKey(), e.getValue().value());
        for (Map.Entry<String, Tensor[]> e : buffers.entrySet()) out.put(prefix + e.getKey(), e.getValue()[0]);
        for (Map.Entry<String, Module> e : children.entrySet()) e.getValue().collectState(prefix + e.getKey() + ".", out);
    }

    /**
     * The first parameter or buffer (in {@link #stateDict} order) that holds NaN or ±Inf, as "parameter 0.weight holds NaN"
     * or "buffer 1.running_var holds ±Inf"; null when every one is finite.
     */
    public final String firstNonFinite() {
        Map<String, Parameter> params = namedParameters();
        try (dev.tikhon.engine.Scope s = dev.tikhon.engine.Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            for (Map.Entry<String, Tensor> e : stateDict().entrySet()) {
                Tensor t = e.getValue();
                if (t.numel() == 0 || t.allFinite()) continue;
                boolean nan = t.ne(t).sum().item() > 0;   // NaN is the one value unequal to itself
                return (params.containsKey(e.getKey()) ? "parameter " : "buffer ") + e.getKey() + " holds " + (nan ? "NaN" : "±Inf");
            }
        }
        return null;
    }

    /** Copies a state dict into this module; names and shapes must match exactly. */
    public final void loadStateDict(Map<String, Tensor> state) {
        Map<String, Tensor> mine = stateDict();
        if (!mine.keySet().equals(state.keySet())) {
            List<String> missing = new ArrayList<>(mine.keySet());
            missing.removeAll(state.keySet());
            List<String> extra = new ArrayList<>(state.keySet());
            extra.removeAll(mine.keySet());
            throw new UserError("saved state does not fit this model: missing " + missing + ", unexpected " + extra);
        }
        try (Autograd.Guard g = Autograd.noGrad()) {
            for (Map.Entry<String, Tensor> e : mine.entrySet()) {
                Tensor src = state.get(e.getKey());
                if (!Arrays.equals(src.shape(), e.getValue().shape())) {
                    throw new UserError("saved tensor '" + e.getKey() + "' has shape " + Arrays.toString(src.shape())
                            + ", this model needs " + Arrays.toString(e.getValue().shape()));
                }
                e.getValue().copy_(src.to(e.getValue().device(), e.getValue().dtype()));
            }
        }
    }

    public final boolean isTraining() { return training; }

    /** Training mode (batch statistics, dropout) or evaluation mode, for the whole tree. */
    public Module train(boolean on) {
        for (Module m : modules()) m.training = on;
        return this;
    }

    /**
     * Converts every floating-point parameter and buffer to the given type, in place: the tensors keep their
     * identity, so optimizers built before the call and a TorchScript model's own forward pass use the converted ones.
     */
    public final Module to(DType dtype) {
        return convert(t -> t.dtype().isFloatingPoint() ? t.to(dtype) : t);
    }

    /** Moves every parameter and buffer to the device, in place (as {@link #to(DType)}). */
    public final Module to(Device device) {
        return convert(t -> t.to(device));
    }

    private Module convert(java.util.function.UnaryOperator<Tensor> f) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            for (Module m : modules()) {
                for (Parameter p : m.params.values()) moveInPlace(p.value(), f);
                for (Tensor[] b : m.buffers.values()) moveInPlace(b[0], f);
            }
        }
        return this;
    }

    private static void moveInPlace(Tensor t, java.util.function.UnaryOperator<Tensor> f) {
        Tensor moved = f.apply(t);
        if (moved != t) t.setData_(moved);
    }

    /** The device of the first parameter (CPU for a parameterless module). */
    public final Device device() {
        List<Parameter> ps = parameters();
        return ps.isEmpty() ? Device.CPU : ps.get(0).value().device();
    }

    public final DType dtype() {
        List<Parameter> ps = parameters();
        return ps.isEmpty() ? DType.FLOAT32 : ps.get(0).value().dtype();
    }

    public String describe() { return getClass().getSimpleName(); }
}
