package dev.tikhon.models;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything needed to rebuild a model: its architecture name and options. Stored in every
 * checkpoint, so {@code eval}, {@code attack} and {@code certify} need only the checkpoint path.
 *
 * @param arch        mlp, cnn or resnet
 * @param inputShape  per-example input shape, e.g. [1, 28, 28] or [2]
 * @param numClasses  number of outputs
 * @param options     architecture options (hidden sizes, depth, width, batch norm, activation, init)
 */
public record ModelSpec(String arch, List<Long> inputShape, int numClasses, Map<String, Object> options) {

    public ModelSpec {
        options = new LinkedHashMap<>(options);
        inputShape = List.copyOf(inputShape);
    }

    public String string(String key, String dflt) {
        Object v = options.get(key);
        return v == null ? dflt : v.toString();
    }

    public int integer(String key, int dflt) {
        Object v = options.get(key);
        return v == null ? dflt : ((Number) (v instanceof String ? Integer.valueOf((String) v) : v)).intValue();
    }

    public boolean bool(String key, boolean dflt) {
        Object v = options.get(key);
        return v == null ? dflt : (v instanceof Boolean ? (Boolean) v : Boolean.parseBoolean(v.toString()));
    }

    @SuppressWarnings("unchecked")
    public List<Integer> integers(String key, List<Integer> dflt) {
        Object v = options.get(key);
        if (v == null) return dflt;
        return ((List<Number>) v).stream().map(Number::intValue).toList();
    }

    public long inputSize() {
        long n = 1;
        for (long d : inputShape) n *= d;
        return n;
    }

    /** The architecture and its options in words, for people: "mlp (hidden 64, 64, activation relu, init standard)". */
    public String describe() {
        if (options.isEmpty()) return arch;
        StringBuilder b = new StringBuilder(arch).append(" (");
        boolean first = true;
        for (Map.Entry<String, Object> e : options.entrySet()) {
            if (!first) b.append(", ");
            first = false;
            Object v = e.getValue();
            String value = v instanceof List<?> l ? String.join(", ", l.stream().map(String::valueOf).toList()) : String.valueOf(v);
            b.append(e.getKey().replace('_', ' ')).append(' ').append(value);
        }
        return b.append(')').toString();
    }
}
