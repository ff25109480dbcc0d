package dev.tikhon.spark;

import dev.tikhon.cli.Main;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Runs the CLI in-process and reads back its CSVs without the timing columns. */
final class SparkRuns {
    static final Path TORCHSCRIPT = Path.of("../core/src/test/resources/torchscript/tiny_cnn.pt");

    private SparkRuns() {}

    static void tikhon(String... args) {
        assertThat(Main.execute(args)).as(String.join(" ", args)).isZero();
    }

    static String[] with(String[] args, String... more) {
        String[] out = Arrays.copyOf(args, args.length + more.length);
        System.arraycopy(more, 0, out, args.length, more.length);
        return out;
    }

    /** The CSV's lines with the named columns removed (timings differ from run to run). */
    static List<String> withoutColumns(Path csv, String... drop) throws IOException {
        List<String> lines = Files.readAllLines(csv);
        List<String> header = List.of(lines.get(0).split(","));
        List<Integer> keep = new ArrayList<>();
        for (int i = 0; i < header.size(); i++) if (!List.of(drop).contains(header.get(i))) keep.add(i);
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            String[] cells = line.split(",", -1);
            List<String> kept = new ArrayList<>();
            for (int i : keep) kept.add(cells[i]);
            out.add(String.join(",", kept));
        }
        return out;
    }

    static List<String> certifyRows(Path run) throws IOException {
        return withoutColumns(run.resolve("certify.csv"), "classify_ms", "certify_ms");
    }
}
