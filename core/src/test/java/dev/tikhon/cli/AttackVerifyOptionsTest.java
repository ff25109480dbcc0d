package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Options of attack and verify that an audit found accepted silently, or refused only once the work had started. */
class AttackVerifyOptionsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String LINEAR = "src/test/resources/torchscript/linear_fmnist.pt";
    private static final String ONNX = "src/test/resources/onnx/fmnist_cnn.onnx";

    @TempDir static Path shared;
    private static Path moons;

    /** An MLP trained one epoch on the 2-D moons (inputs not in [0, 1], two classes), trained once for the tests that need one. */
    private static synchronized Path moonsMlp() {
        if (moons == null) {
            Path out = shared.resolve("moons");
            Cli.Run t = Cli.run("train", "--data", "moons", "--model", "mlp", "--hidden", "4", "--epochs", "1", "--threads", "1", "--out", out.toString());
            assertThat(t.exitCode()).as(t.err()).isZero();
            moons = out;
        }
        return moons;
    }

    /** --attack none attacked nothing and reported clean accuracy as robust accuracy, with robustbench.json's attack "none". */
    @Test
    void attackNoneNeedsSomethingElseThatAttacksAndSaysWhatRan(@TempDir Path dir) throws IOException {
        Cli.Run r = Cli.run("attack", "--torchscript", LINEAR, "--data", "fashion-mnist-sample", "--limit", "4", "--attack", "none",
                "--no-min-distance", "--out", dir.resolve("x").toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("--attack none runs no attack").contains("--transfer-from MODEL").contains("drop --no-min-distance")
                .doesNotContain("Exception");
        assertThat(r.out()).as("refused before any work").isEmpty();
        r = Cli.run("attack", "--torchscript", LINEAR, "--data", "fashion-mnist-sample", "--limit", "4", "--attack", "none",
                "--smoothed", "2", "--sigma", "0.1", "--out", dir.resolve("y").toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("--smoothed runs no minimum-distance search");

        // with the minimum-distance search, robust accuracy is the search's: the outputs name it
        Cli.Run a = Cli.run("attack", "--torchscript", LINEAR, "--data", "fashion-mnist-sample", "--limit", "4", "--attack", "none",
                "--eps", "0.1", "--steps", "5", "--ddn-steps", "5", "--no-bounds", "--threads", "1", "--out", dir.resolve("search").toString());
        assertThat(a.exitCode()).as(a.err()).isZero();
        assertThat(a.out()).contains("(minimum-distance search (ddn, fab-t))").doesNotContain("(none)");
        JsonNode rb = JSON.readTree(dir.resolve("search/robustbench.json").toFile());
        assertThat(rb.at("/attack").asText()).isEqualTo("minimum-distance search (ddn, fab-t)");
        JsonNode m = JSON.readTree(dir.resolve("search/metrics.json").toFile());
        assertThat(m.at("/attacks/robust_accuracy_by").toString()).isEqualTo("[\"minimum-distance search (ddn, fab-t)\"]");
    }

    /**
     * robustbench.json called the default run's figure "autoattack_acc", but the minimum-distance search runs first and a
     * point it breaks within ε is never attacked again: the figure can be below AutoAttack's. Only the ensemble alone is.
     */
    @Test
    void autoAttackAccuracyOnlyWhenTheEnsembleDecidedAlone(@TempDir Path dir) throws IOException {
        String[] common = {"attack", "--torchscript", LINEAR, "--data", "fashion-mnist-sample", "--limit", "4", "--eps", "0.1",
                "--steps", "3", "--queries", "5", "--ddn-steps", "5", "--no-bounds", "--threads", "1", "--out"};
        Cli.Run with = Cli.run(Cli.concat(common, dir.resolve("with").toString()));
        assertThat(with.exitCode()).as(with.err()).isZero();
        assertThat(with.out()).contains("(ensemble + minimum-distance search (ddn, fab-t))");
        JsonNode rb = JSON.readTree(dir.resolve("with/robustbench.json").toFile());
        assertThat(rb.has("autoattack_acc")).isFalse();
        assertThat(rb.has("robust_acc")).isTrue();
        assertThat(rb.at("/attack").asText()).startsWith("apgd-ce, ").endsWith(", square, minimum-distance search (ddn, fab-t)");

        Cli.Run alone = Cli.run(Cli.concat(Cli.concat(common, dir.resolve("alone").toString()), "--no-min-distance"));
        assertThat(alone.exitCode()).as(alone.err()).isZero();
        assertThat(alone.out()).contains("(ensemble)");
        rb = JSON.readTree(dir.resolve("alone/robustbench.json").toFile());
        assertThat(rb.has("autoattack_acc")).isTrue();
        assertThat(rb.at("/attack").asText()).startsWith("AutoAttack standard ensemble (apgd-ce, ");
    }

    /** verify --no-attack --attack-all skipped the soundness check it asks for, silently. */
    @Test
    void verifyAttackAllNeedsTheAttack(@TempDir Path dir) {
        Cli.Run r = Cli.run("verify", "--onnx", ONNX, "--data", "fashion-mnist-sample", "--images", "2", "--no-attack", "--attack-all",
                "--out", dir.toString());
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(r.err()).contains("--attack-all attacks verified images too, which --no-attack turns off: drop one of them")
                .doesNotContain("Exception");
        assertThat(r.out()).as("refused before any work").isEmpty();
    }

    /** A budget option the chosen attacks never read gets a note (it was ignored silently), one they read does not. */
    @Test
    void budgetOptionsNoAttackReadsGetANote(@TempDir Path dir) {
        Cli.Run a = Cli.run("attack", "--torchscript", LINEAR, "--data", "fashion-mnist-sample", "--limit", "2", "--eps", "0.1", "--attack", "pgd",
                "--steps", "2", "--targets", "3", "--queries", "10", "--ddn-steps", "5", "--no-min-distance", "--no-bounds", "--threads", "1",
                "--out", dir.resolve("a").toString());
        assertThat(a.exitCode()).as(a.err()).isZero();
        assertThat(a.err()).contains("note:   --targets does nothing with --attack pgd and --no-min-distance; it is ignored")
                .contains("note:   --queries does nothing with --attack pgd; it is ignored")
                .contains("note:   --ddn-steps does nothing with --attack pgd and --no-min-distance; it is ignored")
                .doesNotContain("--steps does nothing");
        // the minimum-distance search reads --targets and --ddn-steps; the transfer attack's PGD reads --steps
        Cli.Run b = Cli.run("attack", "--torchscript", LINEAR, "--data", "fashion-mnist-sample", "--limit", "2", "--eps", "0.1", "--attack", "none",
                "--transfer-from", LINEAR, "--steps", "2", "--targets", "1", "--ddn-steps", "2", "--restarts", "2", "--no-bounds", "--threads", "1",
                "--out", dir.resolve("b").toString());
        assertThat(b.exitCode()).as(b.err()).isZero();
        assertThat(b.err()).contains("note:   --restarts does nothing with --attack none and --transfer-attack pgd; it is ignored")
                .doesNotContain("--targets does nothing").doesNotContain("--ddn-steps does nothing").doesNotContain("--steps does nothing");

        Cli.Run v = Cli.run("verify", "--onnx", ONNX, "--data", "fashion-mnist-sample", "--images", "2", "--method", "ibp", "--no-attack",
                "--targets", "2", "--threads", "1", "--out", dir.resolve("v").toString());
        assertThat(v.exitCode()).as(v.err()).isZero();
        assertThat(v.err()).contains("note:   --targets does nothing with --no-attack; it is ignored").doesNotContain("--steps does nothing");

        // bounds shares attack's budget options but runs no attack: only its check's search reads three of them
        Cli.Run c = Cli.run("bounds", "--torchscript", LINEAR, "--data", "fashion-mnist-sample", "--limit", "2", "--lanczos", "0",
                "--steps", "3", "--ddn-steps", "3", "--queries", "10", "--restarts", "2", "--threads", "1", "--out", dir.resolve("c").toString());
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.err()).contains("note:   --queries does nothing with bounds (only its check's minimum-distance search reads")
                .contains("note:   --restarts does nothing with bounds (only").doesNotContain("--steps does nothing")
                .doesNotContain("--ddn-steps does nothing");
        Cli.Run d = Cli.run("bounds", "--torchscript", LINEAR, "--data", "fashion-mnist-sample", "--limit", "2", "--lanczos", "0", "--no-check",
                "--ddn-steps", "3", "--threads", "1", "--out", dir.resolve("d").toString());
        assertThat(d.exitCode()).as(d.err()).isZero();
        assertThat(d.err()).contains("note:   --ddn-steps does nothing with bounds --no-check; it is ignored");
    }

    /** The table behind those notes covers every registered attack (a new one without an entry would get no notes). */
    @Test
    void everyRegisteredAttackSaysWhichOptionsItReads() {
        assertThat(dev.tikhon.robustness.RobustnessEvaluation.SETTINGS_READ.keySet()).containsExactlyInAnyOrderElementsOf(dev.tikhon.attack.AttackRegistry.names());
    }

    /** An empty item in a list option was dropped: "--eps ,," meant the default radii, "--attack pgd,,fgsm" ran labelled so. */
    @Test
    void emptyItemsInListOptionsAreRefusedBeforeAnyWork(@TempDir Path dir) {
        String[][] cases = {
                {"attack --eps ,,", "--eps ',,' has an empty item: separate its values by single commas, and give at least one"},
                {"attack --eps 0.1,", "--eps '0.1,' has an empty item: separate its values by single commas (--eps 0.1?)"},
                {"attack --eps 0.1,,8/255", "--eps '0.1,,8/255' has an empty item: separate its values by single commas (--eps 0.1,8/255?)"},
                {"attack --attack pgd,,fgsm", "--attack 'pgd,,fgsm' has an empty item: separate its values by single commas (--attack pgd,fgsm?)"},
                {"attack --attack apgd-ce+", "--attack 'apgd-ce+' has an empty item"},
                {"attack --transfer-from ," + LINEAR, "--transfer-from '," + LINEAR + "' has an empty item"},
                {"verify --eps 0.1,,0.2", "--eps '0.1,,0.2' has an empty item"},
                {"verify --method ibp,,crown", "--method 'ibp,,crown' has an empty item: separate its values by single commas (--method ibp,crown?)"},
                {"verify --method crown,", "--method 'crown,' has an empty item"},
        };
        for (String[] c : cases) {
            String[] words = c[0].split(" ");
            String[] args = new String[words.length + 6];
            System.arraycopy(words, 0, args, 0, words.length);
            System.arraycopy(new String[]{"--torchscript", LINEAR, "--data", "fashion-mnist-sample", "--out", dir.toString()}, 0, args, words.length, 6);
            Cli.Run r = Cli.run(args);
            assertThat(r.exitCode()).as(c[0]).isEqualTo(Main.EXIT_USER);
            assertThat(r.err()).as(c[0]).contains(c[1]).doesNotContain("Exception");
            assertThat(r.out()).as(c[0] + ": no work started").isEmpty();
        }
        // the library's own check, for callers that do not come through the command line
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new dev.tikhon.robustness.RobustnessEvaluation.Config(dev.tikhon.attack.Norm.LINF,
                        new double[]{0.1}, "pgd,,fgsm", 5, 1, 1, 10, 5, false, false, 0, 8, 0))
                .hasMessageContaining("--attack 'pgd,,fgsm' has an empty item");
    }

    /**
     * A radius or a method given twice ran twice: verify.csv and per_image.csv had duplicate columns (crown_margin_lower@0.1
     * twice, robust_at_0.1 twice) and metrics.json kept one of them under its key. Refused before any work.
     */
    @Test
    void aRadiusOrMethodGivenTwiceIsRefused(@TempDir Path dir) {
        String[][] cases = {
                {"attack --eps 0.1,0.1", "--eps gives the radius 0.1 twice: give each radius once"},
                {"attack --eps 8/255,0.5,8/255", "--eps gives the radius 8/255 twice: give each radius once"},
                {"verify --eps 0.5,0.1,1/2", "--eps gives the radius 0.5 twice (as 0.5 and 1/2): give each radius once"},
                {"verify --method bab,crown,bab", "--method gives bab twice: give each method once"},
                {"verify --method crown,CROWN", "--method gives crown twice"},
        };
        for (String[] c : cases) {
            String[] words = c[0].split(" ");
            Cli.Run r = Cli.run(Cli.concat(words, "--torchscript", LINEAR, "--data", "fashion-mnist-sample", "--out", dir.resolve("x").toString()));
            assertThat(r.exitCode()).as(c[0]).isEqualTo(Main.EXIT_USER);
            assertThat(r.err()).as(c[0]).contains(c[1]).doesNotContain("Exception");
            assertThat(r.out()).as(c[0] + ": no work started").isEmpty();
        }
    }

    /** verify read --radius-steps only with --radius and --bab-domains only with bab; given otherwise they were dropped silently. */
    @Test
    void verifyNotesRadiusStepsWithoutRadiusAndBabDomainsWithoutBab(@TempDir Path dir) {
        Cli.Run v = Cli.run("verify", "--onnx", ONNX, "--data", "fashion-mnist-sample", "--images", "1", "--method", "ibp", "--no-attack",
                "--radius-steps", "3", "--bab-domains", "4", "--threads", "1", "--out", dir.resolve("v").toString());
        assertThat(v.exitCode()).as(v.err()).isZero();
        assertThat(v.err()).contains("note:   --radius-steps does nothing with no --radius; it is ignored")
                .contains("note:   --bab-domains does nothing with --method ibp; it is ignored");
        // read where given with --radius and bab: no note. On the moons MLP (2-D points, two classes), where the radius search's
        // attack and branch and bound cost well under a second; on the CNN above they took 8-17 s.
        Cli.Run w = Cli.run("verify", "--checkpoint", moonsMlp().toString(), "--images", "1", "--method", "ibp,bab", "--no-attack",
                "--radius", "0.01", "--radius-steps", "2", "--bab-domains", "4", "--threads", "1", "--out", dir.resolve("w").toString());
        assertThat(w.exitCode()).as(w.err()).isZero();
        assertThat(w.err()).doesNotContain("does nothing");
    }

    /** An ℓ∞ ε of 1 or more (the whole [0, 1] box; most often 8 typed for 8/255) ran without a word; 8/255 is the way to write it. */
    @Test
    void linfRadiusOfOneOrMoreGetsANote(@TempDir Path dir) throws IOException {
        Cli.Run a = Cli.run("attack", "--torchscript", LINEAR, "--data", "fashion-mnist-sample", "--limit", "2", "--eps", "8,8/255", "--attack", "fgsm",
                "--no-min-distance", "--no-bounds", "--threads", "1", "--out", dir.resolve("a").toString());
        assertThat(a.exitCode()).as(a.err()).isZero();
        assertThat(a.err()).contains("note:   --eps 8 in linf covers the whole [0, 1] box the images lie in; if 8/255 ≈ 0.0314 was meant, give --eps 8/255")
                .doesNotContain("--eps 0.03");
        JsonNode rb = JSON.readTree(dir.resolve("a/robustbench.json").toFile());
        assertThat(rb.at("/by_eps/0/eps").asDouble()).isEqualTo(8.0 / 255);

        Cli.Run v = Cli.run("verify", "--onnx", ONNX, "--data", "fashion-mnist-sample", "--images", "2", "--method", "ibp", "--no-attack",
                "--eps", "1.5", "--threads", "1", "--out", dir.resolve("v").toString());
        assertThat(v.exitCode()).as(v.err()).isZero();
        assertThat(v.err()).contains("note:   --eps 1.5 in linf covers the whole [0, 1] box the images lie in; if 8/255 ≈ 0.0314 was meant");
        // in ℓ2 a radius above 1 is an ordinary one
        Cli.Run l2 = Cli.run("verify", "--onnx", ONNX, "--data", "fashion-mnist-sample", "--images", "2", "--method", "ibp", "--no-attack",
                "--norm", "l2", "--eps", "2", "--threads", "1", "--out", dir.resolve("l2").toString());
        assertThat(l2.exitCode()).as(l2.err()).isZero();
        assertThat(l2.err()).doesNotContain("whole [0, 1] box");
        // a toy set is not in [0, 1]: an ℓ∞ radius of 1.5 around a moons point is an ordinary one (the note said "the images lie in")
        Path moons = moonsMlp();
        for (String command : new String[]{"verify", "attack"}) {
            Cli.Run m = Cli.run(command, "--checkpoint", moons.toString(), command.equals("verify") ? "--images" : "--limit", "2",
                    command.equals("verify") ? "--no-attack" : "--no-min-distance", "--eps", "1.5", "--threads", "1",
                    "--out", dir.resolve("m-" + command).toString());
            assertThat(m.exitCode()).as(m.err()).isZero();
            assertThat(m.err()).as(command).doesNotContain("whole [0, 1] box");
        }
    }

    /**
     * --account-rounding on an imported model: verify converts it to float64 before checking that it takes the data's
     * examples, and that check fed it float32 images, so every ONNX model failed ("Input type (float) and bias type
     * (double) should be the same"); the same images in the model's type now, and the accounted bounds are never above
     * the plain ones.
     */
    @Test
    void roundingIsAccountedOnAnImportedModel(@TempDir Path dir) throws IOException {
        double[][] lower = new double[2][];
        for (int k = 0; k < 2; k++) {
            List<String> args = new java.util.ArrayList<>(List.of("verify", "--onnx", ONNX, "--data", "fashion-mnist-sample", "--images", "3",
                    "--method", "crown", "--eps", "0.01", "--no-attack", "--threads", "1", "--out", dir.resolve("v" + k).toString()));
            if (k == 1) args.add("--account-rounding");
            Cli.Run v = Cli.run(args.toArray(String[]::new));
            assertThat(v.exitCode()).as(v.err()).isZero();
            lower[k] = dev.tikhon.report.Csv.read(dir.resolve("v" + k + "/verify.csv")).records().stream()
                    .mapToDouble(r -> Double.parseDouble(r.get("crown_margin_lower@0.01"))).toArray();
        }
        for (int i = 0; i < 3; i++) assertThat(lower[1][i]).isLessThanOrEqualTo(lower[0][i] + 1e-5).isGreaterThan(lower[0][i] - 1e-3);
    }

    /**
     * A count above what the split holds (the sample's test split: 1000 images) was capped silently: only the progress
     * line's "1000 to do" hinted at it. Now a note on stderr, in verify, attack, bounds and certify; none for a count that fits.
     */
    @Test
    void aCountAboveTheSplitIsNoted(@TempDir Path dir) {
        String[] data = {"--data", "fashion-mnist-sample", "--threads", "1", "--out"};
        Cli.Run v = Cli.run(Cli.concat(new String[] {"verify", "--onnx", ONNX, "--method", "ibp", "--no-attack", "--images", "5000"},
                Cli.concat(data, dir.resolve("v").toString())));
        assertThat(v.exitCode()).as(v.err()).isZero();
        assertThat(v.err()).contains("note:   --images 5000 but the test split holds 1000 images: verifying all 1000");
        Cli.Run a = Cli.run(Cli.concat(new String[] {"attack", "--torchscript", LINEAR, "--attack", "pgd", "--steps", "1", "--no-min-distance",
                "--no-bounds", "--limit", "5000"}, Cli.concat(data, dir.resolve("a").toString())));
        assertThat(a.exitCode()).as(a.err()).isZero();
        assertThat(a.err()).contains("note:   --limit 5000 but the test split holds 1000 images: attacking all 1000");
        Cli.Run b = Cli.run(Cli.concat(new String[] {"bounds", "--torchscript", LINEAR, "--no-check", "--lanczos", "0", "--limit", "1001"},
                Cli.concat(data, dir.resolve("b").toString())));
        assertThat(b.exitCode()).as(b.err()).isZero();
        assertThat(b.err()).contains("note:   --limit 1001 but the test split holds 1000 images: evaluating all 1000");
        Cli.Run c = Cli.run(Cli.concat(new String[] {"certify", "--torchscript", LINEAR, "--method", "cohen", "--sigma", "0.25", "--n", "10",
                "--images", "1001"}, Cli.concat(data, dir.resolve("c").toString())));
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(c.err()).contains("note:   --images 1001 but the test split holds 1000 images: certifying all 1000");
        Cli.Run fits = Cli.run(Cli.concat(new String[] {"attack", "--torchscript", LINEAR, "--attack", "pgd", "--steps", "1",
                "--no-min-distance", "--no-bounds", "--limit", "4"}, Cli.concat(data, dir.resolve("fits").toString())));
        assertThat(fits.exitCode()).as(fits.err()).isZero();
        assertThat(fits.err()).doesNotContain("holds");
    }
}
