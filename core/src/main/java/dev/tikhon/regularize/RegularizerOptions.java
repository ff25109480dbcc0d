package dev.tikhon.regularize;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The settings a user gave for a regularizer, by option name without dashes ("lambda", "h", "tv-weight", …),
 * as text: what a registered parser reads, with its own defaults for what was not given.
 */
public record RegularizerOptions(Map<String, String> given) {
    public RegularizerOptions {
        given = Map.copyOf(given);
    }

    /** Builds the options from (name, value) pairs, skipping null values. */
    public static RegularizerOptions of(Map<String, ?> values) {
        Map<String, String> m = new LinkedHashMap<>();
        values.forEach((k, v) -> { if (v != null) m.put(k, String.valueOf(v)); });
        return new RegularizerOptions(m);
    }

    public boolean has(String key) { return given.containsKey(key); }

    public double number(String key, double fallback) {
        String v = given.get(key);
        if (v == null) return fallback;
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + key + " takes a number, got '" + v + "'");
        }
    }

    public int integer(String key, int fallback) {
        String v = given.get(key);
        if (v == null) return fallback;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + key + " takes a whole number, got '" + v + "'");
        }
    }

    public boolean flag(String key, boolean fallback) {
        String v = given.get(key);
        if (v == null) return fallback;
        switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true": return true;
            case "false": return false;
            default: throw new IllegalArgumentException("--" + key + " takes true or false, got '" + v + "'");
        }
    }

    public String text(String key, String fallback) {
        String v = given.get(key);
        return v == null ? fallback : v;
    }
}
