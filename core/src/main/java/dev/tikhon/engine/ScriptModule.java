package dev.tikhon.engine;

import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.named_buffer_iterator;
import org.bytedeco.pytorch.named_buffer_list;
import org.bytedeco.pytorch.named_parameter_iterator;
import org.bytedeco.pytorch.named_parameter_list;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A TorchScript model saved from PyTorch ({@code torch.jit.script(m).save(path)} or
 * {@code torch.jit.trace}). Its forward pass is differentiable and its parameters can be trained
 * in place, so a user's own model can be evaluated, attacked, certified or smoothed. It is loaded onto
 * the CPU whatever device it was saved from; {@code Module.to} moves its parameters and buffers in place.
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
            JitModule m = torch.load(path.toString(), new DeviceOptional(Device.CPU.toNative()), false);
            return new ScriptModule(m, path);
        } catch (RuntimeException e) {
            String msg = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            throw new EngineException(path + ": not a TorchScript model loadable by libtorch "
                    + Engine.libtorchVersion() + " (" + msg + "); save it with torch.jit.script(model).save(path)", e);
        }
    }

    public Path path() { return path; }

    /** The forward pass; a libtorch failure (shapes, devices) becomes an {@link EngineException} naming the model. */
    public Tensor forward(Tensor x) {
        IValueVector in = new IValueVector();
        in.push_back(new IValue(x.t));
        IValue out;
        try {
            out = module.forward(in);
        } catch (RuntimeException e) {
            String msg = String.valueOf(e.getMessage()).lines().filter(l -> !l.isBlank()).findFirst().orElse("");
            throw new EngineException(path + ": forward failed on input " + x + ": " + msg, e);
        }
        if (!out.isTensor()) {
            throw new EngineException(path + ": forward() must return a single tensor of logits, got " + out.tagKind().getString());
        }
        return new Tensor(new org.bytedeco.pytorch.Tensor(out.toTensor()));   // toTensor() is a reference into out, freed with it
    }

    /** Named parameters, in the module's order: the module's own tensors, so training them changes the model in place. */
    public Map<String, Tensor> namedParameters() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        named_parameter_list list = module.named_parameters(true);
        for (named_parameter_iterator it = list.begin(); it.notEquals(list.end()); it = it.increment()) {
            org.bytedeco.pytorch.NamedTensor nt = it.access();
            m.put(nt.name().getString(), new Tensor(new org.bytedeco.pytorch.Tensor(nt.value())));
        }
        return m;
    }

    /** Named buffers (batch-norm running statistics), in the module's order: the module's own tensors. */
    public Map<String, Tensor> namedBuffers() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        named_buffer_list list = module.named_buffers(true);
        for (named_buffer_iterator it = list.begin(); it.notEquals(list.end()); it = it.increment()) {
            org.bytedeco.pytorch.NamedTensor nt = it.access();
            m.put(nt.name().getString(), new Tensor(new org.bytedeco.pytorch.Tensor(nt.value())));
        }
        return m;
    }

    public void train(boolean on) { module.train(on); }

    /** Saves the archive atomically (a temporary file next to {@code target}, then a rename). */
    public void save(Path target) {
        Path abs = target.toAbsolutePath();
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
        try {
            module.save(tmp.toString());
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the first failure is the one to report
            }
            throw new EngineException(target + ": cannot save the TorchScript model: " + e.getMessage(), e);
        }
    }
}
