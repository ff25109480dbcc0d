package dev.tikhon.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * reproduce tikhonov's help names every default variant (TRADES included). Its run (robust accuracy beside clean accuracy
 * on the same attacked images, never above it) is checked in {@link CliRegularizationTest#reproduceTikhonovOnTheSample}.
 */
class CliReproduceTikhonovTest {
    @Test
    void theHelpNamesTrades() {
        Cli.Run h = Cli.run("reproduce", "tikhonov", "--help");
        assertThat(h.out().replaceAll("\\s+", " ")).contains("TRADES (β 6)").contains("clean and ℓ∞ robust accuracy");
    }
}
