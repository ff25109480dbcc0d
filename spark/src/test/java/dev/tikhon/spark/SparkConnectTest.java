package dev.tikhon.spark;

import dev.tikhon.UserError;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A master Spark cannot use is the user's to fix: one error line (exit 2), not "internal error … report it". */
class SparkConnectTest {
    @Test
    void anUnparsableMasterIsAUsageError() {
        // Spark throws a SparkException (checked in Java, thrown unchecked from Scala): it escaped a catch of RuntimeException
        assertThatThrownBy(() -> SparkCluster.connect("bogus://x", 0, Map.of("spark.ui.enabled", "false")))
                .isInstanceOf(UserError.class)
                .hasMessageContaining("--spark bogus://x: could not start Spark")
                .hasMessageContaining("Could not parse Master URL");
    }
}
