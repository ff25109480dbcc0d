package dev.tikhon.ode;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Integrates ẏ = f(t, y) from t0 to t1 (either direction) with an explicit Runge–Kutta method.
 *
 * <p>With autograd recording, every step stays in the graph, so a loss on the result can be
 * backpropagated through the solver. Without it (inside {@link Autograd#noGrad()}, as the adjoint
 * method and evaluation run) each step runs in its own {@link Scope} and writes into fixed state
 * buffers, so memory does not grow with the number of steps.
 */
public final class OdeSolver {
    private static final double SAFETY = 0.9, MIN_FACTOR = 0.2, MAX_FACTOR = 10;

    private OdeSolver() {}

    public static OdeSolution solve(Dynamics f, List<Tensor> y0, double t0, double t1, SolverOptions options) {
        if (y0.isEmpty()) throw new IllegalArgumentException("empty ODE state");
        Counted counted = new Counted(f, y0.size());
        if (t0 == t1) return new OdeSolution(List.copyOf(y0), 0, 0, 0);
        boolean tracking = Autograd.isGradEnabled();
        return options.method().adaptive()
                ? adaptive(counted, y0, t0, t1, options, tracking)
                : fixed(counted, y0, t0, t1, options, tracking);
    }

    private static OdeSolution fixed(Counted f, List<Tensor> y0, double t0, double t1, SolverOptions o, boolean tracking) {
        Method m = o.method();
        int n = (int) Math.max(1, Math.ceil(Math.abs(t1 - t0) / o.step() - 1e-9));
        double h = (t1 - t0) / n;
        List<Tensor> y = tracking ? y0 : buffers(y0);
        for (int s = 0; s < n; s++) {
            double t = s == n - 1 ? t1 - h : t0 + s * h;
            if (tracking) {
                y = stages(f, m, t, y, h, null).next;
            } else {
                try (Scope step = Scope.open()) {
                    copyInto(y, stages(f, m, t, y, h, null).next);
                }
            }
        }
        return new OdeSolution(y, f.nfe, n, 0);
    }

    private static OdeSolution adaptive(Counted f, List<Tensor> y0, double t0, double t1, SolverOptions o, boolean tracking) {
        Method m = o.method();
        double direction = Math.signum(t1 - t0);
        List<Tensor> y = tracking ? y0 : buffers(y0);
        List<Tensor> k1 = f.rate(t0, y);
        if (!tracking) k1 = buffers(k1);
        double h = o.firstStep() > 0 ? direction * o.firstStep() : direction * initialStep(f, m, t0, direction, y, k1, o);
        double t = t0;
        int accepted = 0, rejected = 0;
        while (direction * (t1 - t) > 0) {
            // a NaN step stays NaN (every error is NaN, every step rejected): fail now, not after maxSteps evaluations
            if (Double.isNaN(h) || Double.isInfinite(h)) throw StepSizeUnderflowException.notFinite(t, h);
            if (accepted + rejected >= o.maxSteps()) {
                throw new StepSizeUnderflowException("dopri5 took its maximum of " + o.maxSteps() + " steps", t, h);
            }
            boolean last = Math.abs(h) >= Math.abs(t1 - t);
            if (last) h = t1 - t;
            if (Math.abs(h) <= 16 * Math.ulp(Math.max(Math.abs(t), Math.abs(t1)))) {
                throw new StepSizeUnderflowException("dopri5 step size underflow", t, h);
            }
            double err;
            Scope scope = tracking ? null : Scope.open();
            try {
                Step s = stages(f, m, t, y, h, k1);
                err = errorNorm(s, y, h, o);
                if (err <= 1) {
                    if (tracking) {
                        y = s.next;
                        k1 = s.lastRate;
                    } else {
                        copyInto(y, s.next);
                        copyInto(k1, s.lastRate);
                    }
                    t = last ? t1 : t + h;
                    accepted++;
                } else {
                    rejected++;
                }
            } finally {
                if (scope != null) scope.close();
            }
            double factor;
            if (!Double.isFinite(err)) factor = MIN_FACTOR;
            else if (err == 0) factor = MAX_FACTOR;
            else factor = Math.min(MAX_FACTOR, Math.max(MIN_FACTOR, SAFETY * Math.pow(err, -1.0 / m.order)));
            if (err > 1) factor = Math.min(1, factor);
            h *= factor;
        }
        return new OdeSolution(y, f.nfe, accepted, rejected);
    }

    /** One step: the stages, the propagated solution and (for FSAL methods) the rate at its end. */
    private static Step stages(Counted f, Method m, double t, List<Tensor> y, double h, List<Tensor> firstRate) {
        int s = m.stages();
        List<List<Tensor>> k = new ArrayList<>(s);
        k.add(firstRate != null ? firstRate : f.rate(t, y));
        boolean fsal = m.fsal();
        int explicitStages = fsal ? s - 1 : s;
        for (int i = 1; i < explicitStages; i++) {
            k.add(f.rate(t + m.c[i] * h, combine(y, h, k, m.a[i])));
        }
        List<Tensor> next = combine(y, h, k, m.b);
        List<Tensor> lastRate = null;
        if (fsal) {
            lastRate = f.rate(t + h, next);
            k.add(lastRate);
        }
        return new Step(k, next, lastRate);
    }

    private record Step(List<List<Tensor>> k, List<Tensor> next, List<Tensor> lastRate) {}

    /** y + h Σⱼ wⱼ kⱼ, tensor by tensor. */
    static List<Tensor> combine(List<Tensor> y, double h, List<List<Tensor>> k, double[] w) {
        List<Tensor> out = new ArrayList<>(y.size());
        for (int i = 0; i < y.size(); i++) {
            Tensor acc = y.get(i);
            for (int j = 0; j < w.length && j < k.size(); j++) {
                if (w[j] != 0) acc = acc.add(k.get(j).get(i), h * w[j]);
            }
            out.add(acc);
        }
        return out;
    }

    /** RMS over the controlled state of the local error, each entry scaled by atol + rtol·max(|y₀|, |y₁|). */
    private static double errorNorm(Step s, List<Tensor> y, double h, SolverOptions o) {
        double sum = 0;
        long count = 0;
        try (Autograd.Guard g = Autograd.noGrad()) {
            for (int i = 0; i < y.size(); i++) {
                if (!o.isControlled(i)) continue;
                Tensor e = null;
                for (int j = 0; j < o.method().error.length; j++) {
                    double w = o.method().error[j];
                    if (w == 0) continue;
                    Tensor term = s.k.get(j).get(i).detach().mul(h * w);
                    e = e == null ? term : e.add(term);
                }
                Tensor scale = y.get(i).detach().abs().maximum(s.next.get(i).detach().abs()).mul(o.rtol()).add(o.atol());
                sum += e.div(scale).square().sum().item();
                count += e.numel();
            }
        }
        if (count == 0) throw new IllegalArgumentException("no state tensor is under error control");
        return Math.sqrt(sum / count);
    }

    /** Hairer, Nørsett & Wanner's starting step (Solving ODEs I, II.4): one extra evaluation. */
    private static double initialStep(Counted f, Method m, double t0, double direction, List<Tensor> y0, List<Tensor> f0, SolverOptions o) {
        try (Scope scope = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            double d0 = 0, d1 = 0;
            long count = 0;
            List<Tensor> scales = new ArrayList<>();
            for (int i = 0; i < y0.size(); i++) {
                Tensor scale = y0.get(i).detach().abs().mul(o.rtol()).add(o.atol());
                scales.add(scale);
                if (!o.isControlled(i)) continue;
                d0 += y0.get(i).detach().div(scale).square().sum().item();
                d1 += f0.get(i).detach().div(scale).square().sum().item();
                count += y0.get(i).numel();
            }
            d0 = Math.sqrt(d0 / count);
            d1 = Math.sqrt(d1 / count);
            double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
            List<Tensor> y1 = new ArrayList<>();
            for (int i = 0; i < y0.size(); i++) y1.add(y0.get(i).detach().add(f0.get(i).detach(), direction * h0));
            List<Tensor> f1 = f.rate(t0 + direction * h0, y1);
            double d2 = 0;
            for (int i = 0; i < y0.size(); i++) {
                if (!o.isControlled(i)) continue;
                d2 += f1.get(i).detach().sub(f0.get(i).detach()).div(scales.get(i)).square().sum().item();
            }
            d2 = Math.sqrt(d2 / count) / h0;
            double h1 = Math.max(d1, d2) <= 1e-15 ? Math.max(1e-6, h0 * 1e-3)
                    : Math.pow(0.01 / Math.max(d1, d2), 1.0 / (m.order + 1));
            return Math.min(100 * h0, h1);
        }
    }

    private static List<Tensor> buffers(List<Tensor> ys) {
        List<Tensor> out = new ArrayList<>(ys.size());
        for (Tensor y : ys) out.add(y.detach().copy());
        return out;
    }

    private static void copyInto(List<Tensor> target, List<Tensor> source) {
        for (int i = 0; i < target.size(); i++) target.get(i).copy_(source.get(i).detach());
    }

    /** Counts evaluations and checks that f returns one rate of the right shape per state tensor. */
    private static final class Counted implements Dynamics {
        private final Dynamics f;
        private final int size;
        int nfe;

        Counted(Dynamics f, int size) {
            this.f = f;
            this.size = size;
        }

        @Override public List<Tensor> rate(double t, List<Tensor> state) {
            nfe++;
            List<Tensor> r = f.rate(t, state);
            if (r.size() != size) {
                throw new IllegalArgumentException("dynamics returned " + r.size() + " rates for a state of " + size + " tensors");
            }
            return r;
        }
    }
}
