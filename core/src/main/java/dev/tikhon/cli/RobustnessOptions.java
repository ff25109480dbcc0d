package dev.tikhon.cli;

import dev.tikhon.attack.Norm;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** What and how the attack and bounds commands evaluate: the images, the threat model, the attack budget. */
final class RobustnessOptions {
    /** The command these options are mixed into: whether --limit was given. */
    @picocli.CommandLine.Spec(picocli.CommandLine.Spec.Target.MIXEE) picocli.CommandLine.Model.CommandSpec mixee;

    @Option(names = "--split", defaultValue = "test", description = "test or train. Default: ${DEFAULT-VALUE}.")
    String split;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "1000",
            description = "Evaluate the first N images of the split (0: all). Default: ${DEFAULT-VALUE}.")
    int limit;

    @Option(names = "--norm", paramLabel = "linf|l2", defaultValue = "linf", converter = NormConverter.class,
            description = "Threat model. Default: ${DEFAULT-VALUE}.")
    Norm norm;

    @Option(names = "--steps", defaultValue = "100", description = "Iterations of PGD, APGD and FAB-T (also of FAB-T in the minimum-distance search). Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--restarts", defaultValue = "1", description = "Random restarts of PGD/APGD. Default: ${DEFAULT-VALUE}.")
    int restarts;

    @Option(names = "--targets", defaultValue = "9", description = "Target classes of APGD-T, FAB-T and cw-t (capped at classes − 1). Default: ${DEFAULT-VALUE}.")
    int targets;

    @Option(names = "--queries", defaultValue = "5000", description = "Queries of the Square attack (AutoAttack standard: 5000). Default: ${DEFAULT-VALUE}.")
    int queries;

    @Option(names = "--ddn-steps", defaultValue = "100", description = "Steps of the DDN minimum-distance attack. Default: ${DEFAULT-VALUE}.")
    int ddnSteps;

    @Option(names = "--batch-size", defaultValue = "256", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the attacks' random starts, and of generated data other than the model's own (drawn with its training seed). Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--out", paramLabel = "DIR", description = "Output directory.")
    Path out;

    /** Parses "0.1,8/255" into radii; an empty item is an error (it used to be dropped, and "--eps ,," meant the default radii). */
    static double[] parseEps(List<String> values) {
        List<String> items = values.stream().flatMap(v -> Arrays.stream(v.split(",", -1))).map(String::trim).toList();
        double[] radii = items.stream().mapToDouble(RobustnessOptions::parseRadius).toArray();
        // a radius given twice (0.1,0.1 or 0.1,1/10) ran twice: duplicate columns in the CSVs, one key in metrics.json
        for (int i = 0; i < radii.length; i++) {
            for (int j = 0; j < i; j++) {
                if (radii[i] == radii[j]) {
                    throw new IllegalArgumentException("--eps gives the radius " + items.get(j) + (items.get(i).equals(items.get(j)) ? " twice"
                            : " twice (as " + items.get(j) + " and " + items.get(i) + ")") + ": give each radius once");
                }
            }
        }
        return radii;
    }

    /**
     * A note (not an error: the run is valid) for each ℓ∞ radius of 1 or more: images lie in [0, 1], so such a ball is the
     * whole box, and such a radius is most often an "8" typed for 8/255.
     */
    static void noteWholeBox(double[] radii, Norm norm) {
        if (norm != Norm.LINF) return;
        for (double r : radii) {
            if (r < 1) continue;
            boolean whole = r == Math.rint(r) && r <= 255;
            String meant = whole ? String.format(java.util.Locale.ROOT, "%d/255 ≈ %.4f", (long) r, r / 255) : "8/255 ≈ 0.0314";
            System.err.println("note:   --eps " + (whole ? String.valueOf((long) r) : String.valueOf(r)) + " in linf covers the whole [0, 1] box "
                    + "the images lie in; if " + meant + " was meant, give --eps " + meant.substring(0, meant.indexOf(' ')));
        }
    }

    static double parseRadius(String s) {
        try {
            int slash = s.indexOf('/');
            double v = slash < 0 ? Double.parseDouble(s) : Double.parseDouble(s.substring(0, slash)) / Double.parseDouble(s.substring(slash + 1));
            if (!(v > 0) || !Double.isFinite(v)) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--eps takes positive radii such as 0.1 or 8/255, separated by commas; got '" + s + "'");
        }
    }

    static final class NormConverter implements picocli.CommandLine.ITypeConverter<Norm> {
        @Override public Norm convert(String value) {
            try {
                return Norm.parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());   // picocli prints it as is
            }
        }
    }
}
