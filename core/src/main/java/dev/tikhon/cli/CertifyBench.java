package dev.tikhon.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.bench.Workloads;
import dev.tikhon.engine.Device;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code tikhon bench certify}: Cohen CERTIFY images/s with the small CNN. */
@Command(name = "certify", mixinStandardHelpOptions = true,
        description = "Images per second of Cohen et al.'s CERTIFY (N0 100, N noisy copies) on Fashion-MNIST test images with the small CNN.")
final class CertifyBench implements Callable<Integer> {
    @Option(names = "--images", defaultValue = "20", description = "Default: ${DEFAULT-VALUE}.")
    int images;

    @Option(names = "--n", defaultValue = "10000", description = "Estimation samples N. Default: ${DEFAULT-VALUE}.")
    int n;

    @Option(names = "--sigma", defaultValue = "0.25", description = "Default: ${DEFAULT-VALUE}.")
    double sigma;

    @Option(names = "--noise-batch", defaultValue = "200", description = "Noisy copies per forward pass. Default: ${DEFAULT-VALUE}.")
    int noiseBatch;

    @Option(names = "--images-per-batch", defaultValue = "1", paramLabel = "K",
            description = "Images whose noisy copies share each forward pass (of K × noise batch). Default: ${DEFAULT-VALUE}.")
    int imagesPerBatch;

    @Mixin DataOptions data = new DataOptions();

    @Mixin RuntimeOptions runtime = new RuntimeOptions();

    @Override public Integer call() throws Exception {
        Device device = runtime.apply();
        System.out.println(new ObjectMapper().writeValueAsString(Workloads.cohenCertify(data.testHead(images), n, sigma, noiseBatch, imagesPerBatch, device)));
        return 0;
    }
}
