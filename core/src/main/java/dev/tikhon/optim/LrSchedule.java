package dev.tikhon.optim;

import java.util.Arrays;
import java.util.Locale;

/**
 * Learning rate as a function of training progress, measured in epochs (fractional within an
 * epoch, so warm-up and cosine decay move every step).
 */
public interface LrSchedule {
    /** The learning rate at {@code epochs} epochs into training (0 ≤ epochs ≤ total). */
    double at(double epochs);

    String describe();

    static LrSchedule constant(double lr) {
        return new LrSchedule() {
            @Override public double at(double e) { return lr; }
            @Override public String describe() { return "constant " + lr; }
        };
    }

    /**
     * Piecewise constant: lr multiplied by {@code gamma} at each milestone, milestones given as
     * fractions of the total epochs (the usual 0.5, 0.75 for "divide by 10 at half and three quarters").
     */
    static LrSchedule piecewise(double lr, double totalEpochs, double[] milestoneFractions, double gamma) {
        double[] ms = milestoneFractions.clone();
        Arrays.sort(ms);
        for (double m : ms) {
            if (!(m > 0 && m < 1)) throw new IllegalArgumentException("milestones are fractions of training in (0, 1), got " + m);
        }
        return new LrSchedule() {
            @Override public double at(double e) {
                double v = lr;
                for (double m : ms) if (e >= m * totalEpochs) v *= gamma;
                return v;
            }
            @Override public String describe() {
                return "piecewise " + lr + " ×" + gamma + " at " + Arrays.toString(ms) + " of " + totalEpochs + " epochs";
            }
        };
    }

    /** Cosine annealing from lr to minLr over the run (Loshchilov & Hutter, without restarts). */
    static LrSchedule cosine(double lr, double totalEpochs, double minLr) {
        return new LrSchedule() {
            @Override public double at(double e) {
                double p = Math.min(1, Math.max(0, e / totalEpochs));
                return minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * p));
            }
            @Override public String describe() { return "cosine " + lr + " → " + minLr + " over " + totalEpochs + " epochs"; }
        };
    }

    /** Linear warm-up from ~0 to the base schedule over the first {@code warmupEpochs}. */
    static LrSchedule warmup(LrSchedule base, double warmupEpochs) {
        if (warmupEpochs <= 0) return base;
        return new LrSchedule() {
            @Override public double at(double e) {
                double f = e < warmupEpochs ? Math.max(e, 1e-3 * warmupEpochs) / warmupEpochs : 1;
                return f * base.at(e);
            }
            @Override public String describe() { return base.describe() + ", linear warm-up over " + warmupEpochs + " epochs"; }
        };
    }

    /** Builds a schedule from its CLI name: constant, piecewise or cosine. */
    static LrSchedule parse(String name, double lr, double totalEpochs, double[] milestones, double gamma, double warmupEpochs) {
        LrSchedule base;
        switch (name.toLowerCase(Locale.ROOT)) {
            case "constant": base = constant(lr); break;
            case "piecewise": case "step": base = piecewise(lr, totalEpochs, milestones, gamma); break;
            case "cosine": base = cosine(lr, totalEpochs, 0); break;
            default: throw new IllegalArgumentException("unknown --schedule '" + name + "': use constant, piecewise or cosine");
        }
        return warmup(base, warmupEpochs);
    }
}
