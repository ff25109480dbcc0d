package dev.tikhon.nn;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Gradient checking: autograd's derivatives of L(x, θ) = Σ f(x; θ) ⊙ R (R a fixed random
 * weighting, so every output counts) against central finite differences, in float64. Checks the
 * input gradient and every parameter at a sample of coordinates.
 */
public final class GradCheck {
    /** One compared coordinate. */
    public record Entry(String what, long index, double autograd, double finiteDifference) {
        public double error() {
            return Math.abs(autograd - finiteDifference) / (1e-6 + Math.abs(finiteDifference));
        }
    }

    /** All compared coordinates and the worst relative error among them. */
    public record Report(List<Entry> entries) {
        public double maxRelativeError() {
            return entries.stream().mapToDouble(Entry::error).max().orElse(0);
        }

        public Entry worst() {
            return entries.stream().max((a, b) -> Double.compare(a.error(), b.error())).orElseThrow();
        }
    }

    private GradCheck() {}

    /**
     * @param model            a float64 module
     * @param x                a float64 input batch
     * @param coordsPerTensor  how many coordinates to check per tensor (all when the tensor is smaller)
     * @param eps              finite-difference step
     */
    public static Report check(Module model, Tensor x, int coordsPerTensor, double eps, long seed) {
        boolean paramsF64 = model.parameters().stream().allMatch(p -> p.value().dtype() == DType.FLOAT64);
        if (!paramsF64 || x.dtype() != DType.FLOAT64) {
            throw new IllegalArgumentException("gradient checks run in float64: call model.to(DType.FLOAT64)");
        }
        Tensor r = weights(model, x, seed);
        Function<Tensor, Double> loss = in -> model.forward(in).mul(r).sum().item();

        Tensor xg = x.detach().copy().requiresGrad(true);
        List<Parameter> params = model.parameters();
        List<Tensor> inputs = new ArrayList<>();
        inputs.add(xg);
        for (Parameter p : params) inputs.add(p.value());
        List<Tensor> grads = Autograd.grad(List.of(model.forward(xg).mul(r).sum()), inputs, null, false, false);

        SplittableRandom rng = new SplittableRandom(seed);
        List<Entry> entries = new ArrayList<>();
        compare("input", x, grads.get(0), coordsPerTensor, eps, rng, entries, delta -> loss.apply(x.add(delta)));
        for (int i = 0; i < params.size(); i++) {
            Tensor p = params.get(i).value();
            compare(params.get(i).name(), p, grads.get(i + 1), coordsPerTensor, eps, rng, entries, delta -> {
                try (Autograd.Guard g = Autograd.noGrad()) {
                    p.add_(delta);
                    double v = loss.apply(x);
                    p.sub_(delta);
                    return v;
                }
            });
        }
        return new Report(entries);
    }

    private static Tensor weights(Module model, Tensor x, long seed) {
        Tensor out;
        try (Autograd.Guard g = Autograd.noGrad()) {
            out = model.forward(x);
        }
        SplittableRandom rng = new SplittableRandom(seed ^ 0x5DEECE66DL);
        double[] w = new double[(int) out.numel()];
        for (int i = 0; i < w.length; i++) w[i] = rng.nextGaussian();
        return Tensor.fromDoubles(w, out.shape());
    }

    private static void compare(String what, Tensor at, Tensor grad, int count, double eps, SplittableRandom rng,
                                List<Entry> out, Function<Tensor, Double> lossAtDelta) {
        long n = at.numel();
        double[] g = grad.toDoubleArray();
        List<Long> coords = new ArrayList<>();
        if (n <= count) for (long i = 0; i < n; i++) coords.add(i);
        else for (int k = 0; k < count; k++) coords.add(rng.nextLong(n));
        for (long i : coords) {
            Tensor plus = oneHot(at, i, eps), minus = oneHot(at, i, -eps);
            double fd = (lossAtDelta.apply(plus) - lossAtDelta.apply(minus)) / (2 * eps);
            out.add(new Entry(what, i, g[(int) i], fd));
        }
    }

    private static Tensor oneHot(Tensor like, long index, double value) {
        double[] d = new double[(int) like.numel()];
        d[(int) index] = value;
        return Tensor.fromDoubles(d, like.shape()).to(like.device());
    }
}
