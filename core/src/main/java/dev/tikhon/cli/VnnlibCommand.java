package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.nn.Module;
import dev.tikhon.onnx.OnnxImport;
import dev.tikhon.report.RunDirectory;
import dev.tikhon.verify.Verification;
import dev.tikhon.vnnlib.VnnLib;
import dev.tikhon.vnnlib.VnnLibCheck;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon vnnlib}: a VNN-COMP benchmark instance, an ONNX network and a VNN-LIB property. */
@Command(name = "vnnlib", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Check a VNN-LIB property (the VNN-COMP format) on an ONNX network: the property's asserts describe the unsafe "
                + "set; 'unsat' (it holds, a sound certificate) when bound propagation shows every case's output constraints "
                + "unsatisfiable over its input box; 'sat' with a counterexample found by corners and PGD; 'timeout' past --timeout; 'unknown' otherwise. "
                + "Writes metrics.json, index.html and, with --result, VNN-COMP's result file."})
final class VnnlibCommand implements Callable<Integer> {
    @Option(names = "--onnx", paramLabel = "FILE", required = true, description = "The network, an ONNX file (see docs/interop.md).")
    Path onnx;

    @Option(names = "--property", paramLabel = "FILE", required = true, description = "The property, a .vnnlib file.")
    Path property;

    @Option(names = "--method", split = ",", defaultValue = "crown",
            description = "ibp, crown, alpha-crown, bab (branch and bound on activation splits) or bab-input (branch and bound on the input box, "
                    + "for few inputs, any activation), or several (ibp,crown,alpha-crown): a cascade, cheapest first, each given the cases "
                    + "the earlier ones left; the attack runs before alpha-crown, bab-input and bab. Default: ${DEFAULT-VALUE}, and "
                    + "crown,bab-input for a network of at most " + VnnlibCommand.INPUT_SPLIT_DIMS + " inputs.")
    List<String> methods;

    @Option(names = "--no-cascade", description = "Every method bounds every case (to compare them), then the attack.")
    boolean noCascade;

    @Mixin SearchOptions search = new SearchOptions();

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "Stop after this many seconds (between steps: a box's bound, "
            + "a step of alpha-crown's ascent, a case, a batch of bab's domains or bab-input's sub-boxes, a PGD step) with the result 'timeout' unless the property is already decided. Default: none.")
    Double timeout;

    @Option(names = "--account-rounding", description = "Bounds that hold for the network's exact function, rounding included: "
            + "the model in float64 with every bound computation's rounding error added (as verify --account-rounding).")
    boolean accountRounding;

    @Option(names = "--result", paramLabel = "FILE", description = "Write VNN-COMP's result file: unsat, sat with the counterexample, or unknown.")
    Path result;

    @Option(names = "--attack-steps", defaultValue = "100", description = "PGD steps per case not refuted. Default: ${DEFAULT-VALUE}.")
    int attackSteps;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the attack's random starts and corners. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Mixin OutputOptions output = new OutputOptions("runs", "vnnlib");

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    /**
     * Inputs up to which the default methods add bab-input after crown. Splitting halves one coordinate per sub-box, so the
     * budget reaches every coordinate about log2(domains)/D times: measured in docs/verification.md (input splitting), on
     * random ReLU MLPs it proves as many properties as ReLU splitting up to 8 inputs (6–17 times faster) and fewer from 12.
     */
    static final int INPUT_SPLIT_DIMS = 8;

    @Override public Integer call() {
        Device device = output.apply();
        List<Verification.Method> ms = VerifyCommand.parseMethods(methods);
        SearchOptions.noteUnread(spec, ms.stream().anyMatch(Verification.Method::searches), ms.contains(Verification.Method.BAB),
                "--method " + String.join(",", methods));
        if (attackSteps < 0) throw new UserError("--attack-steps must be ≥ 0, got " + attackSteps);
        if (timeout != null && !(timeout > 0 && Double.isFinite(timeout))) throw new UserError("--timeout must be a positive number of seconds, got " + timeout);
        if (!Files.isRegularFile(onnx)) throw new UserError("no such ONNX file " + onnx + ": give the network with --onnx");
        if (result != null) {
            Map<String, Path> reads = new java.util.LinkedHashMap<>();
            reads.put("the --onnx network", onnx);
            reads.put("the --property file", property);
            RunFolder.refuseOverwriteOfInput("--result", result, reads);
        }
        VnnLib.Property prop = VnnLib.read(property);
        OnnxImport.Result imported = OnnxImport.load(onnx);
        imported.notes().forEach(n -> System.out.println("note:  " + onnx + ": " + n));
        List<Long> shape = imported.inputShape();
        if (shape.isEmpty() || shape.stream().anyMatch(d -> d <= 0)) {
            throw new UserError(onnx + " leaves its input shape open " + shape + ": export it with a fixed input shape");
        }
        long[] inputShape = shape.stream().mapToLong(Long::longValue).toArray();
        long inputs = 1;
        for (long d : inputShape) inputs *= d;
        if (!OptionChecks.given(spec, "--method") && inputs <= INPUT_SPLIT_DIMS) {   // few inputs: splitting them is complete
            ms = List.of(Verification.Method.CROWN, Verification.Method.BAB_INPUT);
            methods = List.of("crown", "bab-input");
            System.out.println("note:  " + inputs + " input(s): the methods default to crown,bab-input (--method crown: CROWN alone)");
        }
        Module model = imported.model();
        ModelSource.requireFinite("ONNX model " + onnx, model);
        model.to(device);
        model.train(false);
        if (accountRounding) model.to(DType.FLOAT64);
        VnnLibCheck check = new VnnLibCheck(model, inputShape, accountRounding);
        long outputs = check.forward(new double[(int) inputs]).length;
        prop.checkFits(property.toString(), inputs, outputs, "the network " + onnx + " (input shape " + shape + ")");
        boolean softmax = imported.notes().stream().anyMatch(n -> n.contains("final Softmax"));
        if (softmax) requireOrderOnly(prop, onnx);
        RunDirectory run = output.create();
        long t0 = System.nanoTime();
        VnnLibCheck.Options options = VnnLibCheck.Options.DEFAULT.withCascade(!noCascade)
                .withBab(search.settings()).withTimeout(timeout == null ? 0 : timeout);
        VnnLibCheck.Result r = check.run(prop, ms, attackSteps, seed, options);
        if (softmax && r.y() != null) {   // Y of the counterexample as the ONNX file computes it: the Softmax of the logits
            r = new VnnLibCheck.Result(r.verdict(), r.cases(), r.x(), softmax(r.y()), r.counterexampleCase(), r.boundSeconds(), r.attackSeconds());
        }
        double wall = (System.nanoTime() - t0) / 1e9;

        System.out.printf(Locale.ROOT, "network %s (input %s, %d outputs), property %s: %d case(s)%n", onnx, shape, outputs, property, prop.cases().size());
        for (Verification.Method m : ms) {
            if (r.given(m) == 0) System.out.printf(Locale.ROOT, "%-12s not run (%s)%n", m, r.verdict() == VnnLibCheck.Verdict.SAT ? "a counterexample ended the check"
                    : r.verdict() == VnnLibCheck.Verdict.TIMEOUT ? "out of time" : "nothing left for it");
            else System.out.printf(Locale.ROOT, "%-12s refuted %d/%d cases given in %.3f s%n", m, r.refuted(m), r.given(m), r.boundSeconds().get(m));
        }
        if (r.attackSeconds() > 0) System.out.printf(Locale.ROOT, "attack       %.3f s%n", r.attackSeconds());
        System.out.printf(Locale.ROOT, "result: %s%s (%.3f s)%n", r.verdict().word(),
                r.verdict() == VnnLibCheck.Verdict.UNSAT ? " (the property holds; sound" + (accountRounding ? ", rounding accounted" : "") + ")"
                        : r.verdict() == VnnLibCheck.Verdict.SAT ? " (counterexample in case " + (r.counterexampleCase() + 1) + ")"
                        : r.verdict() == VnnLibCheck.Verdict.TIMEOUT ? " (after " + timeout + " s: " + r.refutedCases() + "/" + prop.cases().size() + " cases refuted)" : "", wall);

        Map<String, Object> metrics = RunReport.header("vnnlib", device);
        metrics.put("onnx", onnx.toString());
        metrics.put("property", property.toString());
        metrics.put("input_shape", shape);
        metrics.put("outputs", outputs);
        metrics.put("result", r.verdict().word());
        metrics.put("certificate_kind", "sound");
        metrics.put("rounding", VerifyCommand.roundingNote(accountRounding, model.dtype()));
        metrics.put("methods", ms.stream().map(Object::toString).toList());
        metrics.put("cascade", !noCascade);
        if (ms.stream().anyMatch(Verification.Method::searches)) metrics.putAll(search.metrics());
        metrics.put("timeout_seconds", timeout);
        metrics.put("cases_refuted", r.refutedCases());
        Map<String, Object> perMethod = new LinkedHashMap<>();
        for (Verification.Method m : ms) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("given", r.given(m));
            one.put("refuted", r.refuted(m));
            one.put("seconds", r.boundSeconds().getOrDefault(m, 0.0));
            perMethod.put(m.toString(), one);
        }
        metrics.put("per_method", perMethod);
        metrics.put("wall_seconds", wall);
        Map<String, Object> secs = new LinkedHashMap<>();
        r.boundSeconds().forEach((m, s) -> secs.put(m.toString(), s));
        metrics.put("bound_seconds", secs);
        metrics.put("attack_seconds", r.attackSeconds());
        metrics.put("attack_steps", attackSteps);
        metrics.put("seed", seed);
        List<Map<String, Object>> cases = new ArrayList<>();
        for (VnnLibCheck.CaseResult c : r.cases()) {
            VnnLib.Case pc = prop.cases().get(c.index());
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("case", c.index() + 1);
            row.put("constraints", pc.constraints().stream().map(VnnLib.Constraint::atom).toList());
            row.put("refuted", c.refuted());
            if (c.empty()) row.put("empty_input_box", true);
            Map<String, Object> per = new LinkedHashMap<>();
            for (Verification.Method m : ms) {
                if (!c.refutedBy().containsKey(m)) continue;   // not given this case
                Map<String, Object> one = new LinkedHashMap<>();
                int k = c.refutedBy().get(m);
                one.put("refuted_by", k < 0 ? null : k == VnnLibCheck.BY_SEVERAL ? "several: each sub-box by one of the constraints"
                        : pc.constraints().get(k).atom());
                // L_k − d_k: a sound lower bound of −g_k over the box; > 0 refutes g_k ≥ 0 (null: not bounded, bab stopped before it)
                one.put("lower_bound_of_minus_g", toList(c.margins().get(m)));
                per.put(m.toString(), one);
            }
            row.put("by_method", per);
            cases.add(row);
        }
        metrics.put("cases", cases);
        if (r.verdict() == VnnLibCheck.Verdict.SAT) {
            metrics.put("counterexample_case", r.counterexampleCase() + 1);
            metrics.put("counterexample_x", toList(r.x()));
            metrics.put("counterexample_y", toList(r.y()));
            if (softmax) metrics.put("counterexample_y_is", "the ONNX file's outputs: the Softmax of the logits Tikhon bounds");
        }
        run.writeMetrics(metrics);
        run.writeIndex("Tikhon VNN-LIB check", onnx + " against " + property + ": " + r.verdict().word(), metrics);
        if (result != null) writeResult(result, r);
        System.out.println("outputs: " + run.path() + " (metrics.json, index.html)" + (result != null ? ", " + result : ""));
        return 0;
    }

    /**
     * The import dropped a final Softmax, so the bounds are of the logits z, not of Y = softmax(z). A constraint Y_a − Y_b ≥ 0
     * means the same of z (softmax keeps the order of its inputs); any other would not: refused.
     */
    static void requireOrderOnly(VnnLib.Property prop, Path onnx) {
        for (VnnLib.Case c : prop.cases()) {
            for (VnnLib.Constraint g : c.constraints()) {
                long plus = 0, minus = 0, zero = 0;
                for (java.math.BigDecimal v : g.c()) {
                    if (v.compareTo(java.math.BigDecimal.ONE) == 0) plus++;
                    else if (v.compareTo(java.math.BigDecimal.ONE.negate()) == 0) minus++;
                    else if (v.signum() == 0) zero++;
                }
                if (plus != 1 || minus != 1 || zero != g.c().length - 2 || g.d().signum() != 0) {
                    throw new UserError(onnx + " ends in a Softmax, which Tikhon drops (it bounds the logits), and the atom " + g.atom()
                            + " is not a comparison Y_a >= Y_b that the Softmax keeps: export the network without its final Softmax");
                }
            }
        }
    }

    /** softmax(z), computed stably. */
    static double[] softmax(double[] z) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (double v : z) max = Math.max(max, v);
        double[] out = new double[z.length];
        for (int i = 0; i < z.length; i++) sum += out[i] = Math.exp(z[i] - max);
        for (int i = 0; i < z.length; i++) out[i] /= sum;
        return out;
    }

    private static List<Double> toList(double[] v) {
        List<Double> out = new ArrayList<>(v.length);
        for (double d : v) out.add(Double.isNaN(d) ? null : d);
        return out;
    }

    /** VNN-COMP's result file: the verdict, and for sat the assignment ((X_0 v) … (Y_0 w) …). */
    static String resultText(VnnLibCheck.Result r) {
        StringBuilder b = new StringBuilder(r.verdict().word()).append('\n');
        if (r.verdict() == VnnLibCheck.Verdict.SAT) {
            List<String> pairs = new ArrayList<>();
            for (int i = 0; i < r.x().length; i++) pairs.add("(X_" + i + " " + r.x()[i] + ")");
            for (int j = 0; j < r.y().length; j++) pairs.add("(Y_" + j + " " + r.y()[j] + ")");
            b.append('(').append(String.join("\n ", pairs)).append(")\n");
        }
        return b.toString();
    }

    private static void writeResult(Path file, VnnLibCheck.Result r) {
        try {   // atomically (temporary file, then rename), its folder made if missing
            dev.tikhon.io.AtomicFiles.writeString(file, resultText(r));
        } catch (java.io.UncheckedIOException e) {
            throw new UserError("cannot write the result file " + file + ": " + e.getMessage());
        }
    }
}
