package dev.tikhon.kernel;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Tensor;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The polynomial kernel's values (γ xᵀy + c)^p reach (γ max‖x‖² + c)^p on the diagonal: where that overflows the dtype,
 * the fit is refused, naming the largest degree that fits, where it used to "succeed" on a Gram matrix of infinities
 * (kernel fit --degree 2000 on Fashion-MNIST: train accuracy 0.11, exit 0).
 */
class PolynomialRangeTest {
    /** One point with ‖x‖² = 100: with γ 1 and c 0 the diagonal is 100^p = 10^(2p). */
    private static final Tensor X = Tensor.fromDoubles(new double[]{6, 8}, 1, 2);
    private static final double SQUARED_NORM = 100;

    @Test
    void theLargestDegreeThatFitsPassesAndOneMoreIsRefused() {
        // float64's largest number is 1.8e308: 10^(2·154) fits, 10^(2·155) does not
        assertThatCode(() -> new Kernel.Polynomial(154, 1, 0).checkRange(SQUARED_NORM, DType.FLOAT64)).doesNotThrowAnyException();
        assertThat(new Kernel.Polynomial(154, 1, 0).matrix(X, X).allFinite()).isTrue();
        assertThatThrownBy(() -> new Kernel.Polynomial(155, 1, 0).checkRange(SQUARED_NORM, DType.FLOAT64)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("overflows float64").hasMessageContaining("reaches 10^310").hasMessageContaining("use --degree 154 or less");
        assertThat(new Kernel.Polynomial(155, 1, 0).matrix(X, X).allFinite()).as("the check's reason").isFalse();
        // float32's is 3.4e38: 10^38 fits, 10^40 does not
        assertThatCode(() -> new Kernel.Polynomial(19, 1, 0).checkRange(SQUARED_NORM, DType.FLOAT32)).doesNotThrowAnyException();
        assertThatThrownBy(() -> new Kernel.Polynomial(20, 1, 0).checkRange(SQUARED_NORM, DType.FLOAT32)).hasMessageContaining("overflows float32")
                .hasMessageContaining("use --degree 19 or less");
    }

    /** The fit's largest squared norm, read in blocks of 4,096, is the whole set's, its largest point in the last block. */
    @Test
    void theLargestSquaredNormIsReadInBlocksAsAWhole() {
        dev.tikhon.data.Dataset moons = dev.tikhon.data.ToyData.generate("moons", 9000, 2);
        long[] idx = new long[moons.size()];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        double whole = KernelMethods.inputs(moons, idx).square().sum(1, false).max().item();
        long[] largestLast = idx.clone();
        int at = (int) KernelMethods.inputs(moons, idx).square().sum(1, false).argmax(0).item();
        largestLast[at] = idx.length - 1;
        largestLast[idx.length - 1] = at;
        assertThat(KernelMethods.largestSquaredNorm(moons, idx)).isEqualTo(whole);
        assertThat(KernelMethods.largestSquaredNorm(moons, largestLast)).isEqualTo(whole);
        assertThat(KernelMethods.largestSquaredNorm(moons, java.util.Arrays.copyOf(idx, 10))).isLessThanOrEqualTo(whole);
    }

    @Test
    void valuesAtMostOneNeverOverflow() {
        assertThatCode(() -> new Kernel.Polynomial(100_000, 0.001, 0.5).checkRange(SQUARED_NORM, DType.FLOAT32)).doesNotThrowAnyException();   // base 0.6
        assertThatCode(() -> new Kernel.Rbf(1).checkRange(SQUARED_NORM, DType.FLOAT32)).doesNotThrowAnyException();
    }
}
