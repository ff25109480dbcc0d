package dev.tikhon.cli;

import picocli.CommandLine;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The size {@code --image-size} resizes a folder's images to: {@code HxW} (height × width, in pixels) or {@code N}
 * for N × N. Its text is canonical ({@code 28} reads back as {@code 28x28}), so a resumed run compares the value it
 * was recorded with, not the way it was typed.
 */
record ImageSize(int height, int width) {
    /** The largest side accepted: a bigger one is a typo, or images a classifier here could not take in memory. */
    static final int MAX_SIDE = 4096;
    static final String SYNTAX = "HxW (height x width in pixels, e.g. 28x28) or N for NxN";
    private static final Pattern FORM = Pattern.compile("\\s*(\\d+)\\s*(?:[xX×]\\s*(\\d+)\\s*)?");

    ImageSize {
        if (height < 1 || width < 1 || height > MAX_SIDE || width > MAX_SIDE) {
            throw new IllegalArgumentException("image size " + height + "x" + width + ": each side must be 1 to " + MAX_SIDE + " pixels");
        }
    }

    /** Reads {@code HxW} or {@code N}; an {@link IllegalArgumentException} naming the value and the form otherwise. */
    static ImageSize parse(String value) {
        Matcher m = FORM.matcher(value);
        if (!m.matches()) throw new IllegalArgumentException("'" + value + "' is not an image size: give " + SYNTAX);
        long h = side(m.group(1)), w = m.group(2) == null ? h : side(m.group(2));
        if (h < 1 || w < 1 || h > MAX_SIDE || w > MAX_SIDE) {
            throw new IllegalArgumentException("'" + value + "': each side must be 1 to " + MAX_SIDE + " pixels; give " + SYNTAX);
        }
        return new ImageSize((int) h, (int) w);
    }

    /** A side's digits; one too long for a long is as far out of range as any. */
    private static long side(String digits) {
        return digits.length() > 9 ? Long.MAX_VALUE : Long.parseLong(digits);
    }

    @Override public String toString() {
        return String.format(Locale.ROOT, "%dx%d", height, width);
    }

    /** For picocli: a bad value is a usage error naming it ("Invalid value for option '--image-size' (HxW): ..."). */
    static final class Converter implements CommandLine.ITypeConverter<ImageSize> {
        @Override public ImageSize convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
