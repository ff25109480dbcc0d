package dev.tikhon.engine;

import dev.tikhon.engine.ConvSweep.Result;
import dev.tikhon.engine.ConvSweep.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/**
 * The diagnostic sweep behind {@code tikhon bench conv-check}: which shapes, thread counts and memory formats it
 * measures, and (oracle: float64) that on kernels the start-up self-check passed its errors are float32 rounding.
 */
class ConvSweepTest {
    private static final Shape SMALL = new Shape(3, 5, 3, 1, 1, 2, 10);
    private static final Shape STRIDED = new Shape(16, 8, 3, 2, 1, 1, 9);

    @Test
    void everyShapeAtEveryThreadCountInTheFormatsAskedForWithRoundingSizedErrors() {
        int before = Engine.threads();
        boolean checkedRight = Engine.kernels().startsWith("oneDNN");
        try {
            List<Result> both = ConvSweep.run(List.of(SMALL, STRIDED), new int[]{1, 2}, true, true, 11);
            assertThat(both).extracting(Result::shape, Result::threads, Result::channelsLast).containsExactly(
                    tuple(SMALL, 1, false), tuple(SMALL, 1, true), tuple(SMALL, 2, false), tuple(SMALL, 2, true),
                    tuple(STRIDED, 1, false), tuple(STRIDED, 1, true), tuple(STRIDED, 2, false), tuple(STRIDED, 2, true));
            // documented: the sweep leaves libtorch at the last thread count
            assertThat(Engine.describe().get("intraop_threads")).isEqualTo(2);
            if (checkedRight) {   // kernels the self-check found right: float32 differs from float64 by rounding only
                for (Result r : both) {
                    assertThat(r.forwardRel()).as("forward %s", r).isGreaterThan(0).isLessThan(1e-5);
                    assertThat(r.weightGradRel()).as("weight grad %s", r).isGreaterThan(0).isLessThan(1e-4);
                    assertThat(r.inputGradRel()).as("input grad %s", r).isGreaterThan(0).isLessThan(1e-4);
                    assertThat(r.inputGradAbs()).as("input grad, absolute, %s", r).isGreaterThan(0).isLessThan(1e-3);
                    assertThat(r.worst()).isEqualTo(Math.max(r.forwardRel(), Math.max(r.weightGradRel(), r.inputGradRel())));
                }
            }

            // one format only; the same seed draws the same tensors, so the one-thread NCHW errors repeat exactly
            List<Result> nchw = ConvSweep.run(List.of(SMALL), new int[]{1}, true, false, 11);
            assertThat(nchw).extracting(Result::channelsLast).containsExactly(false);
            assertThat(nchw.get(0)).isEqualTo(both.get(0));
            List<Result> channelsLast = ConvSweep.run(List.of(SMALL), new int[]{1}, false, true, 11);
            assertThat(channelsLast).extracting(Result::channelsLast).containsExactly(true);
            assertThat(channelsLast.get(0)).isEqualTo(both.get(1));
            assertThat(Engine.describe().get("intraop_threads")).isEqualTo(1);
        } finally {
            Engine.setThreads(before);   // the self-check's verdict at that count: oneDNN off again if it failed there
        }
    }

    @Test
    void theWorstErrorIsTheLargestRelativeOneAndNaNWhenAnyIs() {
        assertThat(new Result(SMALL, false, 1, 2e-7, 3e-5, 1e-6, 0.5).worst()).isEqualTo(3e-5);
        assertThat(new Result(SMALL, false, 1, 4e-5, 3e-5, 1e-6, 0.5).worst()).isEqualTo(4e-5);
        assertThat(new Result(SMALL, true, 2, 2e-7, 3e-5, 0.2, 0.5).worst()).isEqualTo(0.2);
        assertThat(new Result(SMALL, true, 2, 2e-7, 3e-5, Double.NaN, Double.NaN).worst()).isNaN();
        assertThat(new Result(SMALL, true, 2, Double.NaN, 3e-5, 0.2, 0.5).worst()).isNaN();
        // float32 overflow: an infinite error is the worst, not a NaN
        double inf = Double.POSITIVE_INFINITY;
        assertThat(new Result(SMALL, false, 1, inf, inf, 1e-6, inf).worst()).isEqualTo(inf);
        assertThat(new Result(SMALL, false, 1, 1e-6, inf, inf, inf).worst()).isEqualTo(inf);
    }

    /** The cap oneDNN runs at in this process: the environment's, else Tikhon's fallback after a failed host, else none. */
    @Test
    void theIsaCapIsTheOneThisProcessRunsAt() {
        String env = System.getenv("ONEDNN_MAX_CPU_ISA");
        if (env != null) {
            assertThat(ConvSweep.isaCap()).isEqualTo(env);
        } else if (Engine.kernels().contains("ISA cap none")) {
            assertThat(ConvSweep.isaCap()).isEqualTo("default");
        } else if (Engine.kernels().contains("ISA cap " + Engine.ONEDNN_FALLBACK_ISA_CAP)) {
            assertThat(ConvSweep.isaCap()).isEqualTo(Engine.ONEDNN_FALLBACK_ISA_CAP);
        }
    }
}
