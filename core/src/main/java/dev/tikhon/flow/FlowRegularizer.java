package dev.tikhon.flow;

import dev.tikhon.engine.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A regularizer of a continuous normalizing flow: one augmented-state term, a per-example rate integrated along
 * the trajectory beside z and Δlog p (so its integral costs no extra solve), whose batch mean enters the training
 * loss with a weight. RNODE's two (Finlay et al. 2020) are the instances {@link #KINETIC} and {@link #JACOBIAN};
 * {@link #ALL} lists every term in the order of the augmented state, and the dynamics integrate all of them (a
 * term with weight 0 is still reported). Adding a flow regularizer is one instance here and one entry in
 * {@link #ALL}; {@code FlowConfig} takes its weight by name.
 *
 * @param name   its name in configurations, histories and reports
 * @param symbol its weight's symbol in descriptions
 * @param rate   its per-example rate at one evaluation of the dynamics
 */
public record FlowRegularizer(String name, String symbol, Rate rate) {

    /**
     * What a rate may read at one evaluation of the dynamics.
     *
     * @param z                 the state [N, …]
     * @param velocity          f(z, t) [N, …]
     * @param jacobianFrobenius ‖∂f/∂z‖²_F / d per example [N], exact or Hutchinson-estimated, a by-product of the
     *                          divergence pass
     */
    public record Inputs(Tensor z, Tensor velocity, Tensor jacobianFrobenius) {}

    /** A per-example rate [N]. */
    @FunctionalInterface
    public interface Rate {
        Tensor perExample(Inputs in);
    }

    /** Kinetic energy: Ė = ½ · mean_d f². */
    public static final FlowRegularizer KINETIC = new FlowRegularizer("kinetic", "λ_K",
            in -> CnfDynamics.perExampleMean(in.velocity().square()).mul(0.5));

    /** Jacobian Frobenius norm: ṅ = ‖∂f/∂z‖²_F / d (Hutchinson: mean_d (εᵀ∂f/∂z)²). */
    public static final FlowRegularizer JACOBIAN = new FlowRegularizer("jacobian", "λ_J", Inputs::jacobianFrobenius);

    /** Every flow regularizer, in the order of the augmented state (z, Δlog p, then these). */
    public static final List<FlowRegularizer> ALL = List.of(KINETIC, JACOBIAN);

    /** The names of {@link #ALL}. */
    public static List<String> names() {
        return ALL.stream().map(FlowRegularizer::name).toList();
    }

    /** The weight of this term in {@code weights} (0 when absent). */
    public double weight(Map<String, Double> weights) {
        Double w = weights.get(name);
        return w == null ? 0 : w;
    }

    /** {@code base} + Σ weight · mean(term) over {@link #ALL}, in order; {@code terms} are per-example integrals [N]. */
    public static Tensor penalized(Tensor base, List<Tensor> terms, Map<String, Double> weights) {
        Tensor loss = base;
        for (int i = 0; i < ALL.size(); i++) loss = loss.add(terms.get(i).mean().mul(ALL.get(i).weight(weights)));
        return loss;
    }

    /** Each tensor detached. */
    static List<Tensor> detached(List<Tensor> terms) {
        List<Tensor> out = new ArrayList<>(terms.size());
        for (Tensor t : terms) out.add(t.detach());
        return out;
    }
}
