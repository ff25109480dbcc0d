package dev.tikhon.optim;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Parameter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Whether the fused updates (libtorch's multi-tensor kernels, which {@link Sgd} and {@link Adam} call) compute on a
 * device what the optimizers' one-tensor-at-a-time updates compute in float64 on the CPU: {@code tikhon info} runs it on
 * every device, so that a GPU whose kernels misread an argument (the CUDA Adam kernel reads its step count as a float,
 * whatever the tensor's dtype) is caught before it trains anything. Draws its start values from the global generator.
 */
public final class FusedUpdateCheck {
    /** The largest difference this reports as agreement: float32 rounding over three steps, with room. */
    public static final double TOLERANCE = 1e-5;

    private FusedUpdateCheck() {}

    /**
     * Three steps of SGD (momentum 0.9, Nesterov, weight decay), Adam (L2 decay) and AdamW on a 37→5→3 network's four
     * tensors in float32 on {@code device}, each against the same steps one tensor at a time in float64 on the CPU from
     * the same gradients: the largest |θ_fused − θ_reference| / max(1, |θ_reference|) per optimizer.
     */
    public static Map<String, Double> run(Device device) {
        Map<String, Function<List<Parameter>, Optimizer>> optimizers = new LinkedHashMap<>();
        optimizers.put("sgd", ps -> new Sgd(ps, 0.1, 0.9, true, 0.01, false));
        optimizers.put("adam", ps -> new Adam(ps, 0.05, 0.9, 0.99, 1e-8, 0.01, false, false));
        optimizers.put("adamw", ps -> new Adam(ps, 0.05, 0.9, 0.99, 1e-8, 0.01, true, false));
        Map<String, Double> worst = new LinkedHashMap<>();
        for (Map.Entry<String, Function<List<Parameter>, Optimizer>> e : optimizers.entrySet()) {
            try (Scope s = Scope.open()) {
                worst.put(e.getKey(), difference(device, e.getValue()));
            }
        }
        return worst;
    }

    private static double difference(Device device, Function<List<Parameter>, Optimizer> make) {
        Linear a = new Linear(37, 5), b = new Linear(5, 3);
        List<Parameter> fused = new ArrayList<>(a.parameters());
        fused.addAll(b.parameters());
        a.to(device);
        b.to(device);
        List<Parameter> reference = new ArrayList<>();
        Linear ra = new Linear(37, 5), rb = new Linear(5, 3);
        ra.to(DType.FLOAT64);
        rb.to(DType.FLOAT64);
        reference.addAll(ra.parameters());
        reference.addAll(rb.parameters());
        try (Autograd.Guard g = Autograd.noGrad()) {
            for (int i = 0; i < fused.size(); i++) reference.get(i).value().copy_(fused.get(i).value().to(Device.CPU, DType.FLOAT64));
        }
        Optimizer opt = make.apply(fused), ref = make.apply(reference);
        Tensor x = Tensor.randn(DType.FLOAT32, device, 8, 37);
        for (int step = 0; step < 3; step++) {
            opt.zeroGrad();
            b.forward(a.forward(x).tanh()).square().sum().backward();
            try (Autograd.Guard g = Autograd.noGrad()) {
                ref.beforeStep();
                for (int i = 0; i < fused.size(); i++) ref.update(i, reference.get(i), fused.get(i).grad().to(Device.CPU, DType.FLOAT64));
                ref.afterStep();
            }
            opt.step();
        }
        double worst = 0;
        for (int i = 0; i < fused.size(); i++) {
            Tensor r = reference.get(i).value().detach();
            Tensor diff = fused.get(i).value().detach().to(Device.CPU, DType.FLOAT64).sub(r).abs().div(r.abs().clampMin(1));
            worst = Math.max(worst, diff.max().item());
        }
        return worst;
    }
}
