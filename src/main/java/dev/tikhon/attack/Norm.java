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

    @Override public String toString() { return this == LINF ? "linf" : "l2"; }
}
