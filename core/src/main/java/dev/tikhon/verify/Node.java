package dev.tikhon.verify;

import dev.tikhon.engine.Tensor;

/**
 * One layer as the verifier sees it: how an interval passes forward through it (interval bound propagation)
 * and how a linear bound on its output passes backward to a linear bound on its input (CROWN).
 *
 * <p>Backward convention: given coefficients A [N, S, …output shape] it returns A' [N, S, …input shape] and
 * adds to {@code bias} the constants c [N, S] such that A·f(v) ≥ A'·v + c for every v in the layer's input
 * bounds (recorded in the {@link Trace} by the forward pass). Upper bounds are lower bounds of −A.
 */
interface Node {
    /** Bounds on the output given bounds on the input; records in the trace what the backward pass needs. */
    Interval ibp(Interval in, Trace trace);

    /** The lower-bound back-substitution through this layer. */
    Tensor backward(Tensor a, Trace trace, Trace.Sum bias);

    /**
     * Computes, into the trace, what the backward pass derives from the recorded input bounds (relaxations), so that
     * later backward passes inside nested scopes only read it.
     */
    default void prepare(Trace trace) {}

    /** Whether the layer is affine (exact under back-substitution, no bounds needed). */
    default boolean affine() { return true; }
}
