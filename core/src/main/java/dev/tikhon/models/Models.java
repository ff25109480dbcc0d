package dev.tikhon.models;

import dev.tikhon.UserError;
import dev.tikhon.farkas.FarkasNet;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Conv2d;
import dev.tikhon.nn.Init;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Normalize;
import dev.tikhon.nn.Pool;
import dev.tikhon.nn.ResidualBlock;
import dev.tikhon.nn.Sequential;
import dev.tikhon.nn.BatchNorm2d;
import dev.tikhon.onnx.OnnxImport;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The model zoo: builds a {@link Module} from a {@link ModelSpec}. */
public final class Models {
    public static final List<String> ARCHITECTURES = List.of("mlp", "cnn", "resnet", "farkas-resnet");

    private Models() {}

    /** Builds the model and initializes it with the spec's {@code init} and {@code zero_last} options. */
    public static Module build(ModelSpec spec) {
        if (spec.arch().equals(ONNX)) return withNormalization(spec, imported(spec));
        Module m;
        switch (spec.arch()) {
            case "mlp": m = mlp(spec); break;
            case "cnn": m = smallCnn(spec); break;
            case "resnet": m = resnet(spec); break;
            case "farkas-resnet": m = farkasResnet(spec); break;
            default: throw new UserError("unknown model '" + spec.arch() + "': use one of " + ARCHITECTURES);
        }
        Init.apply(m, Init.parse(spec.string("init", "standard")), spec.bool("zero_last", false));
        return withNormalization(spec, m);
    }

    /**
     * The architecture of a model read from an ONNX file (option {@code file}: its path), with the weights the file holds:
     * {@code train --onnx} starts from them, and a checkpoint of it names the file for its layers.
     */
    public static final String ONNX = "onnx";

    private static Module imported(ModelSpec spec) {
        Object file = spec.options().get("file");
        if (file == null) throw new UserError("a model of architecture onnx without its file name");
        return OnnxImport.load(java.nio.file.Path.of(file.toString())).model();
    }

    /** The spec's option recording an input normalization ({@link Normalize.Stats#toOption()}); absent: none. */
    public static final String NORMALIZE = "normalize";

    /** The input normalization the spec records, or null. */
    public static Normalize.Stats normalization(ModelSpec spec) {
        return Normalize.Stats.fromOption(spec.options().get(NORMALIZE));
    }

    /** The same spec with {@code stats} recorded as its input normalization (null: none). */
    public static ModelSpec withNormalization(ModelSpec spec, Normalize.Stats stats) {
        Map<String, Object> o = new LinkedHashMap<>(spec.options());
        if (stats == null) o.remove(NORMALIZE);
        else o.put(NORMALIZE, stats.toOption());
        return new ModelSpec(spec.arch(), spec.inputShape(), spec.numClasses(), o);
    }

    /**
     * {@code model} behind the spec's input normalization, if it records one: the normalization becomes the first
     * layer of a sequential model (so the Lipschitz bounds, Lipschitz-margin training and the verifiers still see one
     * chain ending in the classifier), else the first of a two-layer {@link Sequential} around the model (a TorchScript
     * model).
     */
    public static Module withNormalization(ModelSpec spec, Module model) {
        Normalize.Stats stats = normalization(spec);
        if (stats == null) return model;
        if (!spec.inputShape().isEmpty() && spec.inputShape().get(0) != stats.channels()) {
            throw new UserError("--normalize gives " + stats.channels() + " channel(s) but the model takes inputs of shape "
                    + spec.inputShape() + "; give one mean and std per channel");
        }
        Normalize norm = new Normalize(stats);
        if (model instanceof Sequential q) {   // mlp, cnn, resnet, farkas-resnet (already initialized: zero-last is done)
            ZeroLastSequential s = new ZeroLastSequential(norm);
            for (Module layer : q.layers()) s.add(layer);
            return s;
        }
        return new Sequential(norm, model);
    }

    /** Default options per architecture, merged under the user's. */
    public static ModelSpec spec(String arch, List<Long> inputShape, int numClasses, Map<String, Object> userOptions) {
        Map<String, Object> o = new LinkedHashMap<>();
        switch (arch) {
            case "mlp": o.put("hidden", List.of(512, 256)); o.put("activation", "relu"); break;
            case "cnn": o.put("activation", "relu"); break;
            case "resnet": o.put("depth", 20); o.put("width", 16); o.put("batch_norm", true); break;
            case "farkas-resnet": o.put("depth", 20); o.put("width", 16); o.put("block", "basic"); break;
            default: throw new UserError("unknown model '" + arch + "': use one of " + ARCHITECTURES);
        }
        o.put("init", "standard");
        o.put("zero_last", false);
        java.util.Set<String> known = new java.util.LinkedHashSet<>(o.keySet());
        known.add(NORMALIZE);
        if (arch.equals("farkas-resnet")) known.add("batch_norm");
        for (String key : userOptions.keySet()) {
            if (!known.contains(key)) {   // a misspelled option would silently build the default model
                throw new UserError("unknown option '" + key + "' for model " + arch + ": its options are " + String.join(", ", known));
            }
        }
        o.putAll(userOptions);
        Object norm = o.get(NORMALIZE);
        if (norm instanceof Normalize.Stats st) o.put(NORMALIZE, st.forChannels(inputShape.get(0).intValue(), "the data").toOption());
        return new ModelSpec(arch, inputShape, numClasses, o);
    }

    /** Flatten → (Linear → activation)* → Linear. Works on any input shape. */
    static Module mlp(ModelSpec spec) {
        Sequential s = new ZeroLastSequential();
        s.add(Pool.flatten());
        int in = (int) spec.inputSize();
        for (int h : spec.integers("hidden", List.of(512, 256))) {
            s.add(new Linear(in, h));
            s.add(Activation.parse(spec.string("activation", "relu")));
            in = h;
        }
        s.add(new Linear(in, spec.numClasses()));
        return s;
    }

    /**
     * The small CNN of the input-gradient regularization experiments: conv3×3(32) → act →
     * conv3×3(64) → act → maxpool 2 → fc(128) → act → fc(K). 28×28 inputs give 64·12·12 features.
     */
    static Module smallCnn(ModelSpec spec) {
        List<Long> shape = spec.inputShape();
        if (shape.size() != 3) throw new UserError("model cnn needs image inputs [C,H,W], got " + shape);
        int c = shape.get(0).intValue(), h = shape.get(1).intValue(), w = shape.get(2).intValue();
        if (h < 6 || w < 6) throw new UserError("model cnn needs images of at least 6×6, got " + h + "×" + w);
        String act = spec.string("activation", "relu");
        int features = 64 * ((h - 4) / 2) * ((w - 4) / 2);
        return new ZeroLastSequential(
                new Conv2d(c, 32, 3, 1, 0, true), Activation.parse(act),
                new Conv2d(32, 64, 3, 1, 0, true), Activation.parse(act),
                Pool.max(2), Pool.flatten(),
                new Linear(features, 128), Activation.parse(act),
                new Linear(128, spec.numClasses()));
    }

    /**
     * ResNet for small images (He et al. §4.2): depth = 6n + 2; a 3×3 stem of 16·width/16
     * channels, three stages of n basic blocks with 16, 32, 64 (× width/16) channels, stride 2
     * between stages, global average pooling and a linear classifier.
     */
    static Module resnet(ModelSpec spec) {
        int depth = spec.integer("depth", 20);
        if (depth < 8 || (depth - 2) % 6 != 0) {
            throw new UserError("resnet depth must be 6n+2 (8, 14, 20, 32, 44, 56, 110, …), got " + depth);
        }
        int n = (depth - 2) / 6;
        int width = spec.integer("width", 16);
        boolean bn = spec.bool("batch_norm", true);
        List<Long> shape = spec.inputShape();
        if (shape.size() != 3) throw new UserError("model resnet needs image inputs [C,H,W], got " + shape);
        Sequential s = new ZeroLastSequential();
        s.add(new Conv2d(shape.get(0).intValue(), width, 3, 1, 1, !bn));
        if (bn) s.add(new BatchNorm2d(width));
        s.add(Activation.relu());
        int in = width;
        int[] widths = {width, 2 * width, 4 * width};
        for (int stage = 0; stage < 3; stage++) {
            for (int b = 0; b < n; b++) {
                int stride = stage > 0 && b == 0 ? 2 : 1;
                s.add(new ResidualBlock(in, widths[stage], stride, bn));
                in = widths[stage];
            }
        }
        s.add(Pool.globalAvg());
        s.add(new Linear(in, spec.numClasses()));
        return s;
    }

    /**
     * The Farkas residual network (docs/methods.md §8, {@link FarkasNet}): no normalization, depth 6n + 2 with
     * basic blocks or 9n + 2 with bottleneck blocks, first-stage width {@code width}.
     */
    static Module farkasResnet(ModelSpec spec) {
        List<Long> shape = spec.inputShape();
        if (shape.size() != 3) throw new UserError("model farkas-resnet needs image inputs [C,H,W], got " + shape);
        if (shape.get(1) < 4 || shape.get(2) < 4) throw new UserError("model farkas-resnet needs images of at least 4×4, got " + shape);
        if (spec.bool("batch_norm", false)) {
            throw new UserError("model farkas-resnet has no batch norm (that is its point): drop --batch-norm, or use --model resnet");
        }
        return new FarkasNet(shape.get(0).intValue(), spec.numClasses(), spec.integer("depth", 20), spec.integer("width", 16),
                FarkasNet.parseBlock(spec.string("block", "basic")));
    }

    /** A sequential model whose zero-last initialization zeroes its final linear layer. */
    static final class ZeroLastSequential extends Sequential implements Init.ZeroLast {
        ZeroLastSequential(Module... layers) { super(layers); }

        @Override public void zeroLast() {
            List<Module> ls = new ArrayList<>(layers());
            for (int i = ls.size() - 1; i >= 0; i--) {
                if (ls.get(i) instanceof Linear) {
                    ((Linear) ls.get(i)).zero();
                    return;
                }
            }
        }
    }
}
