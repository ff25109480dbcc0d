package dev.tikhon.attack;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.Arrays;

/** Bookkeeping shared by attacks that run in rounds on the examples not yet fooled. */
public final class Attacks {

    /**
     * What every attack's entry point checks before any work: floating-point inputs in the input domain in force
     * ({@link InputDomain}) and one INT64 label per input, each with an error that names the fix instead of libtorch's.
     */
    public static void checkInputs(Tensor x, Tensor y, String who) {
        if (!x.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(who + ": inputs must be FLOAT32 (or FLOAT64) images in [0, 1], got " + x.dtype()
                    + "; Dataset.batchInputs gives them from a data set, whose inputs() are the stored bytes");
        }
        if (x.dim() < 2) throw new IllegalArgumentException(who + ": inputs must be a batch [N, …], got " + x);
        if (y.dtype() != dev.tikhon.engine.DType.INT64 || y.dim() != 1 || y.size(0) != x.size(0)) {
            throw new IllegalArgumentException(who + ": labels must be INT64 [N] with one label per input (" + x.size(0) + "), got "
                    + y + "; Dataset.batchLabels gives them");
        }
        InputDomain.current().require(x, who);
    }
    private Attacks() {}

    static int[] all(long n) {
        int[] idx = new int[(int) n];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        return idx;
    }

    /** The indices of the examples an attack has not fooled. */
    public static int[] failed(Attack.Result r) {
        return Arrays.stream(all(r.success().length)).filter(i -> !r.success()[i]).toArray();
    }

    /** Rows {@code idx} of a batch. */
    public static Tensor rows(Tensor t, int[] idx) {
        return t.indexSelect(0, index(idx, t));
    }

    static Tensor index(int[] idx, Tensor like) {
        return Tensor.fromLongs(Arrays.stream(idx).asLongStream().toArray(), idx.length).to(like.device());
    }

    /**
     * Folds the result of an attack run on rows {@code idx} of a batch into the result for the whole batch,
     * keeping per example the smaller successful perturbation.
     */
    public static Attack.Result merge(Attack.Result into, int[] idx, Attack.Result sub) {
        boolean[] success = into.success().clone();
        double[] distance = into.distance().clone();
        int[] improved = java.util.stream.IntStream.range(0, idx.length)
                .filter(j -> sub.success()[j] && sub.distance()[j] < distance[idx[j]]).toArray();
        if (improved.length == 0) return into;
        int[] target = new int[improved.length];
        for (int j = 0; j < improved.length; j++) {
            target[j] = idx[improved[j]];
            success[target[j]] = true;
            distance[target[j]] = sub.distance()[improved[j]];
        }
        Tensor adversarial = into.adversarial().indexCopy(0, index(target, into.adversarial()),
                rows(sub.adversarial(), improved).to(into.adversarial().dtype()));
        return new Attack.Result(adversarial, success, distance);
    }

    /** One run of an iterative attack on a sub-batch, towards {@code target} (null: untargeted). */
    interface Run {
        Attack.Result run(Tensor x, Tensor y, Tensor target);
    }

    /**
     * Runs an attack in rounds, each only on the examples every earlier round failed on: for each target
     * (the {@code targets} classes the model ranks highest after the true one; one untargeted round when
     * {@code targets} is 0), {@code restarts} runs.
     */
    static Attack.Result rounds(Module model, Tensor x, Tensor y, int targets, int restarts, Run run) {
        Tensor clean = null;
        int ranks = 1;
        if (targets > 0) {
            try (Autograd.Guard g = Autograd.noGrad()) {
                clean = model.forward(x.detach());
            }
            ranks = (int) Math.min(targets, clean.size(1) - 1);
        }
        Attack.Result total = null;
        int[] todo = all(x.size(0));
        for (int rank = 1; rank <= ranks; rank++) {
            Tensor target = clean == null ? null : AttackLoss.rankedTarget(clean, y, rank);
            for (int r = 0; r < restarts; r++) {
                if (todo.length == 0 || (total != null && Budget.exhausted())) return total;
                boolean whole = todo.length == x.size(0);   // the first run: no gather (and no index sent to the device)
                Attack.Result res = whole ? run.run(x, y, target)
                        : run.run(rows(x, todo), rows(y, todo), target == null ? null : rows(target, todo));
                total = total == null ? res : merge(total, todo, res);
                todo = failed(total);
            }
        }
        return total;
    }

    /** An attack result that fooled nothing: the clean inputs. */
    static Attack.Result none(Tensor x) {
        double[] d = new double[(int) x.size(0)];
        Arrays.fill(d, Double.POSITIVE_INFINITY);
        return new Attack.Result(x.detach().copy(), new boolean[d.length], d);
    }

    /** Marks the examples the model already misclassifies at x as fooled at distance 0. */
    static Attack.Result alreadyWrong(Tensor logits, Tensor x, Tensor y) {
        boolean[] wrong = logits.argmax(1).ne(y).toBooleanArray();
        Attack.Result r = none(x);
        for (int i = 0; i < wrong.length; i++) {
            if (wrong[i]) {
                r.success()[i] = true;
                r.distance()[i] = 0;
            }
        }
        return r;
    }

    /**
     * Bisection on t ∈ [0, 1] for the smallest adversarial x + t δ along each successful δ = adversarial − x (the
     * segment stays in the box); every norm of t δ shrinks with t, so this refines a distance in any norm.
     * {@code steps} = 0 returns {@code found} unchanged.
     */
    public static Attack.Result refine(Module model, Norm norm, Tensor x0, Tensor y, Attack.Result found, int steps) {
        int[] hit = java.util.stream.IntStream.range(0, found.success().length).filter(i -> found.success()[i] && found.distance()[i] > 0).toArray();
        if (steps == 0 || hit.length == 0) return found;
        Tensor xs = rows(x0, hit), ys = rows(y, hit);
        Tensor delta = rows(found.adversarial(), hit).sub(xs);
        Tensor lo = Tensor.zeros(x0.dtype(), x0.device(), hit.length), hi = Tensor.ones(x0.dtype(), x0.device(), hit.length);
        try (Autograd.Guard g = Autograd.noGrad()) {
            for (int k = 0; k < steps; k++) {
                try (dev.tikhon.engine.Scope it = dev.tikhon.engine.Scope.open()) {
                    Tensor mid = lo.add(hi).mul(0.5);
                    Tensor adversarial = model.forward(xs.add(delta.mul(Pgd.perExample(mid, delta)))).argmax(1).ne(ys);
                    hi.copy_(Tensor.where(adversarial, mid, hi));
                    lo.copy_(Tensor.where(adversarial, lo, mid));
                }
            }
        }
        Tensor refined = xs.add(delta.mul(Pgd.perExample(hi, delta)));
        Tracker t = new Tracker(norm, xs, ys);
        try (Autograd.Guard g = Autograd.noGrad()) {
            t.offer(refined, model.forward(refined));   // hi is adversarial by construction; checked, not assumed
        }
        return merge(found, hit, t.result());
    }
}
