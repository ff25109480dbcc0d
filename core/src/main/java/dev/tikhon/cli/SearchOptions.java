package dev.tikhon.cli;

import dev.tikhon.verify.BranchAndBound;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Branch and bound's budget, shared by the commands that search (verify, certify, vnnlib): domains, Adam steps per batch
 * of domains, and time, each per search (one image at one radius; certify: one bisection step; vnnlib: one case, and for
 * bab one constraint of it). Ranges are checked with every other option's ({@link OptionChecks}).
 */
final class SearchOptions {
    static final List<String> NAMES = List.of("--bab-domains", "--bab-steps", "--bab-timeout");

    @Option(names = "--bab-domains", defaultValue = "" + BranchAndBound.DEFAULT_DOMAINS, paramLabel = "N",
            description = "bab, bab-input: domains (sub-boxes) bounded per search before it gives up (a search: one image at one "
                    + "radius; certify: one bisection step; vnnlib: one case, and for bab one constraint of it). More: slower, proves more. Default: ${DEFAULT-VALUE}.")
    int domains;

    @Option(names = "--bab-steps", defaultValue = "" + BranchAndBound.BETA_STEPS, paramLabel = "N",
            description = "bab: Adam steps on β-CROWN's split multipliers and the slopes per batch of domains; a batch that starts "
                    + "from its parents' values on a network with ReLUs takes min(N, " + BranchAndBound.WARM_STEPS + "). Fewer: "
                    + "faster searches with looser bounds; 0: the splits act through the intervals only. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--bab-timeout", paramLabel = "SECONDS",
            description = "bab, bab-input: end each search after this many seconds (checked between batches of domains; the "
                    + "batch's root bounds come first), keeping the bound it reached: still sound, but what is proved then "
                    + "depends on the machine's speed. Default: none (the domains bound the search).")
    Double seconds;

    /** Branch and bound's settings: the defaults with these budgets. */
    BranchAndBound.Settings settings() {
        return BranchAndBound.Settings.DEFAULT.withDomains(domains).withSteps(steps, Math.min(steps, BranchAndBound.WARM_STEPS))
                .withSeconds(seconds == null ? 0 : seconds);
    }

    /**
     * Notes each of these options given although the run's methods ({@code why}) do not read it: none searches, or (for
     * --bab-steps, the multipliers' steps) none is bab.
     */
    static void noteUnread(CommandSpec spec, boolean searches, boolean bab, String why) {
        for (String o : NAMES) {
            if ((!searches || o.equals("--bab-steps") && !bab) && OptionChecks.given(spec, o)) OptionChecks.noteIgnored(o, why);
        }
    }

    /** metrics.json's record of the budgets a search ran with. */
    Map<String, Object> metrics() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bab_domains", domains);
        m.put("bab_steps", steps);
        if (seconds != null) m.put("bab_timeout_seconds", seconds);
        return m;
    }
}
