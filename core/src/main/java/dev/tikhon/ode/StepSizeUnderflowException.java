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
        super(what + " at t = " + t + " (step " + step + "): the dynamics are stiff or diverging there. Try looser "
                + "tolerances (--atol/--rtol), a fixed-step solver (--solver rk4 --step 0.25), a smaller learning rate, "
                + "or the kinetic/Jacobian regularizers (--reg-kinetic, --reg-jacobian) that keep the dynamics smooth");
        this.t = t;
        this.step = step;
    }
}
