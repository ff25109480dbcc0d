package dev.tikhon.generalization;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.loss.Loss;
import dev.tikhon.nn.Module;
import dev.tikhon.regularize.GradientNorms;
import dev.tikhon.train.Evaluator;

/**
 * The generalization gap of a trained classifier beside its measured Lipschitz constants and the
 * data set's (docs/methods.md §9, "Generalization: compare train/test gap against measured Lipschitz
 * constants"; the theory of Oberman &amp; Calder bounds the gap of a Lipschitz-regularized model by
 * its Lipschitz constant). Train and test: accuracy and cross-entropy; the model's constant as the
 * max over each split of ‖∇ₓ softmax f‖₂ (comparable with the data's one-hot constant) and of
 * ‖∇ₓℓ‖₂ for the loss it was trained with; the data's constant from {@link DataLipschitz}.
 */
@JsonPropertyOrder({"train_acc", "test_acc", "accuracy_gap", "train_loss", "test_loss", "loss_gap", "model_lipschitz_softmax_train",
        "model_lipschitz_softmax_test", "loss_gradient_norms_train", "loss_gradient_norms_test", "data_lipschitz",
        "model_over_data_lipschitz_one_hot", "kinds"})
public record GeneralizationReport(@JsonIgnore Evaluator.Result train, @JsonIgnore Evaluator.Result test,
                                   @JsonProperty("model_lipschitz_softmax_train") ModelLipschitz modelTrain,
                                   @JsonProperty("model_lipschitz_softmax_test") ModelLipschitz modelTest,
                                   @JsonProperty("loss_gradient_norms_train") GradientNorms lossTrain,
                                   @JsonProperty("loss_gradient_norms_test") GradientNorms lossTest,
                                   @JsonProperty("data_lipschitz") DataLipschitz.Result data) {

    /**
     * @param trainSet  the training set (or the subset to measure on)
     * @param data      the data set's constant, computed beforehand (it is the expensive part)
     */
    public static GeneralizationReport measure(Module model, Loss loss, Dataset trainSet, Dataset testSet,
                                               DataLipschitz.Result data, int batchSize, Device device) {
        try (dev.tikhon.report.Progress p = dev.tikhon.report.Progress.start("generalization (6 passes)", 6)) {
            Evaluator.Result tr = step(p, "evaluated train", Evaluator.evaluate(model, trainSet, batchSize, device));
            Evaluator.Result te = step(p, "evaluated test", Evaluator.evaluate(model, testSet, batchSize, device));
            ModelLipschitz mtr = step(p, "model Lipschitz, train", ModelLipschitz.measure(model, trainSet, batchSize, device));
            ModelLipschitz mte = step(p, "model Lipschitz, test", ModelLipschitz.measure(model, testSet, batchSize, device));
            GradientNorms gtr = step(p, "loss gradients, train", GradientNorms.measure(model, trainSet, batchSize, device, loss));
            GradientNorms gte = step(p, "loss gradients, test", GradientNorms.measure(model, testSet, batchSize, device, loss));
            return new GeneralizationReport(tr, te, mtr, mte, gtr, gte, data);
        }
    }

    private static <T> T step(dev.tikhon.report.Progress p, String done, T result) {
        p.setExtra(done);
        p.step();
        return result;
    }

    @JsonProperty("accuracy_gap") public double accuracyGap() { return train.accuracy() - test.accuracy(); }

    @JsonProperty("loss_gap") public double lossGap() { return test.loss() - train.loss(); }

    @JsonProperty("train_acc") double trainAccuracy() { return train.accuracy(); }

    @JsonProperty("test_acc") double testAccuracy() { return test.accuracy(); }

    @JsonProperty("train_loss") double trainLoss() { return train.loss(); }

    @JsonProperty("test_loss") double testLoss() { return test.loss(); }

    /**
     * What each measured constant is: every one is a maximum over the points measured, so a lower bound of the constant
     * over all inputs (the data's is exact over its points unless they are a subset), and their ratio bounds nothing.
     */
    @JsonProperty("kinds") java.util.Map<String, String> kinds() {
        java.util.Map<String, String> k = new java.util.LinkedHashMap<>();
        k.put("model_lipschitz_softmax", "empirical lower bound: the largest spectral norm of ∂ softmax f/∂x over the measured points");
        k.put("loss_gradient_norms", "empirical: norms of ∂ℓ/∂x at the measured points");
        k.put("data_lipschitz", data.subsampled() ? "lower bound: exact over a random subset of the training points"
                : "exact over the measured training points");
        k.put("model_over_data_lipschitz_one_hot", "ratio of two measured constants (lower bounds): an indication, not a bound");
        return k;
    }

    /** The largest measured Jacobian norm over the data's constant (one-hot labels): a ratio of lower bounds, see {@link #kinds}. */
    @JsonProperty("model_over_data_lipschitz_one_hot") public double modelOverData() {
        return Math.max(modelTrain.max(), modelTest.max()) / data.lipschitzOneHot();
    }
}
