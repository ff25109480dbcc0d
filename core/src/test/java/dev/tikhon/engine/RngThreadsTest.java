package dev.tikhon.engine;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** Seeds are per thread: concurrent seeded draws give what each would alone (Spark runs tasks as threads). */
class RngThreadsTest {
    /** Seeds, then draws with every random factory, many times, interleaving with the other thread. */
    private static double[] draws(long seed, CyclicBarrier barrier) throws Exception {
        List<Double> out = new ArrayList<>();
        for (int round = 0; round < 40; round++) {
            try (Scope s = Scope.open()) {
                Rng.seed(Rng.derive(seed, round));
                if (barrier != null) barrier.await();   // the other thread seeds its own stream in between
                for (double v : Tensor.randn(DType.FLOAT64, Device.CPU, 7).toDoubleArray()) out.add(v);
                if (barrier != null) barrier.await();
                for (double v : Tensor.rand(DType.FLOAT32, Device.CPU, 20).toDoubleArray()) out.add(v);
                for (long v : Tensor.randint(1000, Device.CPU, 5).toLongArray()) out.add((double) v);
                for (long v : Tensor.randperm(9, Device.CPU).toLongArray()) out.add((double) v);
                Tensor like = Tensor.zeros(DType.FLOAT64, Device.CPU, 3, 2);
                for (double v : like.randnLike().toDoubleArray()) out.add(v);
                for (double v : like.randLike().toDoubleArray()) out.add(v);
                for (double v : like.normal_(1, 2).toDoubleArray()) out.add(v);
            }
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    @Test
    void concurrentSeededThreadsDrawTheirOwnStreams() throws Exception {
        double[] aloneA = draws(1, null), aloneB = draws(2, null);
        assertThat(aloneA).isNotEqualTo(aloneB);
        CyclicBarrier barrier = new CyclicBarrier(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<double[]> a = pool.submit(() -> draws(1, barrier));
            Future<double[]> b = pool.submit(() -> draws(2, barrier));
            assertThat(a.get()).containsExactly(aloneA);
            assertThat(b.get()).containsExactly(aloneB);
        } finally {
            pool.shutdownNow();
        }
    }
}
