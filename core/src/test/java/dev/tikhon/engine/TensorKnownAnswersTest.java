package dev.tikhon.engine;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Oracle: values worked out by hand. Every operation of the {@link Tensor} wrapper on a small float64 (or integer) input,
 * so that a wrapper calling the wrong libtorch function, dropping an argument (keepDim, alpha, a clamp bound), returning
 * its input or skipping an in-place update fails here rather than somewhere inside a model.
 */
class TensorKnownAnswersTest {
    private static final double TOL = 1e-12;

    private static Tensor d(double... v) { return Tensor.fromDoubles(v, v.length); }

    private static Tensor m(int rows, double... v) { return Tensor.fromDoubles(v, rows, v.length / rows); }

    private static double[] v(Tensor t) { return t.toDoubleArray(); }

    @Test
    void factoriesShapesAndConversions() {
        assertThat(v(Tensor.zeros(DType.FLOAT64, Device.CPU, 2, 2))).containsExactly(0, 0, 0, 0);
        assertThat(v(Tensor.ones(DType.FLOAT64, Device.CPU, 3))).containsExactly(1, 1, 1);
        assertThat(Tensor.zeros(2, 3).dtype()).isEqualTo(DType.FLOAT32);
        assertThat(Tensor.ones(2).dtype()).isEqualTo(DType.FLOAT32);
        assertThat(v(Tensor.ones(4))).containsOnly(1);
        assertThat(v(Tensor.full(2.5, DType.FLOAT64, Device.CPU, 2))).containsExactly(2.5, 2.5);
        assertThat(v(Tensor.arange(4, DType.FLOAT64, Device.CPU))).containsExactly(0, 1, 2, 3);
        assertThat(v(Tensor.eye(2, DType.FLOAT64, Device.CPU))).containsExactly(1, 0, 0, 1);
        Tensor s = Tensor.scalar(7, DType.FLOAT64, Device.CPU);
        assertThat(s.dim()).isZero();
        assertThat(s.item()).isEqualTo(7);
        assertThat(Tensor.scalar(7, DType.INT64, Device.CPU).itemLong()).isEqualTo(7);
        assertThat(Tensor.fromFloats(new float[]{1.5f, 2}, 2, 1).toFloatArray()).containsExactly(1.5f, 2f);
        assertThat(Tensor.fromLongs(new long[]{3, 4}, 2).toLongArray()).containsExactly(3, 4);
        assertThat(Tensor.fromUnsignedBytes(new byte[]{(byte) 200, 3}, 2).toUnsignedBytes()).containsExactly((byte) 200, (byte) 3);
        assertThat(v(Tensor.fromUnsignedBytes(new byte[]{(byte) 200, 3}, 2))).containsExactly(200, 3);
        assertThatThrownBy(() -> Tensor.fromDoubles(new double[3], 2, 2)).hasMessageContaining("array of 3 elements does not fill shape [2, 2]");
        assertThatThrownBy(() -> Tensor.fromFloats(new float[3], 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Tensor.fromLongs(new long[3], 4)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Tensor.fromUnsignedBytes(new byte[3], 1)).isInstanceOf(IllegalArgumentException.class);

        Tensor a = m(2, 1, 2, 3, 4, 5, 6);
        assertThat(a.shape()).containsExactly(2, 3);
        assertThat(a.size(0)).isEqualTo(2);
        assertThat(a.size(-1)).isEqualTo(3);
        assertThat(a.dim()).isEqualTo(2);
        assertThat(a.numel()).isEqualTo(6);
        assertThat(a.device()).isEqualTo(Device.CPU);
        assertThat(a.to(DType.FLOAT64)).isSameAs(a);
        assertThat(a.to(Device.CPU)).isSameAs(a);
        assertThat(a.cpu()).isSameAs(a);
        Tensor f = a.to(DType.FLOAT32);
        assertThat(f.dtype()).isEqualTo(DType.FLOAT32);
        assertThat(a.to(Device.CPU, DType.INT64).toLongArray()).containsExactly(1, 2, 3, 4, 5, 6);
        assertThat(a.to(DType.INT64).dtype()).isEqualTo(DType.INT64);
        assertThat(a.toString()).isEqualTo("Tensor[2, 3](" + DType.FLOAT64 + ", " + Device.CPU + ")");
        assertThat(a.isSame(a)).isTrue();
        assertThat(a.isSame(a.copy())).isFalse();
        assertThat(v(a.zerosLike())).containsOnly(0);
        assertThat(a.zerosLike().shape()).containsExactly(2, 3);
        assertThat(v(a.onesLike())).containsOnly(1);
        assertThat(a.randnLike().shape()).containsExactly(2, 3);
        assertThat(a.randLike().dtype()).isEqualTo(DType.FLOAT64);
        assertThat(v(a.contiguous())).containsExactly(v(a));
        assertThat(d(0, 2, -1).toBooleanArray()).containsExactly(false, true, true);
    }

    @Test
    void randomFactoriesFollowTheSeedAndTheirRanges() {
        Rng.seed(5);
        double[] r = v(Tensor.rand(DType.FLOAT64, Device.CPU, 1000));
        Rng.seed(5);
        assertThat(v(Tensor.rand(DType.FLOAT64, Device.CPU, 1000))).containsExactly(r);
        double mean = 0;
        for (double x : r) {
            assertThat(x).isBetween(0.0, 1.0);
            mean += x / r.length;
        }
        assertThat(mean).isCloseTo(0.5, within(0.05));
        double[] n = v(Tensor.randn(DType.FLOAT64, Device.CPU, 4000));
        double m1 = 0, m2 = 0;
        for (double x : n) {
            m1 += x / n.length;
            m2 += x * x / n.length;
        }
        assertThat(m1).isCloseTo(0, within(0.06));
        assertThat(m2).isCloseTo(1, within(0.08));
        assertThat(Tensor.randn(3, 2).dtype()).isEqualTo(DType.FLOAT32);
        assertThat(Tensor.rand(3).dtype()).isEqualTo(DType.FLOAT32);
        long[] ints = Tensor.randint(3, Device.CPU, 500).toLongArray();
        assertThat(ints).contains(0, 1, 2).doesNotContain(3, -1);
        long[] perm = Tensor.randperm(6, Device.CPU).toLongArray();
        assertThat(perm).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5);
        Tensor u = Tensor.zeros(DType.FLOAT64, Device.CPU, 500).uniform_(2, 3);
        assertThat(u.min().item()).isGreaterThanOrEqualTo(2);
        assertThat(u.max().item()).isLessThanOrEqualTo(3);
        assertThat(u.mean().item()).isCloseTo(2.5, within(0.05));
        Tensor g = Tensor.zeros(DType.FLOAT64, Device.CPU, 4000).normal_(5, 2);
        assertThat(g.mean().item()).isCloseTo(5, within(0.15));
        assertThat(g.sub(5).square().mean().sqrt().item()).isCloseTo(2, within(0.1));
    }

    @Test
    void elementwiseArithmetic() {
        Tensor a = d(1, 4, 9), b = d(2, 2, 3);
        assertThat(v(a.add(b))).containsExactly(3, 6, 12);
        assertThat(v(a.add(1))).containsExactly(2, 5, 10);
        assertThat(v(a.add(b, 0.5))).containsExactly(2, 5, 10.5);
        assertThat(v(a.sub(b))).containsExactly(-1, 2, 6);
        assertThat(v(a.sub(1))).containsExactly(0, 3, 8);
        assertThat(v(a.mul(b))).containsExactly(2, 8, 27);
        assertThat(v(a.mul(2))).containsExactly(2, 8, 18);
        assertThat(v(a.div(b))).containsExactly(0.5, 2, 3);
        assertThat(v(a.div(2))).containsExactly(0.5, 2, 4.5);
        assertThat(v(a.neg())).containsExactly(-1, -4, -9);
        assertThat(v(a.pow(0.5))).containsExactly(1, 2, 3);
        assertThat(v(a.pow(2))).containsExactly(1, 16, 81);
        assertThat(v(b.square())).containsExactly(4, 4, 9);
        assertThat(v(a.sqrt())).containsExactly(1, 2, 3);
        assertThat(v(d(0, 1).exp())).containsExactly(new double[]{1, Math.E}, within(TOL));
        assertThat(v(d(1, Math.E).log())).containsExactly(new double[]{0, 1}, within(TOL));
        assertThat(v(d(-2, 0, 3).abs())).containsExactly(2, 0, 3);
        assertThat(v(d(0, Math.PI / 2).sin())).containsExactly(new double[]{0, 1}, within(TOL));
        assertThat(v(d(0, Math.PI).cos())).containsExactly(new double[]{1, -1}, within(TOL));
        assertThat(v(d(-2, 0, 3).sign())).containsExactly(-1, 0, 1);
        assertThat(v(d(2, -4).reciprocal())).containsExactly(0.5, -0.25);
        assertThat(v(d(1.7, -1.2).floor())).containsExactly(1, -2);
        assertThat(v(d(1.7, -1.2, 2.5).round())).containsExactly(2, -1, 2);   // half to even
        assertThat(v(d(-1, 0.5, 3).clamp(0, 1))).containsExactly(0, 0.5, 1);
        assertThat(v(d(-1, 0.5, 3).clampMin(0))).containsExactly(0, 0.5, 3);
        assertThat(v(d(-1, 0.5, 3).clampMax(1))).containsExactly(-1, 0.5, 1);
        assertThat(v(a.maximum(d(2, 5, 1)))).containsExactly(2, 5, 9);
        assertThat(v(a.minimum(d(2, 5, 1)))).containsExactly(1, 4, 1);
        assertThat(v(d(0, 1).erf())).containsExactly(new double[]{0, 0.8427007929497149}, within(1e-12));
        assertThat(v(d(-1, 2).relu())).containsExactly(0, 2);
        assertThat(v(d(0).sigmoid())).containsExactly(0.5);
        assertThat(v(d(0, 100).tanh())).containsExactly(new double[]{0, 1}, within(TOL));
        // softplus: log(1 + e^{βx}) / β below the threshold, x above it
        assertThat(v(d(0, 1, 30).softplus(2, 20))).containsExactly(new double[]{Math.log(2) / 2, Math.log(1 + Math.exp(2)) / 2, 30}, within(TOL));
    }

    @Test
    void matricesAndLinearAlgebra() {
        Tensor a = m(2, 1, 2, 3, 4), b = m(2, 0, 1, 1, 0);
        assertThat(v(a.matmul(b))).containsExactly(2, 1, 4, 3);
        assertThat(v(a.t())).containsExactly(1, 3, 2, 4);
        assertThat(v(a.transpose(0, 1))).containsExactly(1, 3, 2, 4);
        Tensor spd = m(2, 4, 2, 2, 3);
        Tensor l = spd.cholesky();
        assertThat(v(l)).containsExactly(new double[]{2, 0, 1, Math.sqrt(2)}, within(TOL));
        // A x = (2, 1)ᵀ → x = (1/2, 0)ᵀ
        assertThat(v(m(2, 2, 1).choleskySolve(l))).containsExactly(new double[]{0.5, 0}, within(TOL));
        assertThat(m(2, 3, 0, 0, -5).spectralNorm().item()).isCloseTo(5, within(TOL));
        assertThat(v(m(2, 0, 0, 3, 4).pairwiseDistances(m(1, 0, 0)))).containsExactly(new double[]{0, 5}, within(TOL));
        assertThat(d(3, -4).norm(2).item()).isCloseTo(5, within(TOL));
        assertThat(d(3, -4).norm(1).item()).isCloseTo(7, within(TOL));
        assertThat(d(3, -4).norm(Double.POSITIVE_INFINITY).item()).isCloseTo(4, within(TOL));
        Tensor rows = m(2, 3, 4, 6, 8);
        assertThat(v(rows.norm(2, new long[]{1}, false))).containsExactly(new double[]{5, 10}, within(TOL));
        assertThat(rows.norm(2, new long[]{1}, true).shape()).containsExactly(2, 1);
        Tensor batch = Tensor.fromDoubles(new double[]{3, 0, 0, 4, 1, 1, 1, 1}, 2, 2, 2);
        assertThat(v(batch.normPerExample(2))).containsExactly(new double[]{5, 2}, within(TOL));
        assertThat(v(batch.normPerExample(Double.POSITIVE_INFINITY))).containsExactly(4, 1);
        assertThat(v(batch.normPerExample(1))).containsExactly(7, 4);
    }

    @Test
    void softmaxFamilyAndReductions() {
        Tensor z = m(2, 0, Math.log(3), 1, 1);
        assertThat(v(z.softmax(1))).containsExactly(new double[]{0.25, 0.75, 0.5, 0.5}, within(TOL));
        assertThat(v(z.logSoftmax(1))).containsExactly(new double[]{Math.log(0.25), Math.log(0.75), Math.log(0.5), Math.log(0.5)}, within(TOL));
        assertThat(v(z.logsumexp(1, false))).containsExactly(new double[]{Math.log(4), 1 + Math.log(2)}, within(TOL));
        assertThat(z.logsumexp(1, true).shape()).containsExactly(2, 1);
        Tensor a = m(2, 1, 5, 3, 2, 4, 6);
        assertThat(a.sum().item()).isEqualTo(21);
        assertThat(v(a.sum(0, false))).containsExactly(3, 9, 9);
        assertThat(v(a.sum(1, false))).containsExactly(9, 12);
        assertThat(a.sum(1, true).shape()).containsExactly(2, 1);
        assertThat(a.mean().item()).isEqualTo(3.5);
        assertThat(v(a.mean(1, false))).containsExactly(3, 4);
        assertThat(a.mean(0, true).shape()).containsExactly(1, 3);
        assertThat(a.max().item()).isEqualTo(6);
        assertThat(a.min().item()).isEqualTo(1);
        assertThat(v(a.amax(1, false))).containsExactly(5, 6);
        assertThat(a.amax(0, true).shape()).containsExactly(1, 3);
        assertThat(a.argmax(1).toLongArray()).containsExactly(1, 2);
        Tensor[] top = a.topk(2, 1);
        assertThat(v(top[0])).containsExactly(5, 3, 6, 4);
        assertThat(top[1].toLongArray()).containsExactly(1, 2, 2, 1);
        Tensor[] min = a.minWithIndex(1);
        assertThat(v(min[0])).containsExactly(1, 2);
        assertThat(min[1].toLongArray()).containsExactly(0, 0);
        assertThat(d(1, Double.NaN).allFinite()).isFalse();
        assertThat(d(1, 2).allFinite()).isTrue();
        assertThat(d(1, Double.POSITIVE_INFINITY, Double.NaN).isFinite().toBooleanArray()).containsExactly(true, false, false);
    }

    @Test
    void comparisonsAndLogic() {
        Tensor a = d(1, 2, 3), b = d(3, 2, 1);
        assertThat(a.eq(b).toBooleanArray()).containsExactly(false, true, false);
        assertThat(a.eq(2).toBooleanArray()).containsExactly(false, true, false);
        assertThat(a.ne(b).toBooleanArray()).containsExactly(true, false, true);
        assertThat(a.gt(2).toBooleanArray()).containsExactly(false, false, true);
        assertThat(a.ge(2).toBooleanArray()).containsExactly(false, true, true);
        assertThat(a.lt(2).toBooleanArray()).containsExactly(true, false, false);
        assertThat(a.le(2).toBooleanArray()).containsExactly(true, true, false);
        assertThat(a.gt(b).toBooleanArray()).containsExactly(false, false, true);
        assertThat(a.lt(b).toBooleanArray()).containsExactly(true, false, false);
        assertThat(a.le(b).toBooleanArray()).containsExactly(true, true, false);
        Tensor p = a.gt(1), q = a.lt(3);
        assertThat(p.logicalNot().toBooleanArray()).containsExactly(true, false, false);
        assertThat(p.logicalAnd(q).toBooleanArray()).containsExactly(false, true, false);
        assertThat(p.logicalOr(q).toBooleanArray()).containsExactly(true, true, true);
        assertThat(v(Tensor.where(p, a, b))).containsExactly(3, 2, 3);
        assertThat(v(a.maskedFill(p, -1))).containsExactly(1, -1, -1);
        // in place: the same values as where(p, b, a), written into a's own storage; a row mask broadcasts
        Tensor into = a.copy();
        assertThat(into.assignWhere_(p, b)).isSameAs(into);
        assertThat(v(into)).containsExactly(1, 2, 1);
        Tensor rows = m(2, 1, 2, 3, 4);
        rows.assignWhere_(d(1, 0).gt(0.5).reshape(2, 1), m(2, 9, 9, 9, 9));
        assertThat(v(rows)).containsExactly(9, 9, 3, 4);
        // clamp between tensors, in place: min(max(x, lo), hi) element by element
        Tensor x = d(-1, 0.5, 7);
        assertThat(x.clamp_(d(0, 0.6, 0), d(1, 1, 2))).isSameAs(x);
        assertThat(v(x)).containsExactly(0, 0.6, 2);
    }

    @Test
    void shapesAndIndexing() {
        Tensor a = Tensor.arange(6, DType.FLOAT64, Device.CPU);
        Tensor r = a.reshape(2, 3);
        assertThat(r.shape()).containsExactly(2, 3);
        assertThat(a.view(3, 2).shape()).containsExactly(3, 2);
        assertThat(r.flatten(0, 1).shape()).containsExactly(6);
        assertThat(r.unsqueeze(1).shape()).containsExactly(2, 1, 3);
        assertThat(r.unsqueeze(1).squeeze(1).shape()).containsExactly(2, 3);
        assertThat(v(r.permute(1, 0).contiguous())).containsExactly(0, 3, 1, 4, 2, 5);
        assertThat(v(d(1, 2).reshape(2, 1).expand(2, 3).contiguous())).containsExactly(1, 1, 1, 2, 2, 2);
        assertThat(v(d(1, 2).reshape(2, 1).expandAs(r).contiguous())).containsExactly(1, 1, 1, 2, 2, 2);
        assertThat(v(r.narrow(1, 1, 2))).containsExactly(1, 2, 4, 5);
        assertThat(v(r.select(0, 1))).containsExactly(3, 4, 5);
        assertThat(v(r.select(1, 2))).containsExactly(2, 5);
        Tensor idx = Tensor.fromLongs(new long[]{2, 0}, 2);
        assertThat(v(r.indexSelect(1, idx))).containsExactly(2, 0, 5, 3);
        assertThat(v(r.gather(1, Tensor.fromLongs(new long[]{2, 1}, 2, 1)))).containsExactly(2, 4);
        assertThat(v(d(1, 2).repeat(3))).containsExactly(1, 2, 1, 2, 1, 2);
        assertThat(v(Tensor.fromLongs(new long[]{2, 0}, 2).oneHot(3).to(DType.FLOAT64))).containsExactly(0, 0, 1, 1, 0, 0);
        assertThat(v(r.indexCopy(0, Tensor.fromLongs(new long[]{0}, 1), m(1, 9, 9, 9)))).containsExactly(9, 9, 9, 3, 4, 5);
        assertThat(v(Tensor.cat(List.of(d(1), d(2, 3)), 0))).containsExactly(1, 2, 3);
        Tensor st = Tensor.stack(List.of(d(1, 2), d(3, 4)), 1);
        assertThat(st.shape()).containsExactly(2, 2);
        assertThat(v(st)).containsExactly(1, 3, 2, 4);
    }

    @Test
    void inPlaceOperationsChangeTheTensorAndReturnIt() {
        Tensor a = d(1, 2);
        assertThat(a.add_(d(1, 1))).isSameAs(a);
        assertThat(v(a)).containsExactly(2, 3);
        a.add_(d(2, 2), 0.5);
        assertThat(v(a)).containsExactly(3, 4);
        a.add_(1);
        assertThat(v(a)).containsExactly(4, 5);
        a.sub_(d(1, 1));
        assertThat(v(a)).containsExactly(3, 4);
        a.mul_(2);
        assertThat(v(a)).containsExactly(6, 8);
        a.mul_(d(0.5, 0.25));
        assertThat(v(a)).containsExactly(3, 2);
        a.div_(d(3, 4));
        assertThat(v(a)).containsExactly(1, 0.5);
        a.div_(0.5);
        assertThat(v(a)).containsExactly(2, 1);
        a.addcmul_(d(1, 2), d(3, 4), 0.5);   // + 0.5 · (3, 8)
        assertThat(v(a)).containsExactly(3.5, 5);
        a.addcdiv_(d(1, 2), d(2, 4), 2);     // + 2 · (0.5, 0.5)
        assertThat(v(a)).containsExactly(4.5, 6);
        Tensor sq = d(4, 9);
        assertThat(sq.sqrt_()).isSameAs(sq);
        assertThat(v(sq)).containsExactly(2, 3);
        Tensor c = d(-1, 0.5, 2);
        assertThat(c.clamp_(0, 1)).isSameAs(c);
        assertThat(v(c)).containsExactly(0, 0.5, 1);
        assertThat(v(c.copy_(d(7, 8, 9)))).containsExactly(7, 8, 9);
        assertThat(v(c.fill_(3))).containsExactly(3, 3, 3);
        assertThat(v(c.zero_())).containsExactly(0, 0, 0);
        Tensor copy = c.copy();
        copy.add_(1);
        assertThat(v(c)).containsExactly(0, 0, 0);   // a copy, not a view
        Tensor holder = d(1, 2);
        assertThat(holder.setData_(d(5, 6, 7))).isSameAs(holder);
        assertThat(v(holder)).containsExactly(5, 6, 7);
    }

    @Test
    void autogradThroughTheWrapper() {
        Tensor x = d(1, 2, 3).requiresGrad(true);
        assertThat(x.requiresGrad()).isTrue();
        assertThat(x.isLeaf()).isTrue();
        assertThat(x.grad()).isNull();
        Tensor y = x.square().sum();
        assertThat(y.isLeaf()).isFalse();
        assertThat(x.detach().requiresGrad()).isFalse();
        y.backward();
        assertThat(v(x.grad())).containsExactly(2, 4, 6);
        x.mul(3).sum().backward();   // accumulates
        assertThat(v(x.grad())).containsExactly(5, 7, 9);
        x.clearGrad();
        assertThat(x.grad()).isNull();
        x.clearGrad();   // twice: nothing to drop
        assertThat(x.requiresGrad(false).requiresGrad()).isFalse();
        Tensor kept;
        try (Scope s = Scope.open()) {
            kept = d(4, 5).keep();
        }
        assertThat(v(kept)).containsExactly(4, 5);
    }
}
