package dev.tikhon.attack;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.Locale;

/**
 * A transfer attack: points crafted on a source model (a surrogate: another model the attacker has), then scored on
 * the model under attack, whose gradients it never reads. Where it breaks points the white-box attacks missed, those
 * attacks were misled by the model's gradients (gradient masking), not stopped by robustness: the check of Athalye,
 * Carlini &amp; Wagner (ICML 2018) and of Carlini et al., "On Evaluating Adversarial Robustness" (2019). Papernot et
 * al. (2017) and Tramèr et al. (ICLR 2018) use it to evaluate defenses against attackers without the model.
 *
 * <p>The points are the source's: for an attack with an adversarial-training form (PGD, FGSM) its last iterate, the
 * highest-loss point of the ball on the source, whether or not it fools the source (the classic transfer attack); for
 * any other attack the point it returns, which where it fails on the source is the clean input. A point counts where
 * the model under attack misclassifies it, at its distance in {@code norm}.
 *
 * @param source     the model the points are crafted on; attacked in evaluation mode, its mode restored after
 * @param sourceName names the source in reports (the member is {@code transfer-CRAFT:SOURCE})
 * @param craftName  the crafting attack's name
 * @param craft      the crafting: (source, x, y) → points in the [0, 1] box
 */
public record Transfer(Module source, String sourceName, String craftName, Perturbation craft, Norm norm) implements Attack {

    /** How every transfer member's name begins. */
    private static final String PREFIX = "transfer-";

    /** Whether an ensemble member's name is a transfer attack's. */
    public static boolean isTransfer(String memberName) { return memberName.startsWith(PREFIX); }

    public Transfer {
        if (source == null) throw new IllegalArgumentException("a transfer attack needs a source model");
        sourceName = sourceName.replace(',', '_');   // member names are listed with commas in reports
    }

    /**
     * The transfer form of the registered attack {@code attack} with budget {@code s}, crafted on {@code source}: its
     * last iterate where it has an adversarial-training form, else the points it returns ({@code confidence} κ &gt; 0 sets
     * Carlini–Wagner's margin, which is what makes its points transfer: Carlini &amp; Wagner 2017).
     */
    public static Transfer of(Module source, String sourceName, String attack, AttackRegistry.Settings s, double confidence) {
        check(attack, s.norm(), confidence);
        AttackRegistry.Entry entry = AttackRegistry.entry(attack);
        boolean cw = entry.name().startsWith("cw");
        if (entry.training() != null) return new Transfer(source, sourceName, entry.name(), entry.training().create(s), s.norm());
        Ensemble found = AttackRegistry.create(entry.name(), s);
        if (cw && confidence > 0) {
            found = new Ensemble(found.norm(), found.eps(), found.members().stream()
                    .map(a -> a instanceof CarliniWagner c ? (Attack) c.withConfidence(confidence) : a).toList());
        }
        Ensemble members = found;
        String name = entry.name() + (confidence > 0 ? String.format(Locale.ROOT, "-k%s", trim(confidence)) : "");
        return new Transfer(source, sourceName, name, new Perturbation() {
            @Override public Tensor perturb(Module model, Tensor x, Tensor y) { return members.attack(model, x, y).adversarial(); }

            @Override public String describe() { return members.name(); }
        }, s.norm());
    }

    /** Checks a crafting attack and confidence against the threat norm, with messages that name the fix. */
    public static void check(String attack, Norm norm, double confidence) {
        AttackRegistry.check(attack, norm);
        if (!(confidence >= 0)) throw new IllegalArgumentException("the transfer confidence κ must be ≥ 0, got " + confidence);
        String name = AttackRegistry.entry(attack).name();
        if (confidence > 0 && !name.startsWith("cw")) {
            throw new IllegalArgumentException("a confidence κ applies to Carlini–Wagner (cw, cw-t), not to " + name
                    + ": drop it, or craft with cw");
        }
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    @Override public String name() { return PREFIX + craftName + ":" + sourceName; }

    @Override
    public Result attack(Module model, Tensor x, Tensor y) {
        Attacks.checkInputs(x, y, name());
        Tensor points;
        boolean wasTraining = source.isTraining();
        source.train(false);
        try {
            points = craft.perturb(source, x.detach(), y).detach();
        } finally {
            source.train(wasTraining);
        }
        Tensor fooled;
        try (Autograd.Guard g = Autograd.noGrad()) {
            fooled = model.forward(points).argmax(1).ne(y);
        }
        Tracker kept = new Tracker(norm, x.detach(), y);
        kept.offerWhere(points, fooled);
        return kept.result();
    }
}
