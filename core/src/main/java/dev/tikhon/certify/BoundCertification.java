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
import java.util.Locale;
import java.util.Map;

/**
 * {@code certify --method ibp} and {@code --method crown}: the model's class in one pass, and the largest ℓ2 radius
 * (within [0, maxRadius]) at which bound propagation proves that class, found by bisection for the whole batch at once
 * ({@link Verification.RadiusSearch}; alpha-crown and bab start from CROWN's radius, and bab stops short of
 * the attack's distance, which {@code certify.csv} keeps as {@value #ATTACK_DISTANCE}). The certificate is sound: no point of the ℓ2 ball of that radius ∩ the data's domain ([0, 1] for images, all of ℝᴰ for toy sets) changes the
 * class. A batch of images is one unit of work, so {@code --spark} spreads batches over executors.
 */
public final class BoundCertification {
    /**
     * Extra column of bab: the smallest ℓ2 distance at which the minimum-distance attack changed the class
     * (+∞: it found none). No sound radius reaches it, so the largest certifiable radius lies between the two.
     */
    public static final String ATTACK_DISTANCE = "attack_distance";

    /** Images per bound computation. */
    public static final int BATCH = 25;

    private BoundCertification() {}

    /** {@code bab}: branch and bound's settings, read by {@link Verification.Method#BAB} only. */
    public static CertificationRun.Plan plan(Verification.Method method, double maxRadius, int steps, BranchAndBound.Settings bab) {
        return plan(method, maxRadius, steps, bab, false);
    }

    /**
     * The same; {@code accountRounding}: the bounds hold for the exact network, floating-point rounding included (the model
     * verified in float64, each bound computation's rounding error added: {@link dev.tikhon.verify.Rounding}).
     */
    public static CertificationRun.Plan plan(Verification.Method method, double maxRadius, int steps, BranchAndBound.Settings bab,
                                             boolean accountRounding) {
        String budget = method != Verification.Method.BAB ? "" : ", " + bab.maxDomains() + " domains per image and bound"
                + (bab.steps() != BranchAndBound.BETA_STEPS ? ", " + bab.steps() + " Adam steps per batch of domains" : "")
                + (bab.seconds() > 0 ? ", at most " + dev.tikhon.report.Format.number(bab.seconds()) + " s per search" : "");
        String bracket = switch (method) {
            case ALPHA_CROWN -> ", from CROWN's radius";
            case BAB -> ", from CROWN's radius up to the attack's distance";
            default -> "";
        };
        return new CertificationRun.Plan(method.toString(), method + " bound propagation, ℓ2 radius by bisection in [0, " + maxRadius
                + "] to within " + maxRadius + "/2^" + steps + bracket + budget + (accountRounding ? " (sound, rounding accounted for)" : " (sound)"),
                List.of(new Step(method, maxRadius, steps, bab, accountRounding)), null,
                BATCH, null);
    }

    record Step(Verification.Method method, double maxRadius, int steps, BranchAndBound.Settings bab, boolean accountRounding)
            implements CertificationStep {
        @Override public List<Column> columns() {
            return List.of(new Column(method.toString(), Certificate.Kind.SOUND, 0));
        }

        /** Branch and bound brackets its bisection by an attack: its distance is kept beside the radius. */
        @Override public List<String> extraColumns() { return bracketed() ? List.of(ATTACK_DISTANCE) : List.of(); }

        private boolean bracketed() { return method == Verification.Method.BAB; }

        /** Its forward pass is the classification ({@link Outcome#classifySeconds()}); the bound search is the certification. */
        @Override public boolean classifies() { return true; }

        @Override public List<Outcome> certify(Module model, Tensor xs, long[] indices, List<Map<String, Certificate>> earlier) {
            if (accountRounding) {   // float64 (float32 weights and images convert exactly), wherever the step runs
                if (model.dtype() != dev.tikhon.engine.DType.FLOAT64) model.to(dev.tikhon.engine.DType.FLOAT64);
                xs = xs.to(dev.tikhon.engine.DType.FLOAT64);
            }
            long t0 = System.nanoTime();
            Tensor logits;
            try (Autograd.Guard g = Autograd.noGrad()) {
                logits = model.forward(xs);
            }
            Tensor pred = logits.argmax(1);
            long[] p = pred.cpu().toLongArray();   // the classification ends here; the bisection below is the certification
            double classify = (System.nanoTime() - t0) / 1e9 / p.length;
            Verification.RadiusSearch search = new Verification.RadiusSearch(model, xs, pred, Norm.L2, (int) logits.size(1), maxRadius,
                    steps, bab).onSearch((row, radius, domains, lower) -> dev.tikhon.report.Status.show(String.format(Locale.ROOT,
                    "image %d at r %s: %d domains, bound %.3g", indices[row], dev.tikhon.report.Format.number(radius), domains, lower)));
            double[] r = accountRounding ? dev.tikhon.verify.Rounding.accounted(() -> search.radius(method)) : search.radius(method);
            double[] d = bracketed() ? search.adversarialDistance() : null;
            List<Outcome> out = new ArrayList<>();
            for (int i = 0; i < p.length; i++) {
                Map<String, Certificate> m = new LinkedHashMap<>();
                m.put(method.toString(), new Certificate((int) p[i], r[i], Certificate.Kind.SOUND, 0, method.toString()));
                out.add(new Outcome(m, -1, d == null ? Map.of() : Map.of(ATTACK_DISTANCE, d[i]), classify));
            }
            return out;
        }
    }
}
