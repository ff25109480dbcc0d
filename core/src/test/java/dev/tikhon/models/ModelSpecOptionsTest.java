package dev.tikhon.models;

import dev.tikhon.UserError;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A misspelled model option is an error naming the architecture's options, not a default model built silently. */
class ModelSpecOptionsTest {
    private static final List<Long> IMAGE = List.of(1L, 28L, 28L);

    @Test
    void aMisspelledOptionIsRefusedNamingTheKnownOnes() {
        assertThatThrownBy(() -> Models.spec("resnet", IMAGE, 10, Map.of("widht", 8))).isInstanceOf(UserError.class)
                .hasMessageContaining("unknown option 'widht' for model resnet").hasMessageContaining("width");
        assertThatThrownBy(() -> Models.spec("cnn", IMAGE, 10, Map.of("hidden", List.of(8)))).isInstanceOf(UserError.class)
                .hasMessageContaining("unknown option 'hidden' for model cnn");
    }

    @Test
    void everyOptionTheBuildersReadIsAccepted() {
        assertThat(Models.spec("mlp", IMAGE, 10, Map.of("hidden", List.of(8), "activation", "tanh", "init", "standard", "zero_last", true))
                .options()).containsEntry("hidden", List.of(8));
        assertThat(Models.spec("resnet", IMAGE, 10, Map.of("depth", 8, "width", 4, "batch_norm", false)).options()).containsEntry("width", 4);
        assertThat(Models.spec("farkas-resnet", IMAGE, 10, Map.of("depth", 8, "block", "bottleneck", "batch_norm", true)).options())
                .containsEntry("block", "bottleneck");
        assertThat(Models.spec("cnn", IMAGE, 10, Map.of("activation", "smooth-relu")).options()).containsEntry("activation", "smooth-relu");
    }
}
