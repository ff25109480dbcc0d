package dev.tikhon.kernel;

import dev.tikhon.UserError;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Tensor;
import dev.tikhon.engine.TensorIO;
import dev.tikhon.io.AtomicFiles;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.report.Json;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A fitted kernel machine f(x) = φ(x) W + b: φ the kernel against fixed centres (kernel ridge
 * regression, whose centres are the training points and W = α, or the SGD classifier over a
 * subset of centres) or random Fourier features. Outputs are class scores; the prediction is
 * their argmax. Inputs of any shape are flattened and converted to the model's dtype, so the
 * evaluator's float32 image batches work against a float64 model.
 */
public final class KernelModel extends Module {
    public static final String META_FILE = "kernel-model.json", TENSOR_FILE = "kernel-model.bin";

    /**
     * What was fitted, as plain data (saved beside the tensors).
     *
     * @param method     krr, rff (ridge on random features) or sgd
     * @param kernel     {@link Kernel#toMap()}
     * @param features   centres or rff
     * @param count      number of centres or random features
     * @param inputDim   flattened input dimension
     * @param numClasses number of outputs
     * @param bias       whether the head has a bias
     * @param dtype      FLOAT32 or FLOAT64
     * @param details    fit settings and facts (λ, seed, loss, epochs, training size…)
     */
    public record Spec(String method, Map<String, Object> kernel, String features, int count, int inputDim, int numClasses,
                       boolean bias, String dtype, Map<String, Object> details) {}

    private final Spec spec;
    private final Module features;
    private final Linear head;

    KernelModel(Spec spec, Module features) {
        this.spec = spec;
        this.features = child("features", features);
        this.head = child("head", new Linear(spec.count(), spec.numClasses(), spec.bias()));
        this.head.zero();
        to(DType.valueOf(spec.dtype()));
    }

    /** The structure a spec describes, with zero tensors (filled by {@link #load}). */
    static KernelModel empty(Spec spec) {
        Kernel kernel = Kernel.fromMap(spec.kernel());
        DType dtype = DType.valueOf(spec.dtype());
        Module f = spec.features().equals("rff") ? new RandomFourierFeatures(spec.inputDim(), spec.count(), dtype)
                : new KernelFeatures(kernel, spec.count(), spec.inputDim(), dtype);
        return new KernelModel(spec, f);
    }

    public Spec spec() { return spec; }

    public Kernel kernel() { return Kernel.fromMap(spec.kernel()); }

    public Module featureMap() { return features; }

    public Linear head() { return head; }

    /** Sets the head's weights to Wᵀ = coefficientsᵀ ([m, K] coefficients, as a solve returns them). */
    void setCoefficients(Tensor coefficients) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            head.weight().value().copy_(coefficients.t().to(head.weight().value().dtype()));
        }
    }

    @Override public Tensor forward(Tensor x) {
        Tensor flat = x.flatten(1, -1).to(DType.valueOf(spec.dtype()));
        return head.forward(features.forward(flat));
    }

    @Override public String describe() {
        return String.format(Locale.ROOT, "%s: %s, %s %d, %d classes", spec.method(), kernel().describe(), spec.features(),
                spec.count(), spec.numClasses());
    }

    /** The key in {@link Spec#details()} of the SHA-256 of {@code kernel-model.bin} that the JSON was written with. */
    static final String TENSORS_SHA256 = "tensors_sha256";

    /**
     * Writes {@code kernel-model.bin}, then {@code kernel-model.json}, each atomically and durably. The JSON, written
     * last, records the SHA-256 of the tensors, so a kill between the two writes (new tensors beside the old JSON)
     * is caught by {@link #load} instead of pairing one fit's tensors with another's description.
     */
    public void save(Path dir) {
        save(dir, Map.of());
    }

    /**
     * The same, with {@code recorded} added to (or replacing entries of) the spec's details: what the fit's caller knows
     * and the fit does not, such as how its data set was asked for.
     */
    public void save(Path dir, Map<String, Object> recorded) {
        Path tensors = dir.resolve(TENSOR_FILE);
        AtomicFiles.write(tensors, out -> {
            DataOutputStream data = new DataOutputStream(new BufferedOutputStream(out));
            TensorIO.write(data, stateDict());
            data.flush();
        });
        Map<String, Object> details = new LinkedHashMap<>(spec.details());
        details.putAll(recorded);
        details.put(TENSORS_SHA256, AtomicFiles.sha256(tensors));
        Json.write(dir.resolve(META_FILE), new Spec(spec.method(), spec.kernel(), spec.features(), spec.count(), spec.inputDim(),
                spec.numClasses(), spec.bias(), spec.dtype(), details));
    }

    /** Reads a model written by {@link #save} from its directory. */
    public static KernelModel load(Path dir) {
        Path meta = dir.resolve(META_FILE), tensors = dir.resolve(TENSOR_FILE);
        if (!Files.exists(meta)) {
            throw new UserError(dir + ": no " + META_FILE + " (pass the --out directory of 'tikhon kernel fit')");
        }
        Spec spec = Json.read(meta, Spec.class);
        Object sha = spec.details().get(TENSORS_SHA256);
        if (sha != null && Files.exists(tensors) && !sha.equals(AtomicFiles.sha256(tensors))) {
            throw new UserError(tensors + " does not match " + META_FILE + " (a save of the kernel model in " + dir
                    + " was interrupted); fit it again");
        }
        KernelModel m = empty(spec);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(tensors))) {
            Map<String, Tensor> state = TensorIO.read(new DataInputStream(in), tensors.toString());
            m.loadStateDict(state);
        } catch (NoSuchFileException e) {
            throw new UserError(tensors + ": missing (the kernel model in " + dir + " is incomplete; fit it again)");
        } catch (IOException e) {
            throw new UserError(tensors + ": cannot read the kernel model: " + e.getMessage(), e);
        }
        return m;
    }
}
