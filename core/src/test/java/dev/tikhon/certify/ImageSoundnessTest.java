package dev.tikhon.certify;

import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.OneThread;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Conv2d;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Pool;
import dev.tikhon.nn.Sequential;
import dev.tikhon.optim.Adam;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Soundness oracle on images: no attack finds an adversarial example of the smoothed classifier inside a Cohen
 * certificate. A small CNN trained for a few seconds with Gaussian noise (σ 0.25) on the bundled Fashion-MNIST
 * sample; CERTIFY on test images; every certificate attacked at 0.999 × its radius through the smoothed classifier
 * by PGD with restarts and the ensemble (APGD-CE, APGD-T, DDN), each candidate judged by PREDICT with fresh noise
 * ({@link SmoothedAttack}). Abstentions, of CERTIFY and of the judge, are reported. The same attack at three times
 * the radius must break some certificates, so the test has teeth.
 */
@ExtendWith(OneThread.class)
class ImageSoundnessTest {
    static final double SIGMA = 0.25;

    static Module tinyCnn() {
        return new Sequential(new Conv2d(1, 8, 5, 2, 0, true), Activation.parse("relu"), new Conv2d(8, 16, 3, 2, 0, true),
                Activation.parse("relu"), Pool.flatten(), new Linear(16 * 5 * 5, 10));
    }

    @Test
    void noAttackBreaksACohenCertificateOfAnImageModel() {
        DataSets.Loaded data = DataSets.load("fashion-mnist-sample", null, Map.of(), 0);
        Dataset train = data.train(), test = data.test();
        Rng.seed(21);
        Module model = tinyCnn();
        Adam opt = new Adam(model.parameters(), 2e-3, 0.9, 0.999, 1e-8, 0, false, false);
        for (int step = 0; step < 400; step++) {
            try (Scope s = Scope.open()) {
                Tensor idx = Tensor.randint(train.size(), Device.CPU, 64);
                Tensor x = train.batchInputs(idx);
                opt.zeroGrad();
                Ops.crossEntropy(model.forward(x.add(x.randnLike(), SIGMA)), train.batchLabels(idx)).backward();
                opt.step();
            }
        }
        model.train(false);

        RandomizedSmoothing rs = new RandomizedSmoothing(new RandomizedSmoothing.Config(SIGMA, 50, 500, 0.001, 250, 1));
        RandomizedSmoothing judge = new RandomizedSmoothing(new RandomizedSmoothing.Config(SIGMA, 50, 500, 0.001, 250, 77));
        SmoothedAttack.Settings inside = new SmoothedAttack.Settings(0.999, 10, 2, 16, true, 5);
        SmoothedAttack.Settings inflated = new SmoothedAttack.Settings(3.0, 10, 2, 16, true, 5);
        SmoothedAttack.Tally total = new SmoothedAttack.Tally(0, 0, 0), teeth = new SmoothedAttack.Tally(0, 0, 0);
        int abstained = 0, images = 10;
        List<String> radii = new ArrayList<>();
        for (int i = 0; i < images; i++) {
            Tensor x = test.batchInputs(Tensor.fromLongs(new long[]{i}, 1)).squeeze(0);
            Certificate c = rs.certify(model, x, i);
            if (c.abstained()) {
                abstained++;
                continue;
            }
            radii.add(String.format(java.util.Locale.ROOT, "%.3f", c.radius()));
            total = total.plus(SmoothedAttack.attack(model, x, i, c, judge, inside));
            teeth = teeth.plus(SmoothedAttack.attack(model, x, i, c, judge, inflated));
        }
        System.out.println("image soundness: " + images + " images, CERTIFY abstained on " + abstained + ", radii " + radii
                + "; inside: " + total + "; at 3x the radius: " + teeth);
        assertThat(total.tested()).as("certified images attacked").isGreaterThanOrEqualTo(4);
        assertThat(total.broken()).as("adversarial examples of the smoothed classifier inside Cohen-certified radii").isZero();
        assertThat(teeth.broken()).as("the attack breaks radii inflated threefold (the test has teeth)").isPositive();
    }
}
