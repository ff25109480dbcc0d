package dev.tikhon.optim;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Parameter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Whether the fused updates (libtorch's multi-tensor kernels, which {@link Sgd} and {@link Adam} call) compute on a
 * device what the optimizers' one-tensor-at-a-time updates compute in float64 on the CPU. A kernel that misreads an
 * argument (the CUDA Adam kernel reads its step count as a float, whatever the tensor's dtype) would train every model
 * wrongly and silently, so every optimizer asks {@link #trusted} at its first step: the check runs once per device and
 * process (milliseconds), and where it fails the optimizers update one tensor at a time there, with a warning.
 * {@code tikhon info} prints its figures for every device. Its start values and gradients come from a fixed host
 * stream, not from Tikhon's generators, so running it changes no seeded draw.
 */
public final class FusedUpdateCheck {
    /** The largest difference this reports as agreement: float32 rounding over three steps, with room. */
    public static final double TOLERANCE = 1e-5;

    private static final Map<Device, Boolean> VERDICTS = new ConcurrentHashMap<>();

    private FusedUpdateCheck() {}

    /**
     * Three steps of SGD (momentum 0.9, Nesterov, weight decay), Adam (L2 decay) and AdamW on four tensors (a 37→5→3
     * network's weights, which decay, and biases, which do not) in float32 on {@code device}, each against the same steps
     * one tensor at a time in float64 on the CPU from the same gradients: the largest
     * |θ_fused − θ_reference| / max(1, |θ_reference|) per optimizer.
     */
    public static Map<String, Double> run(Device device) {
        Map<String, Function<List<Parameter>, Optimizer>> optimizers = new LinkedHashMap<>();
        optimizers.put("sgd", ps -> new Sgd(ps, 0.1, 0.9, true, 0.01, false));
        optimizers.put("adam", ps -> new Adam(ps, 0.05, 0.9, 0.99, 1e-8, 0.01, false, false));
        optimizers.put("adamw", ps -> new Adam(ps, 0.05, 0.9, 0.99, 1e-8, 0.01, true, false));
        Map<String, Double> worst = new LinkedHashMap<>();
        for (Map.Entry<String, Function<List<Parameter>, Optimizer>> e : optimizers.entrySet()) {
            worst.put(e.getKey(), difference(device, e.getValue(), e.getValue()));
        }
        return worst;
    }

    /** Whether every difference {@link #run} reports is within {@link #TOLERANCE}. */
    public static boolean agree(Map<String, Double> differences) {
        return differences.values().stream().allMatch(v -> v <= TOLERANCE);   // a NaN disagrees
    }

    /** The differences {@link #run} reports, as one line: "largest relative difference sgd 7.6e-08 adam …". */
    public static String describe(Map<String, Double> differences) {
        StringBuilder b = new StringBuilder("largest relative difference");
        differences.forEach((k, v) -> b.append(' ').append(k).append(' ').append(String.format(Locale.ROOT, "%.1e", v)));
        return b.toString();
    }

    /**
     * Whether optimizers may take the fused kernels on {@code device}: {@link #run} once per device and process. A device
     * where they disagree, or where the check fails, is reported once on standard error and updated one tensor at a time.
     */
    static boolean trusted(Device device) {
        return VERDICTS.computeIfAbsent(device, d -> {
            String problem;
            try {
                Map<String, Double> diff = run(d);
                if (agree(diff)) return true;
                problem = "they disagree with the reference updates (" + describe(diff) + ")";
            } catch (RuntimeException e) {
                problem = "the check failed: " + String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            }
            System.err.println("tikhon: warning: libtorch's fused optimizer kernels are not used on " + d + ": " + problem
                    + "; updating one tensor at a time there, which is slower but right. Please report this with `tikhon info`.");
            return false;
        });
    }

    /** Sets (or with null forgets) the verdict for {@code device}, for tests of the fallback. */
    static void setVerdict(Device device, Boolean verdict) {
        if (verdict == null) VERDICTS.remove(device);
        else VERDICTS.put(device, verdict);
    }

    /**
     * Three steps of the optimizer {@code fused} makes, through its fused path in float32 on {@code device}, against
     * those of the one {@code reference} makes, one tensor at a time in float64 on the CPU, from the same start and the
     * same gradients: the largest relative difference of the parameters.
     */
    static double difference(Device device, Function<List<Parameter>, Optimizer> fused, Function<List<Parameter>, Optimizer> reference) {
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            SplittableRandom host = new SplittableRandom(0x7E57_F05EL);
            long[][] shapes = {{5, 37}, {5}, {3, 5}, {3}};
            List<Tensor> start = new ArrayList<>();
            for (long[] shape : shapes) start.add(hostUniform(host, 0.5, shape).to(device, DType.FLOAT32));
            Probe onDevice = new Probe(start), onCpu = new Probe(start.stream().map(t -> t.to(Device.CPU, DType.FLOAT64)).toList());
            Optimizer opt = fused.apply(onDevice.parameters()), ref = reference.apply(onCpu.parameters());
            List<Integer> all = java.util.stream.IntStream.range(0, shapes.length).boxed().toList();
            for (int step = 0; step < 3; step++) {
                List<Tensor> grads = new ArrayList<>(), refGrads = new ArrayList<>();
                for (long[] shape : shapes) {
                    Tensor grad = hostUniform(host, 1, shape).to(device, DType.FLOAT32);
                    grads.add(grad);
                    refGrads.add(grad.to(Device.CPU, DType.FLOAT64));
                }
                opt.beforeStep();
                opt.updateAll(all, grads);
                opt.afterStep();
                ref.beforeStep();
                ref.updateEach(all, refGrads);
                ref.afterStep();
            }
            double worst = 0;
            for (int i = 0; i < shapes.length; i++) {
                Tensor r = onCpu.parameters().get(i).value();
                Tensor diff = onDevice.parameters().get(i).value().to(Device.CPU, DType.FLOAT64).sub(r).abs().div(r.abs().clampMin(1));
                double d = diff.max().item();
                if (Double.isNaN(d)) return d;
                worst = Math.max(worst, d);
            }
            return worst;
        }
    }

    private static Tensor hostUniform(SplittableRandom host, double bound, long... shape) {
        int n = 1;
        for (long d : shape) n *= (int) d;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = (float) host.nextDouble(-bound, bound);   // exact in float32
        return Tensor.fromDoubles(v, shape);
    }

    /** The check's parameters: weights (decayed) and biases (not), from given values. */
    private static final class Probe extends Module {
        Probe(List<Tensor> values) {
            for (int i = 0; i < values.size(); i++) parameter(i % 2 == 0 ? "weight" + i : "bias" + i, values.get(i).copy(), i % 2 == 0);
        }

        @Override public Tensor forward(Tensor x) {
            throw new UnsupportedOperationException("the fused-update check's parameters are not a model");
        }
    }
}
