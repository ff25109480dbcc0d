package dev.tikhon.engine;

import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.named_parameter_iterator;
import org.bytedeco.pytorch.named_parameter_list;
import org.bytedeco.pytorch.global.torch;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A TorchScript model saved from PyTorch ({@code torch.jit.script(m).save(path)} or
 * {@code torch.jit.trace}). Its forward pass is differentiable and its parameters can be trained
 * in place, so a user's own model can be evaluated, attacked, certified or smoothed.
 */
public final class ScriptModule {
    static {
        Engine.init();
    }

    private final JitModule module;
    private final Path path;

    private ScriptModule(JitModule module, Path path) {
        this.module = module;
        this.path = path;
    }

    /** Loads a TorchScript archive; a missing or foreign file gives a message naming it. */
    public static ScriptModule load(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new EngineException(path + ": no such TorchScript file");
        }
        try {
            JitModule m = torch.load(path.toString());
            return new ScriptModule(m, path);
        } catch (RuntimeException e) {
            String msg = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            throw new EngineException(path + ": not a TorchScript model loadable by libtorch "
                    + Engine.libtorchVersion() + " (" + msg + "); save it with torch.jit.script(model).save(path)", e);
        }
    }

    public Path path() { return path; }

    public Tensor forward(Tensor x) {
        IValueVector in = new IValueVector();
        in.push_back(new IValue(x.t));
        IValue out = module.forward(in);
        if (!out.isTensor()) {
            throw new EngineException(path + ": forward() must return a single tensor of logits, got " + out.tagKind().getString());
        }
        return new Tensor(new org.bytedeco.pytorch.Tensor(out.toTensor()));   // toTensor() is a reference into out, freed with it
    }

    /** Named parameters, in the module's order; training them changes the model in place. */
    public Map<String, Tensor> namedParameters() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        named_parameter_list list = module.named_parameters(true);
        for (named_parameter_iterator it = list.begin(); it.notEquals(list.end()); it = it.increment()) {
            org.bytedeco.pytorch.NamedTensor nt = it.access();
            m.put(nt.name().getString(), new Tensor(new org.bytedeco.pytorch.Tensor(nt.value())));
        }
        return m;
    }

    public void train(boolean on) { module.train(on); }

    public void to(Device device) { module.to(device.toNative()); }

    public void to(DType dtype) { module.to(dtype.scalarType); }

    public void save(Path target) { module.save(target.toString()); }
}
