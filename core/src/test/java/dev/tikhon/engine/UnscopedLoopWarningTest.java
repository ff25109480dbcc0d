package dev.tikhon.engine;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A library user's loop of predictions or attacks, with no optimizer step and no scope, grows native memory until the
 * Java GC happens to run (a 4-image CNN forward per iteration: 2.5 MB each, 5 GB after 2,000). It is warned about once,
 * naming the fix; the same loop in a scope per iteration is not.
 */
class UnscopedLoopWarningTest {
    private static String run(boolean scoped) throws Exception {
        Engine.init();
        Scope.forgetLoopWarning();
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            Thread t = new Thread(() -> {   // a fresh thread: its own count, no optimizer step
                for (int i = 0; i < Scope.UNSCOPED_LOOP + 100; i++) {
                    if (scoped) {
                        try (Scope s = Scope.open()) {
                            Tensor.zeros(DType.FLOAT32, Device.CPU, 1).add(1.0);
                        }
                    } else {
                        Tensor.zeros(DType.FLOAT32, Device.CPU, 1);
                    }
                }
            });
            t.start();
            t.join();
        } finally {
            System.setErr(err);
            Scope.forgetLoopWarning();
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void anUnscopedLoopIsWarnedAboutOnceNamingTheFix() throws Exception {
        String err = run(false);
        assertThat(err.lines().filter(l -> l.startsWith("tikhon: warning:")).count()).isEqualTo(1);
        assertThat(err).contains(Scope.UNSCOPED_LOOP + " tensors in a row were made outside any Scope", "created at",
                "try (Scope s = Scope.open())");
    }

    @Test
    void theSameLoopInAScopePerIterationIsNot() throws Exception {
        assertThat(run(true)).isEmpty();
    }
}
