package dev.tikhon.train;

import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Tensor;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The majority rate and the three-standard-error band of {@link Chance}, by hand. */
class ChanceTest {
    /** 100 examples: 60 of class 2, 30 of class 0, 10 of class 1. */
    private static Dataset labelled() {
        long[] y = new long[100];
        for (int i = 0; i < 100; i++) y[i] = i < 60 ? 2 : i < 90 ? 0 : 1;
        return new Dataset("labels", "by hand", Tensor.zeros(dev.tikhon.engine.DType.FLOAT32, dev.tikhon.engine.Device.CPU, 100, 1),
                Tensor.fromLongs(y, 100), 3, java.util.List.of("a", "b", "c"));
    }

    @Test
    void theBandIsThreeStandardErrorsAboveTheMajorityRate() {
        Dataset d = labelled();
        assertThat(Chance.majorityRate(d)).isEqualTo(0.6);
        double margin = 3 * Math.sqrt(0.6 * 0.4 / 100);   // 0.147
        assertThat(Chance.note(0.6 + margin - 1e-9, 100, d, "fix it")).contains("no better than always predicting the most frequent class (0.6000")
                .contains("± 0.1470 by chance on 100 examples").endsWith("the model did not learn; fix it");
        assertThat(Chance.note(0.6 + margin + 1e-9, 100, d, "fix it")).isNull();
        assertThat(Chance.note(0.2, 100, d, "fix it")).as("below chance is no better either").isNotNull();
        assertThat(Chance.note(0.7, 10_000, d, "fix it")).as("more examples, a narrower band").isNull();
        assertThat(Chance.note(Double.NaN, 100, d, "fix it")).as("no accuracy: nothing to say").isNull();
    }
}
