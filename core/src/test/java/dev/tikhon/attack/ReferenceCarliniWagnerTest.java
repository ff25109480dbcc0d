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
        for (int i = 0; i < expected.size(); i++) {
            double reference = expected.get(Integer.toString(i)).asDouble();
            assertThat(r.success()[i]).as("image %d", i).isTrue();
            if (reference < 1e-3) {   // misclassified from the start: only the change of variables' shrink away from x
                assertThat(r.distance()[i]).as("image %d", i).isLessThan(1e-3);
            } else {
                assertThat(r.distance()[i] / reference).as("image %d: Tikhon %.6f, reference %.6f", i, r.distance()[i], reference)
                        .isBetween(0.995, 1.005);   // measured: within 0.09%
            }
        }
    }
}
