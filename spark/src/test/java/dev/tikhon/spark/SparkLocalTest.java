package dev.tikhon.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.tikhon.spark.SparkRuns.certifyRows;
import static dev.tikhon.spark.SparkRuns.tikhon;
import static dev.tikhon.spark.SparkRuns.with;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The same evaluation on one machine and on Spark in local mode (one and two task slots, several partitions)
 * gives the same per-image predictions, radii and attack results; an injected task failure is retried without
 * duplicate or missing rows.
 */
class SparkLocalTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir static Path dir;
    private static Path model, smoothed;

    @BeforeAll
    static void trainTinyModel() {
        model = dir.resolve("model");
        tikhon("train", "--data", "fashion-mnist-sample", "--model", "mlp", "--hidden", "16", "--epochs", "1", "--reg", "noise",
                "--sigma", "0.25", "--threads", "1", "--out", model.toString());
        // the heat method certifies only heat-smoothed models (σ 0.25 is recorded in the checkpoint)
        smoothed = dir.resolve("smoothed");
        tikhon("smooth", "--checkpoint", model.toString(), "--subset", "128", "--batch-size", "64", "--threads", "1",
                "--out", smoothed.toString());
    }

    private static final String[] COHEN = {"certify", "--method", "cohen", "--images", "9", "--n", "400", "--n0", "50",
            "--noise-batch", "64", "--threads", "1", "--seed", "7"};

    @Test
    void cohenCertifyIsTheSameOnOneMachineAndOnSparkLocal1AndLocal2() throws IOException {
        Path single = dir.resolve("single"), one = dir.resolve("local1"), two = dir.resolve("local2");
        tikhon(with(COHEN, "--checkpoint", model.toString(), "--out", single.toString()));
        tikhon(with(COHEN, "--checkpoint", model.toString(), "--out", one.toString(), "--spark", "local[1]", "--spark-conf", "spark.ui.enabled=false"));
        tikhon(with(COHEN, "--checkpoint", model.toString(), "--out", two.toString(), "--spark", "local[2]", "--partitions", "4",
                "--spark-conf", "spark.ui.enabled=false"));
        List<String> expected = certifyRows(single);
        assertThat(expected).hasSize(10);
        assertThat(certifyRows(one)).containsExactlyElementsOf(expected);
        assertThat(certifyRows(two)).containsExactlyElementsOf(expected);
        assertThat(Files.readString(two.resolve("certified_accuracy.csv"))).isEqualTo(Files.readString(single.resolve("certified_accuracy.csv")));

        JsonNode m = JSON.readTree(two.resolve("metrics.json").toFile());
        assertThat(m.at("/spark/master").asText()).isEqualTo("local[2]");
        assertThat(m.at("/spark/partitions").asInt()).isEqualTo(4);
        assertThat(m.at("/spark/model_loads").asLong()).isBetween(1L, 2L);   // once per task slot, not per task
        assertThat(m.at("/images_per_second").asDouble()).isPositive();
    }

    @Test
    void anInjectedTaskFailureIsRetriedWithoutDuplicateOrMissingRows() throws IOException {
        Path single = dir.resolve("single-f"), faulty = dir.resolve("faulty");
        tikhon(with(COHEN, "--checkpoint", model.toString(), "--out", single.toString()));
        // local[2,3]: two slots, a task may fail 3 times; partition 1 of 3 fails once after its first image
        tikhon(with(COHEN, "--checkpoint", model.toString(), "--out", faulty.toString(), "--spark", "local[2,3]", "--partitions", "3",
                "--spark-conf", "spark.ui.enabled=false", "--spark-conf", SparkCluster.INJECT_FAILURE + "=1:1"));
        assertThat(certifyRows(faulty)).containsExactlyElementsOf(certifyRows(single));
        JsonNode m = JSON.readTree(faulty.resolve("metrics.json").toFile());
        assertThat(m.at("/spark/failed_task_attempts").asLong()).isEqualTo(1);
        assertThat(m.at("/spark/task_attempts").asLong()).isEqualTo(4);
    }

    @Test
    void heatCertificatesAndTheirAttackAreTheSameOnSpark() throws IOException {
        String[] heat = {"certify", "--checkpoint", smoothed.toString(), "--method", "heat", "--images", "6", "--n", "200",
                "--noise-batch", "50", "--attack-steps", "3", "--threads", "1"};
        Path single = dir.resolve("heat-single"), spark = dir.resolve("heat-spark");
        tikhon(with(heat, "--out", single.toString()));
        tikhon(with(heat, "--out", spark.toString(), "--spark", "local[2]", "--partitions", "3", "--spark-conf", "spark.ui.enabled=false"));
        assertThat(certifyRows(spark)).containsExactlyElementsOf(certifyRows(single));
        JsonNode a = JSON.readTree(single.resolve("metrics.json").toFile()), b = JSON.readTree(spark.resolve("metrics.json").toFile());
        assertThat(b.at("/attack")).isEqualTo(a.at("/attack"));
        assertThat(a.at("/attack/b/tested").asLong()).isPositive();
    }

    @Test
    void attackOnATorchScriptModelIsTheSameOnSpark() throws IOException {
        String[] attack = {"attack", "--torchscript", SparkRuns.TORCHSCRIPT.toString(), "--data", "fashion-mnist-sample", "--limit", "20",
                "--batch-size", "6", "--eps", "0.02,0.1", "--steps", "5", "--targets", "2", "--queries", "30", "--ddn-steps", "20",
                "--threads", "1", "--seed", "3"};
        Path single = dir.resolve("attack-single"), spark = dir.resolve("attack-spark");
        tikhon(with(attack, "--out", single.toString()));
        tikhon(with(attack, "--out", spark.toString(), "--spark", "local[2]", "--partitions", "3", "--spark-conf", "spark.ui.enabled=false"));
        List<String> expected = Files.readAllLines(single.resolve("per_image.csv"));
        assertThat(expected).hasSize(21);
        assertThat(Files.readAllLines(spark.resolve("per_image.csv"))).containsExactlyElementsOf(expected);
        JsonNode a = JSON.readTree(single.resolve("metrics.json").toFile()), b = JSON.readTree(spark.resolve("metrics.json").toFile());
        assertThat(b.at("/robust_accuracy")).isEqualTo(a.at("/robust_accuracy"));
        assertThat(b.at("/spark/model_loads").asLong()).isBetween(1L, 2L);
    }
    @Test
    void boundCertificatesOfAToySetAreTheSameOnSpark() throws IOException {
        // bound propagation's steps carry branch and bound's settings to the executors (they did not serialize: "Task not
        // serializable"); and a toy set's points lie outside [0, 1], so the executors must bound in the unbounded domain
        // as one machine does (in [0, 1] the verifier refuses these points)
        Path toy = dir.resolve("toy");
        tikhon("train", "--data", "moons", "--model", "mlp", "--hidden", "8", "--epochs", "1", "--threads", "1", "--out", toy.toString());
        for (String method : List.of("crown", "bab")) {
            String[] certify = {"certify", "--checkpoint", toy.toString(), "--method", method, "--images", "6", "--threads", "1"};
            if (method.equals("bab")) certify = with(certify, "--bab-domains", "8");
            Path single = dir.resolve("toy-single-" + method), spark = dir.resolve("toy-spark-" + method);
            tikhon(with(certify, "--out", single.toString()));
            tikhon(with(certify, "--out", spark.toString(), "--spark", "local[2]", "--partitions", "2", "--spark-conf", "spark.ui.enabled=false"));
            List<String> expected = certifyRows(single);
            assertThat(expected).hasSize(7);
            assertThat(certifyRows(spark)).as(method).containsExactlyElementsOf(expected);
        }
    }
}
