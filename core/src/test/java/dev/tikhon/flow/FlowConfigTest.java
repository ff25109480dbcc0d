package dev.tikhon.flow;

import dev.tikhon.UserError;
import dev.tikhon.report.Json;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The flow regularizers' weights in a configuration: by name, validated, and read back from old checkpoints. */
class FlowConfigTest {
    private static FlowConfig config(Map<String, Double> regs) {
        return new FlowConfig("cnf", "8gaussians", FlowConfig.Field.mlp(new int[]{16, 16}, "softplus"),
                new FlowConfig.Ode(1.0, "exact", new FlowConfig.Solver("rk4", 0.25, 1e-5, 1e-5), "backprop"), regs,
                new FlowConfig.Training(10, 32, 1e-3, 0, 0, 5));
    }

    @Test
    void weightsAreByNameAndRoundTrip() throws Exception {
        FlowConfig c = config(FlowConfig.rnode(0.01, 0.02));
        assertThat(c.weight(FlowRegularizer.KINETIC)).isEqualTo(0.01);
        assertThat(c.weight(FlowRegularizer.JACOBIAN)).isEqualTo(0.02);
        assertThat(c.describe()).contains("λ_K 0.01, λ_J 0.02");
        FlowConfig back = Json.mapper().readValue(Json.mapper().writeValueAsString(c), FlowConfig.class);
        assertThat(back.regularizers()).isEqualTo(c.regularizers());
        assertThat(config(Map.of()).regularizers()).containsEntry("kinetic", 0.0).containsEntry("jacobian", 0.0);
    }

    @Test
    void theGroupsAreStoredFlatAsBefore() throws Exception {
        FlowConfig c = config(FlowConfig.rnode(0.01, 0.02));
        com.fasterxml.jackson.databind.JsonNode j = Json.mapper().valueToTree(c);
        assertThat(j.get("model").asText()).isEqualTo("mlp");
        assertThat(j.get("solver").asText()).isEqualTo("rk4");
        assertThat(j.get("step").asDouble()).isEqualTo(0.25);
        assertThat(j.get("endTime").asDouble()).isEqualTo(1.0);
        assertThat(j.get("iterations").asInt()).isEqualTo(10);
        assertThat(j.get("checkpointEvery").asInt()).isEqualTo(5);
        assertThat(j.has("field") || j.has("ode") || j.has("training") || j.has("name")).isFalse();
        FlowConfig back = Json.mapper().treeToValue(j, FlowConfig.class);
        assertThat(back.field().hidden()).containsExactly(16, 16);
        assertThat(back.ode()).isEqualTo(c.ode());
        assertThat(back.training()).isEqualTo(c.training());
        assertThat(back.describe()).isEqualTo(c.describe());
    }

    @Test
    void checkpointsWithThePositionalPairStillRead() throws Exception {
        String json = Json.mapper().writeValueAsString(config(Map.of()))
                .replaceAll("\"regularizers\"\\s*:\\s*\\{[^}]*}", "\"regKinetic\":0.03,\"regJacobian\":0.04");
        assertThat(json).contains("regKinetic").doesNotContain("regularizers");
        FlowConfig old = Json.mapper().readValue(json, FlowConfig.class);
        assertThat(old.weight(FlowRegularizer.KINETIC)).isEqualTo(0.03);
        assertThat(old.weight(FlowRegularizer.JACOBIAN)).isEqualTo(0.04);
    }

    @Test
    void unknownOrNegativeWeightsAreUserErrors() {
        assertThatThrownBy(() -> config(Map.of("kinetc", 0.1))).isInstanceOf(UserError.class).hasMessageContaining("kinetic, jacobian");
        assertThatThrownBy(() -> config(Map.of("jacobian", -1.0))).isInstanceOf(UserError.class).hasMessageContaining("≥ 0");
    }
}
