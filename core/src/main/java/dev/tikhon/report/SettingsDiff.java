package dev.tikhon.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What differs between the settings a run recorded and those a new run asks for, field by field: both are written as JSON
 * (nested records flattened to {@code ode.solver}) and compared entry by entry. A resumed or reused run whose results are
 * labelled with the settings asked for must have been computed with them.
 */
public final class SettingsDiff {
    private SettingsDiff() {}

    /** One line per differing field, "lr 0.1 recorded, 0.05 asked"; fields named (by path) in {@code ignored} are skipped. */
    public static List<String> of(Object recorded, Object asked, Set<String> ignored) {
        Map<String, Object> was = flat(Json.toMap(recorded)), now = flat(Json.toMap(asked));
        Set<String> keys = new LinkedHashSet<>(was.keySet());
        keys.addAll(now.keySet());
        List<String> out = new ArrayList<>();
        for (String k : keys) {
            if (ignored.contains(k) || same(was.get(k), now.get(k))) continue;
            out.add(k + " " + was.get(k) + " recorded, " + now.get(k) + " asked");
        }
        return out;
    }

    /**
     * Refuses a run in {@code dir} that {@code what} ("a model trained", "a run that diverged") with settings other than
     * those asked for, naming each difference; nothing when {@code differences} is empty.
     */
    public static void requireNone(List<String> differences, java.nio.file.Path dir, String what) {
        if (differences.isEmpty()) return;
        throw new dev.tikhon.UserError(dir + " holds " + what + " with other settings (" + String.join("; ", differences)
                + "): it is reused or continued only with the same ones; write to another folder, or delete this one to train it anew");
    }

    /** Equal, numbers by value: a setting read back from JSON as the integer 0 is the long 0 or the double 0.0 asked for. */
    private static boolean same(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) {
            try {
                return new java.math.BigDecimal(x.toString()).compareTo(new java.math.BigDecimal(y.toString())) == 0;
            } catch (NumberFormatException nanOrInfinite) {
                return Double.compare(x.doubleValue(), y.doubleValue()) == 0;
            }
        }
        return Objects.equals(a, b);
    }

    private static Map<String, Object> flat(Map<String, Object> map) {
        Map<String, Object> out = new LinkedHashMap<>();
        flatten("", map, out);
        return out;
    }

    @SuppressWarnings("unchecked")
    private static void flatten(String prefix, Map<String, Object> map, Map<String, Object> out) {
        map.forEach((k, v) -> {
            if (v instanceof Map<?, ?> m) flatten(prefix + k + ".", (Map<String, Object>) m, out);
            else out.put(prefix + k, v);
        });
    }
}
