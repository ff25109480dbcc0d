package example;

import dev.tikhon.data.DataSets;
import dev.tikhon.engine.Device;
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

    public static void main(String[] args) {
        run(args.length > 0 ? args[0] : "fashion-mnist", args.length > 1 ? Integer.parseInt(args[1]) : 3,
                Path.of(args.length > 2 ? args[2] : "runs/cnn"));
    }
}
