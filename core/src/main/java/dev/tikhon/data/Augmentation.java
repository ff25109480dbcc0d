package dev.tikhon.data;

import dev.tikhon.UserError;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Training-time data augmentation of image batches [N, C, H, W]: a random crop with zero padding and a random
 * horizontal flip, the standard CIFAR recipe (He et al. 2016, §4.2: pad 4 pixels on each side, take a random
 * H×W crop, flip with probability ½). Each example draws its own offsets (dy, dx ∈ 0..2·pad, uniform) and flip;
 * the draws come from a {@link SplittableRandom} seeded by the caller with a value derived from (seed, epoch, batch),
 * so a resumed run augments every batch exactly as the uninterrupted run did, whatever the libtorch generator did.
 *
 * <p>The batch is transformed with tensor operations only: one zero-padded copy, then two gathers whose indices
 * carry each example's crop offsets (rows, then columns reversed for the flipped examples). No per-pixel Java loop.
 *
 * @param pad  crop padding in pixels on each side (0: no crop)
 * @param flip horizontal flips
 */
public record Augmentation(int pad, boolean flip) {
    /** The crop padding of {@code crop} without an explicit {@code :P}: 4, as for CIFAR-10's 32×32 images. */
    public static final int DEFAULT_PAD = 4;
    public static final Augmentation NONE = new Augmentation(0, false);
    public static final String SYNTAX = "crop[:PAD] and/or flip, comma-separated (crop pads " + DEFAULT_PAD + " pixels by default), or none";

    public Augmentation {
        if (pad < 0) throw new IllegalArgumentException("crop padding must be ≥ 0, got " + pad);
    }

    /** Parses {@code crop}, {@code crop:P}, {@code flip}, comma-separated, or {@code none} (null or blank: none). */
    public static Augmentation parse(String text) {
        if (text == null || text.isBlank() || text.strip().equalsIgnoreCase("none")) return NONE;
        int pad = 0;
        boolean flip = false;
        for (String part : text.split(",", -1)) {
            String p = part.strip().toLowerCase(Locale.ROOT);
            if ((p.equals("flip") && flip) || ((p.equals("crop") || p.startsWith("crop:")) && pad > 0)) {
                // "crop:8,crop" cropped by 4 alone: the later item replaced the earlier, silently
                throw new UserError("--augment '" + text + "' gives " + (flip && p.equals("flip") ? "flip" : "crop") + " twice: give each "
                        + "augmentation once");
            }
            if (p.equals("flip")) {
                flip = true;
            } else if (p.equals("crop")) {
                pad = DEFAULT_PAD;
            } else if (p.startsWith("crop:")) {
                try {
                    pad = Integer.parseInt(p.substring(5));
                } catch (NumberFormatException e) {
                    throw new UserError("--augment '" + text + "': crop padding '" + p.substring(5) + "' is not a whole number; expected " + SYNTAX);
                }
                if (pad < 1) throw new UserError("--augment '" + text + "': crop padding must be at least 1, got " + pad);
            } else {
                throw new UserError("--augment '" + text + "': unknown augmentation '" + part.strip() + "'; expected " + SYNTAX);
            }
        }
        return new Augmentation(pad, flip);
    }

    public boolean isNone() { return pad == 0 && !flip; }

    /** The canonical text, which {@link #parse} reads back: {@code crop:4,flip}, {@code flip}, {@code none}. */
    @Override public String toString() {
        List<String> parts = new ArrayList<>();
        if (pad > 0) parts.add("crop:" + pad);
        if (flip) parts.add("flip");
        return parts.isEmpty() ? "none" : String.join(",", parts);
    }

    /** Whether it can apply to examples of this shape ([C, H, W] images); a {@link UserError} naming the shape otherwise. */
    public void check(long[] exampleShape, String dataName) {
        if (!isNone() && exampleShape.length != 3) {
            throw new UserError("--augment " + this + " needs image data [C, H, W], but " + dataName + " has examples of shape "
                    + java.util.Arrays.toString(exampleShape));
        }
        long side = isNone() ? 0 : Math.min(exampleShape[1], exampleShape[2]);
        if (pad > 0 && pad >= side) {
            // a crop shifted by ≥ the image's side holds none of it: training on blank images, silently
            throw new UserError("--augment " + this + " shifts " + dataName + "'s " + exampleShape[1] + "x" + exampleShape[2] + " images by up to "
                    + pad + " pixels, so some crops hold none of the image: give a padding below " + side + " (crop:P; crop pads "
                    + DEFAULT_PAD + ")");
        }
    }

    /**
     * The augmented batch (a new tensor on {@code x}'s device; {@code x} itself is left alone).
     *
     * @param x    images [N, C, H, W]
     * @param seed the batch's seed, e.g. {@code Rng.derive(seed, epoch, batch, stream)}
     */
    public Tensor apply(Tensor x, long seed) {
        if (isNone()) return x;
        long n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        SplittableRandom r = new SplittableRandom(seed);
        long[] rows = new long[(int) (n * h)], cols = new long[(int) (n * w)];
        for (int i = 0; i < n; i++) {
            int dy = pad > 0 ? r.nextInt(2 * pad + 1) : 0, dx = pad > 0 ? r.nextInt(2 * pad + 1) : 0;
            boolean mirror = flip && r.nextBoolean();
            for (int k = 0; k < h; k++) rows[(int) (i * h + k)] = dy + k;
            for (int k = 0; k < w; k++) cols[(int) (i * w + k)] = dx + (mirror ? w - 1 - k : k);
        }
        return crop(x, pad, Tensor.fromLongs(rows, n, h), Tensor.fromLongs(cols, n, w));
    }

    /**
     * out[n, c, i, j] = padded[n, c, rows[n, i], cols[n, j]], padded being {@code x} with {@code pad} zero pixels on every
     * side: the crop and flip of every example by two gathers.
     */
    static Tensor crop(Tensor x, int pad, Tensor rows, Tensor cols) {
        long n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        Tensor padded = x;
        if (pad > 0) {
            padded = Tensor.zeros(x.dtype(), x.device(), n, c, h + 2L * pad, w + 2L * pad);
            padded.narrow(2, pad, h).narrow(3, pad, w).copy_(x);
        }
        long pw = padded.size(3);
        Tensor r = rows.to(x.device()).to(DType.INT64).reshape(n, 1, h, 1).expand(n, c, h, pw);
        Tensor picked = padded.gather(2, r);                                         // [N, C, H, W + 2·pad]
        Tensor q = cols.to(x.device()).to(DType.INT64).reshape(n, 1, 1, w).expand(n, c, h, w);
        return picked.gather(3, q);                                                  // [N, C, H, W]
    }
}
