package dev.tikhon.report;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Locale;

/** Human-readable numbers for reports and chart axes, where full precision is only noise. */
final class Format {
    private static final MathContext FOUR_DIGITS = new MathContext(4);

    private Format() {}

    /**
     * Four significant digits in plain notation for ordinary magnitudes (0.8934, 12.35), whole
     * numbers without a fraction (10, 60000), scientific notation for very small or large values
     * (1.235e-05), and NaN / Infinity / -Infinity spelled out.
     */
    static String number(double v) {
        if (Double.isNaN(v)) return "NaN";
        if (Double.isInfinite(v)) return v > 0 ? "Infinity" : "-Infinity";
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        double abs = Math.abs(v);
        if (abs >= 1e-4 && abs < 1e6) {
            return new BigDecimal(v).round(FOUR_DIGITS).stripTrailingZeros().toPlainString();
        }
        return String.format(Locale.ROOT, "%.3e", v);
    }

    /** {@link #number(double)} for floating-point values; everything else as its own text. */
    static String value(Object value) {
        if (value instanceof Double || value instanceof Float || value instanceof BigDecimal) {
            return number(((Number) value).doubleValue());
        }
        return String.valueOf(value);
    }
}
