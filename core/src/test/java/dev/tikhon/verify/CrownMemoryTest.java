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
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Oracle: a CROWN pass over a wide layer holds one chunk of its ±eᵤ rows at a time. The layer here has 12,000 units: the
 * whole specification over it would be 2·12,000² float32 values (1.15 GB, and its unsigned half and the identity it was
 * selected from besides); a chunk is {@link BoundedNetwork#CHUNK_ELEMENTS} values (64 MiB).
 */
class CrownMemoryTest {

    private static final int WIDE = 12_000;

    @Test
    void aWideLayersPassHoldsOneChunkOfRowsAtATime() {
        assumeTrue(resetPeak(), "/proc/self/clear_refs cannot reset the peak resident set here");
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
            assertThat(resetPeak()).isTrue();
            before = kb("VmRSS:");
            crown = net.crownLower(region, spec, WIDE, LowerSlope.ADAPTIVE).toDoubleArray();   // the wide layer's by CROWN
            peak = kb("VmHWM:");
        }
        System.out.printf("CROWN over %d units: resident %d KB before, peak %d KB%n", WIDE, before, peak);
        assertThat(peak - before).as("peak resident growth (KB) of the pass over %d units", WIDE).isLessThan(300_000);
        // the pass did run, and tightened: CROWN's intermediate bounds are at least IBP's
        double gained = 0;
        for (int i = 0; i < ibp.length; i++) {
            assertThat(crown[i]).isGreaterThanOrEqualTo(ibp[i] - 1e-4 * (1 + Math.abs(ibp[i])));
            gained += crown[i] - ibp[i];
        }
        assertThat(gained).as("CROWN's gain over IBP on the wide layer").isPositive();
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

    private static long kb(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalStateException("no " + field + " in /proc/self/status");
    }
}
