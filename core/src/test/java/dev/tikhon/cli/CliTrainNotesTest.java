package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * train's (and smooth's) options that do nothing with the chosen model, optimizer or schedule are noted on stderr (they were ignored
 * silently), only when given; settings that cannot mean what was asked are errors before the data is read.
 */
class CliTrainNotesTest {
    private static final String[] TOY = {"train", "--data", "moons", "--epochs", "1", "--threads", "1", "--batch-size", "2000"};

    private static String[] args(Path out, String... more) {
        return Cli.concat(Cli.concat(TOY, more), new String[]{"--out", out.toString()});
    }

    @Test
    void optionsThatDoNothingAreNotedAndLeftOutOfTheModel(@TempDir Path dir) throws IOException {
        Cli.Run r = Cli.run(args(dir.resolve("a"), "--model", "mlp", "--hidden", "8", "--depth", "32", "--width", "64", "--block",
                "bottleneck", "--no-batch-norm", "--optimizer", "adam", "--momentum", "0.5", "--nesterov", "--milestones", "0.3",
                "--gamma", "0.5"));
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        assertThat(r.err()).contains("note:   --depth does nothing with --model mlp; it is ignored")
                .contains("note:   --width does nothing with --model mlp; it is ignored")
                .contains("note:   --block does nothing with --model mlp; it is ignored")
                .contains("note:   --no-batch-norm does nothing with --model mlp; it is ignored")
                .contains("note:   --momentum does nothing with --optimizer adam; it is ignored")
                .contains("note:   --nesterov does nothing with --optimizer adam; it is ignored")
                .contains("note:   --milestones does nothing with --schedule cosine; it is ignored")
                .contains("note:   --gamma does nothing with --schedule cosine; it is ignored")
                .doesNotContain("--hidden does nothing");
        assertThat(r.out()).as("notes stay off stdout").doesNotContain("note:");
        assertThat(r.err()).doesNotContain("--tf32");
        JsonNode model = new ObjectMapper().readTree(dir.resolve("a/metrics.json").toFile()).at("/model/options");
        assertThat(model.has("depth") || model.has("width") || model.has("block") || model.has("batch_norm"))
                .as("the checkpoint does not record what was ignored: " + model).isFalse();

        // the defaults say nothing; options that apply say nothing
        Cli.Run quiet = Cli.run(args(dir.resolve("b"), "--model", "mlp", "--hidden", "8", "--momentum", "0.5", "--nesterov",
                "--schedule", "piecewise", "--milestones", "0.3", "--gamma", "0.5"));
        assertThat(quiet.exitCode()).as(quiet.err()).isEqualTo(0);
        assertThat(quiet.err()).doesNotContain("does nothing");
    }

    /** A run that ends at chance without diverging (weight decay far too large: lr 0.05 × decay 10 halves every weight each step) is noted. */
    @Test
    void aModelThatDidNotLearnIsNoted(@TempDir Path dir) {
        Cli.Run r = Cli.run(args(dir.resolve("d"), "--model", "mlp", "--hidden", "8", "--weight-decay", "10"));
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("is no better than always predicting the most frequent class (0.5000 of the test set")
                .contains("the model did not learn").contains("a smaller --weight-decay");
    }

    /** A warm-up not shorter than training never reached --lr, silently (audit 20b, F8): a note says how far it gets. */
    @Test
    void aWarmUpAsLongAsTrainingIsNoted(@TempDir Path dir) {
        Cli.Run r = Cli.run(args(dir.resolve("w"), "--model", "mlp", "--hidden", "8", "--schedule", "constant", "--lr", "0.1", "--warmup", "5"));
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("note:   --warmup 5 is not shorter than --epochs 1, so the whole run is warm-up and the learning rate "
                + "never reaches --lr 0.1 (at most 0.0200): give a --warmup shorter than --epochs");
        Cli.Run shorter = Cli.run(args(dir.resolve("s"), "--model", "mlp", "--hidden", "8", "--warmup", "0.5"));
        assertThat(shorter.exitCode()).as(shorter.err()).isZero();
        assertThat(shorter.err()).doesNotContain("--warmup");
    }

    /** --val-fraction 0.9999 trained on a handful of examples without a word: a note says how many are left. */
    @Test
    void aValidationSplitThatLeavesLessThanABatchIsNoted(@TempDir Path dir) {
        String[] train = {"train", "--data", "moons", "--epochs", "1", "--threads", "1", "--model", "mlp", "--hidden", "8", "--batch-size", "64"};
        Cli.Run r = Cli.run(Cli.concat(train, new String[]{"--val-fraction", "0.999", "--out", dir.resolve("v").toString()}));
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).containsPattern("note:   --val-fraction 0.999 leaves \\d+ of \\d+ examples to train on, fewer than one "
                + "--batch-size 64: hold out less");
        Cli.Run fine = Cli.run(Cli.concat(train, new String[]{"--val-fraction", "0.1", "--out", dir.resolve("f").toString()}));
        assertThat(fine.exitCode()).as(fine.err()).isZero();
        assertThat(fine.err()).doesNotContain("--val-fraction");
    }

    /** --data-dir was ignored without a word for sets not read from a folder, even when it named no folder at all. */
    @Test
    void aDataDirForAGeneratedOrBundledSetIsNoted(@TempDir Path dir) {
        Cli.Run toy = Cli.run(args(dir.resolve("toy"), "--model", "mlp", "--hidden", "8", "--data-dir", dir.resolve("nowhere").toString()));
        assertThat(toy.exitCode()).as(toy.err()).isZero();
        assertThat(toy.err()).contains("note:   --data-dir does nothing with --data moons (generated in code); it is ignored");
        Cli.Run sample = Cli.run("eval", "--torchscript", "src/test/resources/torchscript/linear_fmnist.pt", "--data", "fashion-mnist-sample",
                "--data-dir", dir.resolve("nowhere").toString(), "--threads", "1", "--out", dir.resolve("eval").toString());
        assertThat(sample.exitCode()).as(sample.err()).isZero();
        assertThat(sample.err()).contains("note:   --data-dir does nothing with --data fashion-mnist-sample (bundled with Tikhon; for the full "
                + "set from a folder, give --data fashion-mnist); it is ignored");
    }

    @Test
    void settingsThatCannotMeanWhatWasAskedAreErrorsBeforeTheData(@TempDir Path dir) {
        String[][] cases = {
                {"--model mlp --schedule piecewise --milestones 0.75,0.5", "--milestones 0.75,0.5 must be increasing, each once: give 0.5,0.75"},
                {"--model mlp --schedule piecewise --milestones 0.5,1.5", "--milestones 0.5,1.5: each milestone is a fraction of training in (0, 1)"},
                {"--model mlp --nesterov --momentum 0", "--nesterov needs momentum"},
                // the learning rate was 0 from the first milestone on, silently (audit 20b, F8)
                {"--model mlp --schedule step --gamma 0", "--gamma 0 with --schedule step makes the learning rate 0 from the first "
                        + "milestone (0.5 of training) on, so training stops there: give a factor above 0"},
                {"--model mlpp", "unknown --model 'mlpp': use one of mlp, cnn, resnet, farkas-resnet"},
        };
        for (String[] c : cases) {
            Cli.Run r = Cli.run(args(dir.resolve("x"), c[0].split(" ")));
            assertThat(r.exitCode()).as(c[0]).isEqualTo(Main.EXIT_USER);
            assertThat(r.err()).as(c[0]).contains(c[1]).doesNotContain("Exception");
            assertThat(r.out()).as(c[0] + ": the data was not read").isEmpty();
        }
    }

    /** smooth's piecewise schedule had fixed milestones: it now takes train's --milestones and --gamma, checked the same way. */
    @Test
    void smoothTakesThePiecewiseMilestones(@TempDir Path dir) throws IOException {
        String[] smooth = {"smooth", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--data", "fashion-mnist-sample",
                "--subset", "32", "--batch-size", "32", "--threads", "1", "--out"};
        Cli.Run bad = Cli.run(Cli.concat(smooth, dir.resolve("bad").toString(), "--lr-schedule", "piecewise", "--milestones", "0.8,0.2"));
        assertThat(bad.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(bad.err()).contains("--milestones 0.8,0.2 must be increasing, each once: give 0.2,0.8");
        Cli.Run zero = Cli.run(Cli.concat(smooth, dir.resolve("zero").toString(), "--lr-schedule", "piecewise", "--gamma", "0"));
        assertThat(zero.exitCode()).isEqualTo(Main.EXIT_USER);
        assertThat(zero.err()).contains("--gamma 0 with --lr-schedule piecewise makes the learning rate 0");
        Cli.Run noted = Cli.run(Cli.concat(smooth, dir.resolve("noted").toString(), "--milestones", "0.3", "--gamma", "0.5"));
        assertThat(noted.exitCode()).as(noted.err()).isZero();
        assertThat(noted.err()).contains("note:   --milestones does nothing with --lr-schedule constant; it is ignored")
                .contains("note:   --gamma does nothing with --lr-schedule constant; it is ignored");
        Cli.Run ok = Cli.run(Cli.concat(smooth, dir.resolve("ok").toString(), "--lr-schedule", "piecewise", "--milestones", "0.3",
                "--gamma", "0.5"));
        assertThat(ok.exitCode()).as(ok.err()).isZero();
        assertThat(ok.err()).doesNotContain("does nothing");
        JsonNode opt = new ObjectMapper().readTree(dir.resolve("ok/metrics.json").toFile()).at("/optimizer");
        assertThat(opt.at("/milestones").toString()).isEqualTo("[0.3]");
        assertThat(opt.at("/gamma").asDouble()).isEqualTo(0.5);
    }

    /** --tf32 sets how a GPU multiplies; on the CPU it was ignored silently. */
    @Test
    void tf32OnTheCpuIsNoted(@TempDir Path dir) {
        Cli.Run r = Cli.run(args(dir.resolve("a"), "--model", "mlp", "--hidden", "8", "--tf32"));
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        assertThat(r.err()).contains("note:   --tf32 does nothing with --device cpu; it is ignored");
        Cli.Run e = Cli.run("eval", "--checkpoint", dir.resolve("a").toString(), "--tf32", "--threads", "1", "--out", dir.resolve("e").toString());
        assertThat(e.exitCode()).as(e.err()).isEqualTo(0);
        assertThat(e.err()).contains("note:   --tf32 does nothing with --device cpu; it is ignored");
    }
}
