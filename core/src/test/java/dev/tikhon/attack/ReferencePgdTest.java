package dev.tikhon.attack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.ScriptedModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Oracle: a plain PGD ℓ∞ written in PyTorch (bench/reference_pgd.py: random start, 100 steps of 2.5ε/100 on the
 * cross-entropy, 5 restarts, any misclassified iterate counts) on a tiny Fashion-MNIST CNN it trained and scripted
 * (tiny_fmnist_cnn.pt, make_pgd_fixture.py); the fixture holds the first 100 test images, the test uses the first
 * 50. Tikhon's attacks on the same TorchScript model and images must be at least as strong: never more images left
 * robust than the reference leaves, and at most one image robust that the reference broke. An error in ε scaling,
 * the box, the loss's sign, the step size or the per-image bookkeeping leaves more images robust (on all 100
 * images, 0.02 instead of 0.05 takes the reference count from 25 to 67; an APGD whose ε is 0.7 of the asked one
 * leaves 35 images robust at 0.02 where the reference leaves 33, and fails this test).
 */
class ReferencePgdTest {
    private static final Path DIR = Path.of("src/test/resources/torchscript");
    static ScriptedModel model;
    static Tensor x, y;
    static JsonNode expected;
    static final int IMAGES = 50;

    @BeforeAll
    static void load() throws Exception {
        expected = new ObjectMapper().readTree(DIR.resolve("tiny_fmnist_cnn_pgd.json").toFile());
        model = ScriptedModel.load(DIR.resolve("tiny_fmnist_cnn.pt"));
        model.train(false);
        Dataset test = DataSets.load(DataSets.SAMPLE_NAME, null, Map.of(), 0).test().head(IMAGES);
        Tensor idx = Tensor.arange(test.size(), dev.tikhon.engine.DType.INT64, dev.tikhon.engine.Device.CPU);
        x = test.batchInputs(idx);
        y = test.batchLabels(idx);
    }

    private static Set<Integer> robust(Attack.Result r) {
        Set<Integer> s = new TreeSet<>();
        for (int i = 0; i < r.success().length; i++) if (!r.success()[i]) s.add(i);
        return s;
    }

    private static Set<Integer> referenceRobust(double eps) {
        Set<Integer> s = new TreeSet<>();
        expected.get("radii").get(Double.toString(eps)).get("robust").forEach(n -> {
            if (n.asInt() < IMAGES) s.add(n.asInt());
        });
        return s;
    }

    private static void atLeastAsStrong(String what, Set<Integer> tikhon, Set<Integer> reference) {
        Set<Integer> extra = new TreeSet<>(tikhon);
        extra.removeAll(reference);
        assertThat(tikhon.size()).as(what + ": images left robust (reference PGD: %d)", reference.size()).isLessThanOrEqualTo(reference.size());
        assertThat(extra).as(what + ": robust under Tikhon, broken by the reference").hasSizeLessThanOrEqualTo(1);
    }

    @Test
    void cleanPredictionsAreThoseOfPyTorch() {
        Set<Integer> correct = new TreeSet<>();
        expected.get("correct").forEach(n -> {
            if (n.asInt() < IMAGES) correct.add(n.asInt());
        });
        Attack.Result none = Attacks.alreadyWrong(model.forward(x), x, y);
        assertThat(robust(none)).isEqualTo(correct);
    }

    @Test
    void apgdCeAndPgdAreAtLeastAsStrongAsTheReferencePgd() {
        for (double eps : new double[]{0.02, 0.1}) {
            Rng.seed(0);
            atLeastAsStrong("APGD-CE ε=" + eps, robust(new Ensemble(Norm.LINF, eps,
                    java.util.List.of(new Apgd(Norm.LINF, eps, 100, AttackLoss.CE, 1))).attack(model, x, y)), referenceRobust(eps));
        }
        Rng.seed(0);
        atLeastAsStrong("PGD ε=0.05", robust(new Ensemble(Norm.LINF, 0.05,
                java.util.List.of(Pgd.madry(Norm.LINF, 0.05, 100).withRestarts(2))).attack(model, x, y)), referenceRobust(0.05));
    }

    @Test
    void theStandardEnsembleIsAtLeastAsStrongAsTheReferencePgd() {
        Rng.seed(0);
        double eps = 0.05;
        Ensemble.Outcome o = Ensemble.standard(Norm.LINF, eps, 10, 25, 1, 3, 300).run(model, x, y);
        atLeastAsStrong("ensemble ε=" + eps, robust(o.result()), referenceRobust(eps));
        double[] d = Geometry.distance(Norm.LINF, o.result().adversarial(), x).toDoubleArray();
        long[] pred = model.forward(o.result().adversarial()).argmax(1).toLongArray(), labels = y.toLongArray();
        for (int i = 0; i < d.length; i++) {
            if (!o.result().success()[i]) continue;
            assertThat(d[i]).as("image %d stays in the ball", i).isLessThanOrEqualTo(eps * (1 + 1e-6) + 1e-7);
            assertThat(pred[i]).as("image %d is misclassified at the returned point", i).isNotEqualTo(labels[i]);
        }
    }
}
