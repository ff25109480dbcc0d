package dev.tikhon.data;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Engine;
import dev.tikhon.engine.Scope;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Oracle: each example's pixels encode its index, so batches can be traced back to examples. */
class DataLoaderTest {
    private static final Dataset DATA = DatasetTest.indexed(103);

    /** The example indices of every batch of an epoch, from batch {@code start} on. */
    private static List<Long> visit(DataLoader loader, int epoch, int start) {
        List<Long> seen = new ArrayList<>();
        Iterator<DataLoader.Batch> it = loader.iterator(epoch, start);
        int expectedIndex = start;
        while (it.hasNext()) {
            try (Scope step = Scope.open()) {
                DataLoader.Batch b = it.next();
                assertThat(b.index()).isEqualTo(expectedIndex++);
                assertThat(b.x().dtype()).isEqualTo(DType.FLOAT32);
                assertThat(b.y().dtype()).isEqualTo(DType.INT64);
                assertThat(b.x().shape()).containsExactly(b.size(), 1, 2, 2);
                float[] x = b.x().toFloatArray();
                long[] y = b.y().toLongArray();
                for (int i = 0; i < b.size(); i++) {
                    long id = Math.round(x[4 * i] * 255);
                    assertThat(y[i]).as("label travels with its input").isEqualTo(id % 3);
                    seen.add(id);
                }
            }
        }
        return seen;
    }

    @Test
    void everyExampleOncePerEpochInBatchesOfTheGivenSize() {
        DataLoader loader = new DataLoader(DATA, 10, true, 7);
        assertThat(loader.numBatches()).isEqualTo(11);
        List<Integer> sizes = new ArrayList<>();
        for (DataLoader.Batch b : loader.epoch(0)) sizes.add(b.size());
        assertThat(sizes).hasSize(11).startsWith(10, 10).endsWith(3);
        List<Long> seen = visit(loader, 0, 0);
        assertThat(seen).hasSize(103).doesNotHaveDuplicates();
        assertThat(seen).isNotEqualTo(visit(new DataLoader(DATA, 10, false, 7), 0, 0));
    }

    @Test
    void orderIsAFunctionOfSeedAndEpoch() {
        DataLoader a = new DataLoader(DATA, 16, true, 7);
        DataLoader b = new DataLoader(DATA, 16, true, 7);
        assertThat(visit(a, 3, 0)).isEqualTo(visit(b, 3, 0));
        assertThat(a.order(3)).isNotEqualTo(a.order(4));
        assertThat(a.order(3)).isNotEqualTo(new DataLoader(DATA, 16, true, 8).order(3));
    }

    @Test
    void startingAtBatchKGivesTheTailOfTheSameOrder() {
        DataLoader loader = new DataLoader(DATA, 10, true, 11);
        List<Long> full = visit(loader, 2, 0);
        assertThat(visit(loader, 2, 4)).isEqualTo(full.subList(40, full.size()));
        assertThat(visit(loader, 2, loader.numBatches())).isEmpty();
        assertThatThrownBy(() -> loader.iterator(2, 12)).isInstanceOf(IllegalArgumentException.class);
        Iterator<DataLoader.Batch> done = loader.iterator(2, loader.numBatches());
        assertThatThrownBy(done::next).isInstanceOf(NoSuchElementException.class);
    }

    @Test
    void withoutShuffleTheOrderIsTheDataOrder() {
        DataLoader loader = new DataLoader(DATA, 50, false, 1);
        long[] expected = new long[103];
        Arrays.setAll(expected, i -> i);
        assertThat(loader.order(0)).containsExactly(expected);
        assertThat(loader.order(5)).containsExactly(expected);
        assertThat(visit(loader, 5, 0)).containsExactly(Arrays.stream(expected).boxed().toArray(Long[]::new));
    }

    @Test
    void batchesLandOnTheLoadersDevice() {
        DataLoader cpu = new DataLoader(DATA, 8, true, 1);
        assertThat(cpu.epoch(0).iterator().next().x().device()).isEqualTo(Device.CPU);
        assertThat(cpu.source()).as("on the CPU the batches are gathered from the data set itself").isSameAs(DATA);
        assumeTrue(Engine.cudaAvailable(), "no CUDA device");
        DataLoader gpu = cpu.onDevice(Device.cuda(0));
        DataLoader.Batch b = gpu.epoch(0).iterator().next();
        assertThat(b.x().device()).isEqualTo(Device.cuda(0));
        assertThat(b.y().device()).isEqualTo(Device.cuda(0));
        // a small data set is copied to the GPU once and gathered there: the same batches, in the same order
        assertThat(gpu.source().inputs().device()).isEqualTo(Device.cuda(0));
        assertThat(visit(gpu, 3, 0)).isEqualTo(visit(cpu, 3, 0));
    }
}
