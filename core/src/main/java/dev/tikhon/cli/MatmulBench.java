package dev.tikhon.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.bench.Workloads;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Engine;
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
        Workloads.matmulGflops(size, device, 2);   // warm-up
        double[] g = new double[reps];
        for (int i = 0; i < reps; i++) g[i] = Workloads.matmulGflops(size, device, 1);
        Arrays.sort(g);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("impl", "tikhon");
        r.put("benchmark", "matmul");
        r.put("dtype", "float32");
        r.put("size", size);
        r.put("threads", Engine.threads());
        r.put("blas_threads", device.isCuda() ? 0 : Engine.threads());   // the product runs at the step's thread count
        r.put("device", device.toString());
        r.put("reps", reps);
        r.put("median_gflops", Workloads.median(g));
        r.put("max_gflops", g[reps - 1]);
        r.put("min_gflops", g[0]);
        System.out.println(new ObjectMapper().writeValueAsString(r));
        return 0;
    }
}
