package dev.tikhon.certify;

import dev.tikhon.nn.Module;
import dev.tikhon.verify.BranchAndBound;
import dev.tikhon.verify.Verification;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The certification methods {@code certify --method} offers, by name: the one place a method is registered.
 * Adding a certificate is one {@link CertificationStep} (or a {@link Certifier} wrapped by
 * {@link CertificationStep#of}) in this package and one {@link #register} line below.
 */
public final class CertificationMethods {

    /**
     * What a factory may read.
     *
     * @param sigma         the smoothing noise σ (NaN for a method that needs none)
     * @param smoothing     randomized smoothing's settings (N0, N, α, noise batch, seed; σ as above)
     * @param monteCarlo    heat: also run the Monte Carlo certificate (a)
     * @param predictImages cohen: time PREDICT on this many images
     * @param norm          the threat model of a one-pass radius ("l2" or "linf"; lipschitz)
     * @param batchSize     images per unit of a batched one-pass certificate (lipschitz; heat without Monte Carlo)
     * @param bab           bab: branch and bound's settings (its budgets of domains, steps and time per image and bound)
     * @param accountRounding ibp, crown, alpha-crown, bab: bounds that hold for the exact network ({@link dev.tikhon.verify.Rounding})
     */
    public record Settings(double sigma, RandomizedSmoothing.Config smoothing, boolean monteCarlo, int predictImages, String norm,
                           int batchSize, BranchAndBound.Settings bab, boolean accountRounding) {

        /** ℓ2, batches of 100, branch and bound's default budget. */
        public Settings(double sigma, RandomizedSmoothing.Config smoothing, boolean monteCarlo, int predictImages) {
            this(sigma, smoothing, monteCarlo, predictImages, "l2", 100, BranchAndBound.Settings.DEFAULT, false);
        }
    }

    /** Builds a method's plan for a model. */
    @FunctionalInterface
    public interface Factory {
        CertificationRun.Plan plan(Module model, Settings s);
    }

    /**
     * One registered method.
     *
     * @param needsSigma whether it reads σ (the command then takes it from the checkpoint when not given)
     */
    public record Method(String name, boolean needsSigma, Factory factory) {}

    private static final Map<String, Method> METHODS = new LinkedHashMap<>();

    static {
        register("cohen", true, (model, s) -> CohenCertification.plan(new RandomizedSmoothing(s.smoothing()), s.predictImages()));
        register("heat", true, (model, s) -> HeatCertification.plan(s.sigma(),
                s.monteCarlo() ? new RandomizedSmoothing(s.smoothing()) : null, s.batchSize()));
        register("ibp", false, (model, s) -> BoundCertification.plan(Verification.Method.IBP, 2.0, 12, BranchAndBound.Settings.DEFAULT,
                s.accountRounding()));
        register("crown", false, (model, s) -> BoundCertification.plan(Verification.Method.CROWN, 2.0, 12, BranchAndBound.Settings.DEFAULT,
                s.accountRounding()));
        register("alpha-crown", false, (model, s) -> BoundCertification.plan(Verification.Method.ALPHA_CROWN, 2.0, 12,
                BranchAndBound.Settings.DEFAULT, s.accountRounding()));
        register("bab", false, (model, s) -> BoundCertification.plan(Verification.Method.BAB, 2.0, 12,
                s.bab(), s.accountRounding()));
    }

    private CertificationMethods() {}

    public static synchronized void register(String name, boolean needsSigma, Factory factory) {
        if (METHODS.containsKey(name)) throw new IllegalStateException("certification method '" + name + "' is already registered");
        METHODS.put(name, new Method(name, needsSigma, factory));
    }

    /** The registered names, in registration order. */
    public static List<String> names() {
        return List.copyOf(METHODS.keySet());
    }

    /** The method {@code name} (case-insensitive), or an error naming the known ones. */
    public static Method get(String name) {
        Method m = METHODS.get(name.toLowerCase(Locale.ROOT));
        if (m == null) throw new IllegalArgumentException("unknown --method '" + name + "': use " + String.join(" or ", names()));
        return m;
    }
}
