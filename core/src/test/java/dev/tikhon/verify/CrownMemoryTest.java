package dev.tikhon.verify;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Module;
import dev.tikhon.train.MemoryTest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Oracle: a CROWN pass over a wide layer holds one chunk of its ±eᵤ rows at a time. The layer here has 12,000 units: the
 * whole specification over it would be 2·12,000² float32 values (1.15 GB, and its unsigned half and the identity it was
 * selected from besides); a chunk is {@link BoundedNetwork#CHUNK_ELEMENTS} values (64 MiB). Measured in a JVM of its own:
 * in the test JVM, malloc keeps what earlier tests freed (the launcher's settings never return memory), so a pass could
 * fit inside that and raise no peak.
 */
class CrownMemoryTest {

    private static final int WIDE = 12_000;

    @Test
    void aWideLayersPassHoldsOneChunkOfRowsAtATime() throws Exception {
        assumeTrue(resetPeak(), "/proc/self/clear_refs cannot reset the peak resident set here");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                "-cp", System.getProperty("java.class.path"), CrownMemoryTest.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        System.out.print(out);
        String[] last = out.strip().lines().reduce((a, b) -> b).orElseThrow().split(" ");
        long growth = Long.parseLong(last[1]);
        double gained = Double.parseDouble(last[2]);
        assertThat(growth).as("peak resident growth (KB) of the pass over %d units: %s", WIDE, out).isLessThan(300_000);
        assertThat(gained).as("CROWN's gain over IBP on the wide layer: the pass ran").isPositive();
    }

    /** The measurement: prints "peak-growth KB, CROWN's total gain over IBP" on its last line. */
    public static void main(String[] args) {
        Rng.seed(3);
        Module f = Models.build(Models.spec("mlp", List.of(1L, 8L, 8L), 5, Map.of("hidden", List.of(64, WIDE)))).train(false);
        Tensor x = Tensor.rand(DType.FLOAT32, Device.CPU, 2, 1, 8, 8), y;
        try (Autograd.Guard g = Autograd.noGrad()) {
            y = f.forward(x).argmax(1);
        }
        InputRegion region = InputRegion.images(x, 0.05, Norm.LINF);
        Tensor spec = BoundedNetwork.marginsOverOthers(y, 5, x);
        BoundedNetwork net = BoundedNetwork.of(f);
        double[] ibp, crown;
        long before, peak;
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            ibp = net.crownLower(region, spec, 0, LowerSlope.ADAPTIVE).toDoubleArray();   // intermediate bounds by IBP
            System.gc();
            if (!resetPeak()) throw new IllegalStateException("clear_refs");
            before = MemoryTest.residentKb();
            crown = net.crownLower(region, spec, WIDE, LowerSlope.ADAPTIVE).toDoubleArray();   // the wide layer's by CROWN
            peak = MemoryTest.statusKb("VmHWM");
        }
        double gained = 0;
        for (int i = 0; i < ibp.length; i++) {
            // CROWN's intermediate bounds are at least IBP's
            if (crown[i] < ibp[i] - 1e-4 * (1 + Math.abs(ibp[i]))) throw new AssertionError("CROWN below IBP at " + i);
            gained += crown[i] - ibp[i];
        }
        System.out.printf("CROWN over %d units: resident %d KB before, peak %d KB%n", WIDE, before, peak);
        System.out.println("result " + (peak - before) + " " + gained);
    }

    /** Resets VmHWM to the current resident set (Linux's clear_refs 5); false where the kernel does not allow it. */
    private static boolean resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
