package dev.tikhon.flow;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.ode.Method;
import dev.tikhon.ode.OdeSolution;
import dev.tikhon.ode.OdeSolver;
import dev.tikhon.ode.SolverOptions;
import dev.tikhon.train.MemoryTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Oracle: resident memory stays flat in long solves without a graph and over many flow training iterations. */
class FlowMemoryTest {

    @Test
    void aSolveWithoutGraphDoesNotGrowWithItsSteps() {
        // 1,000 RK4 steps on 100,000 floats: kept per step, the stages alone would be ~2 GB.
        Tensor y0 = Tensor.randn(DType.FLOAT32, Device.CPU, 100_000);
        try (Autograd.Guard g = Autograd.noGrad()) {
            OdeSolver.solve((t, y) -> List.of(y.get(0).neg()), List.of(y0), 0, 1, SolverOptions.fixed(Method.RK4, 0.01));
            System.gc();
            long before = MemoryTest.residentKb();
            OdeSolution s = OdeSolver.solve((t, y) -> List.of(y.get(0).neg()), List.of(y0), 0, 10, SolverOptions.fixed(Method.RK4, 0.01));
            System.gc();
            long after = MemoryTest.residentKb();
            assertThat(s.acceptedSteps()).isEqualTo(1000);
            assertThat(after - before).as("RSS growth in KB").isLessThan(200_000);
        }
    }

    @Test
    void trainingMemoryIsFlat(@TempDir Path out) {
        Rng.seed(0);
        FlowConfig config = new FlowConfig("cnf", "8gaussians", FlowConfig.Field.mlp(new int[]{16, 16}, "softplus"),
                new FlowConfig.Ode(1.0, "exact", new FlowConfig.Solver("rk4", 0.25, 1e-5, 1e-5), "backprop"), FlowConfig.rnode(0.01, 0.01),
                new FlowConfig.Training(400, 32, 1e-3, 0, 0, 100));
        FlowModel model = Flows.build(config, new long[]{2});
        List<double[]> rss = new ArrayList<>();
        FlowTraining.Listener sampler = new FlowTraining.Listener() {
            @Override public void onIteration(Map<String, Object> row) {
                int it = ((Number) row.get("iteration")).intValue();
                // after the JIT and the malloc arenas have settled (seen: flat within 1 MB from iteration 75 on) and the
                // first checkpoint (iteration 100) was written; the span sampled holds the next three
                if (it > 100 && it % 20 == 0) {
                    System.gc();
                    rss.add(new double[]{it, MemoryTest.residentKb()});
                }
            }
        };
        FlowTraining.run(model, config, Flows.toyBatches("8gaussians", 32, 0), out, false, sampler);
        // An iteration allocates about a megabyte of tensors (16 evaluations with their graphs), so one
        // left outside its scope would add hundreds of MB over the 280 iterations sampled (a leak of 150 KB an
        // iteration reaches the bound). Malloc noise is ±20 MB and has no trend: the least-squares growth over
        // the span must stay under 40 MB.
        double mx = rss.stream().mapToDouble(r -> r[0]).average().orElseThrow();
        double my = rss.stream().mapToDouble(r -> r[1]).average().orElseThrow();
        double sxy = 0, sxx = 0;
        for (double[] r : rss) {
            sxy += (r[0] - mx) * (r[1] - my);
            sxx += (r[0] - mx) * (r[0] - mx);
        }
        double growthKb = sxy / sxx * (rss.get(rss.size() - 1)[0] - rss.get(0)[0]);
        System.out.printf("flow training RSS: %d samples, mean %.0f KB, fitted growth over the span %.0f KB%n", rss.size(), my, growthKb);
        assertThat(growthKb).as("fitted RSS growth (KB) after warm-up").isLessThan(40_000);
    }
}
