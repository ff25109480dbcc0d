package dev.tikhon.nn;

import dev.tikhon.UserError;
import dev.tikhon.engine.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Per-channel input normalization y_c = (x_c − mean_c) / std_c, placed in front of a model so that the model takes
 * pixels in [0, 1] while its layers see standardized inputs: attacks, their ε and every certificate stay in pixel
 * space. Channel c is dimension 1 of the input ([N, C, H, W] images; [N, D] features, one value per feature); a single
 * mean/std pair applies to every channel. The
 * mean and standard deviation are fixed buffers ({@code mean}, {@code std}, shape [C]), not parameters: no optimizer
 * moves them, and they travel in the state dict.
 *
 * <p>It is an affine map with diagonal linear part diag(1/std_c): its ℓ2 (and ℓp) Lipschitz constant is
 * max_c 1/std_c, and interval and linear bounds pass through it exactly as through an evaluation-mode batch norm
 * (scale 1/std, shift −mean/std).
 */
public final class Normalize extends Module {
    /** Per-channel statistics: {@code mean.length == std.length}, every std positive. */
    public record Stats(double[] mean, double[] std) implements java.io.Serializable {
        public Stats {
            if (mean.length == 0 || mean.length != std.length) {
                throw new IllegalArgumentException("normalization needs as many means as standard deviations, got " + mean.length + " and " + std.length);
            }
            for (double s : std) {
                if (!(s > 0) || !Double.isFinite(s)) throw new IllegalArgumentException("normalization std must be positive and finite, got " + s);
            }
            for (double m : mean) if (!Double.isFinite(m)) throw new IllegalArgumentException("normalization mean must be finite, got " + m);
            mean = mean.clone();
            std = std.clone();
        }

        public int channels() { return mean.length; }

        /** The same statistics for {@code channels} channels: one mean/std pair is repeated, others must already fit. */
        public Stats forChannels(int channels, String what) {
            if (mean.length == channels) return this;
            if (mean.length == 1) {
                double[] m = new double[channels], s = new double[channels];
                Arrays.fill(m, mean[0]);
                Arrays.fill(s, std[0]);
                return new Stats(m, s);
            }
            throw new UserError("--normalize gives " + mean.length + " channel(s) but " + what + " has " + channels
                    + "; give one mean and std per channel (or one pair for all)");
        }

        /** How a {@link dev.tikhon.models.ModelSpec} records it: {"mean": [...], "std": [...]}. */
        public Map<String, Object> toOption() {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("mean", Arrays.stream(mean).boxed().toList());
            o.put("std", Arrays.stream(std).boxed().toList());
            return o;
        }

        /** Reads what {@link #toOption()} wrote (after a JSON round trip), or null for null. */
        @SuppressWarnings("unchecked")
        public static Stats fromOption(Object option) {
            if (option == null) return null;
            if (option instanceof Stats s) return s;
            if (!(option instanceof Map<?, ?> m) || !(m.get("mean") instanceof List) || !(m.get("std") instanceof List)) {
                throw new UserError("model option normalize must be {\"mean\": [...], \"std\": [...]}, got " + option);
            }
            return new Stats(doubles((List<Object>) m.get("mean")), doubles((List<Object>) m.get("std")));
        }

        private static double[] doubles(List<Object> l) {
            return l.stream().mapToDouble(v -> v instanceof Number n ? n.doubleValue() : Double.parseDouble(v.toString())).toArray();
        }

        @Override public boolean equals(Object o) {
            return o instanceof Stats s && Arrays.equals(mean, s.mean) && Arrays.equals(std, s.std);
        }

        @Override public int hashCode() { return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std); }

        @Override public String toString() {
            return "mean " + Arrays.toString(mean) + ", std " + Arrays.toString(std);
        }
    }

    /**
     * Named presets: the per-channel mean and standard deviation of each set's training pixels in [0, 1]. CIFAR-10's
     * std is the per-pixel one (0.2470, 0.2435, 0.2616), not the often-copied (0.2023, 0.1994, 0.2010), which is the
     * mean of per-image standard deviations.
     */
    public static final Map<String, Stats> PRESETS = Map.of(
            "cifar10", new Stats(new double[]{0.4914, 0.4822, 0.4465}, new double[]{0.2470, 0.2435, 0.2616}),
            "fashion-mnist", new Stats(new double[]{0.2860}, new double[]{0.3530}),
            "mnist", new Stats(new double[]{0.1307}, new double[]{0.3081}));

    /** The syntax {@link #parse} reads, for help texts and errors. */
    public static final String SYNTAX = "MEAN[,MEAN…]/STD[,STD…] (one per channel, or one pair for all), or a preset: cifar10, "
            + "fashion-mnist, mnist";

    /**
     * Parses {@code --normalize}: a preset name, or means and standard deviations separated by a slash, each a
     * comma-separated list, e.g. {@code 0.4914,0.4822,0.4465/0.2470,0.2435,0.2616} or {@code 0.5/0.5}.
     */
    public static Stats parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        if (PRESETS.containsKey(t)) return PRESETS.get(t);
        String[] parts = t.split("/", -1);
        if (parts.length != 2) throw new UserError("--normalize '" + text + "': expected " + SYNTAX);
        try {
            return new Stats(numbers(parts[0]), numbers(parts[1]));
        } catch (NumberFormatException e) {
            throw new UserError("--normalize '" + text + "': not a number (" + e.getMessage() + "); expected " + SYNTAX);
        } catch (IllegalArgumentException e) {
            throw new UserError("--normalize '" + text + "': " + e.getMessage());
        }
    }

    private static double[] numbers(String list) {
        List<Double> out = new ArrayList<>();
        for (String s : list.split(",", -1)) out.add(Double.parseDouble(s.strip()));
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private final Stats stats;
    private final Tensor[] mean, std;

    public Normalize(Stats stats) {
        this.stats = stats;
        this.mean = buffer("mean", Tensor.fromDoubles(stats.mean(), stats.channels()).to(dev.tikhon.engine.DType.FLOAT32));
        this.std = buffer("std", Tensor.fromDoubles(stats.std(), stats.channels()).to(dev.tikhon.engine.DType.FLOAT32));
    }

    public Stats stats() { return stats; }

    public int channels() { return stats.channels(); }

    /** The mean buffer [C] (the model's dtype and device). */
    public Tensor mean() { return mean[0]; }

    /** The standard-deviation buffer [C]. */
    public Tensor std() { return std[0]; }

    /** The map as y = scale·x + shift per channel: {@code [1/std, −mean/std]}, each [C]. */
    public Tensor[] affine() {
        Tensor scale = std[0].reciprocal();
        return new Tensor[]{scale, mean[0].neg().mul(scale)};
    }

    /** max_c 1/std_c: the map's Lipschitz constant in every ℓp norm. */
    public double lipschitz() {
        double m = 0;
        for (double s : stats.std()) m = Math.max(m, 1 / s);
        return m;
    }

    @Override public Tensor forward(Tensor x) {
        if (x.dim() < 2 || (stats.channels() != 1 && x.size(1) != stats.channels())) {
            throw new IllegalArgumentException("normalization of " + stats.channels() + " channel(s) got inputs of shape "
                    + Arrays.toString(x.shape()) + " (channels are dimension 1)");
        }
        long[] shape = new long[x.dim()];
        Arrays.fill(shape, 1);
        shape[1] = stats.channels();   // one pair (C = 1) broadcasts over every channel
        return x.sub(mean[0].reshape(shape)).div(std[0].reshape(shape));
    }

    @Override public String describe() { return "Normalize(" + stats + ")"; }
}
