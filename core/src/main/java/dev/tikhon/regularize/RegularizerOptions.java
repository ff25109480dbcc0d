package dev.tikhon.regularize;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The settings a user gave for a regularizer, by option name without dashes ("lambda", "h", "tv-weight", …),
 * as text: what a registered parser reads, with its own defaults for what was not given. It remembers which names the
 * parser asked for, so that the command line can tell the user about a setting the regularizer never read.
 */
public final class RegularizerOptions {
    private final Map<String, String> given;
    private final Set<String> asked = new LinkedHashSet<>();

    private RegularizerOptions(Map<String, String> given) {
        this.given = Map.copyOf(given);
    }

    /** Builds the options from (name, value) pairs, skipping null values. */
    public static RegularizerOptions of(Map<String, ?> values) {
        Map<String, String> m = new LinkedHashMap<>();
        values.forEach((k, v) -> { if (v != null) m.put(k, String.valueOf(v)); });
        return new RegularizerOptions(m);
    }

    public Map<String, String> given() { return given; }

    /** The names a parser asked for so far, given or not, in the order asked. */
    public synchronized Set<String> asked() { return Set.copyOf(asked); }

    /** The given names no parser asked for: settings the regularizer does not have. */
    public synchronized Set<String> unread() {
        Set<String> out = new LinkedHashSet<>(given.keySet());
        out.removeAll(asked);
        return out;
    }

    private synchronized String get(String key) {
        asked.add(key);
        return given.get(key);
    }

    public boolean has(String key) { return get(key) != null; }

    public double number(String key, double fallback) {
        String v = get(key);
        if (v == null) return fallback;
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + key + " takes a number, got '" + v + "'");
        }
    }

    public int integer(String key, int fallback) {
        String v = get(key);
        if (v == null) return fallback;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + key + " takes a whole number, got '" + v + "'");
        }
    }

    public boolean flag(String key, boolean fallback) {
        String v = get(key);
        if (v == null) return fallback;
        switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true": return true;
            case "false": return false;
            default: throw new IllegalArgumentException("--" + key + " takes true or false, got '" + v + "'");
        }
    }

    public String text(String key, String fallback) {
        String v = get(key);
        return v == null ? fallback : v;
    }
}
