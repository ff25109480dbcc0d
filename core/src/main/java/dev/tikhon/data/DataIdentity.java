package dev.tikhon.data;

import dev.tikhon.engine.Tensor;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which examples a run computed on, recorded in its metrics.json ({@code data_set}) so that {@code tikhon compare} can
 * tell runs on the same data from runs on other data whatever folder the files were read from: the data set's name,
 * the split, how many examples the run used and the split holds, the shape of one example, the number of classes, the
 * seed of a generated set or of a folder's held-out split, and a short hash of each of the first {@value #HASHED}
 * examples used (its label and input values), so that two runs that used the same examples can be recognized as such
 * even when one used fewer of them.
 *
 * @param name      the data-set name (fashion-mnist, mnist, cifar10, a toy set, folder, ...)
 * @param split     test, train (or for a flow, the set its curve is the NLL of)
 * @param examples  how many examples of the split the run used (its first ones)
 * @param splitSize how many the split holds
 * @param shape     one example's shape ([C, H, W] or [D])
 * @param classes   the number of classes (0: unlabelled, a flow's)
 * @param seed      the seed a toy set was generated with or a folder's held-out split drawn with; null where none applies
 * @param first     the first 8 hex digits of SHA-256 of each of the first examples used (label, then values), in order
 */
public record DataIdentity(String name, String split, int examples, int splitSize, long[] shape, int classes, Long seed,
                           List<String> first) {
    /** How many of the first examples are hashed. */
    public static final int HASHED = 8;

    /** The identity of the first {@code used} examples of {@code set}, the {@code split} of the data set {@code name}. */
    public static DataIdentity of(String name, String split, Dataset set, int used, long seed) {
        int k = Math.min(Math.min(used, set.size()), HASHED);
        Tensor in = set.inputs().narrow(0, 0, k), labels = set.labels().narrow(0, 0, k);
        return new DataIdentity(name, split, Math.min(used, set.size()), set.size(), set.inputShape(), set.numClasses(),
                seeded(name) ? seed : null, hashes(in, labels, set.isImages()));
    }

    /** The identity of unlabelled FLOAT32 points [N, D] (a flow's held-out points), {@code used} of {@code size}. */
    public static DataIdentity ofPoints(String name, String split, Tensor points, int size, long seed) {
        int k = (int) Math.min(points.size(0), HASHED);
        long[] s = points.shape();
        return new DataIdentity(name, split, (int) points.size(0), size, Arrays.copyOfRange(s, 1, s.length), 0,
                seeded(name) ? seed : null, hashes(points.narrow(0, 0, k), null, false));
    }

    /** Whether the data depends on a seed: a generated set, or a folder's held-out split. */
    public static boolean seeded(String name) {
        return ToyData.NAMES.contains(name) || DataSets.FOLDER.equals(name);
    }

    private static List<String> hashes(Tensor inputs, Tensor labels, boolean images) {
        int k = (int) inputs.size(0);
        List<String> out = new ArrayList<>(k);
        if (k == 0) return out;
        long[] y = labels == null ? null : labels.toLongArray();
        byte[] bytes = null;
        float[] values = null;
        if (images) bytes = inputs.toUnsignedBytes();
        else values = inputs.toFloatArray();
        int per = (images ? bytes.length : values.length) / k;
        for (int i = 0; i < k; i++) {
            MessageDigest md = dev.tikhon.io.AtomicFiles.sha256();
            md.update(ByteBuffer.allocate(Long.BYTES).putLong(y == null ? -1 : y[i]).array());
            if (images) {
                md.update(bytes, i * per, per);
            } else {
                ByteBuffer b = ByteBuffer.allocate(per * Float.BYTES);
                for (int j = 0; j < per; j++) b.putFloat(values[i * per + j]);
                md.update(b.array());
            }
            out.add(java.util.HexFormat.of().formatHex(md.digest(), 0, 4));
        }
        return out;
    }

    /** As metrics.json records it ({@code data_set}). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("split", split);
        m.put("examples", examples);
        m.put("split_size", splitSize);
        m.put("shape", Arrays.stream(shape).boxed().toList());
        if (classes > 0) m.put("classes", classes);
        if (seed != null) m.put("seed", seed);
        m.put("first", first);
        return m;
    }
}
