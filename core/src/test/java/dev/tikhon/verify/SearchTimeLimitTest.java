package dev.tikhon.verify;

import dev.tikhon.attack.InputDomain;
import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A search's time limit ({@code --bab-timeout}): each example's search ends once its seconds are spent, with the bound it
 * reached (never above the unlimited search's, as sound), and tells its caller it was stopped; the limit is each example's
 * own, not the batch's.
 */
class SearchTimeLimitTest {
    static final int UNITS = BoundedNetwork.DEFAULT_CROWN_UNITS;

    /** How each example's search ended and the domains it bounded, as the hooks are told. */
    private static final class Told implements SearchHooks {
        final Map<Integer, End> end = new HashMap<>();
        final Map<Integer, Integer> domains = new HashMap<>();
        /** Per example, the domains and bound of its last progress report. */
        final Map<Integer, double[]> last = new HashMap<>();
        final long sleepAfterFirst;

        Told(long sleepAfterFirstMillis) { this.sleepAfterFirst = sleepAfterFirstMillis; }

        @Override public void progress(int example, int bounded, double lower) {
            double[] before = last.get(example);
            assertThat(before == null || bounded > before[0]).as("example %d: domains grow from report to report", example).isTrue();
            last.put(example, new double[]{bounded, lower});
        }

        @Override public void searched(int example, int bounded, End why) {
            if (end.isEmpty() && sleepAfterFirst > 0) {
                try {
                    Thread.sleep(sleepAfterFirst);
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
            end.put(example, why);
            domains.put(example, bounded);
        }
    }

    /**
     * Branch and bound on twelve images of a ReLU MLP, one batch of 64 domains per search: a limit spent before the first
     * batch leaves every searched image its root's bound ("stopped", no domain), below the unlimited bound where that
     * search raised it; a limit of 2 s, with the caller taking 2.1 s after the first search, leaves the next searches
     * whole (their own 2 s each, far more than one batch takes), bit for bit the unlimited ones.
     */
    @Test
    void branchAndBoundStopsEachSearchAtItsOwnLimit() {
        Module f = BoundPropagationTest.model("mlp", Map.of("hidden", List.of(32, 32)), 7);
        Rng.seed(8);
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 12, 1, 8, 8).to(f.dtype()), y;
        try (Autograd.Guard g = Autograd.noGrad()) {
            y = f.forward(x).argmax(1);
        }
        InputRegion region = InputRegion.images(x, 0.03, Norm.LINF);
        BoundedNetwork net = BoundedNetwork.of(f);
        Tensor spec = BoundedNetwork.marginsOverOthers(y, 5, x);
        BranchAndBound.Settings settings = BranchAndBound.Settings.DEFAULT.withDomains(64).withSteps(5).withRootAlphaSteps(5);
        Told unlimited = new Told(0), instant = new Told(0), second = new Told(2100);
        double[] full, stopped, timed;
        try (Autograd.Guard g = Autograd.noGrad()) {
            full = BranchAndBound.worstLower(net, region, spec, UNITS, settings, 0, () -> false, unlimited).toDoubleArray();
            stopped = BranchAndBound.worstLower(net, region, spec, UNITS, settings.withSeconds(1e-9), 0, () -> false, instant).toDoubleArray();
            timed = BranchAndBound.worstLower(net, region, spec, UNITS, settings.withSeconds(2), 0, () -> false, second).toDoubleArray();
        }
        assertThat(unlimited.end).as("searched examples").hasSizeGreaterThanOrEqualTo(2);
        assertThat(instant.end.keySet()).isEqualTo(unlimited.end.keySet());
        int raised = 0;
        for (int i = 0; i < 12; i++) {
            if (!unlimited.end.containsKey(i)) {
                assertThat(stopped[i]).as("image %d, decided at the root", i).isEqualTo(full[i]);
                continue;
            }
            assertThat(unlimited.end.get(i)).as("image %d", i).isNotEqualTo(SearchHooks.End.STOPPED);
            assertThat(instant.end.get(i)).as("image %d", i).isEqualTo(SearchHooks.End.STOPPED);
            assertThat(instant.domains.get(i)).as("image %d", i).isZero();
            assertThat(stopped[i]).as("image %d: the root's bound, never above the search's", i).isLessThanOrEqualTo(full[i]);
            if (stopped[i] < full[i]) raised++;
            assertThat(second.end.get(i)).as("image %d: its own 2 s", i).isEqualTo(unlimited.end.get(i));
            assertThat(second.domains.get(i)).as("image %d", i).isEqualTo(unlimited.domains.get(i));
            assertThat(timed[i]).as("image %d", i).isEqualTo(full[i]);
            // its progress after the last batch: the domains it ends with, and its bound (the root's where that is higher)
            assertThat((int) unlimited.last.get(i)[0]).as("image %d", i).isEqualTo(unlimited.domains.get(i));
            assertThat(Math.max(stopped[i], unlimited.last.get(i)[1])).as("image %d", i).isEqualTo(full[i]);
            assertThat(instant.last).as("no batch, no report").doesNotContainKey(i);
        }
        assertThat(raised).as("images whose search raised the root's bound (what the limit cuts)").isPositive();
    }

    /**
     * Input splitting on sixteen 2-D points: with a limit spent by the first batch, each open example takes that batch's
     * sub-boxes and stops ("stopped" unless it ended in them), at most the unlimited bound; unlimited, some search further.
     */
    @Test
    void inputSplittingStopsEachExampleOnceItsShareIsSpent() {
        Module f = InputSplittingTest.network(3, "relu");
        Rng.seed(4);
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 16, 2).mul(2).sub(1), y;
        try (Autograd.Guard g = Autograd.noGrad()) {
            y = f.forward(x).argmax(1);
        }
        BoundedNetwork net = BoundedNetwork.of(f);
        Tensor spec = BoundedNetwork.marginsOverOthers(y, 2, x);
        InputSplitting.Settings settings = InputSplitting.Settings.DEFAULT.withDomains(256).withBatch(8);
        Told unlimited = new Told(0), instant = new Told(0);
        double[][] lower = InputDomain.within(InputDomain.UNBOUNDED, () -> {
            InputRegion region = InputRegion.inDomain(x, Verification.full(x, 0.3), Norm.LINF);
            return new double[][]{
                    InputSplitting.worstLower(net, region, spec, settings, 0, () -> false, unlimited).toDoubleArray(),
                    InputSplitting.worstLower(net, region, spec, settings.withSeconds(1e-9), 0, () -> false, instant).toDoubleArray()};
        });
        assertThat(instant.end.keySet()).isEqualTo(unlimited.end.keySet()).hasSizeGreaterThanOrEqualTo(3);
        long further = 0;
        for (int i : instant.end.keySet()) {
            // the root, then at most its turns in one batch of 8
            assertThat(instant.domains.get(i)).as("example %d", i).isBetween(2, 1 + 8);
            if (instant.end.get(i) != SearchHooks.End.PROVED && instant.end.get(i) != SearchHooks.End.COUNTEREXAMPLE) {
                assertThat(instant.end.get(i)).as("example %d", i).isEqualTo(SearchHooks.End.STOPPED);
            }
            assertThat(lower[1][i]).as("example %d", i).isLessThanOrEqualTo(lower[0][i]);
            if (unlimited.domains.get(i) > instant.domains.get(i)) further++;
            assertThat((int) unlimited.last.get(i)[0]).as("example %d", i).isEqualTo(unlimited.domains.get(i));
            assertThat(unlimited.last.get(i)[1]).as("example %d", i).isLessThanOrEqualTo(lower[0][i]);
        }
        assertThat(further).as("examples the unlimited search took further").isPositive();
        assertThat(unlimited.end.values()).doesNotContain(SearchHooks.End.STOPPED);
    }

    @Test
    void aLimitIsANonNegativeNumberOfSeconds() {
        assertThatThrownBy(() -> BranchAndBound.Settings.DEFAULT.withSeconds(-1)).hasMessageContaining("≥ 0 seconds");
        assertThatThrownBy(() -> BranchAndBound.Settings.DEFAULT.withSeconds(Double.NaN)).hasMessageContaining("≥ 0 seconds");
        assertThatThrownBy(() -> InputSplitting.Settings.DEFAULT.withSeconds(-1)).hasMessageContaining("≥ 0 seconds");
        assertThat(InputSplitting.Settings.like(BranchAndBound.Settings.DEFAULT.withDomains(9).withSeconds(2)))
                .isEqualTo(InputSplitting.Settings.DEFAULT.withDomains(9).withSeconds(2));
    }
}
