package dev.tikhon.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Figures on the console are formatted as everywhere else (dev.tikhon.report.Format), not a Java record's toString or a
 * double's seventeen digits (audit 20a: "HeatConfig[schedule=revision, …]", "median 0.8209108710289001").
 */
class CliConsoleFiguresTest {
    private static final String TINY_CNN = "src/test/resources/torchscript/tiny_cnn.pt";
    private static final String LINEAR = "src/test/resources/torchscript/linear_fmnist.pt";

    @Test
    void smoothPrintsItsHeatSettingsAsWords(@TempDir Path dir) {
        Cli.Run s = Cli.run("smooth", "--torchscript", TINY_CNN, "--data", "fashion-mnist-sample", "--subset", "32", "--batch-size", "32",
                "--lr", "1e-3", "--threads", "1", "--out", dir.resolve("s").toString());
        assertThat(s.exitCode()).as(s.err()).isZero();
        assertThat(s.out()).contains("heat:   schedule revision, sigma 0.25, lambda 1, kappa 6, delta 0.01, steps 1, epochs per step 1")
                .doesNotContain("HeatConfig[");
    }

    @Test
    void attackPrintsTheMedianDistanceWithFourSignificantDigits(@TempDir Path dir) {
        Cli.Run a = Cli.run("attack", "--torchscript", LINEAR, "--data", "fashion-mnist-sample", "--limit", "4", "--attack", "none",
                "--eps", "0.1", "--steps", "5", "--ddn-steps", "5", "--threads", "1", "--out", dir.resolve("a").toString());
        assertThat(a.exitCode()).as(a.err()).isZero();
        List<String> medians = a.out().lines().filter(l -> l.contains("median")).toList();
        assertThat(medians).anyMatch(l -> l.startsWith("smallest adversarial distance"));
        for (String l : medians) {
            String figure = l.replaceAll(".*median (\\S+?),?( .*)?$", "$1");
            assertThat(figure).as(l).matches("none|not|NaN|null|-?\\d+|-?0\\.0*[1-9]\\d{0,3}|-?[1-9]\\d*\\.\\d{1,3}|-?[1-9](\\.\\d{1,3})?e[-+]?\\d+");
        }
    }
}
