package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The regularizers through the command line: training, resuming, evaluating, the experiment. */
class CliRegularizationTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void trainWithEachRegularizerOnAToySet(@TempDir Path dir) throws IOException {
        String[][] regs = {{"--reg", "tikhonov", "--lambda", "1"}, {"--reg", "tikhonov-exact", "--norm", "l1"},
                {"--reg", "tv,lipschitz", "--tv-weight", "0.1", "--lip-weight", "0.01"}, {"--reg", "noise", "--sigma", "0.1"},
                {"--reg", "fgsm", "--eps", "0.05"}, {"--reg", "pgd", "--eps", "0.05", "--steps", "3", "--norm", "l2"},
                {"--reg", "trades", "--eps", "0.05", "--steps", "3", "--beta", "1"}};
        for (String[] reg : regs) {
            Path out = dir.resolve(reg[1].replace(',', '+'));
            String[] args = Cli.concat(new String[]{"train", "--data", "moons", "--model", "mlp", "--hidden", "16", "--epochs", "1",
                    "--threads", "1", "--out", out.toString()}, reg);
            Cli.Run r = Cli.run(args);
            assertThat(r.exitCode()).as(String.join(" ", reg) + "\n" + r.err()).isEqualTo(0);
            assertThat(r.err()).as("every option given is one the regularizer reads").doesNotContain("does nothing");
            JsonNode m = JSON.readTree(out.resolve("metrics.json").toFile());
            assertThat(m.at("/config/objective/reg").asText()).isEqualTo(reg[1].replace(',', '+'));
            assertThat(m.at("/final/test_acc").asDouble()).as(reg[1]).isGreaterThan(0.7);
        }
        assertThat(Files.readString(dir.resolve("tikhonov/history.csv"))).contains("train_penalty");
        assertThat(Files.readString(dir.resolve("tv+lipschitz/history.csv"))).contains("train_tv").contains("train_lip");
        assertThat(Files.readString(dir.resolve("trades/history.csv"))).contains("train_clean").contains("train_kl");
    }

    @Test
    void resumeRebuildsTheSameObjective(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("run");
        assertThat(Cli.run("train", "--data", "moons", "--model", "mlp", "--hidden", "16", "--epochs", "1", "--reg", "tikhonov",
                "--lambda", "0.5", "--threads", "1", "--out", out.toString()).exitCode()).isEqualTo(0);
        Cli.Run r = Cli.run("train", "--resume", "--epochs", "2", "--threads", "1", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        assertThat(r.out()).contains("0.5 · tikhonov");
        assertThat(JSON.readTree(out.resolve("metrics.json").toFile()).at("/epochs").asInt()).isEqualTo(2);
    }

    @Test
    void badRegularizerOptionsAreOneLineErrors(@TempDir Path dir) {
        Cli.Run r = Cli.run("train", "--data", "moons", "--model", "mlp", "--reg", "dropout", "--out", dir.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().strip()).startsWith("tikhon: error: unknown --reg 'dropout'").doesNotContain("\n");
        Cli.Run n = Cli.run("train", "--data", "moons", "--model", "mlp", "--reg", "tikhonov", "--norm", "l3", "--out", dir.toString());
        assertThat(n.exitCode()).isEqualTo(2);
        assertThat(n.err()).contains("--norm 'l3'");
        // a --reg-param key the regularizer does not have (a typo) is an error naming the keys it has
        Cli.Run typo = Cli.run("train", "--data", "moons", "--model", "mlp", "--reg", "gloro", "--reg-param", "powr-iterations=3",
                "--out", dir.toString());
        assertThat(typo.exitCode()).isEqualTo(2);
        assertThat(typo.err().strip()).isEqualTo("tikhon: error: --reg-param powr-iterations: --reg gloro has no setting "
                + "'powr-iterations'; its settings are eps, power-iterations, ramp-steps");
    }

    /**
     * Settings that cannot work are errors before the data is read: zero power iterations estimate no Lipschitz constant,
     * zero ascent steps are no attack, a negative ramp is no ramp; a --reg-param for a setting with its own option was
     * silently replaced by the default.
     */
    @Test
    void countSettingsOfTheRegularizersAreChecked(@TempDir Path dir) {
        String[][] cases = {
                {"--reg gloro --reg-param power-iterations=0", "--reg-param power-iterations=0: the Lipschitz constant is estimated by "
                        + "power iteration, which needs at least one step per training step; give power-iterations=1 or more"},
                {"--reg lipschitz-margin --reg-param ramp-steps=-5", "--reg-param ramp-steps=-5: a ramp is a number of steps"},
                {"--reg gloro --reg-param eps=3", "--reg-param eps=3: eps has an option of its own: give --eps 3 instead"},
                {"--reg pgd --pgd-steps 0", "--pgd-steps must be ≥ 1, got 0"},
                {"--reg trades --reg-param pgd-steps=0", "--reg-param pgd-steps=0: pgd-steps has an option of its own"},
        };
        for (String[] c : cases) {
            String[] args = Cli.concat(new String[]{"train", "--data", "moons", "--model", "mlp", "--out", dir.resolve("x").toString()},
                    c[0].split(" "));
            Cli.Run r = Cli.run(args);
            assertThat(r.exitCode()).as(c[0]).isEqualTo(Main.EXIT_USER);
            assertThat(r.err()).as(c[0]).contains(c[1]).doesNotContain("Exception");
            assertThat(r.out()).as(c[0] + ": the data was not read").isEmpty();
        }
        // the library's parsers refuse them too
        for (String reg : new String[]{"pgd", "trades"}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> dev.tikhon.regularize.Regularizers.spec(reg, java.util.Map.of("pgd-steps", 0)))
                    .hasMessageContaining("--reg " + reg + " needs at least one ascent step");
        }
    }

    /** FGSM is one ℓ∞ step of size ε: its other attack settings are noted as ignored (they were read and dropped). */
    @Test
    void fgsmNotesTheSettingsItDoesNotUse(@TempDir Path dir) {
        Cli.Run r = Cli.run("train", "--data", "moons", "--model", "mlp", "--hidden", "8", "--epochs", "1", "--threads", "1",
                "--batch-size", "2000", "--reg", "fgsm", "--eps", "0.05", "--pgd-steps", "5", "--norm", "l2", "--out", dir.resolve("f").toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        assertThat(r.err()).contains("note:   --pgd-steps does nothing with --reg fgsm; it is ignored")
                .contains("note:   --norm does nothing with --reg fgsm; it is ignored").doesNotContain("--eps does nothing");
    }

    /** A named option the regularizer does not read is noted on stderr (it is valid for others; stdout may be JSON), and the run goes on. */
    @Test
    void anOptionTheRegularizerDoesNotReadIsNoted(@TempDir Path dir) {
        Cli.Run r = Cli.run("train", "--data", "moons", "--model", "mlp", "--hidden", "8", "--epochs", "1", "--threads", "1", "--reg", "trades",
                "--eps", "0.05", "--steps", "1", "--no-random-start", "--sigma", "0.3", "--out", dir.resolve("t").toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        assertThat(r.err()).contains("note:   --random-start does nothing with --reg trades; it is ignored")
                .contains("note:   --sigma does nothing with --reg trades; it is ignored").doesNotContain("--eps does nothing");
    }

    @Test
    void benchReportsTheRatioToAPlainStep() throws IOException {
        // --no-ceiling: the float32 matmuls timed between blocks were most of its time, and nothing here reads them
        // (CliRunTest.benchPrintsJson runs them)
        Cli.Run b = Cli.run("bench", "train-step", "--model", "mlp", "--reg", "tikhonov", "--steps", "5", "--warmup", "1", "--no-ceiling",
                "--threads", "1");
        assertThat(b.exitCode()).as(b.err()).isEqualTo(0);
        JsonNode j = JSON.readTree(b.out().strip().lines().reduce((a, c) -> c).orElseThrow());
        // what is reported, and that it is consistent; how fast each step is belongs to bench runs, not to a test
        assertThat(j.get("reg").asText()).isEqualTo("tikhonov");
        assertThat(j.get("objective").asText()).containsIgnoringCase("tikhonov");
        double plain = j.get("plain_steps_per_second").asDouble(), reg = j.get("reg_steps_per_second").asDouble();
        assertThat(plain).isPositive();
        assertThat(reg).isPositive();
        assertThat(j.get("ratio").asDouble()).isCloseTo(plain / reg, org.assertj.core.data.Offset.offset(1e-9 * plain / reg));
    }

    /**
     * The epoch's mean of a part constant over the epoch is that constant: ε = 0.1 was logged as 0.10000000000000085 (a sum
     * of ε × batch size divided back), above the --eps asked for. The uneven last batch (20000 = 66 × 300 + 200) weighs in.
     */
    @Test
    void certifiedTrainingLogsItsEpsilonExactlyAndWhatItVerified(@TempDir Path dir) throws IOException {
        Cli.Run r = Cli.run("train", "--data", "moons", "--model", "mlp", "--hidden", "16", "--reg", "crown-ibp", "--eps", "0.1",
                "--eps-warmup", "0", "--eps-ramp", "0", "--epochs", "2", "--batch-size", "300", "--threads", "1",
                "--out", dir.toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        JsonNode history = JSON.readTree(dir.resolve("history.json").toFile());
        for (JsonNode epoch : history) {
            assertThat(epoch.get("train_eps").asDouble()).isEqualTo(0.1);
            assertThat(epoch.get("train_kappa").asDouble()).isEqualTo(0.5);
            assertThat(epoch.get("train_verified_at_eps").asDouble()).isBetween(0.0, 1.0);
        }
    }

    @Test
    void benchTimesCertifiedTrainingInsideItsRampNotItsCleanWarmUp() throws IOException {
        Cli.Run b = Cli.run("bench", "train-step", "--model", "mlp", "--reg", "crown-ibp", "--eps-warmup", "1", "--eps-ramp", "10",
                "--steps", "2", "--warmup", "1", "--no-ceiling", "--threads", "1");
        assertThat(b.exitCode()).as(b.err()).isEqualTo(0);
        JsonNode j = JSON.readTree(b.out().strip().lines().reduce((a, c) -> c).orElseThrow());
        assertThat(j.get("epoch").asDouble()).isEqualTo(1.5);
        assertThat(j.get("eps_at_epoch").asDouble()).isCloseTo(0.1 * 0.5 / 10, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(j.get("beta_at_epoch").asDouble()).isCloseTo(0.95, org.assertj.core.data.Offset.offset(1e-12));
    }

    @Test
    void reproduceTikhonovOnTheSample(@TempDir Path dir) throws IOException {
        Cli.Run r = Cli.run("reproduce", "tikhonov", "--data", "fashion-mnist-sample", "--train-images", "2000", "--epochs", "1",
                "--variants", "undefended,tikhonov-fd-1", "--robust-images", "3", "--threads", "2", "--out", dir.toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        JsonNode m = JSON.readTree(dir.resolve("metrics.json").toFile());
        double plain = m.at("/variants/undefended/input_gradient_norms/l2_mean").asDouble();
        double tik = m.at("/variants/tikhonov-fd-1/input_gradient_norms/l2_mean").asDouble();
        assertThat(tik).as("the penalty shrinks the gradient").isLessThan(plain);
        assertThat(dir.resolve("results.csv")).exists();
        assertThat(dir.resolve("gradient_norms.png")).exists();
        ReportContentTest.checkPage(dir, "Results, one row per variant");
        assertThat(dir.resolve("undefended/checkpoint.tkn")).exists();
        // the robustness columns of the paper's tables
        JsonNode rob = m.at("/variants/undefended/robustness");
        assertThat(rob.at("/images").asInt()).isEqualTo(3);
        double r2 = rob.at("/linf_robust_accuracy/2~1255").asDouble(), r8 = rob.at("/linf_robust_accuracy/8~1255").asDouble();
        assertThat(r8).isLessThanOrEqualTo(r2);
        assertThat(rob.at("/median_l2_distance").asDouble()).isGreaterThanOrEqualTo(rob.at("/median_l2_lbound_estimate").asDouble());
        assertThat(rob.at("/l_bound_violations").isNumber()).as("reported (a ReLU net can exceed the estimated L)").isTrue();
        assertThat(dir.resolve("undefended/robust-linf/per_image.csv")).exists();
        assertThat(java.nio.file.Files.readString(dir.resolve("results.csv"))).contains("robust_acc_linf_8/255", "median_l2_distance");
        // robust accuracy beside clean accuracy on the same attacked images (never above it), how many said, and
        // "estimate" kept in the L-bound's name
        assertThat(r.out()).contains("test acc: on all 1000 test images; clean, rob: on the first 3").contains("med L-bd est")
                .doesNotContainPattern("med L-bd(?! est)");
        double clean = rob.get("clean_accuracy_same_images").asDouble();
        rob.get("linf_robust_accuracy").forEach(a -> assertThat(a.asDouble()).isLessThanOrEqualTo(clean));
        java.util.Map<String, String> row = dev.tikhon.report.Csv.read(dir.resolve("results.csv")).records().get(0);
        assertThat(row).containsEntry("variant", "undefended").containsEntry("robust_images", "3")
                .containsKey("median_l2_lbound_estimate").doesNotContainKey("median_l2_lbound");
        assertThat(Double.parseDouble(row.get("clean_acc_robust_images"))).isEqualTo(clean);
        assertThat(Double.parseDouble(row.get("robust_acc_linf_8/255"))).isLessThanOrEqualTo(clean);
        // rerunning continues (nothing left to train) and reports the same numbers
        Cli.Run again = Cli.run("reproduce", "tikhonov", "--data", "fashion-mnist-sample", "--train-images", "2000", "--epochs", "1",
                "--variants", "undefended,tikhonov-fd-1", "--robust-images", "3", "--threads", "2", "--out", dir.toString());
        assertThat(again.exitCode()).isEqualTo(0);
        assertThat(JSON.readTree(dir.resolve("metrics.json").toFile()).at("/variants/undefended/robustness/median_l2_distance").asDouble())
                .as("read back, not re-attacked").isEqualTo(rob.at("/median_l2_distance").asDouble());
        assertThat(JSON.readTree(dir.resolve("metrics.json").toFile()).at("/variants/tikhonov-fd-1/test_acc").asDouble())
                .isEqualTo(m.at("/variants/tikhonov-fd-1/test_acc").asDouble());
    }

}
