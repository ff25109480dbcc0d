package dev.tikhon.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Oracle: the help text. Every on/off option that is on by default ("Default: on") must be turned off by its
 * {@code --no-} form and stay on when given plainly. picocli's rule for a negatable option whose default is true is
 * the opposite unless {@code fallbackValue = "true"} is set: {@code --no-search} then left the search on.
 */
class NegatableOptionsTest {

    /** Every (sub)command path, depth first. */
    private static void paths(CommandLine cl, List<String> prefix, List<List<String>> out) {
        out.add(prefix);
        cl.getSubcommands().forEach((name, sub) -> {
            if (!sub.getCommandName().equals(name)) return;   // an alias
            List<String> p = new ArrayList<>(prefix);
            p.add(name);
            paths(sub, p, out);
        });
    }

    /** The value {@code option} of the command at {@code path} takes after parsing {@code args} (required options may be missing). */
    private static Object valueAfter(List<String> path, String option, String arg) {
        CommandLine root = new CommandLine(new Main());
        List<String> args = new ArrayList<>(path);
        args.add(arg);
        try {
            root.parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.MissingParameterException e) {
            // the value was already applied; a required option elsewhere is not what is tested
        }
        CommandLine cl = root;
        for (String p : path) cl = cl.getSubcommands().get(p);
        return cl.getCommandSpec().findOption(option).getValue();
    }

    @Test
    void everyOptionOnByDefaultIsTurnedOffByItsNoForm() {
        List<List<String>> paths = new ArrayList<>();
        paths(new CommandLine(new Main()), List.of(), paths);
        int checked = 0;
        for (List<String> path : paths) {
            CommandLine cl = new CommandLine(new Main());
            for (String p : path) cl = cl.getSubcommands().get(p);
            CommandSpec spec = cl.getCommandSpec();
            for (OptionSpec o : spec.options()) {
                if (!o.negatable() || !(o.type() == boolean.class || o.type() == Boolean.class)) continue;
                String name = o.longestName();
                String negated = "--no-" + name.substring(2);
                if ("true".equals(o.defaultValue())) {
                    assertThat(valueAfter(path, name, negated)).as("%s %s", path, negated).isEqualTo(false);
                    assertThat(valueAfter(path, name, name)).as("%s %s", path, name).isEqualTo(true);
                    checked++;
                } else if (o.defaultValue() == null && o.type() == boolean.class) {
                    assertThat(valueAfter(path, name, name)).as("%s %s", path, name).isEqualTo(true);
                    assertThat(valueAfter(path, name, negated)).as("%s %s", path, negated).isEqualTo(false);
                }
            }
        }
        assertThat(checked).as("options on by default").isGreaterThanOrEqualTo(8);
    }
}
