package dev.tikhon.ode;

import java.util.Locale;

/**
 * Explicit Runge–Kutta methods as Butcher tableaus. Euler (order 1), midpoint (2) and the classical
 * RK4 (4) take fixed steps. Dormand–Prince 5(4) (Dormand &amp; Prince 1980, the tableau of Hairer, Nørsett
 * &amp; Wanner, <i>Solving ODEs I</i>, table 5.2, and of scipy's RK45 and torchdiffeq's dopri5) propagates the
 * 5th-order solution b = (35/384, 0, 500/1113, 125/192, −2187/6784, 11/84, 0) (local extrapolation) and
 * estimates the local error against the embedded 4th-order weights
 * b̂ = (5179/57600, 0, 7571/16695, 393/640, −92097/339200, 187/2100, 1/40).
 *
 * <p>Two independent properties: {@link #adaptive()} (it has an embedded error estimate, so the solver
 * controls the step size) and {@link #fsal()} (first same as last: the last stage is the rate at the new point,
 * so the next step reuses it as its first). Dopri5 is both, so a step (accepted or rejected) costs 6 new
 * evaluations after the first step's 7; NFE counts depend on this.
 */
public enum Method {
    EULER(1, new double[]{0}, new double[][]{{}}, new double[]{1}, null, false),
    MIDPOINT(2, new double[]{0, 0.5}, new double[][]{{}, {0.5}}, new double[]{0, 1}, null, false),
    RK4(4, new double[]{0, 0.5, 0.5, 1}, new double[][]{{}, {0.5}, {0, 0.5}, {0, 0, 1}},
            new double[]{1 / 6.0, 1 / 3.0, 1 / 3.0, 1 / 6.0}, null, false),
    DOPRI5(5, new double[]{0, 1 / 5.0, 3 / 10.0, 4 / 5.0, 8 / 9.0, 1, 1},
            new double[][]{
                    {},
                    {1 / 5.0},
                    {3 / 40.0, 9 / 40.0},
                    {44 / 45.0, -56 / 15.0, 32 / 9.0},
                    {19372 / 6561.0, -25360 / 2187.0, 64448 / 6561.0, -212 / 729.0},
                    {9017 / 3168.0, -355 / 33.0, 46732 / 5247.0, 49 / 176.0, -5103 / 18656.0},
                    {35 / 384.0, 0, 500 / 1113.0, 125 / 192.0, -2187 / 6784.0, 11 / 84.0}},
            new double[]{35 / 384.0, 0, 500 / 1113.0, 125 / 192.0, -2187 / 6784.0, 11 / 84.0, 0},
            // b − b̂: the 5th-order weights minus the embedded 4th-order ones (the local error estimate)
            new double[]{35 / 384.0 - 5179 / 57600.0, 0, 500 / 1113.0 - 7571 / 16695.0, 125 / 192.0 - 393 / 640.0,
                    -2187 / 6784.0 + 92097 / 339200.0, 11 / 84.0 - 187 / 2100.0, -1 / 40.0}, true);

    /** Order of accuracy of the solution that is propagated. */
    public final int order;
    final double[] c;
    final double[][] a;
    final double[] b;
    /** Weights of the local error estimate; null for fixed-step methods. */
    final double[] error;
    private final boolean fsal;

    Method(int order, double[] c, double[][] a, double[] b, double[] error, boolean fsal) {
        this.order = order;
        this.c = c;
        this.a = a;
        this.b = b;
        this.error = error;
        this.fsal = fsal;
    }

    /** Whether it has an embedded error estimate, so that the solver adapts the step size. */
    public boolean adaptive() { return error != null; }

    /** First same as last: the last stage is evaluated at (t + h, y_next) and is the next step's first stage. */
    public boolean fsal() { return fsal; }

    public int stages() { return c.length; }

    public static Method parse(String name) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "euler": return EULER;
            case "midpoint": return MIDPOINT;
            case "rk4": return RK4;
            case "dopri5": case "dopri": return DOPRI5;
            default: throw new dev.tikhon.UserError("unknown ODE solver '" + name + "': use euler, midpoint, rk4 or dopri5");
        }
    }

    public String cliName() { return name().toLowerCase(Locale.ROOT); }
}
