package example;

import dev.tikhon.attack.Apgd;
import dev.tikhon.attack.Attack;
import dev.tikhon.attack.AttackLoss;
import dev.tikhon.attack.Norm;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import dev.tikhon.train.DataInfo;
import dev.tikhon.train.TrainConfig;
import dev.tikhon.train.Trainer;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The README's "From Java" program, as a library user's code: arguments are the data set, the epochs and the run
 * directory (the README uses fashion-mnist, 3 epochs, runs/cnn).
 */
public final class FromJava {
    private FromJava() {}

    public static double run(String dataName, int epochs, Path out) {
        DataSets.Loaded data = DataSets.load(dataName, null, System.getenv(), 0);
        ModelSpec spec = Models.spec("cnn", List.of(1L, 28L, 28L), 10, Map.of());
        TrainConfig config = TrainConfig.builder().epochs(epochs).lr(0.05).seed(0).build();   // .objective(...) names a regularizer
        Trainer trainer = Trainer.builder(spec, config)
                .train(data.train()).test(data.test())
                .data(new DataInfo(dataName, null, data.description()))
                .device(Device.CPU).out(out)
                .build();
        Trainer.Outcome outcome = trainer.run(false);
        System.out.println("test accuracy " + outcome.test().accuracy());
        return outcome.test().accuracy();
    }

    /**
     * The README's attack snippet: APGD-CE at ε = 8/255 on the first 64 test images, in a scope, returning how many it
     * broke (and, in {@code clean}, how many the model got right before).
     */
    public static int attack(Module model, String dataName, int[] clean) {
        Dataset test = DataSets.load(dataName, null, System.getenv(), 0).test().head(1000);
        Tensor index = Tensor.arange(64, DType.INT64, Device.CPU);
        try (Scope s = Scope.open()) {
            Tensor x = test.batchInputs(index), y = test.batchLabels(index);
            clean[0] = (int) model.forward(x).argmax(1).eq(y).sum().item();
            Attack.Result r = new Apgd(Norm.LINF, 8.0 / 255, 100, AttackLoss.CE, 1).attack(model, x, y);   // r.success(), r.distance()
            return r.successes();
        }
    }

    public static void main(String[] args) {
        run(args.length > 0 ? args[0] : "fashion-mnist", args.length > 1 ? Integer.parseInt(args[1]) : 3,
                Path.of(args.length > 2 ? args[2] : "runs/cnn"));
    }
}
