package dev.tikhon.certify;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The per-image record of a certification run: Cohen et al.'s TSV format (known answers from Python) and a torn last line. */
class CertificationLogTest {

    /** Known answers: Python 3's format(x, ".3") and str(datetime.timedelta(seconds=s)), as certify.py writes them. */
    @Test
    void writesNumbersAsCohenEtAlsPythonDoes() {
        double[] x = {0.675458239509314, 0.0, 1.0, 0.00012345, 1.2345e-05, 1234.5, 2.5, 0.1255, 0.99951, 12.0, 1e-05};
        String[] python = {"0.675", "0.0", "1.0", "0.000123", "1.23e-05", "1.23e+03", "2.5", "0.126", "1.0", "12.0", "1e-05"};
        for (int i = 0; i < x.length; i++) assertThat(CertificationLog.python3g(x[i])).as("format(%s, '.3')", x[i]).isEqualTo(python[i]);
        assertThat(CertificationLog.timedelta(0.326241)).isEqualTo("0:00:00.326241");
        assertThat(CertificationLog.timedelta(3725)).isEqualTo("1:02:05");
        assertThat(CertificationLog.timedelta(61.5)).isEqualTo("0:01:01.500000");
    }

    /**
     * certify.tsv's radius keeps Python's notation but is rounded down: Python's format(x, ".3") rounds to nearest, so
     * certify.py wrote 0.6158 (the cap σΦ⁻¹(α^{1/N}) for σ 0.25, N 1000, α 0.001) as 0.616 and 0.99951 as 1.0, radii above
     * the certified ones that a reader of the file counts at r = 0.616 and r = 1.
     */
    @Test
    void theTsvNeverWritesARadiusAboveTheCertifiedOne() {
        double[] radius = {0.6158156536952027, 0.99951, 0.675458239509314, 1.2345e-05, 0.5, 2.5};
        String[] written = {"0.615", "0.999", "0.675", "1.23e-05", "0.5", "2.5"};
        for (int i = 0; i < radius.length; i++) {
            String line = CertificationLog.cohenLine(image(i, 1, radius[i]), "cohen");
            String cell = line.split("\t")[3];
            assertThat(cell).as("radius %s", radius[i]).isEqualTo(written[i]);
            assertThat(Double.parseDouble(cell)).isLessThanOrEqualTo(radius[i]);
        }
        assertThat(CertificationLog.cohenLine(image(9, -1, 0), "cohen").split("\t")[3]).isEqualTo("0.0");
    }

    private static CertificationRun.Image image(long index, int prediction, double radius) {
        Certificate c = prediction < 0 ? Certificate.abstain(Certificate.Kind.PROBABILISTIC, 0.001, "cohen")
                : new Certificate(prediction, radius, Certificate.Kind.PROBABILISTIC, 0.001, "cohen");
        return new CertificationRun.Image(index, 1, prediction, Map.of("cohen", c), Double.NaN, 0.5, prediction, Map.of("x", Double.POSITIVE_INFINITY));
    }

    @Test
    void aResumedLogKeepsItsCompleteLinesAndDropsATornOne(@TempDir Path dir) throws IOException {
        List<CertificationRun.Image> first = List.of(image(0, 1, 0.5), image(1, -1, 0), image(2, 3, 0.25));
        try (CertificationLog log = CertificationLog.open(dir, "cohen", false)) {
            log.append(first);
        }
        assertThat(Files.readAllLines(dir.resolve(CertificationLog.COHEN))).containsExactly("idx\tlabel\tpredict\tradius\tcorrect\ttime",
                "0\t1\t1\t0.5\t1\t0:00:00.500000", "1\t1\t-1\t0.0\t0\t0:00:00.500000", "2\t1\t3\t0.25\t0\t0:00:00.500000");
        // a kill in the middle of the next line
        Files.writeString(dir.resolve(CertificationLog.ROWS), "{\"index\":3,\"lab", java.nio.file.StandardOpenOption.APPEND);
        try (CertificationLog log = CertificationLog.open(dir, "cohen", true)) {
            assertThat(log.done()).isEqualTo(first);   // every field, NaN and infinity included, read back exactly
            assertThat(log.count()).isEqualTo(3);
            log.append(List.of(image(3, 1, 1.0)));
        }
        assertThat(Files.readAllLines(dir.resolve(CertificationLog.ROWS))).hasSize(4).allMatch(l -> l.startsWith("{") && l.endsWith("}"));
        assertThat(Files.readAllLines(dir.resolve(CertificationLog.COHEN))).hasSize(5).last().isEqualTo("3\t1\t1\t1.0\t1\t0:00:00.500000");
        try (CertificationLog fresh = CertificationLog.open(dir, "cohen", false)) {
            assertThat(fresh.done()).isEmpty();
        }
        assertThat(Files.readAllLines(dir.resolve(CertificationLog.ROWS))).isEmpty();
    }
}
