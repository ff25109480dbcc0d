package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** kernel fit|eval and data-lipschitz through the command line, on a toy set. */
class CliKernelTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void fitThenEvalEachMethod(@TempDir Path dir) throws IOException {
        String[][] methods = {{"--method", "krr", "--train-size", "600"}, {"--method", "rff", "--features", "256", "--train-size", "3000"},
                {"--method", "sgd", "--centres", "200", "--epochs", "2", "--train-size", "3000", "--loss", "hinge", "--sigma", "0.5"},
                {"--method", "sgd", "--features", "128", "--kernel", "laplace", "--epochs", "2", "--train-size", "3000", "--sigma", "0.5"}};
        for (int i = 0; i < methods.length; i++) {
            String[] m = methods[i];
            Path out = dir.resolve(m[1] + i);
            String[] args = Cli.concat(new String[]{"kernel", "fit", "--data", "moons", "--threads", "1",
                    "--out", out.toString()}, m);
            Cli.Run r = Cli.run(args);
            assertThat(r.exitCode()).as(String.join(" ", m) + "\n" + r.err()).isEqualTo(0);
            double fitAcc = JSON.readTree(out.resolve("metrics.json").toFile()).at("/test_acc").asDouble();
            assertThat(fitAcc).as(String.join(" ", m)).isGreaterThan(0.95);
            ReportContentTest.checkPage(out, "Final test accuracy");
            Path eval = dir.resolve("eval-" + m[1] + i);
            Cli.Run e = Cli.run("kernel", "eval", "--model", out.toString(), "--threads", "1", "--out", eval.toString());
            assertThat(e.exitCode()).as(e.err()).isEqualTo(0);
            ReportContentTest.checkPage(eval, "Accuracy");
            JsonNode em = JSON.readTree(eval.resolve("metrics.json").toFile());
            assertThat(em.at("/evaluation/accuracy").asDouble()).as("eval reproduces the fit's test accuracy").isEqualTo(fitAcc);
        }
    }

    /** A fit on the bundled sample recorded "fashion-mnist", so kernel eval read the full set where one is installed. */
    @Test
    void evalReadsTheSampleTheModelWasFittedOn(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("fit");
        Cli.Run r = Cli.run("kernel", "fit", "--data", "fashion-mnist-sample", "--method", "rff", "--features", "64", "--train-size", "500",
                "--threads", "1", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        Cli.Run e = Cli.run("kernel", "eval", "--model", out.toString(), "--threads", "1", "--out", dir.resolve("eval").toString());
        assertThat(e.exitCode()).as(e.err()).isZero();
        JsonNode fit = JSON.readTree(out.resolve("metrics.json").toFile()), eval = JSON.readTree(dir.resolve("eval/metrics.json").toFile());
        assertThat(eval.at("/data").asText()).isEqualTo(fit.at("/data").asText()).containsIgnoringCase("sample");
        assertThat(eval.at("/evaluation/accuracy").asDouble()).isEqualTo(fit.at("/test_acc").asDouble());
    }

    @Test
    void badKernelInputsAreOneLineErrors(@TempDir Path dir) {
        Cli.Run r = Cli.run("kernel", "fit", "--data", "moons", "--kernel", "sigmoid", "--out", dir.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().strip()).startsWith("tikhon: error: unknown --kernel 'sigmoid'");
        Cli.Run rff = Cli.run("kernel", "fit", "--data", "moons", "--method", "rff", "--kernel", "polynomial", "--out", dir.toString());
        assertThat(rff.exitCode()).isEqualTo(2);
        assertThat(rff.err()).contains("shift-invariant");
        // a polynomial kernel whose values overflow: refused before fitting (it used to fit at chance accuracy, exit 0)
        Cli.Run overflow = Cli.run("kernel", "fit", "--data", "fashion-mnist", "--kernel", "polynomial", "--degree", "2000", "--train-size", "100",
                "--out", dir.resolve("overflow").toString());
        assertThat(overflow.exitCode()).as(overflow.err()).isEqualTo(2);
        assertThat(overflow.err()).contains("kernel overflows float64").contains("or less, or a smaller --gamma");
        // a bandwidth far below the points' distances: fitted, with a note naming the fix
        Cli.Run narrow = Cli.run("kernel", "fit", "--data", "moons", "--kernel", "rbf", "--sigma", "1e-5", "--train-size", "200",
                "--out", dir.resolve("narrow").toString());
        assertThat(narrow.exitCode()).as(narrow.err()).isZero();
        assertThat(narrow.err()).contains("note:   the rbf(σ 1.000e-05) kernel is 0 between every two").contains("raise --sigma");
        // named before any data is read: a data folder that does not exist is never reached
        Cli.Run method = Cli.run("kernel", "fit", "--data", "mnist", "--data-dir", dir.resolve("absent").toString(), "--method", "nope",
                "--out", dir.resolve("m").toString());
        assertThat(method.exitCode()).isEqualTo(2);
        assertThat(method.err().strip()).isEqualTo("tikhon: error: unknown --method 'nope': use krr, rff or sgd");
        Cli.Run linear = Cli.run("kernel", "fit", "--data", "moons", "--kernel", "linear", "--sigma", "3", "--lr", "0.1", "--train-size", "200",
                "--threads", "1", "--out", dir.resolve("linear").toString());
        assertThat(linear.exitCode()).as(linear.err()).isZero();
        assertThat(linear.err()).contains("note:   --sigma does nothing with --method krr --kernel linear; it is ignored")
                .contains("note:   --lr does nothing with --method krr").doesNotContain("--train-size does nothing");
        // more training points than the split holds: all of them, said (it was capped silently)
        Cli.Run capped = Cli.run("kernel", "fit", "--data", "moons", "--method", "rff", "--features", "8", "--train-size", "30000",
                "--threads", "1", "--out", dir.resolve("capped").toString());
        assertThat(capped.exitCode()).as(capped.err()).isZero();
        assertThat(capped.err()).contains("note:   --train-size 30000 but the train split holds 20000 points: fitting on all 20000");
        Cli.Run missing = Cli.run("kernel", "eval", "--model", dir.resolve("nothing").toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).contains("kernel-model.json");
    }

    @Test
    void dataLipschitzOfAToySet(@TempDir Path dir) throws IOException {
        Cli.Run r = Cli.run("data-lipschitz", "--data", "moons", "--max-points", "2000", "--threads", "1", "--out", dir.toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        JsonNode m = JSON.readTree(dir.resolve("metrics.json").toFile());
        double l01 = m.at("/result/lipschitz_01_labels").asDouble();
        assertThat(l01).isPositive();
        assertThat(m.at("/result/lipschitz_one_hot_labels").asDouble()).isCloseTo(Math.sqrt(2) * l01, org.assertj.core.api.Assertions.within(1e-9));
        assertThat(m.at("/result/subsampled").asBoolean()).isTrue();
        assertThat(r.out()).contains("lower bounds");
    }
}
