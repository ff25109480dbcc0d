package dev.tikhon.certify;

import dev.tikhon.data.Dataset;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.report.Progress;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Oracle: the exact distance to a linear classifier's boundary. {@code certify --method cohen}'s plan on four points of a
 * two-class linear model (boundary x₀ = ½): each gets a probabilistic certificate of its true class, with α as configured,
 * a positive radius never beyond its exact distance |x₀ − ½|, the Monte Carlo class recorded, and PREDICT timed when asked.
 */
class CohenCertificationRunTest {

    @Test
    void cohensPlanCertifiesEachPointWithinItsExactDistance() {
        double[] x0 = {0.9, 0.05, 0.8, 0.15};
        double[] xs = new double[8];
        long[] labels = new long[4];
        for (int i = 0; i < 4; i++) {
            xs[2 * i] = x0[i];
            xs[2 * i + 1] = 0.5;
            labels[i] = x0[i] > 0.5 ? 1 : 0;
        }
        Dataset data = new Dataset("line", "test", Tensor.fromDoubles(xs, 4, 2).to(DType.FLOAT32), Tensor.fromLongs(labels, 4), 2, List.of("a", "b"));
        Module model = new Module() {
            @Override public Tensor forward(Tensor x) {
                Tensor z = x.narrow(1, 0, 1).sub(0.5).mul(20);
                return Tensor.cat(List.of(z.zerosLike(), z), 1);
            }
        };
        RandomizedSmoothing rs = new RandomizedSmoothing(new RandomizedSmoothing.Config(0.25, 64, 2000, 0.001, 500, 7));
        CertificationRun.Plan plan = CohenCertification.plan(rs, 2);
        assertThat(plan.method()).isEqualTo("cohen");
        assertThat(plan.columns()).containsExactly("cohen");
        CertificationRun.Result r = CertificationRun.run(model, data, 4, plan, Device.CPU,
                Progress.plain("certify", 4, new PrintStream(OutputStream.nullOutputStream())));
        assertThat(r.images()).hasSize(4);
        for (CertificationRun.Image im : r.images()) {
            Certificate c = im.certificates().get("cohen");
            double exact = Math.abs(x0[(int) im.index()] - 0.5);
            assertThat(c.kind()).isEqualTo(Certificate.Kind.PROBABILISTIC);
            assertThat(c.alpha()).isEqualTo(0.001);
            assertThat(c.prediction()).as("image %d", im.index()).isEqualTo((int) im.label());
            assertThat(c.radius()).as("image %d, exact %.3f", im.index(), exact).isPositive().isLessThanOrEqualTo(exact);
            assertThat(im.monteCarloPrediction()).isEqualTo((int) im.label());
            assertThat(im.prediction()).isEqualTo((int) im.label());
        }
        assertThat(r.predictImages()).isEqualTo(2);
        assertThat(r.predictSeconds()).isPositive();
        // PREDICT was timed on the first two images: each has its own time, the others none
        for (CertificationRun.Image im : r.images()) {
            if (im.index() < 2) assertThat(im.classifySeconds()).as("image %d", im.index()).isPositive();
            else assertThat(im.classifySeconds()).as("image %d", im.index()).isNaN();
        }
        assertThat(r.meanClassifySeconds()).isCloseTo(r.predictSeconds(), org.assertj.core.api.Assertions.within(1e-12));
        // the base model's own class, beside the smoothed classifier's, and its clean accuracy
        assertThat(r.images()).allSatisfy(im -> assertThat(im.extras().get(CohenCertification.BASE_PREDICTION)).isEqualTo((double) im.label()));
        assertThat(r.details()).containsEntry("base_model_clean_accuracy", 1.0);
        assertThat(r.smoothedPrediction()).isTrue();
        CertificationRun.Result untimed = CertificationRun.run(model, data, 1, CohenCertification.plan(rs, 0), Device.CPU,
                Progress.plain("certify", 1, new PrintStream(OutputStream.nullOutputStream())));
        assertThat(untimed.predictSeconds()).isNaN();
        assertThat(untimed.certifiedAccuracy("cohen", 0)).isEqualTo(1);
    }
}
