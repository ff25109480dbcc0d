package dev.tikhon.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every numeric option of every command has a range in {@link OptionChecks} (or is one of the few that take any value),
 * and every default lies in its range. A numeric option without one took nonsense silently: {@code bench conv-check
 * --side 0} ended in a stack trace, and {@code reproduce verify --bound-batch 0} or {@code reproduce lipschitz-certify
 * --lip-lr 0} started minutes of training before failing.
 */
class OptionRangesTest {

    @Test
    void everyNumericOptionHasARangeAndItsDefaultIsInIt() {
        List<String> unchecked = new ArrayList<>(), badDefaults = new ArrayList<>();
        walk(Main.commandLine(), unchecked, badDefaults);
        assertThat(unchecked).as("numeric options without a range in OptionChecks").isEmpty();
        assertThat(badDefaults).as("defaults outside their range").isEmpty();
    }

    @Test
    void optionsThatLackedARangeAreRefusedBeforeAnyWork() {
        String[][] cases = {
                {"bench conv-check --side 0", "--side must be ≥ 1, got 0"},
                {"bench conv-check --in 8,0", "--in must be ≥ 1, got 0"},
                {"bench matmul --reps 0", "--reps must be ≥ 1, got 0"},
                {"reproduce verify --bound-batch 0", "--bound-batch must be ≥ 1, got 0"},
                {"reproduce verify --train-images -5", "--train-images must be ≥ 0, got -5"},
                {"reproduce lipschitz-certify --lip-lr 0", "--lip-lr must be > 0, got 0"},
                {"reproduce tikhonov --robust-images -1", "--robust-images must be ≥ 0, got -1"},
                {"reproduce lipschitz --flip 0.5", "--flip must be in [0, 0.5), got 0.5"},
                {"train --data moons --kappa-end 1.5", "--kappa-end must be in [0, 1], got 1.5"},
                {"verify --torchscript src/test/resources/torchscript/tiny_cnn.pt --radius -1", "--radius must be > 0, got -1"},
                {"attack --torchscript src/test/resources/torchscript/tiny_cnn.pt --norm l2 --cw-steps -1", "--cw-steps must be ≥ 0, got -1"},
                {"attack --torchscript src/test/resources/torchscript/tiny_cnn.pt --transfer-confidence -1", "--transfer-confidence must be ≥ 0, got -1"},
                // 0 queries failed only once the Square attack ran, not naming --queries; 0 targets swapped APGD-T for another member
                {"attack --torchscript src/test/resources/torchscript/tiny_cnn.pt --queries 0", "--queries must be ≥ 1, got 0"},
                {"attack --torchscript src/test/resources/torchscript/tiny_cnn.pt --targets 0", "--targets must be ≥ 1, got 0"},
                {"verify --torchscript src/test/resources/torchscript/tiny_cnn.pt --queries 0", "--queries must be ≥ 1, got 0"},
                {"verify --torchscript src/test/resources/torchscript/tiny_cnn.pt --targets 0", "--targets must be ≥ 1, got 0"},
                {"verify --torchscript src/test/resources/torchscript/tiny_cnn.pt --steps 0", "--steps must be ≥ 1, got 0"},
                // a flow evaluated on 0 held-out points: training ran to its end, then "toy data set size must be at least 1"
                // and on 1 point it reported a standard error of 0 ("± 0.0000"), which one point cannot give
                {"flow train --data moons --held-out 0", "--held-out must be ≥ 2 (the held-out NLL's standard error needs two points), got 0"},
                {"flow eval --checkpoint nowhere --held-out 1", "--held-out must be ≥ 2 (the held-out NLL's standard error needs two points), got 1"},
                {"reproduce ek --held-out 1", "--held-out must be ≥ 2"},
                {"reproduce rnode --image-held-out 0", "--image-held-out must be ≥ 2"},
                // an EK flow's twin-penalty weight is not a probability: ≥ 0, not in (0, 1)
                {"flow train --method ek --alpha -1", "--alpha must be ≥ 0, got -1"},
                {"reproduce ek --alpha -0.5", "--alpha must be ≥ 0, got -0.5"},
                {"attack --torchscript src/test/resources/torchscript/tiny_cnn.pt --attack apgd-ce,ddn --ddn-steps 0",
                        "--attack ddn runs DDN for --ddn-steps steps: give --ddn-steps ≥ 1, got 0"},
        };
        Cli.Run none = Cli.run("bench", "conv-check", "--side", "2", "--kernel", "5", "--padding", "0,1");
        assertThat(none.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(none.err()).contains("no shape to check").contains("raise --side or --padding");
        for (String[] c : cases) {
            Cli.Run r = Cli.run(c[0].split(" "));
            assertThat(r.exitCode()).as(c[0]).isEqualTo(Main.EXIT_USER);
            assertThat(r.err()).as(c[0]).contains(c[1]).doesNotContain("Exception");
            assertThat(r.out()).as(c[0] + ": no work started").isEmpty();
        }
    }

    /** An EK flow's --alpha of 0 (no twin penalty) or above 1 is a weight it takes; certify's --alpha stays a probability. */
    @Test
    void anEkTwinPenaltyWeightIsNotAProbability() {
        for (String command : List.of("flow train", "reproduce ek")) {
            assertThat(OptionChecks.rangeOf(command, "--alpha").ok().test(0)).as(command).isTrue();
            assertThat(OptionChecks.rangeOf(command, "--alpha").ok().test(2)).as(command).isTrue();
        }
        assertThat(OptionChecks.rangeOf("certify", "--alpha").ok().test(0)).isFalse();
        assertThat(OptionChecks.rangeOf("certify", "--alpha").ok().test(1)).isFalse();
    }

    private static void walk(CommandLine cl, List<String> unchecked, List<String> badDefaults) {
        String command = cl.getCommandSpec().qualifiedName(" ").replaceFirst("^tikhon ?", "");
        for (OptionSpec o : cl.getCommandSpec().options()) {
            if (!numeric(o)) continue;
            String name = o.longestName();
            OptionChecks.Range range = OptionChecks.rangeOf(command, name);
            if (range == null) {
                if (!OptionChecks.ANY_VALUE.contains(name)) unchecked.add(command + " " + name);
                continue;
            }
            if (o.defaultValue() == null) continue;
            for (String v : o.defaultValue().split(",")) {
                if (!range.ok().test(Double.parseDouble(v.trim()))) badDefaults.add(command + " " + name + " " + o.defaultValue());
            }
        }
        for (CommandLine sub : cl.getSubcommands().values()) walk(sub, unchecked, badDefaults);
    }

    private static boolean numeric(OptionSpec o) {
        Class<?> t = o.type().isArray() ? o.type().getComponentType() : o.type();
        if (java.util.Collection.class.isAssignableFrom(t)) t = o.auxiliaryTypes()[0];
        return t == int.class || t == long.class || t == double.class || t == float.class || Number.class.isAssignableFrom(t);
    }
}
