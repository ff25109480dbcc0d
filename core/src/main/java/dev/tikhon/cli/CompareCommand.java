package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.Version;
import dev.tikhon.report.Comparison;
import dev.tikhon.report.RunDirectory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon compare RUN…}: several finished runs of one kind overlaid in one chart, one CSV and one page. */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Overlay finished runs of one kind: the certified-accuracy curves of certify runs (every certificate, drawn by "
                + "its kind: sound solid, probabilistic dashed, heuristic dotted), robust accuracy by ε of attack runs, or the "
                + "training NLL of flow train runs (with the held-out NLL). Reads each run's metrics.json and CSV files; writes "
                + "compare.png, compare.csv (run, method, kind, radius|eps|iteration, value), metrics.json and index.html. "
                + "Runs on different data (another data set, split, or other examples of one, told by the data fingerprint each run "
                + "records) are refused unless --allow-different-data. "
                + "A σ sweep: tikhon compare runs/cert-0.25 runs/cert-0.5 runs/cert-1.0"})
final class CompareCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "RUN", description = "Run folders (certify, attack or flow train; all of one kind).")
    List<Path> runs;

    @Option(names = "--out", paramLabel = "DIR", description = "Output directory. Default: runs/compare.")
    Path out;

    @Option(names = "--force", description = "Overwrite the run already in --out instead of refusing.")
    boolean force;

    @Option(names = "--allow-different-data", description = "Overlay runs computed on different data (another data set, split, "
            + "or other examples of one) instead of refusing; the difference is noted in metrics.json and on the page. Runs on "
            + "other samples of a generated set (another seed) or on other numbers of examples are compared without it, with a note.")
    boolean allowDifferentData;

    @Override public Integer call() {
        Path dir = (out != null ? out : Path.of("runs", "compare")).toAbsolutePath().normalize();
        java.util.Set<Path> seen = new java.util.HashSet<>();
        for (Path r : runs) {
            Path abs = r.toAbsolutePath().normalize();
            if (!seen.add(abs)) throw new UserError(r + " is given twice; compare each run once");
            if (abs.equals(dir)) throw new UserError("--out " + dir + " is one of the runs compared; it would be overwritten: choose another --out");
        }
        Comparison c = Comparison.read(runs, allowDifferentData);
        for (String note : c.dataNotes()) System.err.println("note:   " + note);
        RunFolder.refuseOverwrite(dir, force);
        RunDirectory run = RunDirectory.create(dir);
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("command", "compare");
        header.put("tikhon_version", Version.VERSION);
        c.write(run, header);
        System.out.println("compared " + runs.size() + " " + c.kind().name().toLowerCase(java.util.Locale.ROOT) + " runs ("
                + c.curves().size() + " curves)");
        System.out.println("outputs: " + run.path() + " (compare.png, compare.csv, metrics.json, index.html)");
        return 0;
    }
}
