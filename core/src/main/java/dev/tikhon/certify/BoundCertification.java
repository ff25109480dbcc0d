package dev.tikhon.certify;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.verify.BranchAndBound;
import dev.tikhon.verify.Verification;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code certify --method ibp} and {@code --method crown}: the model's class in one pass, and the largest ℓ2 radius
 * (within [0, maxRadius]) at which bound propagation proves that class, found by bisection for the whole batch at once
 * ({@link Verification#radius}). The certificate is sound: no point of the ℓ2 ball ∩ [0, 1] of that radius changes the
 * class. A batch of images is one unit of work, so {@code --spark} spreads batches over executors.
 */
public final class BoundCertification {
    /** Images per bound computation. */
    public static final int BATCH = 25;

    private BoundCertification() {}

    /** {@code bab}: branch and bound's settings, read by {@link Verification.Method#BAB} only. */
    public static CertificationRun.Plan plan(Verification.Method method, double maxRadius, int steps, BranchAndBound.Settings bab) {
        String budget = method == Verification.Method.BAB ? ", " + bab.maxDomains() + " domains per image and bound" : "";
        return new CertificationRun.Plan(method.toString(), method + " bound propagation, ℓ2 radius by " + steps
                + " bisection steps in [0, " + maxRadius + "]" + budget + " (sound)", List.of(new Step(method, maxRadius, steps, bab)), null,
                BATCH, null);
    }

    record Step(Verification.Method method, double maxRadius, int steps, BranchAndBound.Settings bab) implements CertificationStep {
        @Override public List<Column> columns() {
            return List.of(new Column(method.toString(), Certificate.Kind.SOUND, 0));
        }

        @Override public boolean classifies() { return true; }

        @Override public List<Outcome> certify(Module model, Tensor xs, long[] indices, List<Map<String, Certificate>> earlier) {
            Tensor logits;
            try (Autograd.Guard g = Autograd.noGrad()) {
                logits = model.forward(xs);
            }
            Tensor pred = logits.argmax(1);
            double[] r = Verification.radius(model, method, xs, pred, Norm.L2, (int) logits.size(1), maxRadius, steps, bab);
            long[] p = pred.cpu().toLongArray();
            List<Outcome> out = new ArrayList<>();
            for (int i = 0; i < p.length; i++) {
                Map<String, Certificate> m = new LinkedHashMap<>();
                m.put(method.toString(), new Certificate((int) p[i], r[i], Certificate.Kind.SOUND, 0, method.toString()));
                out.add(new Outcome(m, -1));
            }
            return out;
        }
    }
}
