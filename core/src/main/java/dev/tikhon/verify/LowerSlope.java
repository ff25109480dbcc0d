package dev.tikhon.verify;

/** CROWN's lower line αz for an unstable ReLU (input bounds l &lt; 0 &lt; u); any α in [0, 1] is sound. */
public enum LowerSlope {
    /** α = 1 where u ≥ −l, else 0 (Zhang et al. 2018's adaptive choice, the default). */
    ADAPTIVE,
    /** α = 0: the lower bound 0, as interval propagation has it. */
    ZERO,
    /** α = 1: the lower bound z. */
    ONE
}
