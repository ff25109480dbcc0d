package dev.tikhon.data;

import dev.tikhon.UserError;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.OneThread;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Oracles: crops and flips of a known tensor written out by hand; every augmented example equal to one of the
 * (2·pad + 1)²·2 crops/flips a per-pixel reference loop makes of it; the same seed giving the same batch.
 */
@ExtendWith(OneThread.class)
class AugmentationTest {
    /** [1, 1, 3, 3] holding 1..9 row by row. */
    private static Tensor nine() {
        return Tensor.fromDoubles(new double[]{1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3);
    }

    private static double[] values(Tensor t) { return t.contiguous().flatten(0, -1).toDoubleArray(); }

    @Test
    void cropAndFlipOfAKnownTensor() {
        try (Scope s = Scope.open()) {
            // pad 1: padded rows/cols 0..4, the image at 1..3. Offset (dy, dx) = (0, 2): the window's rows 0..2, cols 2..4
            Tensor shifted = Augmentation.crop(nine(), 1, Tensor.fromLongs(new long[]{0, 1, 2}, 1, 3), Tensor.fromLongs(new long[]{2, 3, 4}, 1, 3));
            assertThat(values(shifted)).containsExactly(0, 0, 0, 2, 3, 0, 5, 6, 0);
            // no crop, columns reversed: the horizontal flip
            Tensor flipped = Augmentation.crop(nine(), 0, Tensor.fromLongs(new long[]{0, 1, 2}, 1, 3), Tensor.fromLongs(new long[]{2, 1, 0}, 1, 3));
            assertThat(values(flipped)).containsExactly(3, 2, 1, 6, 5, 4, 9, 8, 7);
            // both: offset (2, 1) then flipped
            Tensor both = Augmentation.crop(nine(), 1, Tensor.fromLongs(new long[]{2, 3, 4}, 1, 3), Tensor.fromLongs(new long[]{3, 2, 1}, 1, 3));
            assertThat(values(both)).containsExactly(6, 5, 4, 9, 8, 7, 0, 0, 0);
            // every channel of an example takes the same window
            Tensor two = Tensor.cat(List.of(nine(), nine().mul(10)), 1);
            Tensor c = Augmentation.crop(two, 1, Tensor.fromLongs(new long[]{0, 1, 2}, 1, 3), Tensor.fromLongs(new long[]{2, 3, 4}, 1, 3));
            assertThat(values(c)).containsExactly(0, 0, 0, 2, 3, 0, 5, 6, 0, 0, 0, 0, 20, 30, 0, 50, 60, 0);
        }
    }

    /** Reference: the crop at (dy, dx) of x zero-padded by pad, flipped or not, pixel by pixel. */
    private static double[] reference(double[] x, int c, int h, int w, int pad, int dy, int dx, boolean flip) {
        double[] out = new double[c * h * w];
        for (int ch = 0; ch < c; ch++) {
            for (int i = 0; i < h; i++) {
                for (int j = 0; j < w; j++) {
                    int col = flip ? w - 1 - j : j;
                    int si = i + dy - pad, sj = col + dx - pad;
                    out[(ch * h + i) * w + j] = si < 0 || si >= h || sj < 0 || sj >= w ? 0 : x[(ch * h + si) * w + sj];
                }
            }
        }
        return out;
    }

    @Test
    void everyExampleIsOneOfItsCropsOrFlipsAndTheSeedDecides() {
        try (Scope s = Scope.open()) {
            int n = 16, c = 3, h = 6, w = 5, pad = 2;
            Tensor x = Tensor.rand(DType.FLOAT32, Device.CPU, n, c, h, w);
            Augmentation a = new Augmentation(pad, true);
            Tensor y = a.apply(x, 42);
            assertThat(y.shape()).containsExactly(n, c, h, w);
            assertThat(values(a.apply(x, 42))).containsExactly(values(y));
            assertThat(values(a.apply(x, 43))).isNotEqualTo(values(y));
            int flips = 0, shifted = 0;
            for (int i = 0; i < n; i++) {
                double[] xi = values(x.select(0, i)), yi = values(y.select(0, i));
                boolean found = false;
                for (int dy = 0; dy <= 2 * pad && !found; dy++) {
                    for (int dx = 0; dx <= 2 * pad && !found; dx++) {
                        for (boolean f : new boolean[]{false, true}) {
                            if (Arrays.equals(reference(xi, c, h, w, pad, dy, dx, f), yi)) {
                                found = true;
                                if (f) flips++;
                                if (dy != pad || dx != pad) shifted++;
                                break;
                            }
                        }
                    }
                }
                assertThat(found).as("example %d is a crop/flip of its input", i).isTrue();
            }
            assertThat(flips).isBetween(2, 14);
            assertThat(shifted).isGreaterThan(8);
            assertThat(x.dtype()).isEqualTo(DType.FLOAT32);
            assertThat(values(Augmentation.NONE.apply(x, 1))).containsExactly(values(x));
        }
    }

    @Test
    void parsesAndPrintsCanonically() {
        assertThat(Augmentation.parse("crop,flip")).isEqualTo(new Augmentation(4, true));
        assertThat(Augmentation.parse("flip, crop:2").toString()).isEqualTo("crop:2,flip");
        assertThat(Augmentation.parse(null)).isEqualTo(Augmentation.NONE);
        assertThat(Augmentation.parse("none").toString()).isEqualTo("none");
        assertThat(Augmentation.parse("crop").toString()).isEqualTo("crop:4");
        assertThatThrownBy(() -> Augmentation.parse("crop,rotate")).isInstanceOf(UserError.class)
                .hasMessageStartingWith("--augment 'crop,rotate': unknown augmentation 'rotate'");
        assertThatThrownBy(() -> Augmentation.parse("crop:x")).isInstanceOf(UserError.class).hasMessageContaining("not a whole number");
        assertThatThrownBy(() -> Augmentation.parse("crop:0")).isInstanceOf(UserError.class).hasMessageContaining("at least 1");
        // an item given twice: the later one replaced the earlier (crop:8,crop cropped by 4)
        assertThatThrownBy(() -> Augmentation.parse("crop:8,crop")).isInstanceOf(UserError.class)
                .hasMessage("--augment 'crop:8,crop' gives crop twice: give each augmentation once");
        assertThatThrownBy(() -> Augmentation.parse("flip,crop,flip")).isInstanceOf(UserError.class).hasMessageContaining("gives flip twice");
    }

    /** A crop padding of at least the image's side shifts some crops off the image: they are blank. */
    @Test
    void aPaddingNotBelowTheImagesSideIsRefused() {
        Augmentation.parse("crop:27").check(new long[]{1, 28, 28}, "f");
        Augmentation.parse("crop:3,flip").check(new long[]{3, 4, 8}, "f");
        assertThatThrownBy(() -> Augmentation.parse("crop:28").check(new long[]{1, 28, 28}, "f")).isInstanceOf(UserError.class)
                .hasMessage("--augment crop:28 shifts f's 28x28 images by up to 28 pixels, so some crops hold none of the image: give a "
                        + "padding below 28 (crop:P; crop pads 4)");
        assertThatThrownBy(() -> Augmentation.parse("crop,flip").check(new long[]{3, 4, 8}, "f")).isInstanceOf(UserError.class)
                .hasMessageContaining("give a padding below 4");
    }

    /** Batch k of epoch e is augmented the same whether the epoch is read from its start or resumed at k. */
    @Test
    void loaderAugmentsByEpochAndBatchAlone() {
        try (Scope s = Scope.open()) {
            byte[] px = new byte[20 * 3 * 4 * 4];
            new SplittableRandom(1).nextBytes(px);
            Dataset d = new Dataset("t", "test", Tensor.fromUnsignedBytes(px, 20, 3, 4, 4), Tensor.zeros(DType.INT64, Device.CPU, 20),
                    10, List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"));
            DataLoader loader = new DataLoader(d, 6, true, 5).augmented(Augmentation.parse("crop:1,flip"));
            List<DataLoader.Batch> all = new java.util.ArrayList<>();
            loader.epoch(2).forEach(all::add);
            DataLoader.Batch third = loader.iterator(2, 2).next();
            assertThat(values(third.x())).containsExactly(values(all.get(2).x()));
            DataLoader plain = new DataLoader(d, 6, true, 5);
            assertThat(values(plain.iterator(2, 2).next().x())).isNotEqualTo(values(third.x()));
            assertThat(values(loader.iterator(3, 2).next().x())).isNotEqualTo(values(third.x()));
            Dataset flat = new Dataset("f", "test", Tensor.zeros(4, 2), Tensor.zeros(DType.INT64, Device.CPU, 4), 2, List.of("a", "b"));
            assertThatThrownBy(() -> new DataLoader(flat, 2, true, 0).augmented(Augmentation.parse("flip")))
                    .isInstanceOf(UserError.class).hasMessageContaining("needs image data [C, H, W], but f has examples of shape [2]");
        }
    }
}
