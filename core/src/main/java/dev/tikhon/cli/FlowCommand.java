package dev.tikhon.cli;

import dev.tikhon.flow.FlowTraining;
import dev.tikhon.report.Progress;
import picocli.CommandLine.Command;

import java.util.Locale;
import java.util.Map;

/** {@code tikhon flow}: continuous normalizing flows (FFJORD) with RNODE's kinetic and Jacobian regularizers. */
@Command(name = "flow", mixinStandardHelpOptions = true,
        description = "Continuous normalizing flows: train (with the kinetic and Jacobian-Frobenius regularizers of RNODE), "
                + "evaluate the held-out NLL with Dopri5 at 1e-5, and draw densities and samples.",
        subcommands = {FlowTrain.class, FlowEval.class, FlowSample.class})
final class FlowCommand implements Runnable {
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override public void run() {
        spec.commandLine().usage(System.out);
    }

    /** One progress bar over the iterations; the extra text shows loss, NLL and NFE. */
    static final class BarListener implements FlowTraining.Listener {
        private final String task;
        private Progress bar;

        BarListener(String task) { this.task = task; }

        @Override public void onStart(int from, int iterations) {
            bar = Progress.start(task, iterations);
            if (from > 0) bar.skip(from);
        }

        @Override public void onIteration(Map<String, Object> row) {
            if (row.containsKey("dual")) {
                bar.setExtra(String.format(Locale.ROOT, "dual %.4f penalty %.3g mass %.3f", num(row, "dual"), num(row, "penalty"),
                        num(row, "mass")));
            } else {
                boolean bpd = row.containsKey(FlowTraining.BITS_PER_DIM);
                Object backward = row.get("nfe_backward");
                // backprop through the solver counts no backward NFE: show the forward count alone, not "/0"
                String nfe = backward instanceof Number b && b.doubleValue() > 0 ? "NFE " + row.get("nfe_forward") + " fwd/" + backward + " adj"
                        : "NFE " + row.get("nfe_forward") + " fwd";
                bar.setExtra(String.format(Locale.ROOT, "loss %.4f %s %.4f %s", num(row, "loss"), bpd ? "bits/dim" : "nll",
                        num(row, bpd ? FlowTraining.BITS_PER_DIM : "nll"), nfe));
            }
            bar.step(1);
        }

        @Override public void onEnd() {
            if (bar != null) bar.close();
        }

        static double num(Map<String, Object> row, String k) { return ((Number) row.get(k)).doubleValue(); }
    }
}
