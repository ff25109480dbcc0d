package dev.tikhon.attack;

import java.util.Locale;

/** Threat models: the norm that measures the size of a perturbation. */
public enum Norm {
    /** ‖δ‖∞ ≤ ε: every pixel moves by at most ε. Dual norm ℓ1. */
    LINF,
    /** ‖δ‖₂ ≤ ε. Self-dual. */
    L2;

    public static Norm parse(String s) {
        switch (s.toLowerCase(Locale.ROOT)) {
            case "linf": case "l-inf": case "inf": return LINF;
            case "l2": return L2;
            default: throw new IllegalArgumentException("unknown attack norm '" + s + "': use linf or l2");
        }
    }

    /** The p of this ℓp norm (∞ or 2), as {@code Tensor.normPerExample} takes it. */
    public double p() { return this == LINF ? Double.POSITIVE_INFINITY : 2; }

    /** The p of the dual norm (1 for ℓ∞, 2 for ℓ2): the norm a gradient is measured in against this threat model. */
    public double dualP() { return this == LINF ? 1 : 2; }

    @Override public String toString() { return this == LINF ? "linf" : "l2"; }
}
