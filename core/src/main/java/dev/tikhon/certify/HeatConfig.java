package dev.tikhon.certify;

import dev.tikhon.train.ObjectiveSpec;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Settings of heat smoothing (docs/methods.md §5; Campbell, Finlay &amp; Oberman).
 *
 * @param schedule      {@code v1}: n_T implicit Euler steps of size 1/n_T, each trained for
 *                      {@code epochsPerStep} epochs, ℓ2 distance on logits, clean inputs;
 *                      {@code revision} ("Adversarial Boot Camp"): one step (h = 1), warm start,
 *                      ½‖softmax(v(x + n)) − softmax(f(x))‖² with noise on half of each batch
 * @param sigma         σ of the Gaussian average
 * @param lambda        λ, the weight of the gradient penalty
 * @param kappa         κ, random projections per example for the Frobenius-norm estimate
 * @param delta         δ, the finite-difference step
 * @param steps         n_T, implicit Euler steps (1 for the revision)
 * @param epochsPerStep epochs of training per implicit step
 */
public record HeatConfig(String schedule, double sigma, double lambda, int kappa, double delta, int steps, int epochsPerStep) {
    public static final String V1 = "v1", REVISION = "revision";

    public HeatConfig {
        schedule = schedule.toLowerCase(Locale.ROOT);
        if (!schedule.equals(V1) && !schedule.equals(REVISION)) {
            throw new IllegalArgumentException("unknown --schedule '" + schedule + "': use v1 or revision");
        }
        if (!(sigma > 0)) throw new IllegalArgumentException("--sigma must be positive, got " + sigma);
        if (!(lambda >= 0)) throw new IllegalArgumentException("--lambda must be ≥ 0, got " + lambda);
        if (kappa < 1) throw new IllegalArgumentException("--kappa must be at least 1, got " + kappa);
        if (!(delta > 0)) throw new IllegalArgumentException("--delta must be positive, got " + delta);
        if (steps < 1) throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
        if (schedule.equals(REVISION) && steps != 1) {
            throw new IllegalArgumentException("the revision schedule is one step (--steps 1), got " + steps);
        }
        if (epochsPerStep < 1) throw new IllegalArgumentException("--epochs must be at least 1, got " + epochsPerStep);
    }

    /** The paper's v1 defaults (CIFAR-10): n_T 5, λ 5, σ 0.1, κ 10, δ 0.1. */
    public static HeatConfig v1Defaults() {
        return new HeatConfig(V1, 0.1, 5, 10, 0.1, 5, 1);
    }

    /** The revision's defaults (ImageNet): one warm-started epoch, λ 1, σ 0.25, κ 6, δ 0.01. */
    public static HeatConfig revisionDefaults() {
        return new HeatConfig(REVISION, 0.25, 1, 6, 0.01, 1, 1);
    }

    public static HeatConfig defaults(String schedule) {
        return schedule.toLowerCase(Locale.ROOT).equals(V1) ? v1Defaults() : revisionDefaults();
    }

    /** The settings as words for the console, under their option names: "schedule revision, sigma 0.25, lambda 1, …". */
    public String describe() {
        return "schedule " + schedule + ", sigma " + dev.tikhon.report.Format.number(sigma) + ", lambda " + dev.tikhon.report.Format.number(lambda)
                + ", kappa " + kappa + ", delta " + dev.tikhon.report.Format.number(delta) + ", steps " + steps + ", epochs per step " + epochsPerStep;
    }

    /** Whether distances and the penalty are on softmax outputs (revision) or logits (v1). */
    public boolean softmax() { return schedule.equals(REVISION); }

    /** h = 1/n_T. */
    public double timeStep() { return 1.0 / steps; }

    /**
     * As plain data for checkpoints: reg heat-v1 or heat-revision, with each setting under its own name (δ is not the
     * regularizers' finite-difference "h", nor κ a step count; only σ is read back, by certify).
     */
    public ObjectiveSpec toSpec() {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("sigma", sigma);
        settings.put("lambda", lambda);
        settings.put("kappa", kappa);
        settings.put("delta", delta);
        settings.put("steps", steps);
        settings.put("time_step", timeStep());
        settings.put("norm", softmax() ? "softmax" : "logits");
        return new ObjectiveSpec("heat-" + schedule, settings, null);
    }
}
