package dev.tikhon.flow;

import dev.tikhon.UserError;

import java.util.Locale;

/**
 * How div f = tr ∂f/∂z is computed: exactly (one vector–Jacobian product per dimension: for 2-D
 * data), or by Hutchinson's estimator εᵀ(∂f/∂z)ε with ε drawn once per solve, Gaussian or
 * Rademacher (lower variance), one product per evaluation.
 */
public enum Divergence {
    EXACT, GAUSSIAN, RADEMACHER;

    /**
     * The default for a flow model: Hutchinson's Rademacher estimate for the multiscale image model (d = 784 makes
     * the exact trace cost 784 vector–Jacobian products per evaluation), the exact divergence otherwise.
     */
    public static String defaultFor(String model) {
        return "multiscale".equals(model) ? "rademacher" : "exact";
    }

    public static Divergence parse(String s) {
        switch (s.toLowerCase(Locale.ROOT)) {
            case "exact": return EXACT;
            case "gaussian": case "hutchinson": return GAUSSIAN;
            case "rademacher": return RADEMACHER;
            default: throw new UserError("unknown divergence '" + s + "': use exact, gaussian or rademacher");
        }
    }

    public String cliName() { return name().toLowerCase(Locale.ROOT); }
}
