package dev.tikhon.report;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class SettingsDiffTest {
    record Solver(String name, double step) {}

    record Run(int iterations, double lr, Solver solver, Map<String, Object> extra) {}

    @Test
    void namesEachDifferingFieldNestedOnesByTheirPathAndSkipsTheIgnored() {
        Run a = new Run(10, 0.1, new Solver("rk4", 0.25), Map.of("ramp", 0));
        Run b = new Run(20, 0.05, new Solver("rk4", 0.5), Map.of("ramp", 0L));
        assertThat(SettingsDiff.of(a, b, Set.of())).containsExactly("iterations 10 recorded, 20 asked", "lr 0.1 recorded, 0.05 asked",
                "solver.step 0.25 recorded, 0.5 asked");
        assertThat(SettingsDiff.of(a, b, Set.of("iterations", "solver.step"))).containsExactly("lr 0.1 recorded, 0.05 asked");
    }

    @Test
    void numbersCompareByValueAndAbsentFieldsDiffer() {
        assertThat(SettingsDiff.of(Map.of("x", 0, "y", Double.NaN), Map.of("x", 0.0, "y", Double.NaN), Set.of())).isEmpty();
        assertThat(SettingsDiff.of(Map.of("x", 1), Map.of("x", 1, "seed", 3), Set.of())).containsExactly("seed null recorded, 3 asked");
        assertThat(SettingsDiff.of(Map.of("hidden", List.of(8, 8)), Map.of("hidden", List.of(8, 16)), Set.of()))
                .containsExactly("hidden [8, 8] recorded, [8, 16] asked");
    }
}
