package dev.tikhon.experiments;

import dev.tikhon.certify.HeatConfig;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.Models;
import dev.tikhon.lipschitz.SoundnessCheck;
import dev.tikhon.nn.Module;
import dev.tikhon.report.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The key a kept soundness check is reused under (reproduce lipschitz-certify): every setting the check depends on
 * changes it, the Monte Carlo ones do not; a kept check is taken only under its own key; the model's hash follows its
 * values, not the object, so an equal copy reuses the check and a model changed anywhere does not.
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

    private static LipschitzCertifyExperiment.Budget budget(int ddnImages, int ddnSteps, int ensembleImages, int attackSteps, long seed,
                                                            int mcImages, int n) {
        return new LipschitzCertifyExperiment.Budget(2, "mlp", "gloro", 0.5, 10, 1e-3, 0, new HeatConfig("revision", 0.25, 1, 3, 0.01, 1, 1),
                1e-4, 500, mcImages, n, 3, ddnImages, ddnSteps, ensembleImages, attackSteps, seed);
    }

    @Test
    void everySettingOfTheCheckChangesItsKeyAndTheMonteCarloOnesDoNot() {
        String key = LipschitzCertifyExperiment.soundnessKey(budget(500, 100, 100, 50, 0, 500, 10000), Device.CPU, 2, "m", "i");
        assertThat(LipschitzCertifyExperiment.soundnessKey(budget(500, 100, 100, 50, 0, 250, 1000), Device.CPU, 2, "m", "i")).isEqualTo(key);
        for (String other : new String[]{
                LipschitzCertifyExperiment.soundnessKey(budget(400, 100, 100, 50, 0, 500, 10000), Device.CPU, 2, "m", "i"),
                LipschitzCertifyExperiment.soundnessKey(budget(500, 101, 100, 50, 0, 500, 10000), Device.CPU, 2, "m", "i"),
                LipschitzCertifyExperiment.soundnessKey(budget(500, 100, 10, 50, 0, 500, 10000), Device.CPU, 2, "m", "i"),
                LipschitzCertifyExperiment.soundnessKey(budget(500, 100, 100, 5, 0, 500, 10000), Device.CPU, 2, "m", "i"),
                LipschitzCertifyExperiment.soundnessKey(budget(500, 100, 100, 50, 1, 500, 10000), Device.CPU, 2, "m", "i"),
                LipschitzCertifyExperiment.soundnessKey(budget(500, 100, 100, 50, 0, 500, 10000), Device.cuda(0), 2, "m", "i"),
                LipschitzCertifyExperiment.soundnessKey(budget(500, 100, 100, 50, 0, 500, 10000), Device.CPU, 1, "m", "i"),
                LipschitzCertifyExperiment.soundnessKey(budget(500, 100, 100, 50, 0, 500, 10000), Device.CPU, 2, "m2", "i"),
                LipschitzCertifyExperiment.soundnessKey(budget(500, 100, 100, 50, 0, 500, 10000), Device.CPU, 2, "m", "i2")}) {
            assertThat(other).isNotEqualTo(key);
        }
    }

    @Test
    void aKeptCheckIsTakenOnlyUnderItsOwnKey(@TempDir Path dir) throws IOException {
        Path file = dir.resolve(LipschitzCertifyExperiment.SOUNDNESS);
        assertThat(LipschitzCertifyExperiment.kept(file, "k")).isNull();   // none kept
        SoundnessCheck.Result r = new SoundnessCheck.Result(5, 0, 2, 0, Double.NaN, Double.NaN);   // DDN never succeeded: NaN ratios
        Json.write(file, new LipschitzCertifyExperiment.KeptCheck("k", r));
        assertThat(LipschitzCertifyExperiment.kept(file, "k")).isEqualTo(r);
        assertThat(LipschitzCertifyExperiment.kept(file, "k2")).isNull();
        SoundnessCheck.Result s = new SoundnessCheck.Result(7, 1, 3, 1, 0.75, 1.5);
        Json.write(file, new LipschitzCertifyExperiment.KeptCheck("k2", s));
        assertThat(LipschitzCertifyExperiment.kept(file, "k2")).isEqualTo(s);
        assertThat(LipschitzCertifyExperiment.kept(file, "k")).isNull();
        Files.writeString(file, "{\"key\": \"k2\", \"result\": ");   // cut short: attacked again
        assertThat(LipschitzCertifyExperiment.kept(file, "k2")).isNull();
    }
}
