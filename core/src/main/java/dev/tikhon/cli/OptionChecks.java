package dev.tikhon.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoublePredicate;

/**
 * Every numeric option of every command checked in one place, before any command runs: a real number must be
 * finite (NaN or Infinity is refused while the command line is parsed), and an option that names a count, a
 * step size, a probability or a weight must lie in its range. An option means the same thing in every command
 * that has it (--sigma is a noise level, --batch-size a count), so one table keyed by the option's name covers
 * them all, with an entry "command --option" where a command gives 0 a meaning of its own; a new option with
 * one of these names is checked without another line of code.
 */
final class OptionChecks {

    /** A range and how it reads in a message. */
    record Range(String words, DoublePredicate ok) {
        static final Range POSITIVE = new Range("> 0", v -> v > 0);
        static final Range NON_NEGATIVE = new Range("≥ 0", v -> v >= 0);
        static final Range AT_LEAST_ONE = new Range("≥ 1", v -> v >= 1);
        static final Range PROBABILITY = new Range("in (0, 1)", v -> v > 0 && v < 1);
        static final Range FRACTION = new Range("in [0, 1)", v -> v >= 0 && v < 1);
        static final Range UNIT = new Range("in [0, 1]", v -> v >= 0 && v <= 1);
    }

    private static final Map<String, Range> RULES = rules();

    private OptionChecks() {}

    private static Map<String, Range> rules() {
        Map<String, Range> r = new java.util.HashMap<>();
        for (String name : List.of("--sigma", "--lr", "--smooth-lr", "--delta", "--h", "--atol", "--rtol", "--end-time", "--step",
                "--tolerance", "--epsilon", "--lip-weights", "--lip-eps", "--lip-lr", "--radius", "--timeout", "--bab-timeout")) {
            r.put(name, Range.POSITIVE);
        }
        for (String name : List.of("--lambda", "--v1-lambda", "--weight-decay", "--lip-weight", "--tv-weight", "--reg-kinetic",
                "--reg-jacobian", "--eps", "--warmup", "--gamma", "--milestones", "--limit", "--lanczos", "--attack-steps",
                "--predict-images", "--subset", "--smooth-subset", "--v1-subset", "--checkpoint-every", "--max-points", "--ddn-steps",
                "--smoothed", "--partitions", "--features", "--step-size",
                "--cw-steps", "--time-budget", "--robust-images", "--train-images", "--ddn-images", "--ensemble-images", "--mc-images",
                "--eps-warmup", "--eps-ramp", "--epoch", "--padding", "--beta", "--transfer-confidence", "--bab-steps")) {
            r.put(name, Range.NON_NEGATIVE);
        }
        for (String name : List.of("--batch-size", "--eval-batch-size", "--image-batch-size", "--batch", "--epochs", "--images",
                "--n", "--n0", "--predict-n", "--noise-batch", "--images-per-batch", "--threads", "--attack-restarts", "--restarts", "--seeds", "--iterations",
                "--image-iterations", "--kappa", "--centres", "--block-size", "--samples", "--mc-samples", "--flow-samples", "--grid",
                "--test-points", "--test-size", "--train-size", "--channels", "--image-channels", "--scales", "--degree", "--depth",
                "--width", "--steps", "--pgd-steps", "--v1-steps", "--hidden", "--sizes", "--depths", "--plot-sizes", "--eot", "--radius-steps", "--bound-batch",
                "--lip-epochs", "--certified-epochs", "--size", "--reps", "--ceiling-size", "--side", "--in", "--out-channels", "--kernel",
                "--stride", "--bab-domains",
                "--queries", "--targets")) {   // 0 targets swapped APGD-T for another member; 0 queries failed once the attack ran
            r.put(name, Range.AT_LEAST_ONE);
        }
        // a flow's held-out NLL of 0 points: training ran, then evaluation failed unnamed; of 1 point: "± 0.0000", a standard
        // error that one point cannot give
        Range twoPoints = new Range("≥ 2 (the held-out NLL's standard error needs two points)", v -> v >= 2);
        r.put("--held-out", twoPoints);
        r.put("--image-held-out", twoPoints);
        r.put("--alpha", Range.PROBABILITY);
        r.put("--momentum", Range.FRACTION);
        r.put("--kappa-end", Range.UNIT);
        r.put("--flip", new Range("in [0, 0.5)", v -> v >= 0 && v < 0.5));
        r.put("--val-fraction", Range.FRACTION);
        // where a command gives an option's 0 a meaning of its own ("0: the median distance", "0: all")
        r.put("kernel fit --sigma", Range.NON_NEGATIVE);
        r.put("kernel fit --train-size", Range.NON_NEGATIVE);
        // an EK flow's --alpha is the twin penalty's weight (0: none), not certify's failure probability
        r.put("flow train --alpha", Range.NON_NEGATIVE);
        r.put("reproduce ek --alpha", Range.NON_NEGATIVE);
        return Map.copyOf(r);
    }

    /** Numeric options that take any finite value: seeds, and the polynomial kernel's offset. */
    static final java.util.Set<String> ANY_VALUE = java.util.Set.of("--seed", "--coef0");

    /** The range of {@code option} in {@code command} ("kernel fit"), or else of the option in every command; null when it has none. */
    static Range rangeOf(String command, String option) {
        Range specific = RULES.get(command + " " + option);
        return specific != null ? specific : RULES.get(option);
    }

    /** Refuses non-finite real numbers at parse time and checks every range before the command runs. */
    static void install(CommandLine cl) {
        cl.registerConverter(Double.class, OptionChecks::finiteDouble);
        cl.registerConverter(double.class, OptionChecks::finiteDouble);
        cl.registerConverter(Float.class, s -> (float) finiteDouble(s));
        cl.registerConverter(float.class, s -> (float) finiteDouble(s));
        CommandLine.IExecutionStrategy run = cl.getExecutionStrategy();
        cl.setExecutionStrategy(parsed -> {
            check(parsed);
            return run.execute(parsed);
        });
    }

    /**
     * Whether {@code option} was given on the command line of {@code command} (not its default); false where the command
     * was not parsed from one.
     */
    static boolean given(CommandLine.Model.CommandSpec command, String option) {
        if (command == null || command.commandLine() == null) return false;
        ParseResult parsed = command.commandLine().getParseResult();
        return parsed != null && parsed.hasMatchedOption(option);
    }

    /**
     * An option that is valid but that {@code setting} never reads: a note on stderr (stdout may be JSON), not an error,
     * since it stays valid for other settings and runs recorded with it must still resume.
     */
    static void noteIgnored(String option, String setting) {
        System.err.println("note:   " + option + " does nothing with " + setting + "; it is ignored");
    }

    /**
     * A count option (verify/certify --images, attack/bounds --limit) given above what the split holds: the run takes all
     * of it, which a note on stderr says (it was capped silently). {@code set}: the whole split; {@code doing} is the verb, e.g. "verifying".
     */
    static void noteCapped(CommandLine.Model.CommandSpec command, String option, int asked, String split, dev.tikhon.data.Dataset set,
                           String doing) {
        int available = set.size();
        if (asked <= available || !given(command, option)) return;
        String what = set.isImages() ? "images" : "points";
        System.err.println("note:   " + option + " " + asked + " but the " + split + " split holds " + available + " " + what + ": "
                + doing + " all " + available);
    }

    /**
     * {@code --normalize} naming a preset (cifar10, fashion-mnist, mnist: the pixel statistics of an image set) on data
     * that are not images (the 2-D toy sets): refused, since those points are not pixels in [0, 1] and the preset's
     * statistics have nothing to do with them (it was accepted silently). Means and standard deviations given as
     * numbers stay allowed: on [N, D] data the layer standardizes each feature, which an imported model may expect.
     */
    static void checkNormalize(String normalize, dev.tikhon.data.Dataset set, String dataName) {
        if (normalize == null || set.isImages()) return;
        String preset = normalize.strip().toLowerCase(Locale.ROOT);
        if (!dev.tikhon.nn.Normalize.PRESETS.containsKey(preset)) return;
        throw new dev.tikhon.UserError("--normalize " + normalize + " is " + preset + "'s pixel mean and std, but " + dataName
                + " holds points of shape " + java.util.Arrays.toString(set.inputShape()) + ", not images in [0, 1]: drop --normalize "
                + "(or give the points' own MEAN/STD per feature)");
    }

    /**
     * The piecewise learning-rate schedule's options: with {@code schedule} piecewise (or step), {@code milestones} must be
     * increasing fractions of training in (0, 1) and {@code gamma} above 0 (0 stopped training at the first milestone,
     * silently; a recorded run resumes as it was); with another schedule, a given --milestones or --gamma gets a note.
     */
    static void checkPiecewise(CommandLine.Model.CommandSpec command, String scheduleOption, String schedule, List<Double> milestones,
                               double gamma) {
        String s = schedule.toLowerCase(java.util.Locale.ROOT);
        if (s.equals("piecewise") || s.equals("step")) {
            if (gamma == 0 && !milestones.isEmpty() && !RunFolder.continued()) {
                throw new dev.tikhon.UserError("--gamma 0 with " + scheduleOption + " " + schedule + " makes the learning rate 0 from the "
                        + "first milestone (" + joinPlain(milestones.subList(0, 1)) + " of training) on, so training stops there: give a "
                        + "factor above 0 (0.1 divides the learning rate by 10 at each milestone)");
            }
            for (double m : milestones) {
                if (!(m > 0 && m < 1)) {
                    throw new dev.tikhon.UserError("--milestones " + joinPlain(milestones) + ": each milestone is a fraction of training in (0, 1), "
                            + "e.g. 0.5,0.75 divides the learning rate by 1/--gamma at half and three quarters of it");
                }
            }
            for (int i = 1; i < milestones.size(); i++) {
                if (!(milestones.get(i) > milestones.get(i - 1))) {   // the schedule would sort them: say so rather than guess
                    throw new dev.tikhon.UserError("--milestones " + joinPlain(milestones) + " must be increasing, each once: give "
                            + joinPlain(new java.util.TreeSet<>(milestones)));
                }
            }
        } else {
            for (String o : List.of("--milestones", "--gamma")) if (given(command, o)) noteIgnored(o, scheduleOption + " " + schedule);
        }
    }

    /**
     * A warm-up not shorter than training: the learning rate never reaches {@code --lr}. A note on stderr (the run trains,
     * and a recorded run with it still resumes), saying how far it gets; {@code schedule} is the whole schedule, warm-up included.
     */
    static void noteLongWarmup(double warmup, int epochs, double lr, dev.tikhon.optim.LrSchedule schedule) {
        if (!(warmup >= epochs) || epochs <= 0) return;
        double peak = 0;
        for (int k = 0; k < 1000; k++) peak = Math.max(peak, schedule.at(k * (double) epochs / 1000));
        System.err.println("note:   --warmup " + joinPlain(List.of(warmup)) + " is not shorter than --epochs " + epochs
                + ", so the whole run is warm-up and the learning rate never reaches --lr " + joinPlain(List.of(lr)) + " (at most "
                + String.format(Locale.ROOT, "%.3g", peak) + "): give a --warmup shorter than --epochs");
    }

    /**
     * CERTIFY's N (with failure probability {@code alpha}) too small to certify anything: N samples that all agree bound p_A
     * below by α^{1/N} at most, and an image is certified only when that exceeds ½, so with N ≤ log₂(1/α) every image abstains
     * and the run reported a certified accuracy of 0 whatever the model (it ran, with a negative radius cap).
     */
    static void checkMonteCarloN(int n, double alpha) {
        if (Math.pow(alpha, 1.0 / n) > 0.5) return;
        int least = (int) Math.floor(Math.log(1 / alpha) / Math.log(2)) + 1;
        throw new dev.tikhon.UserError("--n " + n + " at α = " + joinPlain(List.of(alpha)) + " (--alpha) can certify no image: " + n
                + " noise samples that all agree bound p_A below by at most α^(1/N) = " + String.format(Locale.ROOT, "%.3g", Math.pow(alpha, 1.0 / n))
                + ", not above ½, so every image abstains; give --n " + least + " or more (Cohen et al. use 100000)");
    }

    /** Numbers as typed, comma-separated: 0.5 not 0.50000, 2 not 2.0. */
    static String joinPlain(java.util.Collection<Double> values) {
        return String.join(",", values.stream().map(v -> new java.math.BigDecimal(String.valueOf(v)).stripTrailingZeros().toPlainString()).toList());
    }

    static double finiteDouble(String s) {
        double v;
        try {
            v = Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("'" + s + "' is not a number");
        }
        if (!Double.isFinite(v)) throw new CommandLine.TypeConversionException("'" + s + "' is not a finite number");
        return v;
    }

    /** Checks the options given on the command line (defaults are in range by construction) of the command and its subcommands. */
    static void check(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.hasSubcommand() ? p.subcommand() : null) {
            String command = p.commandSpec().qualifiedName(" ").replaceFirst("^tikhon ?", "");
            for (OptionSpec o : p.matchedOptions()) {
                if (o.longestName().equals("--out") && o.getValue() != null && o.getValue().toString().isBlank()) {
                    // Path.of("") is the working directory: its files would be overwritten
                    throw new CommandLine.ParameterException(p.commandSpec().commandLine(), "--out is empty: name the output folder");
                }
                // picocli drops a list's trailing empty items and keeps the others as "": "--eps ,," became the default radii
                if (",".equals(o.splitRegex())) {
                    for (String given : o.originalStringValues()) {
                        String problem = emptyItem(o.longestName(), given);
                        if (problem != null) throw new CommandLine.ParameterException(p.commandSpec().commandLine(), problem);
                    }
                }
                if (o.longestName().equals("--threads") && o.getValue() instanceof Integer n && n > dev.tikhon.engine.Engine.MAX_THREADS) {
                    // --threads 100000 crashed the JVM inside libtorch (SIGSEGV, exit 139, no message)
                    int cores = Runtime.getRuntime().availableProcessors();
                    throw new CommandLine.ParameterException(p.commandSpec().commandLine(), "--threads " + n + " is more than "
                            + dev.tikhon.engine.Engine.MAX_THREADS + ", the most Tikhon starts (libtorch crashes with tens of thousands, "
                            + "and threads beyond the " + cores + " processors here only take turns on them): give --threads " + cores
                            + " or fewer");
                }
                Range range = rangeOf(command, o.longestName());
                if (range == null) continue;
                for (Object v : values(o.getValue())) {
                    if (!(v instanceof Number n)) continue;
                    double d = n.doubleValue();
                    if (!Double.isFinite(d) || !range.ok().test(d)) {
                        throw new CommandLine.ParameterException(p.commandSpec().commandLine(),
                                o.longestName() + " must be " + range.words() + ", got " + format(n));
                    }
                }
            }
        }
    }

    /**
     * The message for a comma-separated value of {@code option} with an empty (or blank) item, naming the value and, when
     * something is left without the empty items, the value meant most likely; null when no item is empty.
     */
    static String emptyItem(String option, String value) {
        return emptyItem(option, value, ",");
    }

    /** The same, for a value whose items {@code separator} (a regex) separates, such as --attack's "apgd-ce+square". */
    static String emptyItem(String option, String value, String separator) {
        List<String> items = List.of(value.split(separator, -1));
        if (items.stream().noneMatch(String::isBlank)) return null;
        List<String> kept = items.stream().filter(i -> !i.isBlank()).map(String::trim).toList();
        return option + " '" + value + "' has an empty item: separate its values by single commas"
                + (kept.isEmpty() ? ", and give at least one" : " (" + option + " " + String.join(",", kept) + "?)");
    }

    private static List<Object> values(Object value) {
        List<Object> out = new ArrayList<>();
        if (value == null) return out;
        if (value instanceof Collection<?> c) out.addAll(c);
        else if (value.getClass().isArray()) for (int i = 0; i < Array.getLength(value); i++) out.add(Array.get(value, i));
        else out.add(value);
        return out;
    }

    private static String format(Number n) {
        return n instanceof Double || n instanceof Float ? String.format(Locale.ROOT, "%s", n) : n.toString();
    }
}
