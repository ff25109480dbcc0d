package dev.tikhon.experiments;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Module;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The model half of the key a kept soundness check is reused under (reproduce lipschitz-certify): the hash follows the
 * model's values, not the object, so an equal copy reuses the check and a model changed anywhere does not.
 */
class LipschitzCertifyExperimentKeyTest {
    private static Module mlp() {
        return Models.build(Models.spec("mlp", List.of(6L), 4, Map.of("hidden", List.of(7, 5))));
    }

    @Test
    void theModelsHashFollowsEveryValue() {
        Module a = mlp(), b = mlp();
        String h = LipschitzCertifyExperiment.modelSha256(a);
        assertThat(h).hasSize(64).isNotEqualTo(LipschitzCertifyExperiment.modelSha256(b));   // another initialization
        b.loadStateDict(a.stateDict());
        assertThat(LipschitzCertifyExperiment.modelSha256(b)).isEqualTo(h);
        for (Map.Entry<String, Tensor> e : b.stateDict().entrySet()) {   // one value of any tensor moved: another hash
            Tensor t = e.getValue();
            double[] v = t.toDoubleArray();
            int last = v.length - 1;
            try (Autograd.Guard g = Autograd.noGrad()) {
                t.reshape(-1).narrow(0, last, 1).add_(1e-3);
                assertThat(LipschitzCertifyExperiment.modelSha256(b)).as(e.getKey()).isNotEqualTo(h);
                t.copy_(Tensor.fromDoubles(v, t.shape()).to(t.dtype()));
            }
            assertThat(LipschitzCertifyExperiment.modelSha256(b)).as(e.getKey() + " restored").isEqualTo(h);
        }
    }
}
