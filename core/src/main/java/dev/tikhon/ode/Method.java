package dev.tikhon.ode;

import java.util.Locale;

/**
 * Explicit Runge–Kutta methods as Butcher tableaus. Euler (order 1), midpoint (2) and the classical
 * RK4 (4) take fixed steps; Dormand–Prince 5(4) adapts its step from the embedded 4th-order
 * solution and reuses its last stage as the next step's first (FSAL), so an accepted step costs 6
 * evaluations.
 */
public enum Method {
    EULER(1, new double[]{0}, new double[][]{{}}, new double[]{1}, null),
    MIDPOINT(2, new double[]{0, 0.5}, new double[][]{{}, {0.5}}, new double[]{0, 1}, null),
    RK4(4, new double[]{0, 0.5, 0.5, 1}, new double[][]{{}, {0.5}, {0, 0.5}, {0, 0, 1}},
            new double[]{1 / 6.0, 1 / 3.0, 1 / 3.0, 1 / 6.0}, null),
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
                    -2187 / 6784.0 + 92097 / 339200.0, 11 / 84.0 - 187 / 2100.0, -1 / 40.0});

    /** Order of accuracy of the solution that is propagated. */
    public final int order;
    final double[] c;
    final double[][] a;
    final double[] b;
    /** Weights of the local error estimate; null for fixed-step methods. */
    final double[] error;

    Method(int order, double[] c, double[][] a, double[] b, double[] error) {
        this.order = order;
        this.c = c;
        this.a = a;
        this.b = b;
        this.error = error;
    }

    public boolean adaptive() { return error != null; }

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
