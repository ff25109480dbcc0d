package dev.tikhon.nn;

import dev.tikhon.engine.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** Layers applied in order; children are named "0", "1", …. */
public class Sequential extends Module {
    private final List<Module> layers = new ArrayList<>();

    public Sequential(Module... layers) {
        for (Module m : layers) add(m);
    }

    public final Sequential add(Module m) {
        child(Integer.toString(layers.size()), m);
        layers.add(m);
        return this;
    }

    public final List<Module> layers() { return layers; }

    @Override public Tensor forward(Tensor x) {
        for (Module m : layers) x = m.forward(x);
        return x;
    }

    @Override public String describe() {
        return layers.stream().map(Module::describe).collect(Collectors.joining(" → "));
    }
}
