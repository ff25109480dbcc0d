package dev.tikhon.certify;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;

/**
 * Reproducible standard normal samples for one input. Sample number s of the stream
 * (seed, index, phase) lives in block ⌊s / {@value #BLOCK}⌋, which is drawn from a generator
 * seeded with {@code Rng.derive(seed, index, phase, block)}; a batch is cut from whole blocks. So
 * the noise an input sees depends only on (seed, index, phase, sample number): not on the batch
 * size, on which other inputs were processed, or on how a data set was partitioned across workers.
 * Reseeds libtorch's default generator.
 */
public final class GaussianNoise {
    /** Samples per seeded block. */
    public static final int BLOCK = 50;

    private GaussianNoise() {}

    /**
     * Samples {@code start … start + count − 1} of the stream, shape [count, ...shape].
     *
     * @param shape the shape of one sample (the input's, without a batch dimension)
     */
    public static Tensor samples(long seed, long index, int phase, long start, int count, long[] shape, DType dtype,
                                 Device device) {
        if (count < 1) throw new IllegalArgumentException("count must be positive, got " + count);
        long[] outShape = new long[shape.length + 1];
        outShape[0] = count;
        System.arraycopy(shape, 0, outShape, 1, shape.length);
        return samplesInto(Tensor.empty(dtype, device, outShape), seed, index, phase, start);
    }

    /**
     * Writes samples {@code start … start + out.size(0) − 1} of the stream into {@code out} [count, ...shape], a
     * contiguous tensor (e.g. one input's rows of a batch shared by several inputs), and returns it.
     */
    static Tensor samplesInto(Tensor out, long seed, long index, int phase, long start) {
        long[] blockShape = out.shape();
        blockShape[0] = BLOCK;
        // Whole blocks are drawn straight into the output (no concatenation copy); a draw into a contiguous slice
        // of the same size gives the numbers a fresh block would.
        long end = start + out.size(0);
        for (long b = start / BLOCK; b * BLOCK < end; b++) {
            Rng.seed(Rng.derive(seed, index, phase, b));
            long from = Math.max(start, b * BLOCK), to = Math.min(end, (b + 1) * BLOCK);
            Tensor slot = out.narrow(0, from - start, to - from);
            if (to - from == BLOCK) slot.normal_(0, 1);
            else slot.copy_(Tensor.randn(out.dtype(), out.device(), blockShape).narrow(0, from - b * BLOCK, to - from));
        }
        return out;
    }
}
