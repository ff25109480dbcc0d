package dev.tikhon.nn;

import dev.tikhon.UserError;
import dev.tikhon.Version;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.OneThread;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import dev.tikhon.scaleout.ModelRef;
import dev.tikhon.train.Checkpoint;
import dev.tikhon.train.DataInfo;
import dev.tikhon.train.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Oracles: (x − mean)/std computed by hand, its input gradient 1/std, a normalized model equal to the plain model
 * with the same weights on normalized inputs, and the same outputs after a checkpoint round trip.
 */
@ExtendWith(OneThread.class)
class NormalizeTest {
    private static final Normalize.Stats TWO = new Normalize.Stats(new double[]{0.5, 0.25}, new double[]{0.5, 0.25});

    @Test
    void knownAnswerPerChannelAndItsGradient() {
        try (Scope s = Scope.open()) {
            Normalize n = new Normalize(TWO);
            // [1, 2, 1, 2]: channel 0 holds 1 and 0, channel 1 holds 0.5 and 0
            Tensor x = Tensor.fromDoubles(new double[]{1, 0, 0.5, 0}, 1, 2, 1, 2).to(DType.FLOAT32).requiresGrad(true);
            Tensor y = n.forward(x);
            assertThat(y.detach().to(DType.FLOAT64).flatten(0, -1).toDoubleArray()).containsExactly(1, -1, 1, -1);
            Tensor g = Autograd.grad(y.sum(), x, false);
            assertThat(g.to(DType.FLOAT64).flatten(0, -1).toDoubleArray()).containsExactly(2, 2, 4, 4);
            // features [N, D]: one value per feature
            Tensor f = n.forward(Tensor.fromDoubles(new double[]{0, 1}, 1, 2).to(DType.FLOAT32));
            assertThat(f.to(DType.FLOAT64).toDoubleArray()).containsExactly(-1, 3);
            // one pair for every channel
            Normalize one = new Normalize(new Normalize.Stats(new double[]{0.5}, new double[]{0.25}));
            Tensor z = one.forward(Tensor.fromDoubles(new double[]{0, 0.25, 0.5, 0.75, 1, 1}, 1, 3, 1, 2).to(DType.FLOAT32));
            assertThat(z.to(DType.FLOAT64).flatten(0, -1).toDoubleArray()).containsExactly(-2, -1, 0, 1, 2, 2);
            assertThat(n.lipschitz()).isEqualTo(4);
            Tensor[] affine = n.affine();
            assertThat(affine[0].to(DType.FLOAT64).toDoubleArray()).containsExactly(2, 4);
            assertThat(affine[1].to(DType.FLOAT64).toDoubleArray()).containsExactly(-1, -1);
            assertThat(n.parameters()).isEmpty();   // buffers: no optimizer moves them
            assertThat(n.stateDict()).containsOnlyKeys("mean", "std");
        }
    }

    @Test
    void cifarPresetMatchesTheFormula() {
        try (Scope s = Scope.open()) {
            Normalize n = new Normalize(Normalize.parse("cifar10"));
            Tensor x = Tensor.rand(DType.FLOAT32, Device.CPU, 2, 3, 4, 4);
            double[] in = x.to(DType.FLOAT64).flatten(0, -1).toDoubleArray();
            double[] out = n.forward(x).to(DType.FLOAT64).flatten(0, -1).toDoubleArray();
            double[] mean = {0.4914, 0.4822, 0.4465}, std = {0.2470, 0.2435, 0.2616};
            for (int i = 0; i < in.length; i++) {
                int c = (i / 16) % 3;
                assertThat(out[i]).isCloseTo((in[i] - mean[c]) / std[c], within(1e-5));
            }
        }
    }

    @Test
    void parsesPresetsAndListsAndNamesWhatIsWrong() {
        assertThat(Normalize.parse("0.5/0.25")).isEqualTo(new Normalize.Stats(new double[]{0.5}, new double[]{0.25}));
        assertThat(Normalize.parse(" 0.1,0.2,0.3 / 1,2,3 ").std()).containsExactly(1, 2, 3);
        assertThat(Normalize.parse("Fashion-MNIST").mean()).containsExactly(0.2860);
        assertThat(Normalize.parse("mnist").std()).containsExactly(0.3081);
        assertThatThrownBy(() -> Normalize.parse("0.5")).isInstanceOf(UserError.class).hasMessageStartingWith("--normalize '0.5': expected MEAN");
        assertThatThrownBy(() -> Normalize.parse("0.5/x")).isInstanceOf(UserError.class).hasMessageContaining("not a number");
        assertThatThrownBy(() -> Normalize.parse("0.5/0")).isInstanceOf(UserError.class).hasMessageContaining("std must be positive");
        assertThatThrownBy(() -> Normalize.parse("0.5,0.5/1")).isInstanceOf(UserError.class).hasMessageContaining("as many means");
        assertThatThrownBy(() -> Models.spec("cnn", List.of(1L, 8L, 8L), 3, Map.of(Models.NORMALIZE, Normalize.parse("cifar10"))))
                .isInstanceOf(UserError.class).hasMessageContaining("--normalize gives 3 channel(s) but the data has 1");
    }

    /** Same seed, same weights: the normalized model is the plain one applied to (x − mean)/std. */
    @Test
    void normalizedModelIsThePlainModelOnNormalizedInputs() {
        Normalize.Stats stats = new Normalize.Stats(new double[]{0.3, 0.4, 0.5}, new double[]{0.2, 0.25, 0.3});
        for (String arch : List.of("mlp", "cnn", "resnet", "farkas-resnet")) {
            try (Scope s = Scope.open()) {
                Map<String, Object> o = arch.equals("resnet") || arch.equals("farkas-resnet") ? Map.of("depth", 8, "width", 4) : Map.of();
                ModelSpec plain = Models.spec(arch, List.of(3L, 8L, 8L), 4, o);
                ModelSpec normalized = Models.withNormalization(plain, stats);
                Rng.seed(7);
                Module f = Models.build(plain).train(false);
                Rng.seed(7);
                Module g = Models.build(normalized).train(false);
                assertThat(((Sequential) g).layers().get(0)).isInstanceOf(Normalize.class);
                assertThat(((Sequential) g).layers().get(((Sequential) g).layers().size() - 1)).isInstanceOf(Linear.class);
                Tensor x = Tensor.rand(DType.FLOAT32, Device.CPU, 2, 3, 8, 8);
                try (Autograd.Guard ng = Autograd.noGrad()) {
                    Tensor expected = f.forward(new Normalize(stats).forward(x));
                    assertThat(g.forward(x).sub(expected).abs().max().item()).as(arch).isLessThan(1e-6);
                    assertThat(g.forward(x).sub(f.forward(x)).abs().max().item()).as(arch).isGreaterThan(1e-4);
                }
            }
        }
    }

    @Test
    void survivesTheCheckpointRoundTrip(@TempDir Path dir) throws Exception {
        try (Scope s = Scope.open()) {
            ModelSpec spec = Models.spec("cnn", List.of(3L, 8L, 8L), 4, Map.of(Models.NORMALIZE, Normalize.parse("cifar10")));
            Rng.seed(3);
            Module m = Models.build(spec).train(false);
            Path file = dir.resolve(Checkpoint.FILE_NAME);
            Checkpoint.save(file, new Checkpoint.Meta(spec, TrainConfig.builder().build(), "cross-entropy",
                    new DataInfo("cifar10", null, "test"), 1, 0, Map.of(), List.of(), Version.VERSION), m.stateDict(), Map.of());
            Checkpoint.Loaded back = Checkpoint.load(file);
            assertThat(back.meta().model()).isEqualTo(spec);
            assertThat(Models.normalization(back.meta().model())).isEqualTo(Normalize.parse("cifar10"));
            assertThat(back.model()).containsKeys("0.mean", "0.std");
            Module again = ModelRef.checkpoint(dir).load();
            Tensor x = Tensor.rand(DType.FLOAT32, Device.CPU, 3, 3, 8, 8);
            try (Autograd.Guard g = Autograd.noGrad()) {
                assertThat(again.forward(x).sub(m.forward(x)).abs().max().item()).isEqualTo(0.0);
            }
        }
    }
}
