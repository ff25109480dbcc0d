package dev.tikhon.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tikhon.UserError;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether runs compared side by side were computed on the same data, from what each recorded in its metrics.json: its
 * {@code data_set} (name, split, examples used, split size, shape, seed, a hash of each of the first examples; see
 * {@code dev.tikhon.data.DataIdentity}), or for a run written before that, its {@code data} description and
 * {@code split} (a flow's {@code config.data} and seed).
 *
 * <p>Runs whose first examples hash alike used the same examples, whatever folder they were read from. Otherwise runs on
 * other data sets, other splits, or the same data set with other examples (two folders of the same name holding other
 * files) differ: compare refuses them unless allowed. Softer differences are notes: a generated (toy) set drawn with
 * another seed (other samples of the same distribution), a folder's held-out split drawn with another seed, another
 * number of examples used, and a run that recorded too little to tell (compared by name only).
 */
final class DataCheck {
    /**
     * What one run recorded of its data; any part may be null where it was not recorded.
     *
     * @param fingerprinted whether it recorded {@code data_set} (else the rest was read off its description)
     */
    record Seen(Path dir, String name, String split, Integer examples, Integer splitSize, String shape, Integer classes, Long seed,
                List<String> first, String description, boolean fingerprinted) {
        /** How an error or note names the data: its name, split and seed, e.g. "moons (test split, seed 3)". */
        String words() {
            List<String> more = new ArrayList<>();
            if (split != null) more.add(split + " split");
            if (seed != null && seeded(name)) more.add("seed " + seed);
            return (name == null ? "unrecorded data" : name) + (more.isEmpty() ? "" : " (" + String.join(", ", more) + ")");
        }
    }

    /** What was found: notes to print and record, whether the runs' data differ (refused unless allowed). */
    record Outcome(List<String> notes, String difference) {}

    private DataCheck() {}

    /** The toy sets (dev.tikhon.data.ToyData.NAMES; report does not read the data package). */
    private static final List<String> TOY = List.of("8gaussians", "checkerboard", "2spirals", "pinwheel", "moons", "circles", "rings",
            "swissroll");
    private static final String FOLDER = "folder";

    static boolean seeded(String name) {
        return name != null && (TOY.contains(name) || FOLDER.equals(name));
    }

    /** What {@code m}, the metrics.json of the run in {@code dir}, records of its data. */
    static Seen read(Path dir, JsonNode m) {
        String description = m.path("data").isTextual() ? m.path("data").asText() : null;
        JsonNode d = m.path("data_set");
        if (d.isObject()) {
            List<String> first = new ArrayList<>();
            for (JsonNode h : d.path("first")) first.add(h.asText());
            List<String> shape = new ArrayList<>();
            for (JsonNode s : d.path("shape")) shape.add(s.asText());
            return new Seen(dir, text(d, "name"), text(d, "split"), d.path("examples").isInt() ? d.path("examples").asInt() : null,
                    d.path("split_size").isInt() ? d.path("split_size").asInt() : null, shape.isEmpty() ? null : String.join("x", shape),
                    d.path("classes").isInt() ? d.path("classes").asInt() : null, d.path("seed").isIntegralNumber() ? d.path("seed").asLong() : null,
                    first, description, true);
        }
        if ("flow train".equals(m.path("command").asText())) {
            // a flow before data_set: its data set and seed are in its config
            JsonNode c = m.path("config");
            String name = text(c, "data");
            Long seed = seeded(name) && c.path("training").path("seed").isIntegralNumber() ? c.path("training").path("seed").asLong() : null;
            return new Seen(dir, name, null, null, null, null, null, seed, List.of(), description != null ? description : name, false);
        }
        String split = text(m, "split");
        if (split == null && description != null) {
            Matcher s = Pattern.compile("\\[(test|train)]").matcher(description);
            if (s.find()) split = s.group(1);
        }
        String name = nameIn(description);
        Long seed = null;
        if (seeded(name)) {
            Matcher s = Pattern.compile("seed (\\d+)").matcher(description);
            if (s.find()) seed = Long.parseLong(s.group(1));
        }
        return new Seen(dir, name, split, null, null, null, null, seed, List.of(), description, false);
    }

    private static String text(JsonNode n, String field) {
        return n.path(field).isTextual() ? n.path(field).asText() : null;
    }

    /** The data set a description written by DataSets names (null: none recognized). */
    static String nameIn(String description) {
        if (description == null) return null;
        Matcher toy = Pattern.compile("^toy set ([\\w-]+)").matcher(description);
        if (toy.find()) return toy.group(1);
        if (description.startsWith("image folder")) return FOLDER;
        if (description.startsWith("Fashion-MNIST")) return "fashion-mnist";
        if (description.startsWith("MNIST")) return "mnist";
        if (description.startsWith("CIFAR-10")) return "cifar10";
        return null;
    }

    /** The bundled Fashion-MNIST sample is Fashion-MNIST (its first examples are the full set's). */
    private static String family(String name) {
        return "fashion-mnist-sample".equals(name) ? "fashion-mnist" : name;
    }

    /** Compares every run's data with the first run's; a difference is refused unless {@code allowDifferent}. */
    static Outcome check(List<Seen> runs, boolean allowDifferent) {
        List<String> notes = new ArrayList<>();
        String difference = null;
        Seen a = runs.get(0);
        for (Seen b : runs.subList(1, runs.size())) {
            String d = difference(a, b, notes);
            if (d != null && difference == null) difference = d;
        }
        for (Seen r : runs) {
            if (!r.fingerprinted()) {
                notes.add(r.dir() + " records no fingerprint of its data (a run written before compare checked it): its data "
                        + (r.name() == null ? "could not be told apart from the others'" : "is taken from its description"
                        + (r.description() != null ? " (" + r.description() + ")" : "") + ", not from its examples"));
            }
        }
        if (difference != null && !allowDifferent) {
            throw new UserError(difference + ": compare runs on the same data, or pass --allow-different-data to overlay them anyway");
        }
        if (difference != null) notes.add(0, "--allow-different-data: " + difference);
        return new Outcome(notes, difference);
    }

    /** How {@code b}'s data differs from {@code a}'s (null: the same, or not known to differ); softer differences go to {@code notes}. */
    private static String difference(Seen a, Seen b, List<String> notes) {
        String onA = a.dir() + " was computed on ", onB = " but " + b.dir() + " on ";
        if (a.name() == null || b.name() == null) return null;   // too little recorded to tell: noted as such
        boolean prefixKnown = !a.first().isEmpty() && !b.first().isEmpty();
        int common = Math.min(a.first().size(), b.first().size());
        boolean sameExamples = prefixKnown && a.first().subList(0, common).equals(b.first().subList(0, common));
        if (!family(a.name()).equals(family(b.name()))) return onA + a.words() + onB + b.words();
        if (a.split() != null && b.split() != null && !a.split().equals(b.split())) return onA + a.words() + onB + b.words();
        if (sameExamples) {
            usedNote(a, b, notes);
            return null;
        }
        if (a.shape() != null && b.shape() != null && !a.shape().equals(b.shape())) {
            return onA + a.name() + " examples of shape " + a.shape() + onB + b.name() + " examples of shape " + b.shape();
        }
        if (a.classes() != null && b.classes() != null && !a.classes().equals(b.classes())) {
            return onA + a.name() + " with " + a.classes() + " classes" + onB + b.name() + " with " + b.classes() + " classes";
        }
        boolean otherSeed = seeded(a.name()) && a.seed() != null && b.seed() != null && !a.seed().equals(b.seed());
        if (otherSeed) {
            notes.add(TOY.contains(a.name())
                    ? b.dir() + " was computed on other points of " + a.name() + " than " + a.dir() + " (seed " + b.seed() + ", not "
                    + a.seed() + "): samples of the same generated distribution, not the same points"
                    : b.dir() + " was computed on a held-out split of the image folder drawn with seed " + b.seed() + ", " + a.dir()
                    + " with seed " + a.seed() + ": other images of the folder");
            usedNote(a, b, notes);
            return null;
        }
        if (prefixKnown) {
            // the same name, split and seed, other examples: other files (two folders or data directories holding other data)
            return onA + a.words() + (a.description() != null ? " (" + a.description() + ")" : "") + onB + other(b)
                    + ", whose first examples differ";
        }
        return null;   // a run without fingerprint: noted by check
    }

    private static String other(Seen b) {
        return b.words() + (b.description() != null ? " (" + b.description() + ")" : "");
    }

    /** A note where the runs used different numbers of examples (or splits of different sizes). */
    private static void usedNote(Seen a, Seen b, List<String> notes) {
        if (a.examples() == null || b.examples() == null || a.examples().equals(b.examples())) return;
        String sizes = a.splitSize() != null && b.splitSize() != null && !a.splitSize().equals(b.splitSize())
                ? " (its " + b.split() + " split holds " + b.splitSize() + ", " + a.dir().getFileName() + "'s " + a.splitSize() + ")" : "";
        notes.add(String.format(Locale.ROOT, "%s used %d %s examples%s, %s %d: the curves rest on different numbers of examples",
                b.dir(), b.examples(), b.split() == null ? "" : b.split(), sizes, a.dir(), a.examples()).replace("  ", " "));
    }
}
