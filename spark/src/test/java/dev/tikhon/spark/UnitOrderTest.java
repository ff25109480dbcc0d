package dev.tikhon.spark;

import org.junit.jupiter.api.Test;
import scala.Tuple2;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The driver's check of what came back: every unit exactly once, put in unit order. */
class UnitOrderTest {
    @Test
    void resultsComeBackInUnitOrderWhateverTheirArrivalOrder() {
        assertThat(SparkCluster.inUnitOrder(List.of(new Tuple2<>(2, "c"), new Tuple2<>(0, "a"), new Tuple2<>(1, "b")), 3))
                .containsExactly("a", "b", "c");
    }

    @Test
    void aDuplicateOrAMissingUnitIsAnErrorNotATable() {
        assertThatThrownBy(() -> SparkCluster.inUnitOrder(List.of(new Tuple2<>(0, "a"), new Tuple2<>(0, "a"), new Tuple2<>(1, "b")), 2))
                .hasMessageContaining("unit 0 came back twice");
        assertThatThrownBy(() -> SparkCluster.inUnitOrder(List.of(new Tuple2<>(0, "a")), 2))
                .hasMessageContaining("unit 1 came back with no result");
        assertThatThrownBy(() -> SparkCluster.inUnitOrder(List.of(new Tuple2<>(5, "a")), 2)).hasMessageContaining("unknown unit 5");
    }
}
