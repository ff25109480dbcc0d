package dev.tikhon.verify;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.OneThread;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Conv2d;
import dev.tikhon.nn.Graph;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Pool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * CROWN's intermediate bounds inside residual branches: the input of every nonlinear node of a branch (but the first) is
 * tightened by a CROWN pass back through the branch and on down the outer chains. Oracles, on Tikhon's ResNet-8 and on a
 * graph with a skip connection inside another: sampled points of the ℓ∞ and ℓ2 balls (on the boundary and inside) never
 * leave the bounds, and at ε = 0 the bounds are the margins; every tightened input bound lies inside IBP's (CROWN-IBP's
 * forward pass, {@code crownUnits = 0}), and some branch node's is narrower on average than with the branches left to IBP
 * ({@link BoundedNetwork#branchesByIbp}, the bounds before); the final bounds are not looser than those; α-CROWN and branch
 * and bound over the new bounds stay sound. float64 throughout.
 */
@ExtendWith(OneThread.class)
class ResidualBranchBoundsTest {
    static final DType F64 = DType.FLOAT64;
    static final int UNITS = BoundedNetwork.DEFAULT_CROWN_UNITS;

    /** Tikhon's ResNet-8 (width 4, batch norm with non-trivial running statistics), [1, 8, 8] inputs, 5 classes. */
    static Module resnet() {
        return BoundPropagationTest.model("resnet", Map.of("depth", 8, "width", 4), 4);
    }

    /**
     * An imported network's shape: a = relu(conv x); b = relu(conv a); c = relu(conv relu(conv b) + b) (the inner skip);
     * logits = linear(flatten(relu(conv c + a))) (the outer skip, around the inner one). [1, 6, 6] inputs, 4 classes.
     */
    static Module nestedSkips() {
        Rng.seed(9);
        var n = List.of(
                Graph.Node.apply(new Conv2d(1, 3, 3, 1, 1, true), 0),   // 1
                Graph.Node.apply(Activation.relu(), 1),                 // 2: a
                Graph.Node.apply(new Conv2d(3, 3, 3, 1, 1, true), 2),   // 3
                Graph.Node.apply(Activation.relu(), 3),                 // 4: b
                Graph.Node.apply(new Conv2d(3, 3, 3, 1, 1, true), 4),   // 5
                Graph.Node.apply(Activation.relu(), 5),                 // 6
                Graph.Node.apply(new Conv2d(3, 3, 3, 1, 1, true), 6),   // 7
                new Graph.Node(Graph.Op.ADD, null, new int[]{7, 4}, 0), // 8: inner skip
                Graph.Node.apply(Activation.relu(), 8),                 // 9: c
                Graph.Node.apply(new Conv2d(3, 3, 3, 1, 1, true), 9),   // 10
                new Graph.Node(Graph.Op.ADD, null, new int[]{10, 2}, 0),// 11: outer skip
                Graph.Node.apply(Activation.relu(), 11),                // 12
                Graph.Node.apply(Pool.flatten(), 12),                   // 13
                Graph.Node.apply(new Linear(3 * 6 * 6, 4), 13));        // 14
        Module g = new Graph(n, 14).to(F64);
        g.train(false);
        return g;
    }

    static Tensor input(Module m, long n) {
        return m instanceof Graph ? Tensor.rand(F64, Device.CPU, n, 1, 6, 6) : Tensor.rand(F64, Device.CPU, n, 1, 8, 8);
    }

    static double eps(Norm norm) { return norm == Norm.LINF ? 0.02 : 0.2; }

    /** The nodes inside residual additions (at any depth), each with its index in its sub-chain and its nesting depth. */
    record Inner(Node node, int index, int depth) {}

    static List<Inner> inner(BoundedNetwork net) {
        List<Inner> out = new ArrayList<>();
        for (int i = 0; i < net.depth(); i++) collect(net.node(i), 0, out);
        return out;
    }

    private static void collect(Node node, int depth, List<Inner> out) {
        if (!(node instanceof Layers.Fork fork)) return;
        for (List<Node> chain : fork.chains()) {
            for (int j = 0; j < chain.size(); j++) {
                out.add(new Inner(chain.get(j), j, depth + 1));
                collect(chain.get(j), depth + 1, out);
            }
        }
    }

    @Test
    void theNetworksHaveNonlinearNodesInsideBranchesToTighten() {
        // what the other tests rely on: ReLUs past a branch's first node, and (in the graph) an addition inside an addition
        for (Module m : List.of(resnet(), nestedSkips())) {
            assertThat(inner(BoundedNetwork.of(m))).anyMatch(u -> u.index() > 0 && u.node() instanceof Layers.Act);
        }
        assertThat(inner(BoundedNetwork.of(nestedSkips()))).anyMatch(u -> u.depth() == 2 && u.index() > 0 && u.node() instanceof Layers.Act);
    }

    @Test
    void crownBoundsContainSampledMarginsAndAreTheMarginsAtZero() {
        Rng.seed(31);
        for (Module m : List.of(resnet(), nestedSkips())) {
            BoundedNetwork net = BoundedNetwork.of(m);
            for (Norm norm : Norm.values()) {
                try (Scope s = Scope.open()) {
                    Tensor x = input(m, 3), spec = BoundOracles.spec(m, x), margins = BoundOracles.margins(m, spec, x);
                    Interval exact = net.crown(InputRegion.ball(x, 0, norm), spec);
                    assertThat(exact.lo().sub(margins).abs().max().item()).as(m.describe() + " " + norm + " lower at ε = 0").isLessThan(1e-9);
                    assertThat(exact.hi().sub(margins).abs().max().item()).as(m.describe() + " " + norm + " upper at ε = 0").isLessThan(1e-9);
                    Interval crown = net.crown(InputRegion.ball(x, eps(norm), norm), spec);
                    for (int i = 0; i < 300; i++) {
                        Tensor mi = BoundOracles.margins(m, spec, x.add(BoundOracles.perturbation(x, norm, eps(norm), i)));
                        assertThat(mi.sub(crown.lo()).min().item()).as(m.describe() + " " + norm + " lower, sample " + i).isGreaterThan(-1e-9);
                        assertThat(crown.hi().sub(mi).min().item()).as(m.describe() + " " + norm + " upper, sample " + i).isGreaterThan(-1e-9);
                    }
                }
            }
        }
    }

    @Test
    void branchInputsAreInsideIbpsAndTighterThanLeftToIbp() {
        Rng.seed(32);
        for (Module m : List.of(resnet(), nestedSkips())) {
            BoundedNetwork net = BoundedNetwork.of(m), before = net.branchesByIbp();
            for (Norm norm : Norm.values()) {
                try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
                    Tensor x = input(m, 4), spec = BoundOracles.spec(m, x);
                    InputRegion region = InputRegion.ball(x, eps(norm), norm);
                    Trace now = net.forwardTrace(region, UNITS), ibp = net.forwardTrace(region, 0), old = before.forwardTrace(region, UNITS);
                    double best = 0;
                    for (Inner u : inner(net)) {
                        Interval in = now.input(u.node()), box = ibp.input(u.node());
                        assertThat(in.lo().sub(box.lo()).min().item()).as(m.describe() + " " + norm + " inside IBP's, lower").isGreaterThan(-1e-9);
                        assertThat(box.hi().sub(in.hi()).min().item()).as(m.describe() + " " + norm + " inside IBP's, upper").isGreaterThan(-1e-9);
                        if (u.index() == 0 || u.node().affine()) continue;
                        double width = in.hi().sub(in.lo()).mean().item(), was = old.input(u.node()).hi().sub(old.input(u.node()).lo()).mean().item();
                        best = Math.max(best, 1 - width / was);
                    }
                    assertThat(best).as(m.describe() + " " + norm + ": the largest relative narrowing of a branch node's mean width").isGreaterThan(0.05);
                    Tensor lower = net.crownLower(region, spec, UNITS, LowerSlope.ADAPTIVE), was = before.crownLower(region, spec, UNITS, LowerSlope.ADAPTIVE);
                    assertThat(lower.sub(was).min().item()).as(m.describe() + " " + norm + ": final bounds never looser").isGreaterThan(-1e-9);
                    assertThat(lower.sub(was).mean().item()).as(m.describe() + " " + norm + ": final bounds tighter on average").isGreaterThan(0);
                }
            }
        }
    }

    @Test
    void alphaCrownAndBranchAndBoundStaySound() {
        Rng.seed(33);
        for (Module m : List.of(resnet(), nestedSkips())) {
            BoundedNetwork net = BoundedNetwork.of(m);
            try (Scope s = Scope.open()) {
                Tensor x = input(m, 2);
                Tensor y;
                try (Autograd.Guard g = Autograd.noGrad()) {
                    y = m.forward(x).argmax(1);
                }
                int k = (int) m.forward(x).size(1);
                Tensor spec = BoundedNetwork.marginsOverOthers(y, k, x);
                Norm norm = Norm.LINF;
                InputRegion region = InputRegion.ball(x, eps(norm), norm);
                Tensor crown = net.crownLower(region, spec, UNITS, LowerSlope.ADAPTIVE);
                Tensor alpha = net.alphaCrownLower(region, spec, UNITS, 5, 0.1);
                assertThat(alpha.sub(crown).min().item()).as(m.describe() + ": α-CROWN never below CROWN").isGreaterThan(-1e-12);
                Tensor bab = BranchAndBound.worstLower(net, region, spec, UNITS, BranchAndBoundTest.settings(16, 5));
                assertThat(bab.sub(crown.minWithIndex(1)[0]).min().item()).as(m.describe() + ": branch and bound never below CROWN").isGreaterThan(-1e-12);
                for (int i = 0; i < 300; i++) {
                    Tensor mi = BoundOracles.margins(m, spec, x.add(BoundOracles.perturbation(x, norm, eps(norm), i)));
                    assertThat(mi.sub(alpha).min().item()).as(m.describe() + " α-CROWN, sample " + i).isGreaterThan(-1e-9);
                    assertThat(mi.minWithIndex(1)[0].sub(bab).min().item()).as(m.describe() + " branch and bound, sample " + i).isGreaterThan(-1e-9);
                }
            }
        }
    }

    /**
     * Certified training differentiates the bounds of {@link BoundedNetwork#ofBatch} (batch norm with the batch's statistics):
     * with CROWN-tightened branch inputs, the gradient of the sum of CROWN's lower bounds with respect to a branch's first
     * convolution, in a random direction, is the central finite difference of that sum (float64). A walk from inside a
     * branch left out of the graph would drop its share of the gradient.
     */
    @Test
    void boundsOfTheTrainingFunctionStayDifferentiableThroughBranchWalks() {
        Rng.seed(34);
        Module m = resnet();
        m.train(true);
        Conv2d conv = ((dev.tikhon.nn.Sequential) m).layers().stream().filter(l -> l instanceof dev.tikhon.nn.ResidualBlock)
                .map(l -> ((dev.tikhon.nn.ResidualBlock) l).conv1()).findFirst().orElseThrow();
        Tensor w = conv.weight().value();
        Tensor x = input(m, 3), spec = BoundOracles.spec(m, x), d = Tensor.randn(F64, Device.CPU, w.shape());
        InputRegion region = InputRegion.ball(x, eps(Norm.LINF), Norm.LINF);
        Tensor lower = BoundedNetwork.ofBatch(m, x).crownLower(region, spec, UNITS, LowerSlope.ADAPTIVE).sum();
        double analytic = Autograd.grad(lower, w, false).mul(d).sum().item();
        double h = 1e-6;
        double[] at = new double[2];
        try (Autograd.Guard g = Autograd.noGrad()) {
            Tensor w0 = w.copy();
            for (int k = 0; k < 2; k++) {
                w.copy_(w0.add(d.mul(k == 0 ? h : -h)));
                at[k] = BoundedNetwork.ofBatch(m, x).crownLower(region, spec, UNITS, LowerSlope.ADAPTIVE).sum().item();
            }
            w.copy_(w0);
        }
        double numeric = (at[0] - at[1]) / (2 * h);
        assertThat(analytic).as("directional derivative against the finite difference " + numeric)
                .isCloseTo(numeric, org.assertj.core.api.Assertions.within(1e-4 * Math.max(1, Math.abs(numeric))));
    }
}
