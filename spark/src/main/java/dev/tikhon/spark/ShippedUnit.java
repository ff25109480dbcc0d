package dev.tikhon.spark;

import dev.tikhon.engine.Tensor;
import dev.tikhon.engine.TensorIO;
import dev.tikhon.scaleout.Unit;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * A unit with its inputs and labels, as bytes in Tikhon's tensor format, so that an executor computes on exactly
 * the values the driver would have (no data files are needed on the workers).
 */
record ShippedUnit(Unit unit, byte[] tensors) implements Serializable {
    static ShippedUnit of(Unit unit, Tensor x, Tensor y) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            TensorIO.write(out, Map.of("x", x, "y", y));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new ShippedUnit(unit, bytes.toByteArray());
    }

    /** {x, y} back as tensors (in the caller's Scope). */
    Map<String, Tensor> read() {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(tensors))) {
            return TensorIO.read(in, "unit " + unit.index());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
