package dev.tikhon.certify;

import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One certifier of a {@link CertificationRun}: it certifies a batch of images and gives each one or more named
 * certificates (the columns of {@code certify.csv}), each of a declared {@link Column kind}. A run executes its
 * steps in order on every batch; a step may read the certificates the earlier steps gave the same images (the
 * heat method's Monte Carlo certificate fixes the class its single pass chose).
 *
 * <p>Steps travel to a cluster's executors, so they are {@link java.io.Serializable} and hold no tensors.
 * A one-pass certificate (a Lipschitz margin, a bound propagation) certifies the whole batch in one forward pass;
 * a Monte Carlo certificate goes image by image, deriving its noise from (seed, index) so that results do not
 * depend on the batching.
 */
public interface CertificationStep extends java.io.Serializable {

    /**
     * A certificate column: its name in reports and the guarantee behind its radii.
     *
     * @param alpha the failure probability of a {@link Certificate.Kind#PROBABILISTIC} certificate, 0 otherwise
     */
    record Column(String name, Certificate.Kind kind, double alpha) implements java.io.Serializable {
        public Column {
            if (kind == Certificate.Kind.PROBABILISTIC ? !(alpha > 0 && alpha < 1) : alpha != 0) {
                throw new IllegalArgumentException("certificate '" + name + "': a probabilistic certificate needs 0 < alpha < 1, "
                        + "any other kind alpha 0; got " + kind + " with alpha " + alpha);
            }
        }
    }

    /**
     * What a step says about one image.
     *
     * @param certificates        column name → certificate, for each of the step's {@link #columns()}
     * @param monteCarloPrediction the Monte Carlo majority class where the step sampled one, −1 otherwise
     * @param extras              the step's {@link #extraColumns()} for this image (e.g. a Lipschitz certificate's margin)
     * @param classifySeconds     of a {@link #classifies() classifying} step that also certifies in the same call (a bound
     *                            propagation after its forward pass): the seconds per image of its forward pass alone, which
     *                            the run books as classification and the rest of the step's time as certification; NaN (the
     *                            default): the step's whole time is classification if it classifies, certification otherwise
     */
    record Outcome(Map<String, Certificate> certificates, int monteCarloPrediction, Map<String, Double> extras, double classifySeconds)
            implements java.io.Serializable {
        public Outcome {
            extras = extras == null ? Map.of() : Map.copyOf(extras);
        }

        /** An outcome whose step's time is booked whole ({@link #classifySeconds} NaN). */
        public Outcome(Map<String, Certificate> certificates, int monteCarloPrediction, Map<String, Double> extras) {
            this(certificates, monteCarloPrediction, extras, Double.NaN);
        }

        /** An outcome with no extra columns. */
        public Outcome(Map<String, Certificate> certificates, int monteCarloPrediction) {
            this(certificates, monteCarloPrediction, Map.of());
        }
    }

    /** The certificates it gives each image, in report order. */
    List<Column> columns();

    /**
     * Extra numbers it gives each image beside its certificates (a Lipschitz certificate's margin and constant), by
     * name, in the order of their columns in {@code certify.csv}; none by default.
     */
    default List<String> extraColumns() { return List.of(); }

    /**
     * What it adds to the run's summary, from every image of the run (those of a resumed run included): e.g. the model's
     * Lipschitz bound and how tight it is on the data. Its values go into metrics.json; a value that is a list of maps
     * is also written as a table {@code <key>.csv}, and a string under "note" is printed. Empty by default.
     */
    default Map<String, Object> summary(Module model, long[] inputShape, List<CertificationRun.Image> images) { return Map.of(); }

    /**
     * Whether its time is classification time: a deterministic pass whose class is the image's prediction.
     * Otherwise its time is certification time, and the image's prediction is the first step's first certificate's.
     * A classifying step that also certifies (bound propagation) reports its forward pass's share in
     * {@link Outcome#classifySeconds()}; the rest is then certification time.
     */
    default boolean classifies() { return false; }

    /** Runs once on the driver, untimed, before a local run (JIT, allocator): {@code x} is one image [1, ...]. */
    default void warmUp(Module model, Tensor x) {}

    /**
     * Certifies the images {@code xs} [B, ...] (inputs in [0, 1], on the run's device, inside a Scope).
     *
     * @param indices their positions in the data set (random certifiers derive their noise from these)
     * @param earlier per image, the certificates the earlier steps gave it, by column name
     * @return one outcome per image, in order
     */
    List<Outcome> certify(Module model, Tensor xs, long[] indices, List<Map<String, Certificate>> earlier);

    /**
     * The step of one {@link Certifier} under one column name: the certifier's batch method on each batch.
     * {@code certifier} must be serializable to run in a cluster.
     */
    static CertificationStep of(Column column, Certifier certifier) {
        return new Single(column, certifier);
    }

    /** {@link #of}. */
    record Single(Column column, Certifier certifier) implements CertificationStep {
        @Override public List<Column> columns() { return List.of(column); }

        @Override public List<Outcome> certify(Module model, Tensor xs, long[] indices, List<Map<String, Certificate>> earlier) {
            List<Outcome> out = new ArrayList<>();
            for (Certificate c : certifier.certifyBatch(model, xs, indices)) {
                Map<String, Certificate> m = new LinkedHashMap<>();
                m.put(column.name(), c);
                out.add(new Outcome(m, -1));
            }
            return out;
        }
    }
}
