package dev.tikhon.cli;

import dev.tikhon.UserError;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The command line of a resumed run: its recorded settings, with the options given again checked against them. An
 * option given with the value it was recorded with is harmless; with another value it is an error naming both (the
 * run would silently become another run); the options in {@code free} (threads, device) may change. One more case:
 * {@code train --epochs} (flow train {@code --iterations}) above the recorded count extends a run (the checkpoint then
 * continues, with that count).
 */
final class ResumeArgs {
    private ResumeArgs() {}

    /** One option as given on a command line: its canonical (longest) name and the tokens that gave it. */
    record Given(String name, List<String> tokens) {}

    static List<String> merge(Supplier<CommandLine> fresh, List<String> path, List<String> recorded, List<String> given,
                              Set<String> free, String where) {
        CommandLine.Model.CommandSpec spec = leaf(fresh.get(), path).getCommandSpec();
        List<Given> old = tokenize(spec, recorded), now = tokenize(spec, given);
        CommandLine.Model.CommandSpec before = parse(fresh, path, recorded, where);
        Map<String, List<String>> byName = new LinkedHashMap<>();
        for (Given g : now) byName.computeIfAbsent(g.name(), n -> new ArrayList<>()).addAll(g.tokens());
        List<String> out = new ArrayList<>(recorded);
        for (Map.Entry<String, List<String>> g : byName.entrySet()) {
            String name = g.getKey();
            if (name.isEmpty()) {   // names no option: the parser reports it
                out.addAll(g.getValue());
                continue;
            }
            List<String> replaced = without(old, name);
            replaced.addAll(g.getValue());
            String was = display(before.findOption(name)), is = display(parse(fresh, path, replaced, where).findOption(name));
            if (Objects.equals(was, is)) continue;
            if (!free.contains(name) && !extends_(path, name, was, is)) {
                throw new UserError(String.join(" ", g.getValue()) + " conflicts with the run's recorded " + name + " " + was + " (" + where
                        + "); drop it to resume that run, or start a new one in another --out");
            }
            out = without(tokenize(spec, out), name);
            out.addAll(g.getValue());
        }
        return out;
    }

    private static List<String> without(List<Given> options, String name) {
        List<String> out = new ArrayList<>();
        for (Given o : options) if (!o.name().equals(name)) out.addAll(o.tokens());
        return out;
    }

    /** {@code train --epochs N} (flow train {@code --iterations N}) above the recorded count: the run is extended, not changed. */
    private static boolean extends_(List<String> path, String name, String was, String is) {
        if (!name.equals(Map.of("train", "--epochs", "flow train", "--iterations").get(String.join(" ", path)))) return false;
        try {
            return Integer.parseInt(is) > Integer.parseInt(was);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static CommandLine leaf(CommandLine cl, List<String> path) {
        for (String p : path) cl = cl.getSubcommands().get(p);
        return cl;
    }

    private static CommandLine.Model.CommandSpec parse(Supplier<CommandLine> fresh, List<String> path, List<String> args, String where) {
        List<String> all = new ArrayList<>(path);
        all.addAll(args);
        CommandLine cl = fresh.get();
        try {
            cl.parseArgs(all.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw new UserError("the settings do not combine with the run's recorded ones (" + where + "): " + e.getMessage().replace('\n', ' ')
                    + "; drop the options given again, or start a new run in another --out");
        }
        return leaf(cl, path).getCommandSpec();
    }

    /**
     * {@code args} with the value of every path option (--checkpoint, --data-dir, --out, …) made absolute, so that the
     * settings a run records mean the same files when it is resumed from another working directory.
     */
    static List<String> absolutePaths(CommandLine.Model.CommandSpec spec, List<String> args) {
        List<String> out = new ArrayList<>();
        for (Given g : tokenize(spec, args)) {
            OptionSpec o = g.name().isEmpty() ? null : spec.findOption(g.name());
            boolean path = o != null && (isPath(o.type())
                    || java.util.Collection.class.isAssignableFrom(o.type()) && o.auxiliaryTypes().length > 0 && isPath(o.auxiliaryTypes()[0]));
            String split = o == null ? "" : o.splitRegex();
            List<String> t = g.tokens();
            if (path && t.size() == 2) {
                out.addAll(List.of(t.get(0), absolute(t.get(1), split)));
            } else if (path && t.size() == 1 && t.get(0).contains("=")) {
                String a = t.get(0);
                out.add(a.substring(0, a.indexOf('=') + 1) + absolute(a.substring(a.indexOf('=') + 1), split));
            } else {
                out.addAll(t);
            }
        }
        return out;
    }

    private static boolean isPath(Class<?> type) {
        return type == java.nio.file.Path.class || type == java.io.File.class;
    }

    /** Each path of a value made absolute; a list option's value ("a,b") keeps its separators (its {@code split} pattern). */
    private static String absolute(String value, String split) {
        if (split.isEmpty()) return absolute(value);
        java.util.regex.Matcher separator = java.util.regex.Pattern.compile(split).matcher(value);
        StringBuilder out = new StringBuilder();
        int from = 0;
        while (separator.find()) {
            out.append(absolute(value.substring(from, separator.start()))).append(separator.group());
            from = separator.end();
        }
        return out.append(absolute(value.substring(from))).toString();
    }

    private static String absolute(String path) {
        try {
            return java.nio.file.Path.of(path).toAbsolutePath().normalize().toString();
        } catch (java.nio.file.InvalidPathException e) {
            return path;   // the parser reports it
        }
    }

    /** An option's value as text, for comparing and for messages. */
    private static String display(OptionSpec o) {
        if (o == null) return "";
        Object v;
        try {
            v = o.getValue();
        } catch (RuntimeException e) {
            return "";
        }
        if (v == null) return "(unset)";
        if (v.getClass().isArray()) return Arrays.deepToString(new Object[]{v}).replaceAll("^\\[|]$", "");
        return String.valueOf(v);
    }

    /**
     * Splits a command line into its options: {@code --name value}, {@code --name=value}, flags (a boolean option, or
     * a negated {@code --no-name}) and an option's optional value where its arity allows one. Tokens naming no option
     * are kept, each on its own, under the name "" (the parser will judge them).
     */
    static List<Given> tokenize(CommandLine.Model.CommandSpec spec, List<String> args) {
        Map<Integer, Given> out = new LinkedHashMap<>();
        for (int k = 0; k < args.size(); k++) {
            String a = args.get(k);
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            OptionSpec o = a.startsWith("-") ? spec.findOption(name) : null;
            if (o == null && name.startsWith("--no-")) {
                OptionSpec negated = spec.findOption("--" + name.substring(5));
                if (negated != null && negated.negatable()) o = negated;
            }
            if (o == null) {
                out.put(k, new Given("", List.of(a)));
                continue;
            }
            List<String> tokens = new ArrayList<>(List.of(a));
            boolean flag = o.type() == boolean.class || o.type() == Boolean.class;
            if (!a.contains("=") && o.arity().max() > 0 && k + 1 < args.size()) {
                String next = args.get(k + 1);
                boolean takes = flag ? next.equalsIgnoreCase("true") || next.equalsIgnoreCase("false")
                        : o.arity().min() > 0 || !next.startsWith("-") || next.matches("-[0-9.].*");
                if (takes) tokens.add(args.get(++k));
            }
            out.put(k, new Given(o.longestName(), tokens));
        }
        return new ArrayList<>(out.values());
    }
}
