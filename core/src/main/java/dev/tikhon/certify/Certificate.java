package dev.tikhon.certify;

/**
 * What a {@link Certifier} says about one input: the predicted class (or {@link #ABSTAIN}) and an
 * ℓ2 radius within which the prediction cannot change, with the kind of guarantee behind it.
 *
 * @param prediction the class, or {@link #ABSTAIN}
 * @param radius     the certified ℓ2 radius (0 when abstaining)
 * @param kind       what the radius rests on
 * @param alpha      the failure probability of a {@link Kind#PROBABILISTIC} certificate (0 otherwise)
 * @param method     which certificate produced it (e.g. "cohen", "heat-lipschitz")
 */
public record Certificate(int prediction, double radius, Kind kind, double alpha, String method) implements java.io.Serializable {
    public static final int ABSTAIN = -1;

    /** The guarantee behind a radius. */
    public enum Kind {
        /** Holds with probability at least 1 − α over the Monte Carlo noise (Cohen et al.'s CERTIFY). */
        PROBABILISTIC,
        /** Holds always, by proof (up to floating-point rounding). */
        SOUND,
        /**
         * A single-pass radius from the Lipschitz constant of Gaussian averages: it holds only insofar
         * as the model really is the Gaussian average of a [0, 1]-valued function, which a trained
         * model only approximates. Check it against attacks; never report it as a proof.
         */
        HEURISTIC
    }

    public static Certificate abstain(Kind kind, double alpha, String method) {
        return new Certificate(ABSTAIN, 0, kind, alpha, method);
    }

    public boolean abstained() { return prediction == ABSTAIN; }

    /** Whether this certificate proves the label {@code label} at radius {@code r}. */
    public boolean certifies(long label, double r) {
        return !abstained() && prediction == label && radius >= r;
    }
}
