package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.nn.Module;
import dev.tikhon.onnx.OnnxExport;
import dev.tikhon.onnx.OnnxImport;
import dev.tikhon.train.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon export}: a checkpoint as an ONNX model, for ONNX Runtime or any other runtime. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Write a Tikhon model (mlp, cnn, resnet, farkas-resnet, heat-smoothed or not, or a retrained ONNX import) as an "
                + "ONNX model (opset 13) taking input [N,C,H,W] and returning logits [N,K]; the file is read back and compared before "
                + "the command ends. See docs/interop.md."})
final class ExportCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", paramLabel = "PATH", required = true, description = "A checkpoint.tkn, or the run directory that holds it.")
    Path checkpoint;

    @Option(names = "--onnx", paramLabel = "FILE", required = true, description = "The ONNX file to write (atomically).")
    Path onnx;

    @Override public Integer call() {
        if (Files.isDirectory(onnx)) throw new UserError("--onnx " + onnx + " is a directory: name the .onnx file to write");
        Checkpoint.Loaded ck = Checkpoint.load(checkpoint);
        ModelSpec spec = ck.meta().model();
        if (spec.arch().equals(ModelSource.TORCHSCRIPT)) {
            throw new UserError(checkpoint + " holds a TorchScript model, which Tikhon cannot see into: export it from PyTorch "
                    + "(torch.onnx.export) instead");
        }
        Map<String, Path> reads = new LinkedHashMap<>();
        reads.put("the checkpoint exported", Checkpoint.fileIn(checkpoint, Checkpoint.FILE_NAME));
        Object imported = spec.options().get("file");   // a retrained ONNX import reads its layers from that file
        if (spec.arch().equals(ModelSource.ONNX) && imported != null) reads.put("the ONNX file its model was imported from", Path.of(imported.toString()));
        RunFolder.refuseOverwriteOfInput("--onnx", onnx, reads);
        Module m = ModelSource.builder(spec).get();
        m.loadStateDict(ck.model());
        Checkpoint.requireFinite(Checkpoint.fileIn(checkpoint, Checkpoint.FILE_NAME), m);
        m.train(false);
        OnnxExport.write(m, spec.inputShape(), onnx);
        double worst = roundTrip(m, spec);
        String objective = ck.meta().objective();
        System.out.println("model: " + spec.arch() + " " + spec.options() + (objective == null || objective.isEmpty() ? "" : " (trained with " + objective + ")"));
        System.out.printf("wrote: %s (%d bytes, ONNX opset %d, input [N, %s], logits [N, %d]); read back: max |Δ logit| %.1e on 4 random inputs%n",
                onnx, sizeOf(onnx), OnnxExport.OPSET, spec.inputShape().stream().map(String::valueOf).reduce((a, b) -> a + ", " + b).orElse(""),
                spec.numClasses(), worst);
        return 0;
    }

    /** The largest difference between the model's logits and those of the file read back, on random inputs in [0, 1]. */
    private double roundTrip(Module m, ModelSpec spec) {
        Module back = OnnxImport.load(onnx).model();
        long[] shape = new long[spec.inputShape().size() + 1];
        shape[0] = 4;
        for (int i = 0; i < spec.inputShape().size(); i++) shape[i + 1] = spec.inputShape().get(i);
        Rng.seed(0);
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            Tensor x = Tensor.rand(shape);
            double d = m.forward(x).sub(back.forward(x)).abs().max().item();
            if (!(d <= 1e-4)) {
                throw new IllegalStateException("the exported " + onnx + " computes other logits than the model (max difference " + d + ")");
            }
            return d;
        }
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            return -1;
        }
    }
}
