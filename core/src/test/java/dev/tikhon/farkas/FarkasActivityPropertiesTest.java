package dev.tikhon.farkas;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Conv2d;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Parameter;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.statistics.Statistics;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Known answer of docs/methods.md §8: for random inputs and weights, a Farkas layer has at least one active
 * unit (output &gt; 0) at every position of every input, while a plain layer of the same shape with a
 * negative bias shift has positions where every unit is inactive. Both counts are taken on the same
 * inputs with the same shift applied to every bias of both layers. The shift is either the midpoint
 * of the plain layer's per-position maxima (so about half its positions die) or larger than every
 * pre-activation (so all of them die).
 */
class FarkasActivityPropertiesTest {
    enum Kind { LINEAR, CONV, CONV_STRIDED, BLOCK, BOTTLENECK }

    private static final AtomicLong PLAIN_DEAD = new AtomicLong(), FARKAS_DEAD = new AtomicLong(), POSITIONS = new AtomicLong();

    @Property(tries = 120)
    void farkasLayersAlwaysHaveAnActiveUnitAndShiftedPlainLayersDoNot(
            @ForAll("kinds") Kind kind, @ForAll @IntRange(min = 1, max = 6) int in, @ForAll @IntRange(min = 2, max = 9) int out,
            @ForAll @IntRange(min = 2, max = 5) int batch, @ForAll @IntRange(min = 3, max = 7) int side,
            @ForAll @DoubleRange(min = 0.01, max = 10) double weightScale, @ForAll @DoubleRange(min = 0.01, max = 10) double biasScale,
            @ForAll @DoubleRange(min = 0.01, max = 10) double inputScale, @ForAll boolean killAll, @ForAll long seed) {
        Rng.seed(seed);
        Module farkas, plain;
        Tensor x;
        switch (kind) {
            case LINEAR:
                farkas = new FarkasLinear(in, out);
                plain = new Linear(in, out);
                x = Tensor.randn(DType.FLOAT64, Device.CPU, batch, in);
                break;
            case CONV:
            case CONV_STRIDED: {
                int stride = kind == Kind.CONV ? 1 : 2, pad = kind == Kind.CONV ? 1 : 0;
                farkas = new FarkasConv2d(in, out, 3, stride, pad);
                plain = new Conv2d(in, out, 3, stride, pad, true);
                x = Tensor.randn(DType.FLOAT64, Device.CPU, batch, in, side, side);
                break;
            }
            case BLOCK: {
                int c = in + 1;
                farkas = new FarkasBlock(c);
                plain = new Conv2d(c, c + 1, 3, 1, 1, true);
                x = Tensor.randn(DType.FLOAT64, Device.CPU, batch, c, side, side);
                break;
            }
            case BOTTLENECK: {
                int c = 7 + in;
                farkas = new FarkasBottleneck(c);
                plain = new Conv2d(c, c + 1, 3, 1, 1, true);
                x = Tensor.randn(DType.FLOAT64, Device.CPU, batch, c, side, side);
                break;
            }
            default: throw new AssertionError(kind);
        }
        farkas.to(DType.FLOAT64);
        plain.to(DType.FLOAT64);
        x = x.mul(inputScale);
        draw(farkas, weightScale, biasScale);
        draw(plain, weightScale, biasScale);

        double shift = shift(plain.forward(x), killAll);
        shiftBiases(farkas, shift);
        shiftBiases(plain, shift);

        Tensor plainOut = plain.forward(x).relu(), farkasOut = farkas.forward(x);
        long plainDead = Farkas.inactivePositions(plainOut), farkasDead = Farkas.inactivePositions(farkasOut);
        PLAIN_DEAD.addAndGet(plainDead);
        FARKAS_DEAD.addAndGet(farkasDead);
        POSITIONS.addAndGet(Farkas.positions(farkasOut));
        Statistics.label("plain layer: positions with no active unit").collect(plainDead == Farkas.positions(plainOut) ? "all" : "some");

        assertThat(farkasDead).as("%s: positions of the Farkas layer with no active unit", kind).isZero();
        assertThat(plainDead).as("%s: positions of the shifted plain layer with no active unit", kind).isPositive();
        if (killAll) assertThat(plainDead).isEqualTo(Farkas.positions(plainOut));
    }

    @AfterContainer
    static void report() {
        System.out.printf("Farkas activity property: %d positions; no active unit at %d in Farkas layers, at %d in shifted plain layers%n",
                POSITIONS.get(), FARKAS_DEAD.get(), PLAIN_DEAD.get());
    }

    @Provide
    Arbitrary<Kind> kinds() { return Arbitraries.of(Kind.values()); }

    /** Every weight N(0, weightScale²), every bias N(0, biasScale²). */
    static void draw(Module m, double weightScale, double biasScale) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            for (var e : m.namedParameters().entrySet()) {
                e.getValue().value().normal_(0, e.getKey().endsWith("bias") ? biasScale : weightScale);
            }
        }
    }

    static void shiftBiases(Module m, double shift) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            for (var e : m.namedParameters().entrySet()) {
                if (e.getKey().endsWith("bias")) e.getValue().value().sub_(Tensor.scalar(shift, DType.FLOAT64, Device.CPU));
            }
        }
    }

    /**
     * A bias shift for the plain layer's pre-activation: the midpoint between its k-th and
     * (k+1)-th smallest per-position maxima (k = half the positions), so that at least one position
     * dies; or more than the largest pre-activation, so that all do.
     */
    static double shift(Tensor plainPre, boolean killAll) {
        if (killAll) return plainPre.abs().max().item() + 1;
        double[] maxima = plainPre.amax(1, false).flatten(0, -1).toDoubleArray();
        Arrays.sort(maxima);
        int k = maxima.length / 2;
        return (maxima[k - 1] + maxima[k]) / 2;
    }

    static Parameter param(Module m, String name) { return m.namedParameters().get(name); }
}
