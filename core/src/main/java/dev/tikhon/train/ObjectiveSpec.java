package dev.tikhon.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What a run minimizes, as plain data (stored in checkpoints so --resume rebuilds the same objective): the
 * regularizer's name, its own settings (the fields of that regularizer's settings record, as JSON values) and
 * the per-example loss. {@code dev.tikhon.regularize.Regularizers} is the registry that parses settings and turns
 * a spec into an {@link Objective}; this class knows no regularizer.
 *
 * <p>Checkpoints written before settings were per regularizer stored every regularizer's fields flat beside
 * {@code reg} ({@code lambda, h, norm, central, tvWeight, lipWeight, sigma, eps, steps, stepSize, randomStart});
 * they read back with those fields as the settings, whose names the settings records keep.
 *
 * @param reg      the regularizer's registered name ("none", "tikhonov", …)
 * @param settings its settings, field name → JSON value
 * @param loss     the per-example classification loss, a {@code dev.tikhon.loss.Losses} name (cross-entropy when
 *                 absent, as in checkpoints written before losses were selectable)
 */
public record ObjectiveSpec(String reg, Map<String, Object> settings, String loss) {
    public static final String DEFAULT_LOSS = "cross-entropy";
    private static final ObjectMapper CONVERT = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public ObjectiveSpec {
        reg = reg.toLowerCase(Locale.ROOT).replace(',', '+');
        settings = Collections.unmodifiableMap(new LinkedHashMap<>(settings == null ? Map.of() : settings));
        if (loss == null || loss.isBlank()) loss = DEFAULT_LOSS;
    }

    /** Regularizer {@code reg} with a settings record (or map), and the cross-entropy loss. */
    public static ObjectiveSpec of(String reg, Object settings) {
        return of(reg, settings, DEFAULT_LOSS);
    }

    /** Regularizer {@code reg} with a settings record (or map) and a loss. */
    public static ObjectiveSpec of(String reg, Object settings, String loss) {
        Map<String, Object> m = settings == null ? Map.of() : CONVERT.convertValue(settings, new TypeReference<LinkedHashMap<String, Object>>() {});
        return new ObjectiveSpec(reg, m, loss);
    }

    /** Reads both layouts: {reg, settings, loss}, and the older flat one (every field beside reg). */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static ObjectiveSpec fromJson(Map<String, Object> json) {
        String reg = String.valueOf(json.getOrDefault("reg", "none"));
        Object loss = json.get("loss");
        Map<String, Object> settings;
        if (json.get("settings") instanceof Map<?, ?> nested) {
            settings = new LinkedHashMap<>();
            nested.forEach((k, v) -> settings.put(String.valueOf(k), v));
        } else {
            settings = new LinkedHashMap<>(json);
            settings.remove("reg");
            settings.remove("loss");
        }
        return new ObjectiveSpec(reg, settings, loss == null ? null : String.valueOf(loss));
    }

    /** The settings as a regularizer's settings record; fields the record lacks are ignored, missing ones are 0/false/null. */
    public <T> T settings(Class<T> type) {
        return CONVERT.convertValue(settings, type);
    }

    /** A numeric setting, NaN when absent. */
    public double number(String key) {
        return settings.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    /** The same objective with another loss. */
    public ObjectiveSpec withLoss(String newLoss) {
        return new ObjectiveSpec(reg, settings, newLoss);
    }

    /** No regularizer, the cross-entropy loss. */
    public static ObjectiveSpec plain() {
        return new ObjectiveSpec("none", Map.of(), DEFAULT_LOSS);
    }
}
