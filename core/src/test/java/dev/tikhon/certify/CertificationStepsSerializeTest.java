package dev.tikhon.certify;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code certify --spark} ships every step of a method's plan to the executors by Java serialization: a field that does
 * not serialize fails the whole run ("Task not serializable"; it did for ibp, crown, alpha-crown and bab, whose steps
 * carry branch and bound's settings).
 */
class CertificationStepsSerializeTest {
    @Test
    void everyRegisteredMethodsStepsSurviveJavaSerialization() throws Exception {
        RandomizedSmoothing.Config smoothing = new RandomizedSmoothing.Config(0.25, 10, 100, 0.001, 50, 0, 1);
        CertificationMethods.Settings s = new CertificationMethods.Settings(0.25, smoothing, true, 0, "l2", 100,
                dev.tikhon.verify.BranchAndBound.Settings.DEFAULT.withDomains(7), false);
        assertThat(CertificationMethods.names()).contains("ibp", "crown", "alpha-crown", "bab");
        // a model for the factories that look at it (the CLI registers lipschitz, which refuses TorchScript)
        dev.tikhon.nn.Module model = new dev.tikhon.nn.Sequential(new dev.tikhon.nn.Linear(2, 2));
        for (String name : CertificationMethods.names()) {
            List<CertificationStep> steps = CertificationMethods.get(name).factory().plan(model, s).steps();
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject(new ArrayList<>(steps));
            }
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
                @SuppressWarnings("unchecked") List<CertificationStep> back = (List<CertificationStep>) in.readObject();
                // not every step has value equality (lipschitz wraps a certifier): compare what they certify, and records where they are
                assertThat(back).as(name).hasSameSizeAs(steps);
                for (int i = 0; i < steps.size(); i++) {
                    assertThat(back.get(i).columns()).as(name).isEqualTo(steps.get(i).columns());
                    if (steps.get(i) instanceof BoundCertification.Step) assertThat(back.get(i)).as(name).isEqualTo(steps.get(i));
                }
            }
        }
    }
}
