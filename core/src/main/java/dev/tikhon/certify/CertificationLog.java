package dev.tikhon.certify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.tikhon.io.AppendLog;
import dev.tikhon.report.Json;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The per-image record of a certification run, appended as each image is certified, so that a stopped run keeps what it
 * did and {@code --resume} continues it (see {@link CertificationRun#run(dev.tikhon.scaleout.Runner, dev.tikhon.nn.Module,
 * dev.tikhon.data.Dataset, int, CertificationRun.Plan, dev.tikhon.engine.Device, dev.tikhon.report.Progress, List,
 * java.util.function.Consumer)}). Two files, each line flushed as it is appended ({@link AppendLog}):
 * <ul>
 *   <li>{@value #ROWS}: one JSON object per image, every certificate and extra column (what a resumed run reads back);</li>
 *   <li>{@value #COHEN}: Cohen et al.'s tab-separated format ({@code idx label predict radius correct time}, as their
 *       {@code certify.py} writes it: −1 for an abstention, the radius to three significant digits — rounded down, where
 *       their {@code "{:.3}"} rounds to nearest and could write a radius above the certified one (0.9996 as 1.0) —, the time as
 *       H:MM:SS.ffffff) for the method's first certificate, for the tools that read theirs. Their format has no place
 *       for a kind or a norm and is read as an ℓ2 certificate, so it is written only for an ℓ2 certificate that is
 *       probabilistic or sound, never for a heuristic radius (heat --no-monte-carlo) or an ℓ∞ one
 *       ({@link #cohenFormatFor}).</li>
 * </ul>
 * A resumed run keeps the complete JSON lines (a line torn by the kill is dropped) and rewrites {@value #COHEN} from them.
 */
public final class CertificationLog implements AutoCloseable {
    public static final String ROWS = "certify.jsonl", COHEN = "certify.tsv";
    private static final ObjectWriter WRITER = Json.mapper().writer().without(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectReader READER = Json.mapper().readerFor(CertificationRun.Image.class);

    private final String column;
    private final List<CertificationRun.Image> done;
    private final AppendLog rows, cohen;
    private int count;

    private CertificationLog(String column, List<CertificationRun.Image> done, AppendLog rows, AppendLog cohen) {
        this.column = column;
        this.done = done;
        this.rows = rows;
        this.cohen = cohen;
        this.count = done.size();
    }

    /**
     * Whether a certificate of this kind and norm may be written in Cohen et al.'s format, which readers take for an ℓ2
     * CERTIFY radius: a probabilistic or sound ℓ2 radius may (a sound one is a stronger claim than theirs), a heuristic
     * radius or an ℓ∞ radius may not, as nothing in the file could say so.
     */
    public static boolean cohenFormatFor(Certificate.Kind kind, String norm) {
        return kind != Certificate.Kind.HEURISTIC && !"linf".equals(norm);
    }

    /**
     * Opens the record in {@code dir}: with {@code resume}, keeping the images already there; otherwise empty.
     *
     * @param column the certificate written to {@value #COHEN}; null: no {@value #COHEN} (an old one is removed)
     */
    public static CertificationLog open(Path dir, String column, boolean resume) {
        AppendLog.Kept<CertificationRun.Image> kept = resume ? AppendLog.readRows(dir.resolve(ROWS), READER::readValue)
                : new AppendLog.Kept<>(List.of(), List.of());
        // a complete line that parses but is no record of this run (edited, or from another tool) failed later, unnamed (a
        // NullPointerException on its missing certificates)
        for (int i = 0; i < kept.rows().size(); i++) {
            CertificationRun.Image im = kept.rows().get(i);
            String missing = im.certificates() == null ? "no certificates" : im.index() < 0 ? "a negative index"
                    : column != null && !(im.certificates().get(column) instanceof Certificate) ? "no '" + column + "' certificate" : null;
            if (missing != null) {
                throw new dev.tikhon.UserError(dir.resolve(ROWS) + " line " + (i + 1) + " is not an image this run certified (" + missing
                        + "), so --resume cannot continue from it: restore the file from a copy, or start the run over with --force");
            }
        }
        AppendLog cohen = null;
        if (column != null) {
            List<String> tsv = new ArrayList<>();
            tsv.add("idx\tlabel\tpredict\tradius\tcorrect\ttime");
            for (CertificationRun.Image im : kept.rows()) tsv.add(cohenLine(im, column));
            cohen = AppendLog.start(dir.resolve(COHEN), tsv);
        } else {
            try {
                java.nio.file.Files.deleteIfExists(dir.resolve(COHEN));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot remove " + dir.resolve(COHEN) + ": " + e.getMessage(), e);
            }
        }
        return new CertificationLog(column, List.copyOf(kept.rows()), AppendLog.start(dir.resolve(ROWS), kept.lines()), cohen);
    }

    /** Whether {@value #COHEN} is written. */
    public boolean writesCohenFormat() { return cohen != null; }

    /** The images a stopped run certified (empty for a new run). */
    public List<CertificationRun.Image> done() { return done; }

    /** How many images the record holds. */
    public synchronized int count() { return count; }

    /** Appends newly certified images to both files. */
    public synchronized void append(List<CertificationRun.Image> images) {
        List<String> json = new ArrayList<>(), tsv = new ArrayList<>();
        for (CertificationRun.Image im : images) {
            try {
                json.add(WRITER.writeValueAsString(im));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("image " + im.index() + " cannot be written as JSON", e);
            }
            if (cohen != null) tsv.add(cohenLine(im, column));
        }
        rows.append(json);
        if (cohen != null) cohen.append(tsv);
        count += images.size();
    }

    /** One line of Cohen et al.'s format for certificate {@code column}. */
    static String cohenLine(CertificationRun.Image im, String column) {
        Certificate c = im.certificates().get(column);
        int predict = c.abstained() ? -1 : c.prediction();
        double seconds = (Double.isNaN(im.classifySeconds()) ? 0 : im.classifySeconds()) + im.certifySeconds();
        return im.index() + "\t" + im.label() + "\t" + predict + "\t" + python3g(c.abstained() ? 0 : c.radius(), RoundingMode.DOWN) + "\t"
                + (predict == im.label() ? 1 : 0) + "\t" + timedelta(seconds);
    }

    /** Python's {@code format(x, ".3")}: three significant digits, at least one after the point, exponent outside [1e-4, 1e3). */
    static String python3g(double x) {
        return python3g(x, RoundingMode.HALF_EVEN);
    }

    /**
     * {@link #python3g(double)} with the last digit rounded by {@code rounding}: {@link RoundingMode#DOWN} for a certified
     * radius, which the file must never overstate (a reader counts it at every r up to the written value).
     */
    static String python3g(double x, RoundingMode rounding) {
        if (Double.isNaN(x)) return "nan";
        if (Double.isInfinite(x)) return x > 0 ? "inf" : "-inf";
        if (x == 0) return "0.0";
        BigDecimal b = new BigDecimal(x).round(new MathContext(3, rounding));
        int exp = b.precision() - b.scale() - 1;
        if (exp < -4 || exp >= 3) {
            String digits = b.unscaledValue().abs().toString().replaceAll("0+$", "");
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return (b.signum() < 0 ? "-" : "") + mantissa + "e" + (exp < 0 ? "-" : "+") + String.format(Locale.ROOT, "%02d", Math.abs(exp));
        }
        String plain = b.stripTrailingZeros().toPlainString();
        return plain.contains(".") ? plain : plain + ".0";
    }

    /** Python's {@code str(datetime.timedelta(seconds=s))} for s under a day: H:MM:SS or H:MM:SS.ffffff. */
    static String timedelta(double seconds) {
        long micros = Math.round(Math.max(0, seconds) * 1e6);
        long s = micros / 1_000_000, us = micros % 1_000_000;
        String hms = String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
        return us == 0 ? hms : hms + String.format(Locale.ROOT, ".%06d", us);
    }

    @Override public void close() {
        rows.close();
        if (cohen != null) cohen.close();
    }
}
