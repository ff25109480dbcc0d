package dev.tikhon.cli;

import dev.tikhon.flow.FlowTraining;

import java.util.Map;

/**
 * The progress of one training of a resumable experiment: a run whose checkpoint already has all its iterations says
 * so in one line and draws no bar (it trains nothing); a resumed run says where it resumes; otherwise
 * {@link FlowCommand.BarListener}'s bar.
 */
final class ResumableBar implements FlowTraining.Listener {
    private final String task;
    private final FlowCommand.BarListener bar;
    private boolean done;

    ResumableBar(String task) {
        this.task = task;
        this.bar = new FlowCommand.BarListener(task);
    }

    /** The line for a run that starts at {@code from} of {@code iterations}; null for a fresh run. */
    static String startLine(String task, int from, int iterations) {
        if (from >= iterations) return task + ": already trained (" + iterations + " iterations in its checkpoint): nothing to do";
        if (from > 0) return task + ": resuming at iteration " + from + " of " + iterations + ", " + (iterations - from) + " to do";
        return null;
    }

    @Override public void onStart(int from, int iterations) {
        String line = startLine(task, from, iterations);
        if (line != null) System.err.println(line);
        done = from >= iterations;
        if (!done) bar.onStart(from, iterations);
    }

    @Override public void onIteration(Map<String, Object> row) {
        if (!done) bar.onIteration(row);
    }

    @Override public void onEnd() {
        if (!done) bar.onEnd();
    }
}
