package dev.tikhon.attack;

import dev.tikhon.engine.Tensor;

/**
 * Keeps, per example, the smallest successful perturbation seen so far. Its buffers are updated in
 * place, so an attack can run each iteration in its own {@link dev.tikhon.engine.Scope} and free the
 * iteration's temporaries while the tracker lives on in the caller's scope.
 */
final class Tracker {
    private final Norm norm;
    private final Tensor x, y;
    final Tensor best;       // [N, …]
    final Tensor distance;   // [N], +∞ until successful

    Tracker(Norm norm, Tensor x, Tensor y) {
        this.norm = norm;
        this.x = x;
        this.y = y;
        this.best = x.detach().copy();
        this.distance = Tensor.full(Double.POSITIVE_INFINITY, x.dtype(), x.device(), x.size(0));
    }

    /** Records {@code candidate} wherever {@code logits} (the model's output on it) misclassify and the perturbation is smaller. */
    void offer(Tensor candidate, Tensor logits) {
        offerWhere(candidate, logits.argmax(1).ne(y));   // argmax records no graph
    }

    /**
     * Records {@code candidate} wherever {@code found} (per example; an attack's own test of success, which must imply
     * a misclassification) holds and the perturbation is smaller.
     */
    void offerWhere(Tensor candidate, Tensor found) {
        Tensor c = candidate.detach();
        Tensor d = Geometry.distance(norm, c, x);
        Tensor better = found.logicalAnd(d.lt(distance));
        best.assignWhere_(Pgd.perExample(better, best), c);
        distance.assignWhere_(better, d);
    }

    Attack.Result result() {
        double[] dist = distance.toDoubleArray();
        boolean[] success = new boolean[dist.length];
        for (int i = 0; i < dist.length; i++) success[i] = dist[i] < Double.POSITIVE_INFINITY;
        return new Attack.Result(best.copy(), success, dist);
    }
}
