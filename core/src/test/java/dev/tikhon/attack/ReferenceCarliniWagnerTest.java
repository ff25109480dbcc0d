package dev.tikhon.attack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.ScriptedModel;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Oracle: Carlini–Wagner ℓ2 written independently in PyTorch (bench/reference_pgd.py cw: torch.optim.Adam, the same
 * settings) on the tiny Fashion-MNIST CNN of {@link ReferencePgdTest}, first 20 test images (two of them misclassified
 * from the start). Both are deterministic, so Tikhon's smallest adversarial distance per image must be the reference's,
 * up to float32 rounding carried through 9,000 Adam steps and two libtorch versions. The fixture comes from
 *
 * <pre>
 * THREADS=1 /usr/bin/python3 bench/reference_pgd.py cw --model core/src/test/resources/torchscript/tiny_fmnist_cnn.pt \
 *     --images 20 --steps 1000 &gt; core/src/test/resources/torchscript/tiny_fmnist_cnn_cw.json
 * </pre>
 */
class ReferenceCarliniWagnerTest {
    private static final Path DIR = Path.of("src/test/resources/torchscript");

    @Test
    void sameDistancesAsAnIndependentImplementation() throws Exception {
        JsonNode expected = new ObjectMapper().readTree(DIR.resolve("tiny_fmnist_cnn_cw.json").toFile()).get("smallest_l2");
        ScriptedModel model = ScriptedModel.load(DIR.resolve("tiny_fmnist_cnn.pt"));
        model.train(false);
        Dataset test = DataSets.load(DataSets.SAMPLE_NAME, null, Map.of(), 0).test().head(expected.size());
        Tensor idx = Tensor.arange(test.size(), dev.tikhon.engine.DType.INT64, dev.tikhon.engine.Device.CPU);
        Attack.Result r = CarliniWagner.standard(1000).attack(model, test.batchInputs(idx), test.batchLabels(idx));
        StringBuilder ratios = new StringBuilder();
        for (int i = 0; i < expected.size(); i++) {
            double reference = expected.get(Integer.toString(i)).asDouble();
            ratios.append(String.format(java.util.Locale.ROOT, " %.5f", r.distance()[i] / reference));
        }
        System.out.println("Tikhon / reference Carlini–Wagner distance:" + ratios);
        // Measured: within 0.09% on the AMD hosts of earlier sessions; on an AVX2 EPYC VM (2026-12-07) 19 of 20 within 0.12%
        // and image 6 at +0.59% (float32 sums in another order, carried through 9,000 Adam steps and a binary search on c,
        // can move one image by a search step). So: every image within 1%, all but two within 0.2%, the mean within 0.1%.
        int close = 0, compared = 0;
        double sum = 0;
        for (int i = 0; i < expected.size(); i++) {
            double reference = expected.get(Integer.toString(i)).asDouble();
            assertThat(r.success()[i]).as("image %d", i).isTrue();
            if (reference < 1e-3) {   // misclassified from the start: only the change of variables' shrink away from x
                assertThat(r.distance()[i]).as("image %d", i).isLessThan(1e-3);
            } else {
                double ratio = r.distance()[i] / reference;
                assertThat(ratio).as("image %d: Tikhon %.6f, reference %.6f", i, r.distance()[i], reference).isBetween(0.99, 1.01);
                if (Math.abs(ratio - 1) <= 0.002) close++;
                sum += ratio;
                compared++;
            }
        }
        assertThat(close).as("images within 0.2%% of the reference:" + ratios).isGreaterThanOrEqualTo(compared - 2);
        assertThat(sum / compared).as("mean ratio:" + ratios).isBetween(0.999, 1.001);
    }
}
