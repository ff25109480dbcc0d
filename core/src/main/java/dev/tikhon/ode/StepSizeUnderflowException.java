package dev.tikhon.ode;

import dev.tikhon.UserError;

/**
 * Dopri5 could not meet its tolerance with any representable step (or ran out of steps): the
 * dynamics are stiff, or blowing up. The message says where and what to try.
 */
public final class StepSizeUnderflowException extends UserError {
    public final double t;
    public final double step;

    public StepSizeUnderflowException(String what, double t, double step) {
        this(t, step, what + " at t = " + t + " (step " + step + "): the dynamics are stiff or diverging there. Try looser "
                + "tolerances (--atol/--rtol), a fixed-step solver (--solver rk4 --step 0.25), a smaller learning rate, "
                + "or the kinetic/Jacobian regularizers (--reg-kinetic, --reg-jacobian) that keep the dynamics smooth");
    }

    private StepSizeUnderflowException(double t, double step, String message) {
        super(message);
        this.t = t;
        this.step = step;
    }

    /**
     * The starting state or its rate holds NaN or ±Inf, so no step size exists (the step came out NaN): no tolerance or
     * smaller step can help, and rejecting steps until the step limit only spent its 10000 steps.
     */
    static StepSizeUnderflowException notFinite(double t, double step) {
        return new StepSizeUnderflowException(t, step, "dopri5 cannot choose a step at t = " + t + " (step " + step + "): the state or "
                + "the dynamics' rate there holds NaN or ±Inf, so the inputs or the field's weights are not finite (a diverged run: "
                + "a smaller learning rate, or the kinetic/Jacobian regularizers --reg-kinetic, --reg-jacobian)");
    }
}
