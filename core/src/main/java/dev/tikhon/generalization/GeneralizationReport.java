package dev.tikhon.generalization;

import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.loss.Loss;
import dev.tikhon.nn.Module;
import dev.tikhon.regularize.GradientNorms;
import dev.tikhon.train.Evaluator;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The generalization gap of a trained classifier beside its measured Lipschitz constants and the
 * data set's (docs/methods.md §9, "Generalization: compare train/test gap against measured Lipschitz
 * constants"; the theory of Oberman &amp; Calder bounds the gap of a Lipschitz-regularized model by
 * its Lipschitz constant). Train and test: accuracy and cross-entropy; the model's constant as the
 * max over each split of ‖∇ₓ softmax f‖₂ (comparable with the data's one-hot constant) and of
 * ‖∇ₓℓ‖₂ for the loss it was trained with; the data's constant from {@link DataLipschitz}.
 */
public record GeneralizationReport(Evaluator.Result train, Evaluator.Result test, ModelLipschitz modelTrain,
                                   ModelLipschitz modelTest, GradientNorms lossTrain, GradientNorms lossTest,
                                   DataLipschitz.Result data) {

    /**
     * @param trainSet  the training set (or the subset to measure on)
     * @param data      the data set's constant, computed beforehand (it is the expensive part)
     */
    public static GeneralizationReport measure(Module model, Loss loss, Dataset trainSet, Dataset testSet,
                                               DataLipschitz.Result data, int batchSize, Device device) {
        Evaluator.Result tr = Evaluator.evaluate(model, trainSet, batchSize, device);
        Evaluator.Result te = Evaluator.evaluate(model, testSet, batchSize, device);
        ModelLipschitz mtr = ModelLipschitz.measure(model, trainSet, batchSize, device);
        ModelLipschitz mte = ModelLipschitz.measure(model, testSet, batchSize, device);
        GradientNorms gtr = GradientNorms.measure(model, trainSet, batchSize, device, loss);
        GradientNorms gte = GradientNorms.measure(model, testSet, batchSize, device, loss);
        return new GeneralizationReport(tr, te, mtr, mte, gtr, gte, data);
    }

    public double accuracyGap() { return train.accuracy() - test.accuracy(); }

    public double lossGap() { return test.loss() - train.loss(); }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("train_acc", train.accuracy());
        m.put("test_acc", test.accuracy());
        m.put("accuracy_gap", accuracyGap());
        m.put("train_loss", train.loss());
        m.put("test_loss", test.loss());
        m.put("loss_gap", lossGap());
        m.put("model_lipschitz_softmax_train", modelTrain.toMap());
        m.put("model_lipschitz_softmax_test", modelTest.toMap());
        m.put("loss_gradient_norms_train", lossTrain.toMap());
        m.put("loss_gradient_norms_test", lossTest.toMap());
        m.put("data_lipschitz", data.toMap());
        m.put("model_over_data_lipschitz_one_hot", Math.max(modelTrain.max(), modelTest.max()) / data.lipschitzOneHot());
        return m;
    }
}
