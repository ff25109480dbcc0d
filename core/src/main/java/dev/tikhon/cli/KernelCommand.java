package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Device;
import dev.tikhon.kernel.Kernel;
import dev.tikhon.kernel.KernelMethods;
import dev.tikhon.kernel.KernelModel;
import dev.tikhon.kernel.KernelSgd;
import dev.tikhon.loss.Losses;
import dev.tikhon.report.Charts;
import dev.tikhon.report.Csv;
import dev.tikhon.report.RunDirectory;
import dev.tikhon.train.DataInfo;
import dev.tikhon.train.Evaluator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon kernel fit|eval}: kernel ridge regression, random features and kernel SGD classifiers. */
@Command(name = "kernel", mixinStandardHelpOptions = true,
        description = "Kernel methods: kernel ridge regression (Cholesky, float64), ridge on random Fourier features, "
                + "kernel classifiers trained by SGD.",
        subcommands = {KernelCommand.Fit.class, KernelCommand.Eval.class})
final class KernelCommand implements Runnable {
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "fit", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Fit a kernel machine to a data set's training split and evaluate it on both splits. Writes "
                    + "kernel-model.json/.bin, metrics.json and index.html into --out."})
    static final class Fit implements Callable<Integer> {
        @Mixin DataOptions data = new DataOptions();

        @Option(names = "--method", defaultValue = "krr", description = "krr (exact kernel ridge regression on one-hot targets), "
                + "rff (ridge regression on random Fourier features) or sgd (kernel classifier trained by SGD). Default: ${DEFAULT-VALUE}.")
        String method;

        @Option(names = "--kernel", defaultValue = "rbf", description = "rbf, laplace, polynomial or linear. Default: ${DEFAULT-VALUE}.")
        String kernel;

        @Option(names = "--sigma", defaultValue = "0", description = "Bandwidth of rbf/laplace (0: the median distance between "
                + "training points). Default: ${DEFAULT-VALUE}.")
        double sigma;

        @Option(names = "--degree", defaultValue = "2", description = "Polynomial degree. Default: ${DEFAULT-VALUE}.")
        int degree;

        @Option(names = "--gamma", defaultValue = "0", description = "Polynomial scale γ (0: 1/input dimension). Default: ${DEFAULT-VALUE}.")
        double gamma;

        @Option(names = "--coef0", defaultValue = "1", description = "Polynomial offset c. Default: ${DEFAULT-VALUE}.")
        double coef0;

        @Option(names = "--lambda", defaultValue = "1e-6", description = "Ridge λ in (K + nλI)α = Y (krr, rff). Default: ${DEFAULT-VALUE}.")
        double lambda;

        @Option(names = "--train-size", description = "Training points used (seeded random subset). Default: 5000 for krr "
                + "(an n × n float64 solve), all for rff and sgd.")
        Integer trainSize;

        @Option(names = "--features", defaultValue = "0", description = "Random Fourier features D (rff: default 2048; sgd: "
                + "use D features instead of centres). Default: ${DEFAULT-VALUE}.")
        int features;

        @Option(names = "--centres", defaultValue = "2000", description = "Centres of the SGD classifier. Default: ${DEFAULT-VALUE}.")
        int centres;

        @Option(names = "--loss", defaultValue = "cross-entropy", description = "SGD loss (see train --loss). Default: ${DEFAULT-VALUE}.")
        String loss;

        @Option(names = "--epochs", defaultValue = "5", description = "SGD epochs. Default: ${DEFAULT-VALUE}.")
        int epochs;

        @Option(names = "--batch-size", defaultValue = "128", description = "SGD batch size. Default: ${DEFAULT-VALUE}.")
        int batchSize;

        @Option(names = "--lr", defaultValue = "0.5", description = "SGD learning rate (cosine schedule). Default: ${DEFAULT-VALUE}.")
        double lr;

        @Option(names = "--momentum", defaultValue = "0.9", description = "Default: ${DEFAULT-VALUE}.")
        double momentum;

        @Option(names = "--weight-decay", defaultValue = "0", description = "SGD weight decay on the coefficients. Default: ${DEFAULT-VALUE}.")
        double weightDecay;

        @Option(names = "--seed", defaultValue = "0", description = "Default: ${DEFAULT-VALUE}.")
        long seed;

        @Option(names = "--out", paramLabel = "DIR", description = "Output directory. Default: runs/kernel-<method>.")
        Path out;

        @Option(names = "--force", description = "Overwrite the run already in --out instead of refusing.")
        boolean force;

        @Mixin RuntimeOptions runtime = new RuntimeOptions();

        @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

        /**
         * Method and kernel named before the data is read; an option the chosen method or kernel never reads (--sigma of a
         * linear kernel, the SGD settings of krr) is noted, as train's are.
         */
        private void checkSettings() {
            String m = method.toLowerCase(Locale.ROOT);
            if (!List.of(KernelMethods.KRR, KernelMethods.RFF, KernelMethods.SGD).contains(m)) {
                throw new UserError("unknown --method '" + method + "': use krr, rff or sgd");
            }
            Kernel k;
            try {
                k = Kernel.parse(kernel, 1, degree, 1, coef0);
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage());
            }
            boolean bandwidth = k instanceof Kernel.Rbf || k instanceof Kernel.Laplace, poly = k instanceof Kernel.Polynomial;
            boolean sgd = m.equals(KernelMethods.SGD);
            Map<String, Boolean> reads = new java.util.LinkedHashMap<>();
            reads.put("--sigma", bandwidth);
            for (String o : List.of("--degree", "--gamma", "--coef0")) reads.put(o, poly);
            reads.put("--lambda", !sgd);
            reads.put("--features", !m.equals(KernelMethods.KRR));
            reads.put("--centres", sgd && features == 0);
            for (String o : List.of("--loss", "--epochs", "--batch-size", "--lr", "--momentum", "--weight-decay")) reads.put(o, sgd);
            reads.forEach((o, read) -> {
                if (!read && OptionChecks.given(spec, o)) {
                    OptionChecks.noteIgnored(o, "--method " + m + " --kernel " + kernel.toLowerCase(Locale.ROOT)
                            + (o.equals("--centres") && sgd ? " --features " + features : ""));
                }
            });
        }

        @Override public Integer call() {
            checkSettings();
            Device device = runtime.apply();
            Path dir = out != null ? out : Path.of("runs", "kernel-" + method);
            RunFolder.refuseOverwrite(dir, force);
            RunDirectory run = RunDirectory.create(dir);
            DataOptions.Loaded asked = data.load(seed);
            DataSets.Loaded loaded = asked.sets();
            Dataset train = loaded.train();
            System.out.println("data:   " + loaded.description());
            int inputDim = (int) (train.inputs().numel() / train.size());
            double s = sigma > 0 ? sigma : KernelMethods.defaultBandwidth(kernel, train, seed);
            Kernel k = Kernel.parse(kernel, s, degree, gamma > 0 ? gamma : 1.0 / inputDim, coef0);
            int n = trainSize != null ? trainSize : KernelMethods.defaultTrainSize(method);
            if (n < 0) throw new UserError("--train-size must be ≥ 0, got " + n);
            OptionChecks.noteCapped(spec, "--train-size", n, "train", train, "fitting on");   // it was capped silently
            int d = KernelMethods.defaultFeatures(method, features);
            KernelSgd.Options sgd = new KernelSgd.Options(epochs, batchSize, lr, momentum, weightDecay, seed, Losses.parse(loss));
            KernelMethods.FitOptions o = new KernelMethods.FitOptions(method, n, d, centres, lambda, seed, sgd);
            System.out.println("kernel: " + k.describe() + ", method " + method + (sigma > 0 || !(k instanceof Kernel.Rbf
                    || k instanceof Kernel.Laplace) ? "" : " (σ by the median heuristic)"));
            String degenerate = KernelMethods.degeneracy(k, train, seed);
            if (degenerate != null) System.err.println("note:   " + degenerate);
            KernelMethods.Fit fit = KernelMethods.fit(k, train, o, device, row -> System.out.printf(Locale.ROOT,
                    "epoch %s  train_loss %.4f  train_acc %.4f  (%.1f s)%n", row.get("epoch"), row.get("train_loss"),
                    row.get("train_acc"), row.get("seconds")));
            fit.model().save(run.path(), recorded(asked.info()));
            Evaluator.Result trainEval = Evaluator.evaluate(fit.model(), fit.trainPoints() == train.size() ? train : train.subset(KernelMethods.sample(train.size(), fit.trainPoints(), dev.tikhon.engine.Rng.derive(seed, 0x7A))),
                    1024, device);
            Evaluator.Result testEval = Evaluator.evaluate(fit.model(), loaded.test(), 1024, device);
            Map<String, Object> metrics = RunReport.header("kernel fit", device);
            metrics.put("data", loaded.description());
            metrics.put("model", fit.model().spec());
            metrics.put("kernel", k.describe());
            metrics.put("train_points", fit.trainPoints());
            metrics.put("fit_seconds", fit.seconds());
            metrics.put("train_acc", trainEval.accuracy());
            metrics.put("test_acc", testEval.accuracy());
            metrics.put("test", RunReport.evaluation(testEval));
            if (!fit.history().isEmpty()) {
                metrics.put("history", fit.history());
                List<String> header = new ArrayList<>(fit.history().get(0).keySet());
                List<List<Object>> rows = new ArrayList<>();
                for (Map<String, Object> r : fit.history()) rows.add(new ArrayList<>(r.values()));
                Csv.write(run.resolve("history.csv"), header, rows);
                Charts.trainingCurves(run.path(), fit.history());
            }
            run.writeMetrics(metrics);
            run.writeIndex("Tikhon kernel fit: " + method, loaded.description() + ", " + k.describe(), metrics);
            System.out.printf(Locale.ROOT, "train accuracy %.4f (%d points), test accuracy %.4f; fit %.1f s%n", trainEval.accuracy(),
                    trainEval.n(), testEval.accuracy(), fit.seconds());
            System.out.println("outputs: " + run.path() + " (kernel-model.json, kernel-model.bin, metrics.json, index.html)");
            return 0;
        }
    }

    /**
     * How kernel fit asked for its data, kept in the model's details so that kernel eval finds the same data without
     * --data: the name as given ("folder", "fashion-mnist-sample"; the data set's own name would be the folder's, or
     * the full set's), the --data-dir and a folder's --image-size.
     */
    static Map<String, Object> recorded(DataInfo data) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("data", data.name());
        if (data.dir() != null) r.put("data_dir", data.dir());
        if (data.resized()) r.put("image_size", List.of(data.imageHeight(), data.imageWidth()));
        return r;
    }

    /** The data a kernel model was fitted on, as {@link #recorded} kept it (a model saved before: the name alone); null if unknown. */
    static DataInfo trainedOn(Map<String, Object> details) {
        Object name = details.get("data"), dir = details.get("data_dir"), size = details.get("image_size");
        if (name == null) return null;
        int h = 0, w = 0;
        if (size instanceof List<?> hw && hw.size() == 2) {
            h = ((Number) hw.get(0)).intValue();
            w = ((Number) hw.get(1)).intValue();
        }
        Object seed = details.get("seed");   // the fit's --seed, which generated and split its data
        return new DataInfo(name.toString(), dir == null ? null : dir.toString(), null, h, w,
                seed instanceof Number n ? Long.valueOf(n.longValue()) : null);
    }

    @Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Evaluate a fitted kernel model (the --out directory of kernel fit) on a data set.")
    static final class Eval implements Callable<Integer> {
        @Option(names = "--model", required = true, paramLabel = "DIR", description = "Directory holding kernel-model.json and .bin.")
        Path model;

        @Mixin DataOptions data = new DataOptions();

        @Option(names = "--split", defaultValue = "test", description = "test or train. Default: ${DEFAULT-VALUE}.")
        String split;

        @Option(names = "--seed", defaultValue = "0", description = "Seed for generated data sets. Default: ${DEFAULT-VALUE}.")
        long seed;

        @Mixin OutputOptions output = new OutputOptions("runs", "kernel-eval");

        @Override public Integer call() {
            Device device = output.apply();
            KernelModel m = KernelModel.load(model);
            RunDirectory run = output.create();
            DataOptions.Choice choice = data.choose(trainedOn(m.spec().details()));
            String name = choice.name();
            DataSets.Loaded loaded = choice.load(seed);
            Dataset set;
            switch (split) {
                case "test": set = loaded.test(); break;
                case "train": set = loaded.train(); break;
                default: throw new UserError("unknown --split '" + split + "': use test or train");
            }
            int dim = (int) (set.inputs().numel() / set.size());
            if (dim != m.spec().inputDim() || set.numClasses() != m.spec().numClasses()) {
                throw new UserError(model + ": the model takes " + m.spec().inputDim() + " inputs and " + m.spec().numClasses()
                        + " classes; " + name + " has " + dim + " and " + set.numClasses()
                        + (DataSets.FOLDER.equals(name) ? "; give the --image-size that kernel fit was given" : ""));
            }
            Evaluator.Result r = Evaluator.evaluate(m, set, 1024, device);
            Map<String, Object> metrics = RunReport.header("kernel eval", device);
            metrics.put("model", m.spec());
            metrics.put("data", loaded.description());
            metrics.put("split", split);
            metrics.put("evaluation", RunReport.evaluation(r));
            run.writeMetrics(metrics);
            run.writeIndex("Tikhon kernel evaluation", m.describe() + " on " + loaded.description(), metrics);
            System.out.println("model: " + m.describe());
            System.out.printf(Locale.ROOT, "%s accuracy %.4f on %d examples%n", split, r.accuracy(), r.n());
            return 0;
        }
    }
}
