package dev.tikhon.nn;

import dev.tikhon.engine.ScriptModule;
import dev.tikhon.engine.Tensor;

import java.nio.file.Path;
import java.util.Map;

/**
 * A TorchScript model from PyTorch as a Tikhon module: evaluated, attacked, certified, or
 * trained in place like any other. Its parameters and buffers are the TorchScript module's own
 * tensors, so {@link #to} moves them in place, an optimizer updates the weights the script's
 * forward pass uses, and {@link #save} writes the trained weights.
 */
public final class ScriptedModel extends Module {
    private final ScriptModule script;

    public ScriptedModel(ScriptModule script) {
        this.script = script;
        for (Map.Entry<String, Tensor> e : script.namedParameters().entrySet()) {
            // names like "fc.weight" would read as nested modules; keep them flat and recognisable
            adopt(e.getKey().replace('.', '/'), e.getValue());
        }
        for (Map.Entry<String, Tensor> e : script.namedBuffers().entrySet()) buffer(e.getKey().replace('.', '/'), e.getValue());
    }

    public static ScriptedModel load(Path path) {
        return new ScriptedModel(ScriptModule.load(path));
    }

    private void adopt(String name, Tensor value) {
        parameter(name, value, value.dim() > 1);
    }

    @Override public Tensor forward(Tensor x) { return script.forward(x); }

    @Override public Module train(boolean on) {
        script.train(on);
        return super.train(on);
    }

    /** Saves the model, with its current weights, as a TorchScript archive (loaded back onto the CPU). */
    public void save(Path target) { script.save(target); }

    @Override public String describe() { return "TorchScript(" + script.path().getFileName() + ")"; }
}
