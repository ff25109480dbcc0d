package dev.tikhon.report;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Locale;

/** Human-readable numbers for reports and chart axes, where full precision is only noise. */
public final class Format {
    private static final MathContext FOUR_DIGITS = new MathContext(4);

    private Format() {}

    /**
     * Four significant digits in plain notation for ordinary magnitudes (0.8934, 12.35), whole
     * numbers without a fraction (10, 60000), scientific notation for very small or large values
     * (1.235e-05), and NaN / Infinity / -Infinity spelled out.
     */
    public static String number(double v) {
        if (Double.isNaN(v)) return "NaN";
        if (Double.isInfinite(v)) return v > 0 ? "Infinity" : "-Infinity";
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        double abs = Math.abs(v);
        if (abs >= 1e-4 && abs < 1e6) {
            return new BigDecimal(v).round(FOUR_DIGITS).stripTrailingZeros().toPlainString();
        }
        return String.format(Locale.ROOT, "%.3e", v);
    }

    /** A radius as people write it: a small multiple of 1/255 (the ℓ∞ budgets 1/255 … 8/255) as "k/255", else {@link #number}. */
    public static String radius(double r) {
        double k = r * 255;
        if (r > 0 && r < 0.2 && Math.abs(k - Math.rint(k)) < 1e-9) return (long) Math.rint(k) + "/255";
        return number(r);
    }

    /** {@link #number(double)} for floating-point values; everything else as its own text. */
    public static String value(Object value) {
        if (value instanceof Double || value instanceof Float || value instanceof BigDecimal) {
            return number(((Number) value).doubleValue());
        }
        return String.valueOf(value);
    }

    /**
     * A value as a report page shows it: {@link #value(Object)}, except that a missing value (null, NaN) is a dash
     * and an infinity is ∞, never "null" or "NaN".
     */
    public static String cell(Object value) {
        if (value == null) return DASH;
        if (value instanceof Number n && (value instanceof Double || value instanceof Float)) {
            double v = n.doubleValue();
            if (Double.isNaN(v)) return DASH;
            if (Double.isInfinite(v)) return v > 0 ? "∞" : "−∞";
        }
        if (value instanceof String s && (s.equals("NaN") || s.equals("null"))) return DASH;
        if (value instanceof String s && s.equals("Infinity")) return "∞";
        return value(value);
    }

    /** What a page shows for a value that was not measured. */
    public static final String DASH = "—";
}
