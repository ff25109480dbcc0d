package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class CliGeneralizationTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void reportOfATrainedModel(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run");
        assertThat(Cli.run("train", "--data", "moons", "--model", "mlp", "--hidden", "16", "--epochs", "1", "--threads", "1",
                "--out", run.toString()).exitCode()).isEqualTo(0);
        Cli.Run dl = Cli.run("data-lipschitz", "--data", "moons", "--max-points", "1000", "--threads", "1", "--out", dir.resolve("dl").toString());
        assertThat(dl.exitCode()).as(dl.err()).isEqualTo(0);
        Cli.Run r = Cli.run("generalization", "--checkpoint", run.toString(), "--max-points", "1000", "--threads", "1",
                "--data-lipschitz", dir.resolve("dl").toString(), "--out", dir.resolve("gen").toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        JsonNode m = JSON.readTree(dir.resolve("gen/metrics.json").toFile()).get("report");
        assertThat(m.get("accuracy_gap").asDouble()).isCloseTo(m.get("train_acc").asDouble() - m.get("test_acc").asDouble(), within(1e-12));
        assertThat(m.at("/model_lipschitz_softmax_train/max").asDouble()).isPositive();
        assertThat(m.at("/data_lipschitz/lipschitz_01_labels").asDouble())
                .isEqualTo(JSON.readTree(dir.resolve("dl/metrics.json").toFile()).at("/result/lipschitz_01_labels").asDouble());
        assertThat(r.out()).contains("model Lipschitz (lower bound)").contains("data Lipschitz")
                .contains("(computed on a subset: a lower bound of the full set's)");   // 1000 of 20000 moons points
        // every measured constant says what it is; the ratio of two lower bounds is not presented as a bound
        assertThat(m.at("/kinds/model_lipschitz_softmax").asText()).startsWith("empirical lower bound");
        assertThat(m.at("/kinds/data_lipschitz").asText()).startsWith("lower bound");
        assertThat(m.at("/kinds/model_over_data_lipschitz_one_hot").asText()).contains("not a bound");
        assertThat(JSON.readTree(dir.resolve("dl/metrics.json").toFile()).at("/kind").asText()).startsWith("lower bound");
        // and each command writes its figures as CSV too, equal to the JSON's
        dev.tikhon.report.Csv.Table g = dev.tikhon.report.Csv.read(dir.resolve("gen/generalization.csv"));
        assertThat(Double.parseDouble(g.rows().get(0).get(g.header().indexOf("model_over_data_lipschitz_one_hot"))))
                .isEqualTo(m.get("model_over_data_lipschitz_one_hot").asDouble());
        dev.tikhon.report.Csv.Table d = dev.tikhon.report.Csv.read(dir.resolve("dl/data_lipschitz.csv"));
        assertThat(Double.parseDouble(d.rows().get(0).get(d.header().indexOf("lipschitz_one_hot_labels"))))
                .isEqualTo(m.at("/data_lipschitz/lipschitz_one_hot_labels").asDouble());
        ReportContentTest.checkPage(dir.resolve("gen"), "Training accuracy");
        ReportContentTest.checkPage(dir.resolve("dl"), "Lipschitz constant");
    }

    /** Fewer than two labels make no pair: the constant was printed as 0 (distance ∞, pair −1 – −1) with exit 0. */
    @Test
    void aConstantNeedsTwoPointsOfTwoLabels(@TempDir Path dir) {
        Cli.Run one = Cli.run("data-lipschitz", "--data", "moons", "--max-points", "1", "--out", dir.resolve("one").toString());
        assertThat(one.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(one.err()).contains("--max-points 1: the Lipschitz constant needs at least two points with different labels; "
                + "give --max-points 2 or more (0: all)");
        assertThat(one.out()).as("before the data is read").isEmpty();
        // two points drawn from one class (seed 4 draws two of the upper moon)
        Cli.Run same = Cli.run("data-lipschitz", "--data", "moons", "--max-points", "2", "--seed", "4", "--out", dir.resolve("two").toString());
        assertThat(same.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(same.err()).contains("needs at least two points with different labels; the 2 points of the random subset "
                + "(--max-points 2, --seed 4) all have label 0; give a larger --max-points (0: all 20000 points)").doesNotContain("Infinity");
        assertThat(dir.resolve("two")).doesNotExist();

        Path run = dir.resolve("run");
        assertThat(Cli.run("train", "--data", "moons", "--model", "mlp", "--hidden", "4", "--epochs", "1", "--threads", "1",
                "--batch-size", "2000", "--out", run.toString()).exitCode()).isEqualTo(0);
        Cli.Run g = Cli.run("generalization", "--checkpoint", run.toString(), "--max-points", "1", "--out", dir.resolve("g").toString());
        assertThat(g.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(g.err()).contains("--max-points 1: the data set's Lipschitz constant").contains("give --max-points 2 or more (0: all), "
                + "or --data-lipschitz DIR");
        assertThat(g.out()).isEmpty();
    }

    /** A data-lipschitz run of another data set (or split) was printed as this data's constant. */
    @Test
    void aRecordedConstantMustBeOfTheSameData(@TempDir Path dir) {
        Path run = dir.resolve("run");
        assertThat(Cli.run("train", "--data", "moons", "--model", "mlp", "--hidden", "4", "--epochs", "1", "--threads", "1",
                "--batch-size", "2000", "--out", run.toString()).exitCode()).isEqualTo(0);
        String[][] others = {{"--data", "circles"}, {"--data", "moons", "--seed", "3"}, {"--data", "moons", "--split", "test"}};
        for (String[] other : others) {
            Path dl = dir.resolve("dl-" + String.join("", other).replace("-", ""));
            String[] args = Cli.concat(new String[]{"data-lipschitz", "--max-points", "200", "--out", dl.toString()}, other);
            assertThat(Cli.run(args).exitCode()).isEqualTo(0);
            Cli.Run g = Cli.run("generalization", "--checkpoint", run.toString(), "--max-points", "200", "--data-lipschitz", dl.toString(),
                    "--out", dir.resolve("g").toString());
            assertThat(g.exitCode()).as(String.join(" ", other)).isEqualTo(Main.EXIT_USER);
            assertThat(g.err()).as(String.join(" ", other)).contains("--data-lipschitz " + dl + " was computed on ")
                    .contains("but this report measures toy set moons: 20000 train / 5000 test points generated from seed 0 [train]")
                    .contains("run 'tikhon data-lipschitz --data moons --split train'");
        }
    }
}
