package dev.tikhon.data;

import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * Cuts a {@link Dataset} into batches, epoch by epoch. The order of epoch {@code e} is a function
 * of the seed and {@code e} alone (a permutation drawn from a {@link SplittableRandom} seeded with
 * {@link Rng#derive(long, long...) Rng.derive(seed, e)}), so a run resumed at epoch e, batch k sees
 * exactly the batches the uninterrupted run would have.
 *
 * <p>Each batch's tensors are made by {@link Iterator#next()}; to free them every step, call
 * {@code next()} inside the step's scope:
 * <pre>{@code
 * Iterator<Batch> it = loader.iterator(epoch, startBatch);
 * while (it.hasNext()) {
 *     try (Scope step = Scope.open()) { Batch b = it.next(); ... }
 * }}</pre>
 */
public final class DataLoader {
    /** One batch: FLOAT32 inputs, INT64 labels, the batch's number within the epoch and its size. */
    public record Batch(Tensor x, Tensor y, int index, int size) {}

    private final Dataset data;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private final Device device;
    private final Augmentation augmentation;
    /** Separates the augmentation's draws from any other use of (seed, epoch, batch). */
    private static final long AUGMENT_STREAM = 0x617567L;   // "aug"
    /**
     * The largest data set copied whole to a GPU: there each batch is gathered on the device, from an index of a few
     * hundred bytes, instead of gathered on the host and copied over (a blocking copy of ~400 KB per Fashion-MNIST
     * batch of 128, every step). The training sets of Fashion-MNIST and MNIST (48 MB) and CIFAR-10 (154 MB) fit; a
     * larger data set stays on the host.
     */
    static final long DEVICE_RESIDENT_LIMIT_BYTES = 512L << 20;
    /** The data set on the loader's device, once copied (null: not yet, or it stays on the host). */
    private Dataset resident;

    /** A loader that leaves batches on the CPU. */
    public DataLoader(Dataset data, int batchSize, boolean shuffle, long seed) {
        this(data, batchSize, shuffle, seed, Device.CPU);
    }

    public DataLoader(Dataset data, int batchSize, boolean shuffle, long seed, Device device) {
        this(data, batchSize, shuffle, seed, device, Augmentation.NONE);
    }

    private DataLoader(Dataset data, int batchSize, boolean shuffle, long seed, Device device, Augmentation augmentation) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        this.data = data;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.seed = seed;
        this.device = device;
        this.augmentation = augmentation;
        augmentation.check(data.inputShape(), data.name());
    }

    /** The same loader, putting its batches on {@code target}. */
    public DataLoader onDevice(Device target) {
        return new DataLoader(data, batchSize, shuffle, seed, target, augmentation);
    }

    /**
     * The same loader, augmenting the inputs of every batch; batch b of epoch e draws from
     * {@code Rng.derive(seed, e, b, "aug")}, so its augmentation depends on nothing but those.
     */
    public DataLoader augmented(Augmentation a) {
        return new DataLoader(data, batchSize, shuffle, seed, device, a);
    }

    public Augmentation augmentation() { return augmentation; }

    public Dataset data() { return data; }

    public int batchSize() { return batchSize; }

    public boolean shuffle() { return shuffle; }

    public Device device() { return device; }

    /** Batches per epoch; the last one is smaller when the batch size does not divide the data. */
    public int numBatches() {
        return (data.size() + batchSize - 1) / batchSize;
    }

    /** The order in which epoch {@code epoch} visits the examples. */
    public long[] order(int epoch) {
        return shuffle ? Permutation.of(data.size(), new SplittableRandom(Rng.derive(seed, epoch)))
                       : Permutation.identity(data.size());
    }

    /**
     * Where batches are gathered: the data set itself, or on a GPU its copy there when it is at most
     * {@value #DEVICE_RESIDENT_LIMIT_BYTES} bytes (copied at the first batch and kept for the loader's life).
     */
    Dataset source() {
        if (resident == null) {
            boolean copy = device.isCuda() && data.bytes() <= DEVICE_RESIDENT_LIMIT_BYTES;
            resident = copy ? data.to(device) : data;
        }
        return resident;
    }

    /** The batches of one epoch. */
    public Iterable<Batch> epoch(int epoch) {
        return () -> iterator(epoch, 0);
    }

    /** The batches of one epoch from batch {@code startBatch} on (0 ≤ startBatch ≤ numBatches()). */
    public Iterable<Batch> epoch(int epoch, int startBatch) {
        return () -> iterator(epoch, startBatch);
    }

    /** The batches of one epoch from batch {@code startBatch} on (0 ≤ startBatch ≤ numBatches()). */
    public Iterator<Batch> iterator(int epoch, int startBatch) {
        if (startBatch < 0 || startBatch > numBatches()) {
            throw new IllegalArgumentException("start batch " + startBatch + " outside 0.." + numBatches());
        }
        long[] order = order(epoch);
        return new Iterator<>() {
            private int next = startBatch;

            @Override
            public boolean hasNext() {
                return next < numBatches();
            }

            @Override
            public Batch next() {
                if (!hasNext()) throw new NoSuchElementException("epoch " + epoch + " has " + numBatches() + " batches");
                int from = next * batchSize;
                int size = Math.min(batchSize, order.length - from);
                Dataset source = source();
                Tensor idx = Tensor.fromLongs(Arrays.copyOfRange(order, from, from + size), size).to(source.inputs().device());
                Tensor x = source.batchInputs(idx).to(device);
                if (!augmentation.isNone()) x = augmentation.apply(x, Rng.derive(seed, epoch, next, AUGMENT_STREAM));
                Batch b = new Batch(x, source.batchLabels(idx).to(device), next, size);
                next++;
                return b;
            }
        };
    }
}
