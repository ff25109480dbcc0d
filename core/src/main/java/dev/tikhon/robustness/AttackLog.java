package dev.tikhon.robustness;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.tikhon.io.AppendLog;
import dev.tikhon.report.Json;

import java.nio.file.Path;
import java.util.List;

/**
 * The record of an attack run, appended as each batch of images is done ({@value #FILE}: one JSON object per batch, its
 * per-image results and counts, flushed as it is appended; see {@link AppendLog}), so that a stopped run keeps what it
 * did and {@code --resume} continues it. Attacks work on whole batches ({@code --batch-size}), so a batch is the unit
 * kept: a run stopped inside a batch attacks that batch again, with the same seed. A line torn by a kill is dropped.
 */
public final class AttackLog implements AutoCloseable {
    public static final String FILE = "attack.jsonl";
    private static final ObjectWriter WRITER = Json.mapper().writer().without(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectReader READER = Json.mapper().readerFor(RobustnessEvaluation.BatchOutcome.class);

    private final List<RobustnessEvaluation.BatchOutcome> done;
    private final AppendLog log;
    private int images;

    private AttackLog(List<RobustnessEvaluation.BatchOutcome> done, AppendLog log) {
        this.done = List.copyOf(done);
        this.log = log;
        for (RobustnessEvaluation.BatchOutcome b : done) images += b.label().length;
    }

    /** Opens the record in {@code dir}: with {@code resume}, keeping the batches already there; otherwise empty. */
    public static AttackLog open(Path dir, boolean resume) {
        AppendLog.Kept<RobustnessEvaluation.BatchOutcome> kept = resume ? AppendLog.readRows(dir.resolve(FILE), READER::readValue)
                : new AppendLog.Kept<>(List.of(), List.of());
        // a complete line that parses but is no batch this run attacked (edited, or another tool's) failed later, unnamed (a
        // NullPointerException on its missing fields)
        for (int i = 0; i < kept.rows().size(); i++) {
            String problem = problem(kept.rows().get(i));
            if (problem != null) {
                throw new dev.tikhon.UserError(dir.resolve(FILE) + " line " + (i + 1) + " is not a batch this run attacked (" + problem
                        + "), so --resume cannot continue from it: restore the file from a copy, or start the run over with --force");
            }
        }
        return new AttackLog(kept.rows(), AppendLog.start(dir.resolve(FILE), kept.lines()));
    }

    /** What makes {@code b} no batch record: a missing field, or a per-image field not as long as its labels; null when none. */
    private static String problem(RobustnessEvaluation.BatchOutcome b) {
        if (b.label() == null) return "no labels";
        if (b.offset() < 0) return "a negative offset";
        int n = b.label().length;
        Object[] perImage = {b.prediction(), b.margin(), b.gradDual(), b.grad2(), b.curvature(), b.minDistance(), b.foundBy(), b.l2(),
                b.cw(), b.robust(), b.timedOut()};
        for (Object a : perImage) {
            if (a == null || java.lang.reflect.Array.getLength(a) != n) return "a field missing or not one value per each of its " + n + " images";
        }
        if (b.firstBrokenBy() == null || b.brokenBy() == null || b.brokenOnlyBy() == null) return "no attack counts";
        return null;
    }

    /** The batches a stopped run finished (empty for a new run). */
    List<RobustnessEvaluation.BatchOutcome> done() { return done; }

    /** How many images the batches kept so far hold. */
    public synchronized int images() { return images; }

    /** How many images a stopped run had finished when this run started. */
    public int resumedImages() {
        int n = 0;
        for (RobustnessEvaluation.BatchOutcome b : done) n += b.label().length;
        return n;
    }

    synchronized void append(RobustnessEvaluation.BatchOutcome b) {
        try {
            log.append(List.of(WRITER.writeValueAsString(b)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("batch at " + b.offset() + " cannot be written as JSON", e);
        }
        images += b.label().length;
    }

    @Override public void close() {
        log.close();
    }
}
