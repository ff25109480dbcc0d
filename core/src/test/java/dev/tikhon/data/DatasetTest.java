package dev.tikhon.data;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Oracle: data sets built so that each example's pixels and label encode its index. */
class DatasetTest {
    /** n 1x2x2 images whose pixels are all {@code i} and whose label is {@code i % 3}. */
    static Dataset indexed(int n) {
        byte[] px = new byte[n * 4];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            Arrays.fill(px, 4 * i, 4 * i + 4, (byte) i);
            y[i] = i % 3;
        }
        return new Dataset("indexed", "test", Tensor.fromUnsignedBytes(px, n, 1, 2, 2), Tensor.fromLongs(y, n), 3,
                List.of("a", "b", "c"));
    }

    @Test
    void factsAndClassCounts() {
        Dataset d = indexed(10);
        assertThat(d.size()).isEqualTo(10);
        assertThat(d.inputShape()).containsExactly(1, 2, 2);
        assertThat(d.classCounts()).containsExactly(4, 3, 3);
        assertThat(d.isImages()).isTrue();
        assertThat(d.toString()).contains("indexed", "10", "[1, 2, 2]", "uint8", "3 classes");
        assertThat(d.bytes()).isEqualTo(10 * 4 + 10 * 8);   // UINT8 pixels and INT64 labels
        assertThat(d.to(dev.tikhon.engine.Device.CPU)).isSameAs(d);
    }

    @Test
    void batchInputsScalesBytesToUnitInterval() {
        Dataset d = indexed(256);
        Tensor idx = Tensor.fromLongs(new long[]{255, 0, 128}, 3);
        Tensor x = d.batchInputs(idx);
        assertThat(x.dtype()).isEqualTo(DType.FLOAT32);
        assertThat(x.shape()).containsExactly(3, 1, 2, 2);
        float[] v = x.toFloatArray();
        assertThat(v[0]).isEqualTo(1f);
        assertThat(v[4]).isEqualTo(0f);
        assertThat(v[8]).isCloseTo(128f / 255f, within(1e-7f));
        assertThat(d.batchLabels(idx).toLongArray()).containsExactly(0, 0, 2);
    }

    @Test
    void featureInputsPassThroughAsFloat() {
        Dataset d = new Dataset("f", "test", Tensor.fromFloats(new float[]{1, 2, 3, 4, 5, 6}, 3, 2),
                Tensor.fromLongs(new long[]{0, 1, 0}, 3), 2, List.of("x", "y"));
        assertThat(d.inputShape()).containsExactly(2);
        assertThat(d.batchInputs(Tensor.fromLongs(new long[]{2, 0}, 2)).toFloatArray()).containsExactly(5, 6, 1, 2);
    }

    @Test
    void rejectsInconsistentTensors() {
        Tensor x = Tensor.zeros(DType.UINT8, dev.tikhon.engine.Device.CPU, 4, 1, 2, 2);
        assertThatThrownBy(() -> new Dataset("d", "s", x, Tensor.fromLongs(new long[3], 3), 1, List.of("a")))
                .hasMessageContaining("labels must be INT64 [4]");
        assertThatThrownBy(() -> new Dataset("d", "s", x, Tensor.fromLongs(new long[4], 4), 2, List.of("a")))
                .hasMessageContaining("2 classes but 1 class names");
    }

    @Test
    void subsetAndHeadCopyTheChosenExamples() {
        Dataset d = indexed(10);
        Dataset s = d.subset(new long[]{7, 2, 2});
        assertThat(s.inputs().toUnsignedBytes()).containsExactly(7, 7, 7, 7, 2, 2, 2, 2, 2, 2, 2, 2);
        assertThat(s.labels().toLongArray()).containsExactly(1, 2, 2);
        assertThat(d.head(4).labels().toLongArray()).containsExactly(0, 1, 2, 0);
        assertThat(d.head(99).size()).isEqualTo(10);
        assertThatThrownBy(() -> d.subset(new long[]{10})).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void splitIsSeededDisjointAndCovering() {
        Dataset d = indexed(100);
        Dataset.Split a = d.split(0.2, 42);
        Dataset.Split b = d.split(0.2, 42);
        Dataset.Split c = d.split(0.2, 43);
        assertThat(a.heldOut().size()).isEqualTo(20);
        assertThat(a.rest().size()).isEqualTo(80);
        assertThat(ids(a.heldOut())).isEqualTo(ids(b.heldOut())).isNotEqualTo(ids(c.heldOut()));
        Set<Long> all = new HashSet<>(ids(a.heldOut()));
        all.addAll(ids(a.rest()));
        assertThat(all).hasSize(100);
        assertThatThrownBy(() -> indexed(1).split(0.2, 1)).isInstanceOf(DataException.class)
                .hasMessageContaining("cannot hold out 20% of 1 examples");
    }

    @Test
    void survivesTheScopeItWasBuiltIn() {
        Dataset d;
        try (Scope s = Scope.open()) {
            d = indexed(5).head(3);
        }
        System.gc();
        assertThat(d.inputs().toUnsignedBytes()).containsExactly(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2);
    }

    /** The example indices a subset holds, read back from its pixels. */
    static List<Long> ids(Dataset d) {
        byte[] px = d.inputs().toUnsignedBytes();
        Long[] out = new Long[d.size()];
        for (int i = 0; i < out.length; i++) out[i] = (long) (px[4 * i] & 0xff);
        return List.of(out);
    }
}
