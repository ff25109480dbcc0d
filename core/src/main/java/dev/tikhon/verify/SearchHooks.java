package dev.tikhon.verify;

/**
 * What a branch-and-bound search ({@link BranchAndBound}, {@link InputSplitting}) asks and tells its caller, per example of
 * a batch. A search spends its whole budget on an example it cannot prove, and a false property is one it can never
 * prove: an attack that breaks the example first saves all of it (α,β-CROWN runs its PGD attack before branch and bound
 * for this reason). The bounds stay sound whatever the hooks answer: a skipped search leaves the root's bound.
 */
public interface SearchHooks {
    /** Asks and tells nothing: every open example is searched. */
    SearchHooks NONE = new SearchHooks() {};

    /**
     * Of the examples (indices into the batch) that the root's bound leaves open, which are known to be false already (a
     * counterexample found by an attack): those are not searched, and keep the root's bound.
     *
     * @return one flag per entry of {@code open}
     */
    default boolean[] refuted(int[] open) { return new boolean[open.length]; }

    /**
     * The search found a point of example {@code example}'s region (flat, the model's values, within the box it searched)
     * at which some margin is at most the threshold. The caller confirms it before counting it: the box may be widened by
     * its rounding ({@link Rounding#accounted}), and the point's value holds up to the forward pass's rounding.
     */
    default void counterexample(int example, double[] point) {}

    /**
     * Example {@code example}'s search goes on: after each batch, {@code domains} bound computations so far and
     * {@code lower} the lowest bound of its leaves (what the search would return now: sound). For a status line, since a
     * search of 1,024 domains can take minutes.
     */
    default void progress(int example, int domains, double lower) {}

    /** Example {@code example}'s search ended after {@code domains} bound computations, for the reason {@code end}. */
    default void searched(int example, int domains, End end) {}

    /** Why a search ended. */
    enum End {
        /** Every domain proved: the example is verified. */
        PROVED,
        /** A point of a domain is a counterexample ({@link InputSplitting}'s centres and corners). */
        COUNTEREXAMPLE,
        /** The budget of domains ran out with domains open: a larger budget may prove more. */
        BUDGET,
        /** An open domain has nothing left to split: a larger budget cannot help it. */
        STUCK,
        /** The stop hook (a time limit) ended it. */
        STOPPED;

        /**
         * How a search ended that spent {@code spent} of {@code budget} domains: proved; else on a counterexample; else
         * stuck; else out of budget; else stopped by the hook.
         */
        static End of(boolean proved, boolean counterexample, boolean stuck, int spent, int budget) {
            return proved ? PROVED : counterexample ? COUNTEREXAMPLE : stuck ? STUCK : spent >= budget ? BUDGET : STOPPED;
        }

        @Override public String toString() { return name().toLowerCase(java.util.Locale.ROOT); }
    }
}
