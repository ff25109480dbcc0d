package dev.tikhon.optim;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Parameter;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class OptimizersTest {

    /** f(θ) = ½‖θ‖² has gradient θ; the updates below are worked by hand. */
    private static Tensor quadraticStep(Linear l, Optimizer opt) {
        opt.zeroGrad();
        l.weight().value().square().sum().mul(0.5).backward();
        opt.step();
        return l.weight().value();
    }

    private static Linear unitLayer() {
        Linear l = new Linear(1, 1, false);
        l.to(DType.FLOAT64);
        l.weight().value().detach().fill_(1.0);
        return l;
    }

    @Test
    void plainSgdIsGradientDescent() {
        Linear l = unitLayer();
        Sgd sgd = new Sgd(l.parameters(), 0.1);
        assertThat(quadraticStep(l, sgd).item()).isCloseTo(0.9, within(1e-15));
        assertThat(quadraticStep(l, sgd).item()).isCloseTo(0.81, within(1e-15));
    }

    @Test
    void heavyBallAndNesterovMomentum() {
        Linear l = unitLayer();
        Sgd hb = new Sgd(l.parameters(), 0.1, 0.9, false, 0, false);
        // b1 = 1, θ1 = 0.9; b2 = 0.9 + 0.9 = 1.8, θ2 = 0.9 − 0.18 = 0.72
        assertThat(quadraticStep(l, hb).item()).isCloseTo(0.9, within(1e-15));
        assertThat(quadraticStep(l, hb).item()).isCloseTo(0.72, within(1e-15));

        Linear n = unitLayer();
        Sgd nag = new Sgd(n.parameters(), 0.1, 0.9, true, 0, false);
        // b1 = 1, step g + μb = 1.9, θ1 = 0.81; g = 0.81, b2 = 0.9 + 0.81 = 1.71, step 0.81 + 1.539 = 2.349, θ2 = 0.5751
        assertThat(quadraticStep(n, nag).item()).isCloseTo(0.81, within(1e-15));
        assertThat(quadraticStep(n, nag).item()).isCloseTo(0.5751, within(1e-14));
    }

    /** torch.optim.SGD(lr 0.1, momentum 0.9, weight_decay 0.01, nesterov False/True) on ½θ² from θ = 1, three steps (PyTorch 1.13, float64). */
    @Test
    void momentumWithWeightDecayMatchesPyTorch() {
        double[][] torch = {{0.899, 0.717301, 0.4813244989999999}, {0.8081, 0.57121561, 0.32185967344099997}};
        for (int n = 0; n < 2; n++) {
            Linear l = unitLayer();
            Sgd sgd = new Sgd(l.parameters(), 0.1, 0.9, n == 1, 0.01, false);
            for (int step = 0; step < 3; step++) {
                assertThat(quadraticStep(l, sgd).item()).as("nesterov %s, step %d", n == 1, step + 1).isCloseTo(torch[n][step], within(1e-14));
            }
        }
    }

    @Test
    void weightDecaySkipsBiasesUnlessAskedTo() {
        Linear l = new Linear(2, 1);
        l.to(DType.FLOAT64);
        l.weight().value().detach().fill_(1);
        l.bias().value().detach().fill_(1);
        Sgd sgd = new Sgd(l.parameters(), 0.5, 0, false, 0.1, false);
        l.forward(Tensor.zeros(DType.FLOAT64, dev.tikhon.engine.Device.CPU, 1, 2)).sum().mul(0).backward();
        sgd.step();
        assertThat(l.weight().value().toDoubleArray()).containsExactly(0.95, 0.95);
        assertThat(l.bias().value().item()).isEqualTo(1.0);

        Sgd all = new Sgd(l.parameters(), 0.5, 0, false, 0.1, true);
        all.zeroGrad();
        l.forward(Tensor.zeros(DType.FLOAT64, dev.tikhon.engine.Device.CPU, 1, 2)).sum().mul(0).backward();
        all.step();
        assertThat(l.bias().value().item()).isCloseTo(0.95, within(1e-15));
    }

    /** Adam's first step moves each coordinate by ≈ lr·sign(g), whatever the gradient's scale. */
    @Test
    void adamFirstStepIsScaleFree() {
        Linear lin = new Linear(3, 1, false);
        lin.to(DType.FLOAT64);
        Parameter w = lin.weight();
        w.value().detach().copy_(Tensor.fromDoubles(new double[]{1, -2, 1000}, 1, 3));
        Adam adam = new Adam(lin.parameters(), 0.01);
        w.value().square().sum().mul(0.5).backward();
        adam.step();
        assertThat(w.value().toDoubleArray()).containsExactly(new double[]{0.99, -1.99, 999.99}, within(1e-6));
    }

    @Test
    void optimizerStateRoundTrips() {
        Linear a = unitLayer(), b = unitLayer();
        Adam oa = new Adam(a.parameters(), 0.05), ob = new Adam(b.parameters(), 0.05);
        for (int i = 0; i < 3; i++) quadraticStep(a, oa);
        b.loadStateDict(a.stateDict());
        ob.loadState(oa.state());
        for (int i = 0; i < 3; i++) {
            quadraticStep(a, oa);
            quadraticStep(b, ob);
        }
        assertThat(b.weight().value().item()).isEqualTo(a.weight().value().item());
        assertThat(oa.state().get("step").item()).isEqualTo(6.0);
    }

    @Test
    void schedules() {
        LrSchedule p = LrSchedule.piecewise(0.1, 100, new double[]{0.5, 0.75}, 0.1);
        assertThat(p.at(0)).isEqualTo(0.1);
        assertThat(p.at(49.9)).isEqualTo(0.1);
        assertThat(p.at(50)).isCloseTo(0.01, within(1e-15));
        assertThat(p.at(80)).isCloseTo(0.001, within(1e-15));
        LrSchedule c = LrSchedule.cosine(1, 10, 0);
        assertThat(c.at(0)).isEqualTo(1);
        assertThat(c.at(5)).isCloseTo(0.5, within(1e-12));
        assertThat(c.at(10)).isCloseTo(0, within(1e-12));
        LrSchedule w = LrSchedule.warmup(LrSchedule.constant(0.2), 2);
        assertThat(w.at(1)).isCloseTo(0.1, within(1e-12));
        assertThat(w.at(2)).isEqualTo(0.2);
        assertThat(w.at(0)).isGreaterThan(0);
        assertThat(LrSchedule.parse("cosine", 1, 10, new double[0], 0.1, 0).at(10)).isCloseTo(0, within(1e-12));
    }

    /**
     * The fused update (libtorch's kernel, all parameters at once) against SGD's definition written out tensor by tensor,
     * over several steps of a two-layer model whose biases do not decay, in float64 and float32, for each momentum form;
     * and the one-at-a-time path a non-contiguous parameter takes, against the same definition.
     */
    @Test
    void fusedSgdIsTheDefinitionAppliedTensorByTensor() {
        for (DType dtype : new DType[]{DType.FLOAT64, DType.FLOAT32}) {
            double tol = dtype == DType.FLOAT64 ? 1e-13 : 2e-6;
            for (boolean nonContiguous : new boolean[]{false, true}) {
                for (double[] setting : new double[][]{{0, 0, 0}, {0.9, 0, 0}, {0.9, 1, 0}, {0.9, 0, 0.01}, {0.9, 1, 0.01}, {0, 0, 0.01}}) {
                    double mu = setting[0], wd = setting[2];
                    boolean nesterov = setting[1] == 1;
                    String what = dtype + (nonContiguous ? ", non-contiguous weight" : "") + ", μ " + mu + (nesterov ? " Nesterov" : "") + ", λ " + wd;
                    Rng.seed(11);
                    Linear a = new Linear(4, 3), b = new Linear(3, 2);
                    a.to(dtype);
                    b.to(dtype);
                    if (nonContiguous) {   // the same values, laid out transposed: the fused kernel cannot take it
                        Tensor w = a.weight().value();
                        w.setData_(w.detach().t().contiguous().t());
                        assertThat(w.isContiguous()).isFalse();
                    }
                    List<Parameter> ps = new java.util.ArrayList<>(a.parameters());
                    ps.addAll(b.parameters());
                    Sgd sgd = new Sgd(ps, 0.1, mu, nesterov, wd, false);
                    Tensor[] theta = new Tensor[ps.size()], buf = new Tensor[ps.size()];
                    for (int i = 0; i < ps.size(); i++) {
                        theta[i] = ps.get(i).value().detach().copy();
                        buf[i] = theta[i].zerosLike();
                    }
                    Tensor x = Tensor.randn(5, 4).to(dtype);
                    for (int step = 0; step < 4; step++) {
                        sgd.zeroGrad();
                        b.forward(a.forward(x).tanh()).square().sum().backward();
                        for (int i = 0; i < ps.size(); i++) {
                            Tensor g = ps.get(i).grad().copy();
                            if (wd > 0 && ps.get(i).decay()) g = g.add(theta[i], wd);
                            if (mu > 0) {
                                buf[i] = buf[i].mul(mu).add(g);
                                g = nesterov ? g.add(buf[i], mu) : buf[i];
                            }
                            theta[i] = theta[i].sub(g.mul(0.1));
                        }
                        sgd.step();
                        for (int i = 0; i < ps.size(); i++) {
                            assertThat(ps.get(i).value().toDoubleArray()).as("%s, step %d, %s", what, step, ps.get(i).name())
                                    .containsExactly(theta[i].toDoubleArray(), within(tol));
                        }
                    }
                    assertThat(ps.get(0).value().isContiguous()).as(what).isEqualTo(!nonContiguous);   // updated in place
                }
            }
        }
    }

    /**
     * The fused Adam and AdamW update against Kingma &amp; Ba's definition with bias correction written out tensor by
     * tensor, as {@link #fusedSgdIsTheDefinitionAppliedTensorByTensor} does for SGD: six steps (so that the bias
     * correction's t moves), float64 and float32, no decay, L2 decay and decoupled decay of weights only.
     */
    @Test
    void fusedAdamIsTheDefinitionAppliedTensorByTensor() {
        double lr = 0.05, b1 = 0.9, b2 = 0.99, eps = 1e-8;
        for (DType dtype : new DType[]{DType.FLOAT64, DType.FLOAT32}) {
            double tol = dtype == DType.FLOAT64 ? 1e-13 : 2e-6;
            for (boolean nonContiguous : new boolean[]{false, true}) {
                for (double[] setting : new double[][]{{0, 0}, {0.01, 0}, {0.01, 1}}) {
                    double wd = setting[0];
                    boolean decoupled = setting[1] == 1;
                    String what = dtype + (nonContiguous ? ", non-contiguous weight" : "") + ", λ " + wd + (decoupled ? " decoupled" : "");
                    Rng.seed(12);
                    Linear a = new Linear(4, 3), b = new Linear(3, 2);
                    a.to(dtype);
                    b.to(dtype);
                    if (nonContiguous) {
                        Tensor w = a.weight().value();
                        w.setData_(w.detach().t().contiguous().t());
                    }
                    List<Parameter> ps = new java.util.ArrayList<>(a.parameters());
                    ps.addAll(b.parameters());
                    Adam adam = new Adam(ps, lr, b1, b2, eps, wd, decoupled, false);
                    Tensor[] theta = new Tensor[ps.size()], m = new Tensor[ps.size()], v = new Tensor[ps.size()];
                    for (int i = 0; i < ps.size(); i++) {
                        theta[i] = ps.get(i).value().detach().copy();
                        m[i] = theta[i].zerosLike();
                        v[i] = theta[i].zerosLike();
                    }
                    Tensor x = Tensor.randn(5, 4).to(dtype);
                    for (int t = 1; t <= 6; t++) {
                        adam.zeroGrad();
                        b.forward(a.forward(x).tanh()).square().sum().backward();
                        for (int i = 0; i < ps.size(); i++) {
                            Tensor g = ps.get(i).grad().copy();
                            boolean decays = wd > 0 && ps.get(i).decay();
                            if (decays && decoupled) theta[i] = theta[i].mul(1 - lr * wd);
                            else if (decays) g = g.add(theta[i], wd);
                            m[i] = m[i].mul(b1).add(g.mul(1 - b1));
                            v[i] = v[i].mul(b2).add(g.square().mul(1 - b2));
                            Tensor mHat = m[i].div(1 - Math.pow(b1, t)), vHat = v[i].div(1 - Math.pow(b2, t));
                            theta[i] = theta[i].sub(mHat.div(vHat.sqrt().add(eps)).mul(lr));
                        }
                        adam.step();
                        for (int i = 0; i < ps.size(); i++) {
                            assertThat(ps.get(i).value().toDoubleArray()).as("%s, step %d, %s", what, t, ps.get(i).name())
                                    .containsExactly(theta[i].toDoubleArray(), within(tol));
                        }
                    }
                    assertThat(ps.get(0).value().isContiguous()).as(what).isEqualTo(!nonContiguous);
                }
            }
        }
    }

    @Test
    void fusedAdamTakesOnlyAFloat32StepCount() {
        Tensor p = Tensor.ones(DType.FLOAT64, dev.tikhon.engine.Device.CPU, 2, 3), g = p.copy();
        assertThatThrownBy(() -> dev.tikhon.engine.MultiTensor.adam(List.of(p), List.of(g), List.of(p.zerosLike()), List.of(p.zerosLike()),
                Tensor.ones(DType.FLOAT64, dev.tikhon.engine.Device.CPU, 1), 0.1, 0.9, 0.999, 0, false, 1e-8))
                .hasMessageContaining("FLOAT32");
        assertThat(p.toDoubleArray()).containsOnly(1.0);
        Tensor wrongShape = Tensor.ones(DType.FLOAT64, dev.tikhon.engine.Device.CPU, 3, 2);
        assertThat(dev.tikhon.engine.MultiTensor.adam(List.of(p), List.of(wrongShape), List.of(p.zerosLike()), List.of(p.zerosLike()),
                Tensor.ones(DType.FLOAT32, dev.tikhon.engine.Device.CPU, 1), 0.1, 0.9, 0.999, 0, false, 1e-8)).isFalse();
        assertThat(p.toDoubleArray()).containsOnly(1.0);
        // the kernel itself, at t = 1: m̂ = v̂ = g² = 1, so θ = 1 − 0.1·1/(1 + ε)
        assertThat(dev.tikhon.engine.MultiTensor.adam(List.of(p), List.of(g), List.of(p.zerosLike()), List.of(p.zerosLike()),
                Tensor.ones(DType.FLOAT32, dev.tikhon.engine.Device.CPU, 1), 0.1, 0.9, 0.999, 0, false, 1e-8)).isTrue();
        assertThat(p.toDoubleArray()).containsOnly(1 - 0.1 / (1 + 1e-8));
    }

    /** What {@code tikhon info} reports: float32 fused updates within rounding of float64 ones, and not identical to them. */
    @Test
    void theFusedUpdateCheckSeesOnlyRoundingOnTheCpu() {
        Rng.seed(5);
        java.util.Map<String, Double> diff = FusedUpdateCheck.run(dev.tikhon.engine.Device.CPU);
        assertThat(diff).containsOnlyKeys("sgd", "adam", "adamw");
        assertThat(diff.values()).allSatisfy(v -> assertThat(v).isPositive().isLessThan(FusedUpdateCheck.TOLERANCE));
    }

    /** The check draws from a fixed host stream: a seeded run that takes its first step gets the numbers it got before. */
    @Test
    void theFusedUpdateCheckLeavesSeededDrawsAlone() {
        Rng.seed(11);
        double[] before = Tensor.randn(DType.FLOAT64, dev.tikhon.engine.Device.CPU, 4).toDoubleArray();
        Rng.seed(11);
        FusedUpdateCheck.run(dev.tikhon.engine.Device.CPU);
        assertThat(Tensor.randn(DType.FLOAT64, dev.tikhon.engine.Device.CPU, 4).toDoubleArray()).containsExactly(before);
    }

    /** The check can fail: a kernel off by a part in a thousand in one hyper-parameter is far outside its tolerance. */
    @Test
    void theFusedUpdateCheckSeesAWrongUpdate() {
        dev.tikhon.engine.Device cpu = dev.tikhon.engine.Device.CPU;
        assertThat(FusedUpdateCheck.difference(cpu, ps -> new Sgd(ps, 0.1, 0.9, true, 0.01, false),
                ps -> new Sgd(ps, 0.1001, 0.9, true, 0.01, false))).isGreaterThan(10 * FusedUpdateCheck.TOLERANCE);
        assertThat(FusedUpdateCheck.difference(cpu, ps -> new Adam(ps, 0.05, 0.9, 0.99, 1e-8, 0.01, true, false),
                ps -> new Adam(ps, 0.05, 0.9, 0.999, 1e-8, 0.01, true, false))).isGreaterThan(10 * FusedUpdateCheck.TOLERANCE);
        // a decay applied to the biases too (both groups are exercised)
        assertThat(FusedUpdateCheck.difference(cpu, ps -> new Adam(ps, 0.05, 0.9, 0.99, 1e-8, 0.01, false, false),
                ps -> new Adam(ps, 0.05, 0.9, 0.99, 1e-8, 0.01, false, true))).isGreaterThan(10 * FusedUpdateCheck.TOLERANCE);
        assertThat(FusedUpdateCheck.agree(java.util.Map.of("sgd", 1e-7, "adam", Double.NaN))).isFalse();
        assertThat(FusedUpdateCheck.agree(java.util.Map.of("sgd", 1e-7, "adam", 2e-6))).isTrue();
    }

    /** Where the check failed, optimizers update one tensor at a time, and still right; where it passed, fused. */
    @Test
    void aDeviceWhoseFusedKernelsFailedTheCheckIsUpdatedOneTensorAtATime() {
        dev.tikhon.engine.Device cpu = dev.tikhon.engine.Device.CPU;
        Linear trusted = unitLayer();
        Sgd fused = new Sgd(trusted.parameters(), 0.1, 0.9, false, 0, false);
        assertThat(fused.usesFusedKernels()).isNull();
        assertThat(quadraticStep(trusted, fused).item()).isCloseTo(0.9, within(1e-15));
        assertThat(fused.usesFusedKernels()).isTrue();
        try {
            FusedUpdateCheck.setVerdict(cpu, false);
            Linear l = unitLayer();
            Sgd hb = new Sgd(l.parameters(), 0.1, 0.9, false, 0, false);
            assertThat(quadraticStep(l, hb).item()).isCloseTo(0.9, within(1e-15));
            assertThat(quadraticStep(l, hb).item()).isCloseTo(0.72, within(1e-15));
            assertThat(hb.usesFusedKernels()).isFalse();
            Linear a = unitLayer();
            Adam adam = new Adam(a.parameters(), 0.1);
            assertThat(quadraticStep(a, adam).item()).isCloseTo(1 - 0.1 / (1 + 1e-8), within(1e-15));
            assertThat(adam.usesFusedKernels()).isFalse();
        } finally {
            FusedUpdateCheck.setVerdict(cpu, null);
        }
    }

    @Test
    void fusedSgdRefusesTensorsItCannotTakeAndChangesNothing() {
        Tensor p = Tensor.ones(DType.FLOAT64, dev.tikhon.engine.Device.CPU, 2, 3), g = p.copy();
        Tensor transposed = Tensor.ones(DType.FLOAT64, dev.tikhon.engine.Device.CPU, 3, 2).t();
        assertThat(dev.tikhon.engine.MultiTensor.sgd(List.of(p, transposed), List.of(g, g), List.of(), 0, 0, 0.5, false)).isFalse();
        assertThat(dev.tikhon.engine.MultiTensor.sgd(List.of(p, p.to(DType.FLOAT32)), List.of(g, g.to(DType.FLOAT32)), List.of(), 0, 0, 0.5, false)).isFalse();
        assertThat(p.toDoubleArray()).containsOnly(1.0);
        assertThat(transposed.toDoubleArray()).containsOnly(1.0);
        assertThat(dev.tikhon.engine.MultiTensor.sgd(List.of(p), List.of(g), List.of(), 0, 0, 0.5, false)).isTrue();
        assertThat(p.toDoubleArray()).containsOnly(0.5);
        assertThatThrownBy(() -> dev.tikhon.engine.MultiTensor.sgd(List.of(p), List.of(g), List.of(), 0, 0.9, 0.5, false))
                .hasMessageContaining("momentum buffers");
    }

    @Test
    void parametersWithoutGradientsAreLeftAlone() {
        Linear l = unitLayer();
        Sgd sgd = new Sgd(List.of(l.weight()), 0.1);
        sgd.zeroGrad();
        sgd.step();
        assertThat(l.weight().value().item()).isEqualTo(1.0);
    }
}
