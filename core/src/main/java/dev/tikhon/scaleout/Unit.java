package dev.tikhon.scaleout;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * A unit of evaluation work: the images [start, end) of a data set, number {@code index}. Random streams derive
 * from (seed, unit index), so a unit gives the same result wherever and with whatever else it runs.
 */
public record Unit(int index, int start, int end) implements Serializable {
    public Unit {
        if (start < 0 || end <= start) throw new IllegalArgumentException("empty or negative unit [" + start + ", " + end + ")");
    }

    public int size() { return end - start; }

    /** The unit's image indices as an INT64 tensor. */
    public dev.tikhon.engine.Tensor indices() {
        return dev.tikhon.engine.Tensor.fromLongs(java.util.stream.LongStream.range(start, end).toArray(), size());
    }

    /** The first {@code n} images in consecutive units of {@code size} (the last may be shorter). */
    public static List<Unit> split(int n, int size) {
        if (size < 1) throw new IllegalArgumentException("unit size must be at least 1, got " + size);
        List<Unit> out = new ArrayList<>();
        for (int s = 0, i = 0; s < n; s += size, i++) out.add(new Unit(i, s, Math.min(n, s + size)));
        return out;
    }
}
