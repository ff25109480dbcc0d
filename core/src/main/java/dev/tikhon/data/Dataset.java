package dev.tikhon.data;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Tensor;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A labelled data set held in memory, with the facts a run reports about it (name, where it came
 * from, class names). Images stay UINT8 [N, C, H, W] — a quarter of the memory of floats — and
 * become FLOAT32 in [0, 1] only a batch at a time; tabular and 2-D toy data are FLOAT32 [N, D].
 *
 * <p>The tensors are long-lived: the constructor {@link Tensor#keep() keeps} them, so a data set
 * built inside a {@code Scope} survives it.
 */
public final class Dataset {
    private final String name;
    private final String source;
    private final Tensor inputs;
    private final Tensor labels;
    private final int numClasses;
    private final List<String> classNames;

    /**
     * @param inputs UINT8 [N, C, H, W] images or FLOAT32 [N, D] features
     * @param labels INT64 [N], each in 0..numClasses-1
     */
    public Dataset(String name, String source, Tensor inputs, Tensor labels, int numClasses, List<String> classNames) {
        boolean images = inputs.dtype() == DType.UINT8 && inputs.dim() == 4;
        boolean features = inputs.dtype() == DType.FLOAT32 && inputs.dim() == 2;
        if (!images && !features) {
            throw new IllegalArgumentException("inputs must be UINT8 [N,C,H,W] or FLOAT32 [N,D], got " + inputs);
        }
        if (labels.dtype() != DType.INT64 || labels.dim() != 1 || labels.size(0) != inputs.size(0)) {
            throw new IllegalArgumentException("labels must be INT64 [" + inputs.size(0) + "], got " + labels);
        }
        if (classNames.size() != numClasses) {
            throw new IllegalArgumentException(numClasses + " classes but " + classNames.size() + " class names");
        }
        this.name = name;
        this.source = source;
        this.inputs = inputs.keep();
        this.labels = labels.keep();
        this.numClasses = numClasses;
        this.classNames = List.copyOf(classNames);
    }

    public String name() { return name; }

    /** Where the data came from, for people: a directory, a file, "bundled sample", a generator. */
    public String source() { return source; }

    public Tensor inputs() { return inputs; }

    public Tensor labels() { return labels; }

    public int numClasses() { return numClasses; }

    public List<String> classNames() { return classNames; }

    public int size() { return (int) inputs.size(0); }

    /** The shape of one example: [C, H, W] or [D]. */
    public long[] inputShape() {
        long[] s = inputs.shape();
        return Arrays.copyOfRange(s, 1, s.length);
    }

    /** The same data set with its tensors on {@code device} (this one when they are there already). */
    public Dataset to(dev.tikhon.engine.Device device) {
        if (inputs.device().equals(device) && labels.device().equals(device)) return this;
        return new Dataset(name, source, inputs.to(device), labels.to(device), numClasses, classNames);
    }

    /** Bytes of the inputs and labels in memory. */
    public long bytes() {
        return inputs.numel() * inputs.dtype().bytes + labels.numel() * labels.dtype().bytes;
    }

    /** Whether the inputs are UINT8 images (scaled by 1/255 on the way out). */
    public boolean isImages() { return inputs.dtype() == DType.UINT8; }

    /** The inputs at the given INT64 indices as FLOAT32, images scaled to [0, 1]. */
    public Tensor batchInputs(Tensor indices) {
        Tensor x = inputs.indexSelect(0, indices);
        return isImages() ? x.to(DType.FLOAT32).div_(255.0) : x;
    }

    /** The INT64 labels at the given INT64 indices. */
    public Tensor batchLabels(Tensor indices) {
        return labels.indexSelect(0, indices);
    }

    /** A new data set of the examples at {@code indices}, in that order (a copy). */
    public Dataset subset(long[] indices) {
        for (long i : indices) {
            if (i < 0 || i >= size()) throw new IndexOutOfBoundsException("index " + i + " outside 0.." + (size() - 1));
        }
        Tensor idx = Tensor.fromLongs(indices, indices.length);
        return new Dataset(name, source, inputs.indexSelect(0, idx), labels.indexSelect(0, idx), numClasses, classNames);
    }

    /** The first {@code min(n, size())} examples (a copy, so this data set can be dropped). */
    public Dataset head(int n) {
        if (n < 0) throw new IllegalArgumentException("head(" + n + "): n must be non-negative");
        return subset(Permutation.identity(Math.min(n, size())));
    }

    /** A seeded random division into the rest and a held-out part. */
    public record Split(Dataset rest, Dataset heldOut) {}

    /**
     * Holds out {@code round(fraction · size)} examples chosen by a permutation seeded with
     * {@code seed}; both parts keep the original order of their examples.
     */
    public Split split(double fraction, long seed) {
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("split fraction must be in (0, 1), got " + fraction);
        }
        int held = (int) Math.round(fraction * size());
        if (held == 0 || held == size()) {
            throw new DataException(name + " (" + source + "): cannot hold out " + Math.round(100 * fraction)
                    + "% of " + size() + " examples and keep both parts non-empty");
        }
        long[] perm = Permutation.of(size(), new SplittableRandom(seed));
        long[] heldOut = Arrays.copyOfRange(perm, 0, held);
        long[] rest = Arrays.copyOfRange(perm, held, perm.length);
        Arrays.sort(heldOut);
        Arrays.sort(rest);
        return new Split(subset(rest), subset(heldOut));
    }

    /** How many examples each class has. */
    public long[] classCounts() {
        long[] counts = new long[numClasses];
        for (long y : labels.toLongArray()) counts[(int) y]++;
        return counts;
    }

    @Override
    public String toString() {
        return name + ": " + size() + " x " + Arrays.toString(inputShape()) + " " + inputs.dtype().name().toLowerCase(java.util.Locale.ROOT)
                + ", " + numClasses + " classes (" + source + ")";
    }
}
