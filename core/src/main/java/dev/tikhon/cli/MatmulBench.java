package dev.tikhon.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Engine;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon bench matmul}: float32 GEMM GFLOP/s, the ceiling a convolution step is measured against. */
@Command(name = "matmul", mixinStandardHelpOptions = true,
        description = "Float32 matmul GFLOP/s (n×n times n×n, 2n³ operations): the machine's ceiling for dense layers and convolutions.")
final class MatmulBench implements Callable<Integer> {
    @Option(names = "--size", defaultValue = "2048", description = "Matrix side n. Default: ${DEFAULT-VALUE}.")
    int size;

    @Option(names = "--reps", defaultValue = "10", description = "Timed products (median reported). Default: ${DEFAULT-VALUE}.")
    int reps;

    @Mixin RuntimeOptions runtime = new RuntimeOptions();

    @Override public Integer call() throws Exception {
        if (size < 1 || reps < 1) throw new dev.tikhon.UserError("bench matmul: --size and --reps must be at least 1");
        Device device = runtime.apply();
        gflops(size, device, 2);   // warm-up
        double[] g = new double[reps];
        for (int i = 0; i < reps; i++) g[i] = gflops(size, device, 1);
        Arrays.sort(g);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("impl", "tikhon");
        r.put("benchmark", "matmul");
        r.put("dtype", "float32");
        r.put("size", size);
        r.put("threads", Engine.threads());
        r.put("device", device.toString());
        r.put("reps", reps);
        r.put("median_gflops", median(g));
        r.put("max_gflops", g[reps - 1]);
        r.put("min_gflops", g[0]);
        System.out.println(new ObjectMapper().writeValueAsString(r));
        return 0;
    }

    /** The best GFLOP/s of {@code reps} float32 products of two n×n matrices (the best: the least disturbed by other work). */
    static double gflops(int n, Device device, int reps) {
        double best = 0;
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.randn(DType.FLOAT32, device, n, n), b = Tensor.randn(DType.FLOAT32, device, n, n);
            for (int i = 0; i < reps; i++) {
                long t0 = System.nanoTime();
                a.matmul(b).sum().item();
                best = Math.max(best, 2.0 * n * n * n / ((System.nanoTime() - t0) / 1e9) / 1e9);
            }
        }
        return best;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
