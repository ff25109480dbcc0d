package dev.tikhon.flow;

import dev.tikhon.UserError;
import dev.tikhon.ode.Method;
import dev.tikhon.ode.SolverOptions;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Everything that defines a flow training run; stored in its checkpoint so that eval, sample and
 * resume rebuild the same model. The groups are stored flat (one JSON object, as before they were grouped).
 *
 * @param method       cnf (maximum likelihood) or ek (entropy–Kantorovich potentials)
 * @param data         a 2-D toy set or an image set
 * @param field        the vector field (or, for ek, the potentials)
 * @param ode          integration time, divergence, training solver and gradient mode
 * @param regularizers the weight of each {@link FlowRegularizer} by name (absent: 0)
 * @param training     iterations, batch, Adam, seed, checkpoint period
 * @param ek           settings of {@code --method ek} (entropy–Kantorovich potentials, docs/methods.md §7); null for cnf. The
 *                     potentials φ, ψ are MLPs with the field's {@code hidden} widths and {@code activation}.
 */
public record FlowConfig(String method, String data, @JsonUnwrapped Field field, @JsonUnwrapped Ode ode,
                         Map<String, Double> regularizers, @JsonUnwrapped Training training, Ek ek) {
    /**
     * The vector field: {@code mlp} (2-D data; hidden widths, activation) or {@code multiscale} (images; conv width
     * {@code channels}, {@code scales} scales).
     */
    public record Field(String model, int[] hidden, String activation, int channels, int scales) {
        /** An MLP field (the multiscale settings at their defaults). */
        public static Field mlp(int[] hidden, String activation) {
            return new Field("mlp", hidden, activation, 64, 2);
        }

        /** A multiscale image field (the MLP settings at their defaults). */
        public static Field multiscale(int channels, int scales) {
            return new Field("multiscale", new int[]{64, 64, 64}, "softplus", channels, scales);
        }

        public boolean mlp() { return "mlp".equals(model); }
    }

    /**
     * The training solver: euler, midpoint, rk4 (fixed step {@code step}) or dopri5 ({@code atol}, {@code rtol}).
     * Stored as {@code solver}, {@code step}, {@code atol}, {@code rtol}.
     */
    public record Solver(@JsonProperty("solver") String name, double step, double atol, double rtol) {
        public Solver {
            options(name, step, atol, rtol);
        }

        public SolverOptions options() { return options(name, step, atol, rtol); }

        private static SolverOptions options(String name, double step, double atol, double rtol) {
            Method m = Method.parse(name);
            return m.adaptive() ? SolverOptions.dopri5(atol, rtol) : SolverOptions.fixed(m, step);
        }
    }

    /** The ODE: integration time T, the divergence estimator, the training solver, and backprop or adjoint gradients. */
    public record Ode(double endTime, String divergence, @JsonUnwrapped Solver solver, String gradient) {
        public Ode {
            if (!(endTime > 0)) throw new UserError("--end-time must be positive, got " + endTime);
            Divergence.parse(divergence);
            parseGradient(gradient);
        }
    }

    /** The optimization: iterations, batch size, Adam learning rate and weight decay, seed, and the checkpoint period. */
    public record Training(int iterations, int batchSize, double lr, double weightDecay, long seed, int checkpointEvery) {
        public Training {
            if (iterations < 1) throw new UserError("--iterations must be at least 1, got " + iterations);
            if (batchSize < 1) throw new UserError("--batch-size must be at least 1, got " + batchSize);
            if (!(lr > 0)) throw new UserError("--lr must be positive, got " + lr);
        }

        /** The same training with another number of iterations. */
        public Training withIterations(int n) {
            return new Training(n, batchSize, lr, weightDecay, seed, checkpointEvery);
        }
    }

    /**
     * The entropy–Kantorovich method: ε, Monte Carlo samples per heat average in training, the twin-penalty
     * weight α, Monte Carlo samples per heat average of the recovered flow (drawn once, fixed), and the form of
     * the dual the ascent differentiates: {@code profiled} (default; E φ + E ψ − ε log ∫π, the dual maximised over
     * the free constant, which is then set exactly after each step) or {@code spec} (E φ + E ψ − ε ∫π + ε as
     * written in docs/methods.md §7, which collapses on the toy sets: docs/ek.md).
     */
    public record Ek(double epsilon, int mcSamples, double alpha, int flowSamples, String dual) {
        /** The CLI names of the two forms; "spec" is the paper's form as written. */
        public static final String PROFILED = "profiled", PAPER = "spec";
        public static final Ek DEFAULTS = new Ek(1.0, 100, 1e-5, 100, PROFILED);

        public Ek(double epsilon, int mcSamples, double alpha, int flowSamples) {
            this(epsilon, mcSamples, alpha, flowSamples, PROFILED);
        }

        public boolean profiled() { return PROFILED.equals(dual); }

        public Ek {
            if (dual == null) dual = PROFILED;
            if (!PROFILED.equals(dual) && !PAPER.equals(dual)) {
                throw new UserError("unknown --dual-form '" + dual + "': use profiled (default) or spec");
            }
            if (!(epsilon > 0)) throw new UserError("--epsilon must be positive, got " + epsilon);
            if (mcSamples < 1 || flowSamples < 1) {
                throw new UserError("--mc-samples and --flow-samples must be at least 1, got " + mcSamples + ", " + flowSamples);
            }
            if (!(alpha >= 0)) throw new UserError("--alpha must be ≥ 0, got " + alpha);
        }
    }

    /** A CNF configuration (no ek settings). */
    public FlowConfig(String method, String data, Field field, Ode ode, Map<String, Double> regularizers, Training training) {
        this(method, data, field, ode, regularizers, training, null);
    }

    /** The weights of RNODE's kinetic (λ_K) and Jacobian (λ_J) terms, by {@link FlowRegularizer} name. */
    public static Map<String, Double> rnode(double kinetic, double jacobian) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put(FlowRegularizer.KINETIC.name(), kinetic);
        m.put(FlowRegularizer.JACOBIAN.name(), jacobian);
        return m;
    }

    /** The same configuration with another number of iterations. */
    public FlowConfig withIterations(int n) {
        return new FlowConfig(method, data, field, ode, regularizers, training.withIterations(n), ek);
    }

    /**
     * Reads the flat stored form. Checkpoints and metrics written before flow regularizers were named stored λ_K, λ_J as
     * regKinetic, regJacobian.
     */
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    static FlowConfig fromJson(@JsonProperty("method") String method, @JsonProperty("data") String data, @JsonProperty("model") String model,
                               @JsonProperty("hidden") int[] hidden, @JsonProperty("activation") String activation,
                               @JsonProperty("channels") int channels, @JsonProperty("scales") int scales, @JsonProperty("endTime") double endTime,
                               @JsonProperty("divergence") String divergence, @JsonProperty("solver") String solver, @JsonProperty("step") double step,
                               @JsonProperty("atol") double atol, @JsonProperty("rtol") double rtol, @JsonProperty("gradient") String gradient,
                               @JsonProperty("regularizers") Map<String, Double> regularizers,
                               @JsonProperty("regKinetic") Double regKinetic, @JsonProperty("regJacobian") Double regJacobian,
                               @JsonProperty("iterations") int iterations, @JsonProperty("batchSize") int batchSize, @JsonProperty("lr") double lr,
                               @JsonProperty("weightDecay") double weightDecay, @JsonProperty("seed") long seed,
                               @JsonProperty("checkpointEvery") int checkpointEvery, @JsonProperty("ek") Ek ek) {
        Map<String, Double> regs = regularizers != null ? regularizers
                : rnode(regKinetic == null ? 0 : regKinetic, regJacobian == null ? 0 : regJacobian);
        return new FlowConfig(method, data, new Field(model, hidden, activation, channels, scales),
                new Ode(endTime, divergence, new Solver(solver, step, atol, rtol), gradient), regs,
                new Training(iterations, batchSize, lr, weightDecay, seed, checkpointEvery), ek);
    }

    /** The weight of a flow regularizer (0 when absent). */
    public double weight(FlowRegularizer r) {
        return r.weight(regularizers);
    }

    public boolean methodIsEk() { return "ek".equals(method); }

    public FlowConfig {
        if (!"cnf".equals(method) && !"ek".equals(method)) {
            throw new UserError("unknown flow method '" + method + "': use cnf (maximum likelihood) or ek (entropy–Kantorovich potentials)");
        }
        if ("ek".equals(method)) {
            if (ek == null) ek = Ek.DEFAULTS;
            if (!field.mlp() || !Flows.isToy(data)) {
                // the sets by name: "not foo with mlp" left a misspelt --data to guess at
                throw new UserError("--method ek takes the 2-D toy sets (" + String.join(", ", dev.tikhon.data.ToyData.NAMES)
                        + ") with --model mlp, not --data " + data + " with --model " + field.model());
            }
            if (!"exact".equals(ode.divergence())) throw new UserError("--method ek evaluates with the exact divergence: drop --divergence");
        } else {
            ek = null;
        }
        Map<String, Double> regs = new LinkedHashMap<>();
        for (FlowRegularizer r : FlowRegularizer.ALL) regs.put(r.name(), regularizers == null ? 0.0 : r.weight(regularizers));
        if (regularizers != null) {
            for (Map.Entry<String, Double> e : regularizers.entrySet()) {
                if (!regs.containsKey(e.getKey())) {
                    throw new UserError("unknown flow regularizer '" + e.getKey() + "': use " + String.join(", ", FlowRegularizer.names()));
                }
                if (e.getValue() == null || !(e.getValue() >= 0)) {
                    throw new UserError("the weight of the " + e.getKey() + " regularizer (--reg-" + e.getKey() + ") must be ≥ 0, got " + e.getValue());
                }
            }
        }
        regularizers = Collections.unmodifiableMap(regs);
    }

    public SolverOptions trainingSolver() { return ode.solver().options(); }

    /**
     * The settings this run reads, flat as stored, for metrics.json and the report: an EK flow leaves out the CNF's ODE, solver,
     * divergence, gradient, regularizers and conv widths; an mlp field its channels and scales, a multiscale one its hidden widths
     * and activation; a fixed-step solver atol and rtol, Dopri5 its step. (The checkpoint keeps every field: loading needs them.)
     */
    public Map<String, Object> applicable() {
        @SuppressWarnings("unchecked")
        Map<String, Object> all = dev.tikhon.report.Json.mapper().convertValue(this, LinkedHashMap.class);
        List<String> drop = new ArrayList<>();
        if (methodIsEk()) {
            drop.addAll(List.of("channels", "scales", "endTime", "divergence", "solver", "step", "atol", "rtol", "gradient", "regularizers"));
        } else {
            drop.add("ek");
            drop.addAll(field.mlp() ? List.of("channels", "scales") : List.of("hidden", "activation"));
            drop.addAll(Method.parse(ode.solver().name()).adaptive() ? List.of("step") : List.of("atol", "rtol"));
        }
        drop.forEach(all::remove);
        return all;
    }

    public ContinuousFlow.Gradient gradientMode() { return parseGradient(ode.gradient()); }

    static ContinuousFlow.Gradient parseGradient(String gradient) {
        switch (gradient.toLowerCase(Locale.ROOT)) {
            case "backprop": return ContinuousFlow.Gradient.BACKPROP;
            case "adjoint": return ContinuousFlow.Gradient.ADJOINT;
            default: throw new UserError("unknown --gradient '" + gradient + "': use backprop or adjoint");
        }
    }

    private String weights() {
        List<String> w = new ArrayList<>();
        for (FlowRegularizer r : FlowRegularizer.ALL) w.add(r.symbol() + " " + weight(r));
        return String.join(", ", w);
    }

    public String describe() {
        Training t = training;
        if (methodIsEk()) {
            return String.format(Locale.ROOT, "ek on %s: potentials φ, ψ MLP %s %s, ε %s, %d Monte Carlo samples (flow: %d), α %s, "
                            + "%s dual, %d iterations of batch %d, Adam lr %s, seed %d", data, Arrays.toString(field.hidden()), field.activation(),
                    ek.epsilon(), ek.mcSamples(), ek.flowSamples(), ek.alpha(), ek.dual(), t.iterations(), t.batchSize(), t.lr(), t.seed());
        }
        return String.format(Locale.ROOT, "%s on %s: %s field %s, T %s, divergence %s, solver %s, gradient %s, "
                        + "%s, %d iterations of batch %d, Adam lr %s, seed %d",
                method, data, field.model(), field.mlp() ? Arrays.toString(field.hidden()) + " " + field.activation()
                        : field.channels() + " channels × " + field.scales() + " scales",
                ode.endTime(), ode.divergence(), trainingSolver().describe(), ode.gradient(), weights(), t.iterations(), t.batchSize(), t.lr(),
                t.seed());
    }
}
