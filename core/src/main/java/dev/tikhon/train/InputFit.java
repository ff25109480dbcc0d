package dev.tikhon.train;

import dev.tikhon.UserError;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.models.ModelSpec;

import java.util.Arrays;

/**
 * Whether a model can take a data set, checked before the first forward pass, so that a model evaluated on data of
 * another shape (a CNN checkpoint on a 2-D toy set, an MLP on images of another size) is a one-line error naming
 * both shapes, not a libtorch message and a stack trace from deep inside an evaluation.
 *
 * <p>A Tikhon checkpoint records its input shape and class count, so the check is a comparison. A TorchScript
 * file records neither; it is probed with one example of the data (a forward pass without gradients), which
 * also finds its number of outputs.
 */
public final class InputFit {
    private InputFit() {}

    /**
     * Checks that {@code model}, described by {@code spec} (null when unknown, as for a TorchScript file), takes the
     * examples of {@code data} and scores exactly its classes; a {@link UserError} naming {@code modelName},
     * {@code dataName} and the two shapes otherwise.
     */
    public static void check(Module model, ModelSpec spec, Dataset data, String modelName, String dataName, Device device) {
        check(model, spec, data, modelName, dataName, device, null);
    }

    /**
     * The same, ending a shape mismatch with {@code remedy} (e.g. the image size to resize a folder to) instead of
     * "pass the data the model was trained on" when not null.
     */
    public static void check(Module model, ModelSpec spec, Dataset data, String modelName, String dataName, Device device,
                             String remedy) {
        check(model, spec, data, modelName, dataName, device, remedy, null);
    }

    /**
     * The same, ending every mismatch (shape, classes, a forward pass that fails) with {@code fix} when not null: for a
     * model that is not the one the data were chosen for (attack --transfer-from), where other --data is not the way out.
     */
    public static void check(Module model, ModelSpec spec, Dataset data, String modelName, String dataName, Device device,
                             String remedy, String fix) {
        if (fix != null) remedy = fix;
        long[] dataShape = data.inputShape();
        if (spec != null && spec.inputShape() != null && !spec.inputShape().isEmpty()) {
            long[] modelShape = spec.inputShape().stream().mapToLong(Long::longValue).toArray();
            if (!Arrays.equals(modelShape, dataShape)) {
                throw new UserError(modelName + " takes inputs of shape " + Arrays.toString(modelShape) + " but " + dataName
                        + " has examples of shape " + Arrays.toString(dataShape) + "; "
                        + (remedy != null ? remedy : "pass the data the model was trained on (--data)"));
            }
            requireClasses(spec.numClasses(), data, modelName, dataName, fix);
            return;
        }
        long outputs = probe(model, data, modelName, dataName, device, fix);
        requireClasses(outputs, data, modelName, dataName, fix);
    }

    /** The number of outputs of one forward pass on the first example of {@code data}; a {@link UserError} when it fails. */
    static long probe(Module model, Dataset data, String modelName, String dataName, Device device) {
        return probe(model, data, modelName, dataName, device, null);
    }

    private static long probe(Module model, Dataset data, String modelName, String dataName, Device device, String fix) {
        if (data.size() == 0) throw new UserError(dataName + " has no examples");
        boolean wasTraining = model.isTraining();
        model.train(false);
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            Tensor x = data.batchInputs(Tensor.fromLongs(new long[]{0}, 1)).to(device).to(model.dtype());   // a model in float64 (--account-rounding) too
            Tensor out = model.forward(x);
            if (out.dim() != 2 || out.size(0) != 1) {
                throw new UserError(modelName + " returned outputs of shape " + Arrays.toString(out.shape()) + " for one example of "
                        + dataName + " (shape " + Arrays.toString(data.inputShape()) + "); it must return logits [N, classes]");
            }
            return out.size(1);
        } catch (UserError e) {
            throw e;
        } catch (RuntimeException e) {
            String first = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
            throw new UserError(modelName + " cannot take the examples of " + dataName + " (shape " + Arrays.toString(data.inputShape())
                    + ", batched, " + valuesOf(data) + "): " + first + "; " + (fix != null ? fix : "pass the data the model was made for (--data)"), e);
        } finally {
            model.train(wasTraining);
        }
    }

    /** What the examples a model is given hold: pixels in [0, 1], or a toy set's points as generated (not in [0, 1]). */
    public static String valuesOf(Dataset data) {
        return data.isImages() ? "float32 in [0,1]" : "float32 points, not scaled to [0,1]";
    }

    private static void requireClasses(long outputs, Dataset data, String modelName, String dataName, String fix) {
        // fewer: labels the model cannot score; more: predictions the data has no class for (confusion matrices, margins
        // and certificates would all be sized wrong), and the data's class 0 need not be the model's
        if (outputs != data.numClasses()) {
            throw new UserError(modelName + " scores " + outputs + " classes but " + dataName + " has " + data.numClasses()
                    + "; " + (fix != null ? fix : "pass the data the model was trained on (--data), with all of its classes"));
        }
    }
}
