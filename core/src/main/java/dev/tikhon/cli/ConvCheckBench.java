package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.engine.ConvSweep;
import dev.tikhon.engine.Engine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/**
 * {@code tikhon bench conv-check}: float32 convolution outputs and gradients against float64 over a sweep of
 * shapes, thread counts, memory formats and oneDNN ISA caps (docs/engine.md). oneDNN reads
 * {@code ONEDNN_MAX_CPU_ISA} once per process, so each cap runs in a child JVM of its own.
 */
@Command(name = "conv-check", mixinStandardHelpOptions = true,
        description = {"Compare float32 conv2d outputs, weight gradients and input gradients with float64 over a sweep of shapes,",
                "at each oneDNN ISA cap (one child process each), thread count and memory format (NCHW, channels-last).",
                "Prints one JSON line per (ISA, format, threads) with the worst errors and the failing shapes."})
final class ConvCheckBench implements Callable<Integer> {
    static final double TOLERANCE = 1e-4;

    @Option(names = "--isa", split = ",", defaultValue = "AVX,AVX2,AVX512_CORE",
            description = "oneDNN ISA caps (ONEDNN_MAX_CPU_ISA values; 'default' = none). Default: ${DEFAULT-VALUE}.")
    List<String> isas;

    @Option(names = "--threads", split = ",", defaultValue = "1,2", description = "Thread counts. Default: ${DEFAULT-VALUE}.")
    int[] threads;

    @Option(names = "--in", split = ",", defaultValue = "1,3,8,9,16,32,64", description = "Input channels. Default: ${DEFAULT-VALUE}.")
    int[] in;

    @Option(names = "--out-channels", split = ",", defaultValue = "4,16,64", description = "Output channels. Default: ${DEFAULT-VALUE}.")
    int[] outChannels;

    @Option(names = "--kernel", split = ",", defaultValue = "3,5", description = "Kernel sizes. Default: ${DEFAULT-VALUE}.")
    int[] kernel;

    @Option(names = "--stride", split = ",", defaultValue = "1,2", description = "Strides. Default: ${DEFAULT-VALUE}.")
    int[] stride;

    @Option(names = "--padding", split = ",", defaultValue = "0,1,2", description = "Paddings. Default: ${DEFAULT-VALUE}.")
    int[] padding;

    @Option(names = "--batch", split = ",", defaultValue = "1,8,128", description = "Batch sizes. Default: ${DEFAULT-VALUE}.")
    int[] batch;

    @Option(names = "--side", defaultValue = "10", description = "Input height and width. Default: ${DEFAULT-VALUE}.")
    int side;

    @Option(names = "--format", split = ",", defaultValue = "nchw,channels-last", description = "Memory formats. Default: ${DEFAULT-VALUE}.")
    List<String> formats;

    @Option(names = "--seed", defaultValue = "20261204", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--child", hidden = true, description = "Run the sweep in this process (at its ISA cap) and print one JSON line per shape.")
    boolean child;

    @Override public Integer call() throws Exception {
        for (String f : formats) {
            if (!f.equals("nchw") && !f.equals("channels-last")) throw new dev.tikhon.UserError("--format: nchw or channels-last, got " + f);
        }
        if (Arrays.stream(kernel).noneMatch(k -> Arrays.stream(padding).anyMatch(p -> side + 2 * p >= k))) {
            throw new dev.tikhon.UserError("no shape to check: every --kernel is larger than --side " + side
                    + " plus twice the largest --padding; raise --side or --padding, or give a smaller --kernel");
        }
        if (child) return runChild();
        ObjectMapper json = new ObjectMapper();
        for (String isa : isas) {
            List<JsonNode> rows = childRows(isa);
            // (format, threads) -> summary
            Map<String, Map<String, Object>> summaries = new TreeMap<>();
            for (JsonNode r : rows) {
                String key = r.get("format").asText() + "/" + r.get("threads").asInt();
                Map<String, Object> s = summaries.computeIfAbsent(key, k -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("benchmark", "conv-check");
                    m.put("isa_cap", isa);
                    m.put("format", r.get("format").asText());
                    m.put("threads", r.get("threads").asInt());
                    m.put("shapes", 0);
                    m.put("wrong", 0);
                    m.put("nan", 0);
                    m.put("worst_input_grad_rel", 0.0);
                    m.put("worst_input_grad_abs", 0.0);
                    m.put("worst_forward_rel", 0.0);
                    m.put("worst_weight_grad_rel", 0.0);
                    m.put("wrong_by_in_channels", new TreeMap<Integer, Integer>());
                    m.put("first_wrong", new ArrayList<String>());
                    return m;
                });
                s.put("shapes", (int) s.get("shapes") + 1);
                double ig = r.get("input_grad_rel").asDouble(), fw = r.get("forward_rel").asDouble(), wg = r.get("weight_grad_rel").asDouble();
                boolean nan = Double.isNaN(ig) || Double.isNaN(fw) || Double.isNaN(wg);
                s.put("worst_input_grad_rel", worse((double) s.get("worst_input_grad_rel"), ig));
                s.put("worst_input_grad_abs", worse((double) s.get("worst_input_grad_abs"), r.get("input_grad_abs").asDouble()));
                s.put("worst_forward_rel", worse((double) s.get("worst_forward_rel"), fw));
                s.put("worst_weight_grad_rel", worse((double) s.get("worst_weight_grad_rel"), wg));
                if (nan) s.put("nan", (int) s.get("nan") + 1);
                if (nan || Math.max(ig, Math.max(fw, wg)) > TOLERANCE) {
                    s.put("wrong", (int) s.get("wrong") + 1);
                    @SuppressWarnings("unchecked") Map<Integer, Integer> byIn = (Map<Integer, Integer>) s.get("wrong_by_in_channels");
                    byIn.merge(r.get("in").asInt(), 1, Integer::sum);
                    @SuppressWarnings("unchecked") List<String> first = (List<String>) s.get("first_wrong");
                    if (first.size() < 5) first.add(r.get("shape").asText() + String.format(" (fwd %.1e, wgrad %.1e, igrad %.1e)", fw, wg, ig));
                }
            }
            for (Map<String, Object> s : summaries.values()) System.out.println(json.writeValueAsString(s));
        }
        return 0;
    }

    private static double worse(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b);
    }

    /** Runs this command with --child in a JVM whose ONEDNN_MAX_CPU_ISA is {@code isa}; returns its JSON lines. */
    private List<JsonNode> childRows(String isa) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx2g", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "bench", "conv-check", "--child",
                "--threads", join(threads), "--in", join(in), "--out-channels", join(outChannels), "--kernel", join(kernel),
                "--stride", join(stride), "--padding", join(padding), "--batch", join(batch), "--side", String.valueOf(side),
                "--format", String.join(",", formats), "--seed", String.valueOf(seed)));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        if (isa.equalsIgnoreCase("default")) pb.environment().remove("ONEDNN_MAX_CPU_ISA");
        else pb.environment().put("ONEDNN_MAX_CPU_ISA", isa);
        Process p = pb.start();
        List<JsonNode> rows = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("{")) rows.add(json.readTree(line));
            }
        }
        int rc = p.waitFor();
        if (rc != 0) throw new IllegalStateException("conv-check child at ONEDNN_MAX_CPU_ISA=" + isa + " exited with " + rc);
        return rows;
    }

    private static String join(int[] v) {
        return String.join(",", Arrays.stream(v).mapToObj(String::valueOf).toList());
    }

    private int runChild() throws Exception {
        List<ConvSweep.Shape> shapes = new ArrayList<>();
        for (int b : batch) for (int c : in) for (int o : outChannels) for (int k : kernel) for (int s : stride) for (int p : padding) {
            if (side + 2 * p >= k) shapes.add(new ConvSweep.Shape(c, o, k, s, p, b, side));
        }
        Engine.init();
        String cap = ConvSweep.isaCap();
        ObjectMapper json = new ObjectMapper();
        for (ConvSweep.Result r : ConvSweep.run(shapes, threads, formats.contains("nchw"), formats.contains("channels-last"), seed)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("isa_cap", cap);
            m.put("format", r.channelsLast() ? "channels-last" : "nchw");
            m.put("threads", r.threads());
            m.put("in", r.shape().in());
            m.put("shape", r.shape().toString());
            m.put("forward_rel", r.forwardRel());
            m.put("weight_grad_rel", r.weightGradRel());
            m.put("input_grad_rel", r.inputGradRel());
            m.put("input_grad_abs", r.inputGradAbs());
            System.out.println(json.writeValueAsString(m));
        }
        return 0;
    }
}
