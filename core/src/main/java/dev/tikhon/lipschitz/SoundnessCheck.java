package dev.tikhon.lipschitz;

import dev.tikhon.attack.Attack;
import dev.tikhon.attack.Ddn;
import dev.tikhon.attack.Ensemble;
import dev.tikhon.attack.InputDomain;
import dev.tikhon.attack.Norm;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.ArrayList;
import java.util.List;

/**
 * Attacks every certified image inside its certified radius: a sound certificate must survive all of them.
 * For each correctly classified image with radius r &gt; 0 (these are what certified accuracy counts):
 * <ul>
 *   <li>DDN (Rony et al. 2019), a minimum-distance ℓ2 attack, on the first {@code ddnImages} of them in batches: a
 *       violation is an adversarial example it finds at distance &lt; r;</li>
 *   <li>Tikhon's ℓ2 ensemble ({@link Ensemble#standard}: APGD-CE, APGD-T, DDN) at ε = r, one image at a time
 *       (each has its own radius), on the first {@code ensembleImages} of them: a violation is any success.</li>
 * </ul>
 * Only ℓ2 radii are checked (an ℓ∞ radius r₂/√d lies inside the ℓ2 ball by construction).
 *
 * @see LipschitzCertification
 */
public final class SoundnessCheck {
    private SoundnessCheck() {}

    /**
     * @param tested          certified images attacked by DDN (the first {@code ddnImages} correct ones with r &gt; 0)
     * @param ddnViolations   of those, DDN found an adversarial example inside the radius
     * @param ensembleTested  certified images attacked by the ensemble
     * @param ensembleViolations of those, the ensemble broke the prediction inside the radius
     * @param minDdnOverRadius smallest (DDN distance / certified radius) where DDN succeeded (≥ 1 when sound; its size
     *                         shows how far the certificate is from the attack's upper bound on the true distance)
     * @param medianDdnOverRadius the median of that ratio
     */
    public record Result(int tested, int ddnViolations, int ensembleTested, int ensembleViolations, double minDdnOverRadius,
                         double medianDdnOverRadius) {
        public int violations() { return ddnViolations + ensembleViolations; }
    }

    /** The check, its attacks within the data's input domain ({@link InputDomain}). */
    public static Result run(Module model, Dataset data, List<LipschitzCertification.Image> images, int ddnImages, int ddnSteps,
                             int ensembleImages, int attackSteps, int batchSize, long seed, Device device) {
        return InputDomain.within(InputDomain.of(data.isImages()),
                () -> runInDomain(model, data, images, ddnImages, ddnSteps, ensembleImages, attackSteps, batchSize, seed, device));
    }

    private static Result runInDomain(Module model, Dataset data, List<LipschitzCertification.Image> images, int ddnImages, int ddnSteps,
                                      int ensembleImages, int attackSteps, int batchSize, long seed, Device device) {
        List<LipschitzCertification.Image> certified = new ArrayList<>();
        for (LipschitzCertification.Image i : images) if (i.correct() && i.radius() > 0 && certified.size() < ddnImages) certified.add(i);
        boolean training = model.isTraining();
        model.train(false);
        int ddnViolations = 0, ensembleViolations = 0, ensembleTested = 0;
        List<Double> ratios = new ArrayList<>();
        try {
            Attack ddn = Ddn.standard(ddnSteps);
            for (int start = 0; start < certified.size(); start += batchSize) {
                int len = Math.min(batchSize, certified.size() - start);
                try (Scope s = Scope.open()) {
                    long[] idx = new long[len];
                    for (int i = 0; i < len; i++) idx[i] = certified.get(start + i).index();
                    Tensor ids = Tensor.fromLongs(idx, len);
                    Tensor x = data.batchInputs(ids).to(device), y = data.batchLabels(ids).to(device);
                    Rng.seed(Rng.derive(seed, start, 0, 0));
                    Attack.Result r = ddn.attack(model, x, y);
                    for (int i = 0; i < len; i++) {
                        double radius = certified.get(start + i).radius();
                        if (r.success()[i]) {
                            ratios.add(r.distance()[i] / radius);
                            if (r.distance()[i] < radius) ddnViolations++;
                        }
                    }
                }
            }
            for (int k = 0; k < Math.min(ensembleImages, certified.size()); k++) {
                LipschitzCertification.Image im = certified.get(k);
                try (Scope s = Scope.open()) {
                    Tensor ids = Tensor.fromLongs(new long[]{im.index()}, 1);
                    Tensor x = data.batchInputs(ids).to(device), y = data.batchLabels(ids).to(device);
                    Rng.seed(Rng.derive(seed, im.index(), 1, 0));
                    Ensemble e = Ensemble.standard(Norm.L2, im.radius(), data.numClasses(), attackSteps, 1, 3, 500);
                    if (e.attack(model, x, y).success()[0]) ensembleViolations++;
                    ensembleTested++;
                }
            }
        } finally {
            model.train(training);
        }
        ratios.sort(null);
        double min = ratios.isEmpty() ? Double.NaN : ratios.get(0);
        double median = ratios.isEmpty() ? Double.NaN : ratios.get(ratios.size() / 2);
        return new Result(certified.size(), ddnViolations, ensembleTested, ensembleViolations, min, median);
    }
}
