package dev.tikhon.engine;

import org.bytedeco.pytorch.global.torch.ScalarType;

/** Element types Tikhon uses. Models train in FLOAT32; gradient checks and oracles run in FLOAT64. */
public enum DType {
    FLOAT32(ScalarType.Float, 4),
    FLOAT64(ScalarType.Double, 8),
    INT64(ScalarType.Long, 8),
    INT32(ScalarType.Int, 4),
    UINT8(ScalarType.Byte, 1),
    BOOL(ScalarType.Bool, 1);

    final ScalarType scalarType;
    public final int bytes;

    DType(ScalarType scalarType, int bytes) {
        this.scalarType = scalarType;
        this.bytes = bytes;
    }

    public boolean isFloatingPoint() { return this == FLOAT32 || this == FLOAT64; }

    static DType of(ScalarType st) {
        for (DType d : values()) if (d.scalarType.value == st.value) return d;
        throw new EngineException("unsupported tensor element type " + st);
    }

    public static DType parse(String name) {
        switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "float32": case "float": case "f32": return FLOAT32;
            case "float64": case "double": case "f64": return FLOAT64;
            default: throw new IllegalArgumentException("unknown dtype '" + name + "' (use float32 or float64)");
        }
    }
}
