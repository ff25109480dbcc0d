package dev.tikhon.certify;

import dev.tikhon.data.Dataset;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Module;
import dev.tikhon.report.Progress;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The heat single pass classifies a batch per forward pass when it runs alone: the same classes and radii as image by
 * image, with the batched cost per image as classification time and one image's latency in the summary.
 */
class HeatBatchedTest {

    @Test
    void batchedSinglePassGivesTheRadiiOfOneImageAtATime() {
        Rng.seed(2);
        Module model = Models.build(Models.spec("cnn", List.of(1L, 28L, 28L), 10, Map.of()));
        Tensor x = Tensor.rand(DType.FLOAT32, Device.CPU, 9, 1, 28, 28).mul(255).to(DType.UINT8);
        Dataset set = new Dataset("noise", "test", x, Tensor.randint(10, Device.CPU, 9), 10,
                List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"));
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        CertificationRun.Result one = CertificationRun.run(model, set, 9, HeatCertification.plan(0.25, null), Device.CPU,
                Progress.plain("one", 9, quiet));
        CertificationRun.Plan batched = HeatCertification.plan(0.25, null, 4);
        assertThat(batched.batchSize()).isEqualTo(4);
        CertificationRun.Result many = CertificationRun.run(model, set, 9, batched, Device.CPU, Progress.plain("batched", 9, quiet));
        assertThat(many.images()).hasSize(9);
        for (int i = 0; i < 9; i++) {
            CertificationRun.Image a = one.images().get(i), b = many.images().get(i);
            assertThat(b.index()).isEqualTo(a.index());
            for (String k : List.of(HeatCertification.LIPSCHITZ, HeatCertification.PHI_INVERSE)) {
                assertThat(b.certificates().get(k).prediction()).isEqualTo(a.certificates().get(k).prediction());
                assertThat(b.certificates().get(k).radius()).isCloseTo(a.certificates().get(k).radius(), within(1e-5));
            }
        }
        assertThat(many.summary()).containsKey("single_image_latency_ms");
        assertThat(((Number) many.summary().get("single_image_latency_ms")).doubleValue()).isPositive();
        // with the Monte Carlo certificate, units stay one image
        assertThat(HeatCertification.plan(0.25, new RandomizedSmoothing(RandomizedSmoothing.Config.defaults(0.25)), 4).batchSize()).isEqualTo(1);
    }
}
