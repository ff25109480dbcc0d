package dev.tikhon.experiments;

import dev.tikhon.certify.Certificate;
import dev.tikhon.certify.CertificationRun;
import dev.tikhon.report.Csv;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * reproduce certify's results.csv against per-image rows worked by hand: a Cohen run's accuracy is the smoothed
 * classifier's (abstaining counted as wrong), not a clean accuracy, and every probabilistic row carries its α.
 */
class CertifyExperimentTableTest {
    private static Certificate cohen(int prediction, double radius) {
        return prediction < 0 ? Certificate.abstain(Certificate.Kind.PROBABILISTIC, 0.001, "cohen")
                : new Certificate(prediction, radius, Certificate.Kind.PROBABILISTIC, 0.001, "cohen");
    }

    /** Four images, labels 1: CERTIFY certifies 1 at 0.6, abstains twice (the base model right on both), is wrong once. */
    private static CertificationRun.Result cohenRun() {
        int[] certified = {1, -1, -1, 2};
        double[] radius = {0.6, 0, 0, 0.3};
        int[] base = {1, 1, 1, 2};
        List<CertificationRun.Image> images = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            images.add(new CertificationRun.Image(i, 1, certified[i], Map.of("cohen", cohen(certified[i], radius[i])), Double.NaN, 0.1,
                    Math.max(certified[i], 1), Map.of("base_prediction", (double) base[i])));
        }
        return new CertificationRun.Result("cohen", images, List.of("cohen"), Double.NaN, 0, Double.NaN, List.of("base_prediction"),
                Map.of("base_model_clean_accuracy", 0.75));
    }

    /** Two images, labels 1, single pass right on both; (a) certifies one at 0.4 and abstains on the other; (b) 0.2 and 0.1. */
    private static CertificationRun.Result heatRun() {
        List<CertificationRun.Image> images = new java.util.ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Map<String, Certificate> c = new LinkedHashMap<>();
            c.put("a", i == 0 ? new Certificate(1, 0.4, Certificate.Kind.PROBABILISTIC, 0.01, "heat-monte-carlo")
                    : Certificate.abstain(Certificate.Kind.PROBABILISTIC, 0.01, "heat-monte-carlo"));
            c.put("b", new Certificate(1, i == 0 ? 0.2 : 0.1, Certificate.Kind.HEURISTIC, 0, "heat-lipschitz"));
            images.add(new CertificationRun.Image(i, 1, 1, c, 0.001, 0.1, 1));
        }
        return new CertificationRun.Result("heat", images, List.of("a", "b"), Double.NaN, 0, 1.0);
    }

    @Test
    void cohenRowsGiveTheSmoothedAccuracyAsSuchAndEveryProbabilisticRowItsAlpha(@TempDir Path dir) {
        Map<String, CertificationRun.Result> results = new LinkedHashMap<>();
        results.put("noise (cohen)", cohenRun());
        results.put("heat", heatRun());
        List<CertifyExperiment.Row> rows = CertifyExperiment.rows(results, Map.of("noise (cohen)", 0.25, "heat", 0.25));
        CertifyExperiment.writeTable(dir.resolve("results.csv"), rows);
        List<Map<String, String>> t = Csv.read(dir.resolve("results.csv")).records();
        assertThat(t).hasSize(3);

        Map<String, String> cohen = t.get(0);
        assertThat(cohen.get("kind")).isEqualTo("probabilistic");
        assertThat(cohen.get("alpha")).isEqualTo("0.001");
        assertThat(Double.parseDouble(cohen.get("smoothed_acc"))).as("1 of 4: the abstentions count as wrong").isEqualTo(0.25);
        assertThat(Double.parseDouble(cohen.get("r=0.0"))).as("= certified accuracy at r = 0").isEqualTo(0.25);
        assertThat(Double.parseDouble(cohen.get("clean_acc"))).as("the base model's noise-free pass, 3 of 4").isEqualTo(0.75);

        Map<String, String> a = t.get(1), b = t.get(2);
        assertThat(a.get("alpha")).isEqualTo("0.01");
        assertThat(Double.parseDouble(a.get("clean_acc"))).as("the single pass").isEqualTo(1.0);
        assertThat(a.get("smoothed_acc")).isEmpty();
        assertThat(Double.parseDouble(a.get("r=0.25"))).isEqualTo(0.5);
        assertThat(b.get("kind")).isEqualTo("heuristic");
        assertThat(b.get("alpha")).as("no α on a heuristic row").isEmpty();
        assertThat(Double.parseDouble(b.get("r=0.25"))).isEqualTo(0.0);
        assertThat(Double.parseDouble(b.get("r=0.0"))).isEqualTo(1.0);
    }
}
