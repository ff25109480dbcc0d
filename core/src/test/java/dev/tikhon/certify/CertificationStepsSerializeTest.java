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
        CertificationMethods.Settings s = new CertificationMethods.Settings(0.25, smoothing, true, 0, "l2", 100, 7);
        assertThat(CertificationMethods.names()).contains("ibp", "crown", "alpha-crown", "bab");
        for (String name : CertificationMethods.names()) {
            List<CertificationStep> steps = CertificationMethods.get(name).factory().plan(null, s).steps();
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject(new ArrayList<>(steps));
            }
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
                assertThat(in.readObject()).as(name).isEqualTo(new ArrayList<>(steps));
            }
        }
    }
}
