package dev.tikhon.generalization;

import dev.tikhon.regularize.GradientNorms;
import dev.tikhon.report.Json;
import dev.tikhon.train.Evaluator;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The generalization results serialize (by Jackson, from the records) to the keys and values the reports have always had. */
class ReportJsonTest {
    private static final GradientNorms NORMS = new GradientNorms(10, 1.5, 3.0, 7.5, 9.0, 0.25);
    private static final ModelLipschitz MODEL = new ModelLipschitz(10, 2.0, 1.0, 0.5);
    private static final DataLipschitz.Result DATA = new DataLipschitz.Result(100, true, 0.5, 2.0, 2 * Math.sqrt(2), 3, 4, 7, 1, 2, 0.1);

    @Test
    void recordsSerializeToTheReportKeys() {
        assertThat(Json.toMap(NORMS)).containsExactly(Map.entry("n", 10), Map.entry("l2_mean", 1.5), Map.entry("l2_max", 3.0),
                Map.entry("l1_mean", 7.5), Map.entry("l1_max", 9.0), Map.entry("seconds", 0.25));
        assertThat(Json.toMap(MODEL)).containsExactly(Map.entry("n", 10), Map.entry("max", 2.0), Map.entry("mean", 1.0),
                Map.entry("seconds", 0.5));
        assertThat(Json.toMap(DATA)).containsExactly(Map.entry("n", 100), Map.entry("subsampled", true), Map.entry("min_distance", 0.5),
                Map.entry("lipschitz_01_labels", 2.0), Map.entry("lipschitz_one_hot_labels", 2 * Math.sqrt(2)),
                Map.entry("conflicting_identical_pairs", 3L), Map.entry("nearest_pair", List.of(4, 7)),
                Map.entry("nearest_pair_labels", List.of(1L, 2L)), Map.entry("seconds", 0.1));
    }

    @Test
    void theReportKeepsItsKeysAndDerivedValues() {
        Evaluator.Result train = new Evaluator.Result(100, 0.2, 0.9, new long[][]{{1}}, 1), test = new Evaluator.Result(50, 0.5, 0.8, new long[][]{{1}}, 1);
        GeneralizationReport r = new GeneralizationReport(train, test, MODEL, new ModelLipschitz(5, 4.0, 1.0, 0.5), NORMS, NORMS, DATA);
        Map<String, Object> m = Json.toMap(r);
        assertThat(m.keySet()).containsExactly("train_acc", "test_acc", "accuracy_gap", "train_loss", "test_loss", "loss_gap",
                "model_lipschitz_softmax_train", "model_lipschitz_softmax_test", "loss_gradient_norms_train", "loss_gradient_norms_test",
                "data_lipschitz", "model_over_data_lipschitz_one_hot", "kinds");
        assertThat((double) m.get("accuracy_gap")).isCloseTo(0.1, org.assertj.core.data.Offset.offset(1e-12));
        assertThat((double) m.get("loss_gap")).isCloseTo(0.3, org.assertj.core.data.Offset.offset(1e-12));
        assertThat((double) m.get("model_over_data_lipschitz_one_hot")).isEqualTo(4.0 / (2 * Math.sqrt(2)));
        // DATA is a subset: its constant is a lower bound, and so is said
        assertThat(((Map<?, ?>) m.get("kinds")).get("data_lipschitz").toString()).startsWith("lower bound");
        assertThat(m.get("data_lipschitz")).isEqualTo(Json.toMap(DATA));
    }
}
