package dev.tikhon.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bad input as a new user gives it, one case per test: exit 2 and a single line {@code tikhon: error: ...} that names
 * the input and the fault, no stack trace, and no empty {@code --out} left behind.
 */
class CliBadInputTest {
    private static final String TINY_CNN = "src/test/resources/torchscript/tiny_cnn.pt";

    @TempDir
    static Path shared;
    /** An MLP trained one epoch on the 2-D moons: inputs of shape [2]. */
    static Path moonsMlp;

    @BeforeAll
    static void trainAToyModel() {
        moonsMlp = shared.resolve("moons-mlp");
        Cli.Run t = Cli.run("train", "--data", "moons", "--model", "mlp", "--hidden", "8", "--epochs", "1", "--threads", "1",
                "--out", moonsMlp.toString());
        assertThat(t.exitCode()).as(t.err()).isZero();
    }

    static String oneErrorLine(Cli.Run r, String... mentions) {
        assertThat(r.exitCode()).as("exit code; stderr: %s", r.err()).isEqualTo(Main.EXIT_USER);
        List<String> lines = r.err().strip().lines().toList();
        assertThat(lines).as("stderr: %s", r.err()).hasSize(1);
        assertThat(lines.get(0)).startsWith("tikhon: error: ").doesNotContain("Exception").doesNotContain("\tat ");
        for (String m : mentions) assertThat(lines.get(0)).contains(m);
        return lines.get(0);
    }

    private static String[] args(String command, String model, String data, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of(command.split(" ")));
        a.addAll(List.of(model.split(" ")));
        a.addAll(List.of("--data", data, "--threads", "1", "--out", out.toString()));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @ParameterizedTest(name = "{0} of a [2]-input checkpoint on images")
    @CsvSource({"eval,", "attack,--limit 2", "bounds,--limit 2", "smooth,--subset 8", "certify,--method cohen --sigma 0.25 --images 1 --n 10"})
    void aCheckpointOnDataOfAnotherShape(String command, String extra, @TempDir Path dir) {
        Path out = dir.resolve("out");
        String[] more = extra == null ? new String[0] : extra.split(" ");
        String line = oneErrorLine(Cli.run(args(command, "--checkpoint " + moonsMlp, "fashion-mnist-sample", out, more)),
                moonsMlp.toString(), "[2]", "[1, 28, 28]", "--data");
        assertThat(line).contains("takes inputs of shape");
        assertThat(out).as("a failed run leaves no empty --out").doesNotExist();
    }

    @Test
    void generalizationOfACheckpointOnDataOfAnotherShape(@TempDir Path dir) {
        oneErrorLine(Cli.run("generalization", "--checkpoint", moonsMlp.toString(), "--data", "fashion-mnist-sample", "--max-points", "10",
                "--threads", "1", "--out", dir.resolve("g").toString()), moonsMlp.toString(), "[2]", "[1, 28, 28]");
        assertThat(dir.resolve("g")).doesNotExist();
    }

    @ParameterizedTest(name = "{0} of a TorchScript CNN on 2-D points")
    @CsvSource({"eval,", "attack,--limit 2", "smooth,--subset 8", "certify,--method cohen --sigma 0.25 --images 1 --n 10"})
    void aTorchScriptModelOnDataOfAnotherShapeIsProbed(String command, String extra, @TempDir Path dir) {
        String[] more = extra == null ? new String[0] : extra.split(" ");
        oneErrorLine(Cli.run(args(command, "--torchscript " + TINY_CNN, "moons", dir.resolve("out"), more)),
                "TorchScript " + TINY_CNN, "cannot take the examples", "[2]");
        assertThat(dir.resolve("out")).doesNotExist();
    }

    /**
     * --data's help said "Default: fashion-mnist (eval: the checkpoint's data)", but attack, verify and the others also
     * default to the checkpoint's data; and a model that cannot take a toy set's points was said to get "float32 in [0,1]".
     */
    @Test
    void theDataHelpNamesTheModelsDataAndToyPointsAreNotSaidToBeInTheUnitBox(@TempDir Path dir) {
        for (String c : List.of("eval", "attack", "bounds", "verify", "certify", "smooth")) {
            Cli.Run h = Cli.run(c, "--help");
            assertThat(h.exitCode()).isZero();
            assertThat(h.out().replaceAll("\\s+", " ")).as(c).contains("Default: the data the model was trained on (a --checkpoint's")
                    .doesNotContain("eval: the checkpoint's data");
        }
        String onnx = oneErrorLine(Cli.run("eval", "--onnx", "src/test/resources/onnx/fmnist_cnn.onnx", "--data", "moons", "--threads", "1",
                "--out", dir.resolve("o").toString()), "cannot take the examples", "shape [2], batched, float32 points, not scaled to [0,1]");
        assertThat(onnx).doesNotContain("float32 in [0,1]");
        String images = oneErrorLine(Cli.run("eval", "--checkpoint", moonsMlp.toString(), "--data", "fashion-mnist-sample", "--threads", "1",
                "--out", dir.resolve("i").toString()), "[1, 28, 28]");
        assertThat(images).doesNotContain("points");
    }

    @Test
    void aFolderWithASingleClass(@TempDir Path dir) throws IOException {
        Path only = Files.createDirectories(dir.resolve("images/shirts"));
        for (int i = 0; i < 4; i++) ImageIO.write(new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY), "png", only.resolve(i + ".png").toFile());
        oneErrorLine(Cli.run("train", "--data", "folder", "--data-dir", dir.resolve("images").toString(), "--model", "mlp", "--epochs", "1",
                "--threads", "1", "--out", dir.resolve("run").toString()), dir.resolve("images").toString(), "only one class", "[shirts]");
        assertThat(dir.resolve("run")).doesNotExist();
    }

    /**
     * A 10-class model on a 3-class folder: its predictions 3–9 have no class in the data (eval crashed on its confusion
     * matrix, verify in libtorch, attack and certify reported a meaningless 0%). Refused before any work, in every command.
     */
    @Test
    void aDataSetWithFewerClassesThanTheModel(@TempDir Path dir) throws IOException {
        for (String c : List.of("a", "b", "c")) {
            Path folder = Files.createDirectories(dir.resolve("images").resolve(c));
            for (int i = 0; i < 2; i++) ImageIO.write(new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY), "png", folder.resolve(i + ".png").toFile());
        }
        String images = dir.resolve("images").toString();
        Path fashion = dir.resolve("fashion-mlp");
        Cli.Run t = Cli.run("train", "--data", "fashion-mnist-sample", "--model", "mlp", "--hidden", "8", "--epochs", "1", "--threads", "1",
                "--out", fashion.toString());
        assertThat(t.exitCode()).as(t.err()).isZero();
        for (List<String> command : List.of(List.of("eval"), List.of("attack"), List.of("verify"), List.of("certify", "--method", "crown"))) {
            List<String> a = new ArrayList<>(command);
            a.addAll(List.of("--checkpoint", fashion.toString(), "--data", "folder", "--data-dir", images, "--threads", "1", "--out",
                    dir.resolve("out-" + command.get(0)).toString()));
            oneErrorLine(Cli.run(a.toArray(String[]::new)), "scores 10 classes but", "has 3", "with all of its classes");
            assertThat(dir.resolve("out-" + command.get(0))).doesNotExist();
        }
        oneErrorLine(Cli.run("eval", "--torchscript", TINY_CNN, "--data", "folder", "--data-dir", images, "--threads", "1", "--out",
                dir.resolve("out-ts").toString()), "scores 10 classes but", "has 3");
    }

    @Test
    void moreThreadsThanProcessorsIsNoted(@TempDir Path dir) {
        int more = Runtime.getRuntime().availableProcessors() + 1;
        Cli.Run r = Cli.run("eval", "--checkpoint", moonsMlp.toString(), "--data", "moons", "--threads", "" + more, "--out", dir.resolve("e").toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("note:   --threads " + more + " is more than the " + (more - 1) + " processors here");
    }

    /** --threads 100000 crashed the JVM inside libtorch (SIGSEGV, exit 139, no message; audit 20b, F7): above 1024 it is refused. */
    @Test
    void anAbsurdThreadCountIsRefused(@TempDir Path dir) {
        int cores = Runtime.getRuntime().availableProcessors();
        oneErrorLine(Cli.run("eval", "--checkpoint", moonsMlp.toString(), "--data", "moons", "--threads", "1025", "--out",
                dir.resolve("e").toString()), "--threads 1025 is more than 1024", "give --threads " + cores + " or fewer");
        assertThat(dir.resolve("e")).doesNotExist();
        oneErrorLine(Cli.run("certify", "--checkpoint", moonsMlp.toString(), "--method", "cohen", "--sigma", "0.25", "--threads", "100000",
                "--out", dir.resolve("c").toString()), "--threads 100000 is more than 1024");
        assertThat(dir.resolve("c")).doesNotExist();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> dev.tikhon.engine.Engine.setThreads(1025))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--threads must be at most 1024, got 1025");
    }

    /** `certify --method crown --norm linf` gave ℓ2 radii under the ℓ∞ name; options a method never reads were silent. */
    @Test
    void certifyRefusesANormItsMethodDoesNotCertifyAndNotesUnreadOptions(@TempDir Path dir) {
        String line = oneErrorLine(Cli.run("certify", "--checkpoint", moonsMlp.toString(), "--method", "crown", "--norm", "linf", "--images", "2",
                "--threads", "1", "--out", dir.resolve("c").toString()), "--norm linf", "ℓ2 radii only", "--method lipschitz --norm linf",
                "tikhon verify --method crown --norm linf --radius");
        assertThat(dir.resolve("c")).doesNotExist();
        oneErrorLine(Cli.run("certify", "--checkpoint", moonsMlp.toString(), "--method", "cohen", "--sigma", "0.25", "--norm", "linf",
                "--threads", "1", "--out", dir.resolve("c").toString()), "--method cohen certifies ℓ2 radii only", "drop --norm");
        Cli.Run l = Cli.run("certify", "--checkpoint", moonsMlp.toString(), "--data", "moons", "--method", "lipschitz", "--sigma", "0.5", "--n", "10",
                "--bab-domains", "4", "--batch-size", "8", "--images", "4", "--threads", "1", "--out", dir.resolve("l").toString());
        assertThat(l.exitCode()).as(l.err()).isZero();
        assertThat(l.err()).contains("note:   --sigma does nothing with --method lipschitz; it is ignored")
                .contains("note:   --n does nothing with --method lipschitz").contains("note:   --bab-domains does nothing with --method lipschitz")
                .doesNotContain("--batch-size does nothing");
        Cli.Run h = Cli.run("certify", "--checkpoint", moonsMlp.toString(), "--data", "moons", "--method", "crown", "--norm", "l2",
                "--images", "2", "--threads", "1", "--out", dir.resolve("b").toString());
        assertThat(h.exitCode()).as(h.err()).isZero();
        assertThat(h.err()).as("the norm it certifies, and no other option: nothing to note").doesNotContain("note:");
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"--sigma,Infinity,not a finite number", "--sigma,NaN,not a finite number", "--sigma,-0.5,--sigma must be > 0",
            "--alpha,1.5,'--alpha must be in (0, 1)'", "--images,0,--images must be ≥ 1", "--n,-3,--n must be ≥ 1",
            "--noise-batch,0,--noise-batch must be ≥ 1", "--threads,0,--threads must be ≥ 1"})
    void numericOptionsAreCheckedForFinitenessAndRange(String option, String value, String message, @TempDir Path dir) {
        List<String> a = new ArrayList<>(List.of("certify", "--torchscript", TINY_CNN, "--data", "fashion-mnist-sample", "--method", "cohen",
                option, value, "--out", dir.resolve("c").toString()));
        if (!option.equals("--sigma")) a.addAll(List.of("--sigma", "0.25"));
        String line = oneErrorLine(Cli.run(a.toArray(String[]::new)), option, message);
        assertThat(line).contains("tikhon certify --help");
        assertThat(dir.resolve("c")).doesNotExist();
    }

    @Test
    void theSameRuleHoldsInEveryCommand(@TempDir Path dir) {
        oneErrorLine(Cli.run("train", "--data", "moons", "--lr", "-0.1", "--out", dir.toString()), "--lr must be > 0, got -0.1");
        oneErrorLine(Cli.run("train", "--data", "moons", "--momentum", "1", "--out", dir.toString()), "--momentum must be in [0, 1)");
        oneErrorLine(Cli.run("smooth", "--torchscript", TINY_CNN, "--sigma", "Infinity", "--out", dir.toString()), "--sigma", "not a finite number");
        oneErrorLine(Cli.run("attack", "--torchscript", TINY_CNN, "--batch-size", "0", "--out", dir.toString()), "--batch-size must be ≥ 1");
        oneErrorLine(Cli.run("flow", "train", "--data", "moons", "--rtol", "0", "--out", dir.toString()), "--rtol must be > 0");
        oneErrorLine(Cli.run("data-lipschitz", "--data", "moons", "--max-points", "-1", "--out", dir.toString()), "--max-points must be ≥ 0");
        oneErrorLine(Cli.run("data-lipschitz", "--data", "moons", "--block-size", "0", "--out", dir.toString()), "--block-size must be ≥ 1");
        // commands that used to check these themselves: the table is the one check
        oneErrorLine(Cli.run("verify", "--torchscript", TINY_CNN, "--images", "0", "--out", dir.toString()), "--images must be ≥ 1");
        oneErrorLine(Cli.run("verify", "--torchscript", TINY_CNN, "--batch-size", "0", "--out", dir.toString()), "--batch-size must be ≥ 1");
        oneErrorLine(Cli.run("certify", "--method", "lipschitz", "--torchscript", TINY_CNN, "--batch-size", "0", "--out", dir.toString()),
                "--batch-size must be ≥ 1");
        oneErrorLine(Cli.run("bench", "certify", "--noise-batch", "0"), "--noise-batch must be ≥ 1");
        oneErrorLine(Cli.run("flow", "sample", "--checkpoint", dir.toString(), "--samples", "0"), "--samples must be ≥ 1");
        // where a command gives 0 a meaning ("0: the median distance"), only negative values are refused
        oneErrorLine(Cli.run("kernel", "fit", "--data", "moons", "--sigma", "-1", "--out", dir.toString()), "--sigma must be ≥ 0");
        assertThat(OptionChecks.rangeOf("kernel fit", "--sigma").ok().test(0)).isTrue();
        assertThat(OptionChecks.rangeOf("certify", "--sigma").ok().test(0)).isFalse();
    }

    /** An --out that is a file, or lies under one, used to end in "Cannot lock X: X". */
    @Test
    void anOutputFolderThatIsAFile(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("notes.txt"), "mine");
        oneErrorLine(Cli.run("train", "--data", "moons", "--model", "mlp", "--epochs", "1", "--out", file.toString()),
                "cannot use " + file + " as the output folder", file + " exists and is not a folder", "choose another --out");
        oneErrorLine(Cli.run("certify", "--method", "cohen", "--torchscript", TINY_CNN, "--sigma", "0.25", "--out", file.resolve("run").toString()),
                file + " exists and is not a folder");
        assertThat(Files.readString(file)).isEqualTo("mine");
    }

    @Test
    void heatCertificationOfAModelThatWasNeverHeatSmoothed(@TempDir Path dir) {
        String line = oneErrorLine(Cli.run("certify", "--checkpoint", moonsMlp.toString(), "--method", "heat", "--sigma", "0.25",
                "--images", "2", "--threads", "1", "--out", dir.resolve("h").toString()), moonsMlp.toString(), "never heat-smoothed");
        assertThat(line).contains("--method cohen").contains("tikhon smooth");
        assertThat(dir.resolve("h")).doesNotExist();
    }

    @Test
    void usageErrorsAreOneLineWithThePrefix() {
        String line = oneErrorLine(Cli.run("train", "--learning-rate", "0.1"), "--learning-rate", "tikhon train --help");
        assertThat(line).contains("Unknown option");
        oneErrorLine(Cli.run("certify", "--method", "cohen"), "--checkpoint", "--torchscript");
        oneErrorLine(Cli.run("trian"), "trian", "did you mean train");
    }

    @Test
    void aFailedRunRemovesOnlyTheDirectoriesItCreated(@TempDir Path dir) throws IOException {
        Path kept = Files.createDirectories(dir.resolve("existing"));
        oneErrorLine(Cli.run("eval", "--checkpoint", dir.resolve("absent").toString(), "--out", kept.toString()), "no such checkpoint");
        assertThat(kept).as("a directory the user made stays").isDirectory();
        oneErrorLine(Cli.run("eval", "--checkpoint", dir.resolve("absent").toString(), "--out", dir.resolve("a/b/c").toString()),
                "no such checkpoint");
        assertThat(dir.resolve("a")).as("the parents it created go too").doesNotExist();
    }

    @ParameterizedTest(name = "train {0} {1} fails before the data set is read")
    @CsvSource(delimiter = '|', value = {"--optimizer|adagrad|unknown --optimizer 'adagrad': use sgd, adam or adamw",
            "--schedule|linear|unknown --schedule 'linear': use constant, piecewise or cosine"})
    void aMisspeltTrainingSettingFailsBeforeTheDataIsRead(String option, String value, String message, @TempDir Path dir)
            throws IOException {
        Path empty = Files.createDirectory(dir.resolve("no-idx-files-here"));   // reading the data would fail differently
        Cli.Run r = Cli.run("train", "--data", "fashion-mnist", "--data-dir", empty.toString(), option, value,
                "--threads", "1", "--out", dir.resolve("out").toString());
        assertThat(oneErrorLine(r, message)).doesNotContain("no-idx-files-here");
        assertThat(r.out()).as("nothing was loaded or printed").isEmpty();
    }

    /** The checkpoint of a run that diverged: {@link #moonsMlp} with its first weight NaN; returns its first tensor's name. */
    static String writeNanCheckpoint(Path out) throws IOException {
        dev.tikhon.train.Checkpoint.Loaded ck = dev.tikhon.train.Checkpoint.load(moonsMlp);
        java.util.Map<String, dev.tikhon.engine.Tensor> m = new java.util.LinkedHashMap<>(ck.model());
        String first = m.keySet().iterator().next();
        m.put(first, m.get(first).copy().fill_(Double.NaN));
        Files.createDirectories(out);
        dev.tikhon.train.Checkpoint.save(out.resolve(dev.tikhon.train.Checkpoint.FILE_NAME), ck.meta(), m, ck.optimizer());
        return first;
    }

    /**
     * A checkpoint whose weights hold NaN is refused by the commands that use its model (audit 20b, F6: eval printed
     * accuracy 0.107 and loss NaN, certify --method lipschitz died in an SVD, cohen certified a constant classifier).
     */
    @ParameterizedTest(name = "{0} {1} refuses a NaN checkpoint")
    @CsvSource({"eval,", "certify,--method lipschitz --images 2", "certify,--method cohen --sigma 0.25 --images 1 --n 10",
            "verify,--method ibp --images 2 --eps 0.05 --no-attack", "attack,--limit 2"})
    void aCheckpointWithNonFiniteWeights(String command, String extra, @TempDir Path dir) throws IOException {
        Path bad = dir.resolve("nanrun");
        String first = writeNanCheckpoint(bad);
        Path out = dir.resolve("out");
        String[] more = extra == null ? new String[0] : extra.split(" ");
        oneErrorLine(Cli.run(args(command, "--checkpoint " + bad, "moons", out, more)),
                "checkpoint " + bad.resolve("checkpoint.tkn") + ": parameter " + first + " holds NaN", "diverged");
        assertThat(out).as("nothing written").doesNotExist();
    }

    @Test
    void aNanCheckpointIsRefusedWhereverItsModelIsLoaded(@TempDir Path dir) throws IOException {
        Path bad = dir.resolve("nanrun");
        String first = writeNanCheckpoint(bad);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> dev.tikhon.scaleout.ModelRef.checkpoint(bad).load())
                .isInstanceOf(dev.tikhon.UserError.class).hasMessageContaining("parameter " + first + " holds NaN");
        oneErrorLine(Cli.run("export", "--checkpoint", bad.toString(), "--onnx", dir.resolve("m.onnx").toString()), "holds NaN");
        // a model with ±Inf is named as such
        dev.tikhon.nn.Module m = dev.tikhon.scaleout.ModelRef.checkpoint(moonsMlp).load();
        assertThat(m.firstNonFinite()).isNull();
        java.util.Map.Entry<String, dev.tikhon.engine.Tensor> last = null;
        for (var e : m.stateDict().entrySet()) last = e;
        try (var noGrad = dev.tikhon.engine.Autograd.noGrad()) {
            last.getValue().fill_(Double.POSITIVE_INFINITY);
        }
        assertThat(m.firstNonFinite()).isEqualTo("parameter " + last.getKey() + " holds ±Inf");
    }

    /** A checkpoint whose tensors.bin ends early says so (its detail had been the literal "null"). */
    @Test
    void aCheckpointWithTruncatedTensorsNamesTheFault(@TempDir Path dir) throws IOException {
        Path ck = dir.resolve("tensors-trunc.tkn");
        try (var in = new java.util.zip.ZipInputStream(Files.newInputStream(moonsMlp.resolve("checkpoint.tkn")));
             var out = new java.util.zip.ZipOutputStream(Files.newOutputStream(ck))) {
            for (java.util.zip.ZipEntry e; (e = in.getNextEntry()) != null; ) {
                byte[] bytes = in.readAllBytes();
                out.putNextEntry(new java.util.zip.ZipEntry(e.getName()));
                out.write(bytes, 0, e.getName().equals("tensors.bin") ? bytes.length / 2 : bytes.length);
                out.closeEntry();
            }
        }
        String line = oneErrorLine(Cli.run("eval", "--checkpoint", ck.toString(), "--threads", "1", "--out", dir.resolve("e").toString()),
                ck + ": corrupt or truncated checkpoint (");
        assertThat(line).doesNotContain("(null)").contains("end before");
    }

    @Test
    void aFolderGivenAsTheDataSetNameIsPointedToDataDir(@TempDir Path dir) {
        oneErrorLine(Cli.run("eval", "--checkpoint", moonsMlp.toString(), "--data", dir.toString(), "--out",
                dir.resolve("out").toString()), "is a folder, not a data set name: pass --data-dir " + dir);
    }

    @Test
    void reproduceLipschitzHelpHasNoFormatWarning() {
        Cli.Run r = Cli.run("reproduce", "lipschitz", "--help");
        assertThat(r.exitCode()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).contains("10% of").doesNotContain("10%%");
    }

    @Test
    void attackReportsProgressWhenNotATerminal(@TempDir Path dir) {
        Cli.Run a = Cli.run("attack", "--torchscript", TINY_CNN, "--data", "fashion-mnist-sample", "--limit", "4", "--steps", "2",
                "--queries", "4", "--ddn-steps", "2", "--threads", "1", "--out", dir.toString());
        assertThat(a.exitCode()).as(a.err()).isZero();
        assertThat(a.err()).contains("attack: started, 4 to do").contains("attack: 4/4 (100%)").doesNotContain("\r");
    }

    @Test
    void anOutputFileIsNotWrittenOverAFileTheCommandReadsNorOverACheckpoint(@TempDir Path dir) throws IOException {
        Path ck = moonsMlp.resolve("checkpoint.tkn");
        byte[] model = Files.readAllBytes(ck);
        // export --onnx onto the checkpoint it exports replaced the trained model by its ONNX copy, silently
        oneErrorLine(Cli.run("export", "--checkpoint", moonsMlp.toString(), "--onnx", ck.toString()), "--onnx " + ck, "the checkpoint exported");
        Path copy = dir.resolve("copy.tkn");
        Files.copy(ck, copy);
        oneErrorLine(Cli.run("export", "--checkpoint", moonsMlp.toString(), "--onnx", copy.toString()), "holds a Tikhon checkpoint");
        assertThat(Files.readAllBytes(ck)).isEqualTo(model);
        assertThat(Files.readAllBytes(copy)).isEqualTo(model);
        // a new file is written, and an ONNX file written before is written again
        Path onnx = dir.resolve("moons.onnx");
        for (int i = 0; i < 2; i++) {
            Cli.Run e = Cli.run("export", "--checkpoint", moonsMlp.toString(), "--onnx", onnx.toString());
            assertThat(e.exitCode()).as(e.err()).isZero();
        }
        // vnnlib --result onto its own property, its network or a checkpoint
        String text = "(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n"
                + "(assert (>= X_0 0.1))\n(assert (<= X_0 0.2))\n(assert (>= X_1 0.1))\n(assert (<= X_1 0.2))\n(assert (>= Y_0 Y_1))\n";
        Path property = dir.resolve("p.vnnlib");
        Files.writeString(property, text);
        byte[] network = Files.readAllBytes(onnx);
        String[] vnnlib = {"vnnlib", "--onnx", onnx.toString(), "--property", property.toString(), "--threads", "1", "--out", dir.resolve("v").toString()};
        oneErrorLine(Cli.run(Cli.concat(vnnlib, "--result", property.toString())), "--result " + property, "the --property file");
        oneErrorLine(Cli.run(Cli.concat(vnnlib, "--result", onnx.toString())), "the --onnx network");
        oneErrorLine(Cli.run(Cli.concat(vnnlib, "--result", copy.toString())), "holds a Tikhon checkpoint");
        assertThat(Files.readString(property)).isEqualTo(text);
        assertThat(Files.readAllBytes(onnx)).isEqualTo(network);
        assertThat(Files.readAllBytes(copy)).isEqualTo(model);
        Cli.Run v = Cli.run(Cli.concat(vnnlib, "--result", dir.resolve("result.txt").toString()));
        assertThat(v.exitCode()).as(v.err()).isZero();
        assertThat(dir.resolve("result.txt")).exists();
    }

    /** The benches time models of Fashion-MNIST's shape: a toy set's points failed with a libtorch stack trace (certify) or a library note (attack). */
    @ParameterizedTest(name = "bench {0} on 2-D points")
    @CsvSource({"certify,--n 10", "attack,--steps 1"})
    void aBenchOnDataItsModelCannotTake(String bench, String extra) {
        List<String> a = new ArrayList<>(List.of("bench", bench, "--data", "moons", "--images", "1", "--threads", "1"));
        a.addAll(List.of(extra.split(" ")));
        Cli.Run r = Cli.run(a.toArray(String[]::new));
        oneErrorLine(r, "bench " + bench + " times a model of 1x28x28 images", "moons holds points of shape [2]", "give --data fashion-mnist");
        assertThat(r.out()).isEmpty();
    }

    /** The image reproductions on a 2-D toy set failed with an internal error (an array index out of bounds, exit 1). */
    @ParameterizedTest(name = "reproduce {0} on 2-D points")
    @CsvSource({"tikhonov", "certify", "verify", "lipschitz-certify", "farkas"})
    void aReproductionOfImagesOnPoints(String experiment, @TempDir Path dir) {
        Path out = dir.resolve("r");
        oneErrorLine(Cli.run("reproduce", experiment, "--data", "moons", "--epochs", "1", "--threads", "1", "--out", out.toString()),
                "reproduce " + experiment + " trains its models on images [C, H, W], but --data moons holds points of shape [2]",
                "give an image set");
        assertThat(out).doesNotExist();
    }

    /** With N ≤ log₂(1/α) every image abstains: certify ran and reported 0 certified, whatever the model (a negative radius cap). */
    @Test
    void aMonteCarloNTooSmallToCertifyAnything(@TempDir Path dir) {
        String line = oneErrorLine(Cli.run("certify", "--checkpoint", moonsMlp.toString(), "--method", "cohen", "--sigma", "0.25",
                "--n", "9", "--n0", "1", "--images", "1", "--threads", "1", "--out", dir.resolve("c").toString()),
                "--n 9 at α = 0.001 (--alpha) can certify no image", "give --n 10 or more");
        assertThat(line).contains("α^(1/N) = 0.464");
        assertThat(dir.resolve("c")).doesNotExist();
        oneErrorLine(Cli.run("certify", "--checkpoint", moonsMlp.toString(), "--method", "cohen", "--sigma", "0.25", "--alpha", "0.1",
                "--n", "3", "--out", dir.resolve("c").toString()), "--n 3 at α = 0.1", "give --n 4 or more");
        oneErrorLine(Cli.run("reproduce", "certify", "--n", "5", "--out", dir.resolve("r").toString()), "--n 5 at α = 0.001");
        Cli.Run ok = Cli.run("certify", "--checkpoint", moonsMlp.toString(), "--method", "cohen", "--sigma", "0.25", "--n", "10",
                "--n0", "1", "--images", "1", "--threads", "1", "--out", dir.resolve("ok").toString());
        assertThat(ok.exitCode()).as(ok.err()).isZero();
    }

    /** A --transfer-from source that cannot take the attacked data was told to "pass the data the model was trained on (--data)". */
    @Test
    void aTransferSourceOfOtherInputsNamesTheSourceAndItsFix(@TempDir Path dir) {
        String line = oneErrorLine(Cli.run("attack", "--checkpoint", moonsMlp.toString(), "--transfer-from", TINY_CNN, "--limit", "2",
                "--threads", "1", "--out", dir.resolve("a").toString()), "--transfer-from TorchScript " + TINY_CNN, "cannot take the examples",
                "give --transfer-from models made for the attacked model's data");
        assertThat(line).doesNotContain("(--data)");
        assertThat(dir.resolve("a")).doesNotExist();
    }

    /** A complete certify.jsonl line that is no image record (edited, or another tool's) ended --resume in a NullPointerException. */
    @Test
    void aResumedCertificationWithAForeignRecordNamesTheLine(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("c");
        Cli.Run c = Cli.run("certify", "--checkpoint", moonsMlp.toString(), "--method", "crown", "--images", "3", "--threads", "1",
                "--out", out.toString());
        assertThat(c.exitCode()).as(c.err()).isZero();
        Files.writeString(out.resolve("certify.jsonl"), "{\"index\":3,\"label\":1}\n", java.nio.file.StandardOpenOption.APPEND);
        oneErrorLine(Cli.run("certify", "--resume", "--out", out.toString()), out.resolve("certify.jsonl") + " line 4 is not an image this "
                + "run certified (no certificates)", "restore the file from a copy, or start the run over with --force");
    }

    /** A complete attack.jsonl line that is no batch record ended --resume in a NullPointerException; a real one still resumes. */
    @Test
    void aResumedAttackWithAForeignRecordNamesTheLine(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("a");
        Cli.Run a = Cli.run("attack", "--checkpoint", moonsMlp.toString(), "--limit", "3", "--steps", "2", "--ddn-steps", "2", "--queries", "5",
                "--threads", "1", "--out", out.toString());
        assertThat(a.exitCode()).as(a.err()).isZero();
        Cli.Run again = Cli.run("attack", "--resume", "--out", out.toString());
        assertThat(again.exitCode()).as("the run's own records resume: %s", again.err()).isZero();
        Files.writeString(out.resolve("attack.jsonl"), "{}\n", java.nio.file.StandardOpenOption.APPEND);
        oneErrorLine(Cli.run("attack", "--resume", "--out", out.toString()), out.resolve("attack.jsonl") + " line 2 is not a batch this "
                + "run attacked (no labels)", "restore the file from a copy, or start the run over with --force");
    }

    /** A --data-lipschitz that is not there said only "File not found: PATH", after the model and the data were read. */
    @Test
    void aMissingDataLipschitzRunNamesTheOptionAndTheFix(@TempDir Path dir) throws IOException {
        Path none = dir.resolve("none"), empty = Files.createDirectories(dir.resolve("empty"));
        oneErrorLine(Cli.run("generalization", "--checkpoint", moonsMlp.toString(), "--data-lipschitz", none.toString(), "--out",
                dir.resolve("g").toString()), "--data-lipschitz " + none + ": no such file or folder", "give the --out folder of a "
                + "'tikhon data-lipschitz' run");
        oneErrorLine(Cli.run("generalization", "--checkpoint", moonsMlp.toString(), "--data-lipschitz", empty.toString(), "--out",
                dir.resolve("g").toString()), "--data-lipschitz " + empty + ": no metrics.json in it");
        assertThat(dir.resolve("g")).doesNotExist();
    }

    /** bench train-step timed and printed its result, then failed on an --out that is a file. */
    @Test
    void aBenchOutThatIsAFileFailsBeforeTheTiming(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("taken"), "x");
        Cli.Run r = Cli.run("bench", "train-step", "--model", "mlp", "--batch", "2", "--steps", "1", "--warmup", "0", "--no-ceiling",
                "--threads", "1", "--out", file.toString());
        oneErrorLine(r, "Output directory " + file + " exists and is a file; choose another path");
        assertThat(r.out()).as("no timing printed").isEmpty();
    }

    /** Another command's run folder given as a checkpoint was asked "was training started with this --out?". */
    @Test
    void anotherCommandsRunFolderAsACheckpointNamesWhatItHolds(@TempDir Path dir) {
        Path kernel = dir.resolve("kernel");
        Cli.Run k = Cli.run("kernel", "fit", "--data", "moons", "--train-size", "20", "--threads", "1", "--out", kernel.toString());
        assertThat(k.exitCode()).as(k.err()).isZero();
        String line = oneErrorLine(Cli.run("eval", "--checkpoint", kernel.toString(), "--out", dir.resolve("e").toString()),
                "no such checkpoint: " + kernel + " holds a 'tikhon kernel fit' run, which writes no checkpoint.tkn", "(train, smooth");
        assertThat(line).doesNotContain("was training started");
        oneErrorLine(Cli.run("flow", "eval", "--checkpoint", moonsMlp.toString(), "--out", dir.resolve("f").toString()),
                moonsMlp + " holds a 'tikhon train' run, which writes no flow-checkpoint.tkn", "(flow train)");
    }
}
