package dev.tikhon.ode;

import dev.tikhon.UserError;

/**
 * How to integrate: the method; for fixed-step methods the largest step (the interval is split into
 * equal steps no longer than it, so the solve lands exactly on t1); for Dopri5 the tolerances, an
 * optional first step (0: chosen by Hairer's rule at the cost of one extra evaluation) and the most
 * steps allowed.
 *
 * <p>{@code controlled[i]} says whether state tensor i enters the step-size control (its error
 * norm). A continuous normalizing flow leaves its regularizer states out: they only accumulate
 * and should not force small steps. Null means every tensor is controlled.
 */
public record SolverOptions(Method method, double step, double atol, double rtol, double firstStep, int maxSteps,
                            boolean[] controlled) {
    public SolverOptions {
        if (method == null) throw new UserError("no ODE solver given: use euler, midpoint, rk4 or dopri5");
        if (!method.adaptive() && !(step > 0)) {
            throw new UserError(method.cliName() + " takes fixed steps: give a step size > 0 (--step), got " + step);
        }
        if (method.adaptive() && !(atol > 0 && rtol >= 0)) {
            throw new UserError("dopri5 needs atol > 0 and rtol ≥ 0, got atol " + atol + ", rtol " + rtol);
        }
        if (maxSteps <= 0) throw new UserError("maxSteps must be positive, got " + maxSteps);
    }

    /** A fixed-step method with steps of at most {@code step}. */
    public static SolverOptions fixed(Method method, double step) {
        return new SolverOptions(method, step, 0, 0, 0, Integer.MAX_VALUE, null);
    }

    /** Dopri5 with absolute and relative tolerance, first step chosen automatically, at most 10,000 steps. */
    public static SolverOptions dopri5(double atol, double rtol) {
        return new SolverOptions(Method.DOPRI5, 0, atol, rtol, 0, 10_000, null);
    }

    /** The same options with a different error-control mask. */
    public SolverOptions controlling(boolean... mask) {
        return new SolverOptions(method, step, atol, rtol, firstStep, maxSteps, mask);
    }

    public SolverOptions withMaxSteps(int steps) {
        return new SolverOptions(method, step, atol, rtol, firstStep, steps, controlled);
    }

    public SolverOptions withFirstStep(double h) {
        return new SolverOptions(method, step, atol, rtol, h, maxSteps, controlled);
    }

    boolean isControlled(int i) { return controlled == null || (i < controlled.length && controlled[i]); }

    public String describe() {
        return method.adaptive() ? method.cliName() + " (atol " + atol + ", rtol " + rtol + ")"
                : method.cliName() + " (step " + step + ")";
    }
}
