package dev.tikhon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.ScriptedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** train → smooth → certify through the command line, on the bundled Fashion-MNIST sample, tiny budgets. */
class CliCertifyTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void trainSmoothCertify(@TempDir Path dir) throws IOException {
        Path base = dir.resolve("base"), smooth = dir.resolve("smooth"), heat = dir.resolve("heat"), cohen = dir.resolve("cohen");
        Cli.Run t = Cli.run("train", "--data", "fashion-mnist-sample", "--model", "mlp", "--hidden", "32", "--epochs", "1",
                "--reg", "noise", "--sigma", "0.25", "--threads", "1", "--out", base.toString());
        assertThat(t.exitCode()).as(t.err()).isEqualTo(0);

        Cli.Run s = Cli.run("smooth", "--checkpoint", base.toString(), "--subset", "256", "--kappa", "2", "--batch-size", "64",
                "--threads", "1", "--out", smooth.toString());
        assertThat(s.exitCode()).as(s.err()).isEqualTo(0);
        assertThat(s.out()).contains("labels are not used");
        JsonNode sm = JSON.readTree(smooth.resolve("metrics.json").toFile());
        assertThat(sm.at("/heat/schedule").asText()).isEqualTo("revision");
        assertThat(sm.at("/training_images").asInt()).isEqualTo(256);
        assertThat(smooth.resolve("checkpoint.tkn")).exists();

        Cli.Run c = Cli.run("certify", "--checkpoint", smooth.toString(), "--method", "heat", "--images", "4", "--n", "200",
                "--n0", "50", "--noise-batch", "100", "--attack-steps", "3", "--threads", "1", "--out", heat.toString());
        assertThat(c.exitCode()).as(c.err()).isEqualTo(0);
        assertThat(c.out()).doesNotContain("single-pass certificates");
        assertThat(Cli.run("smooth", "--help").out().replaceAll("\\s+", " ")).contains("one-pass radii are heuristic").doesNotContain("certifies in one pass");
        // (a) takes ĉ from the single pass: no N0 selection samples, so --n0 is said to be ignored and not described as used
        assertThat(c.err()).contains("--n0 does nothing with --method heat");
        assertThat(c.out()).doesNotContain("N0 50").contains("no N0 selection");
        JsonNode hm = JSON.readTree(heat.resolve("metrics.json").toFile());
        assertThat(hm.at("/sigma").asDouble()).isEqualTo(0.25);   // from the smoothing run
        assertThat(hm.at("/result/certificates/a/kind").asText()).isEqualTo("probabilistic");
        assertThat(hm.at("/result/certificates/b/kind").asText()).isEqualTo("heuristic");
        assertThat(hm.at("/result/certificates/c/certified_accuracy/0.0").isNumber()).isTrue();
        assertThat(hm.at("/result/single_pass_vs_smoothed_agreement").isNumber()).isTrue();
        // the violation counts: none inside the probabilistic radius (a); (b), (c) counted and printed as counted
        assertThat(hm.at("/attack/a/tested").asLong()).isPositive();
        assertThat(hm.at("/attack/a/broken").asLong()).as("violations of certificate (a)").isZero();
        for (String k : new String[]{"b", "c"}) {
            long tested = hm.at("/attack/" + k + "/tested").asLong(), broken = hm.at("/attack/" + k + "/broken").asLong();
            assertThat(tested).isPositive();
            assertThat(broken).isBetween(0L, tested);
            assertThat(c.out()).contains("PGD-3 inside radius (" + k + "): broke " + broken + " of " + tested + " heuristic single-pass radii (not certificates)");
        }
        assertThat(Files.readAllLines(heat.resolve("certify.csv"))).hasSize(5);
        assertThat(Files.readString(heat.resolve("certify.csv"))).startsWith("index,label,prediction,correct,prediction_a,radius_a,kind_a,"
                + "alpha_a,prediction_b,radius_b,kind_b,prediction_c,radius_c,kind_c,norm,");
        List<String> accuracy = Files.readAllLines(heat.resolve("certified_accuracy.csv"));
        assertThat(accuracy).hasSize(4);
        assertThat(accuracy.get(0)).isEqualTo("certificate,kind,alpha,norm,r=0.0,r=0.25,r=0.5,r=0.75,r=1.0");
        assertThat(accuracy.get(1)).startsWith("a,probabilistic,0.001,l2,");
        assertThat(accuracy.get(2)).startsWith("b,heuristic,,l2,");
        // stdout: α with the probabilistic row, the heuristic rows not called certified, the radius cap
        assertThat(c.out()).contains("(probabilistic, α = 0.001)").contains("(heuristic: accuracy at radius ≥ r, not certified)")
                .contains("radius cap σΦ⁻¹(α^{1/N}) = ").contains("(cap)");
        assertThat(hm.at("/result/certificates/b/measures").asText()).contains("not certified");
        assertThat(hm.at("/result/single_image_latency_ms").isNumber()).isTrue();
        assertThat(heat.resolve("certify.tsv")).exists();   // its first certificate, (a), is probabilistic
        assertThat(heat.resolve("certified_accuracy.png")).exists();
        // the page: what (a), (b), (c) are, the agreement, the latency, heuristic rows not certified, every per-image file
        String page = Files.readString(heat.resolve("index.html"));
        assertThat(page).contains("(a) heat-monte-carlo").contains("(b) heat-lipschitz").contains("(c) heat-phi-inverse")
                .contains("agrees with the smoothed classifier").contains("one image alone").contains("heuristic (not certified)")
                .contains("accuracy at heuristic radius ≥ r (not certified)").contains("href=\"certify.tsv\"").contains("href=\"certify.jsonl\"");

        // only heuristic radii: no Cohen-format file (it would be read as a CERTIFY radius), and nothing called certified
        Path single = dir.resolve("heat-single");
        Cli.Run nm = Cli.run("certify", "--checkpoint", smooth.toString(), "--method", "heat", "--no-monte-carlo", "--images", "3",
                "--threads", "1", "--out", single.toString());
        assertThat(nm.exitCode()).as(nm.err()).isEqualTo(0);
        assertThat(single.resolve("certify.tsv")).doesNotExist();
        assertThat(nm.out()).contains("no certify.tsv").contains("accuracy at heuristic radius ≥ r (not certified) by ℓ2 radius r:")
                .doesNotContain("radius cap");
        assertThat(Files.readString(single.resolve("index.html"))).contains("Accuracy at heuristic radius ≥ r (not certified)")
                .doesNotContain("Certified accuracy:").doesNotContain("href=\"certify.tsv\"");
        // no samples were drawn: no Monte Carlo settings (N, α) and no probabilistic radius cap beside heuristic radii
        JsonNode single1 = JSON.readTree(single.resolve("metrics.json").toFile());
        assertThat(single1.at("/sigma").asDouble()).isEqualTo(0.25);
        assertThat(single1.has("smoothing")).isFalse();
        assertThat(single1.has("max_certifiable_radius")).isFalse();
        assertThat(Files.readString(single.resolve("index.html"))).doesNotContain("max_certifiable_radius");

        Cli.Run wrongSigma = Cli.run("certify", "--checkpoint", smooth.toString(), "--method", "heat", "--sigma", "0.5", "--images", "2",
                "--threads", "1", "--out", dir.resolve("wrong").toString());
        assertThat(wrongSigma.exitCode()).isEqualTo(2);
        assertThat(wrongSigma.err().strip()).doesNotContain("\n").startsWith("tikhon: error: --sigma 0.5 differs from the σ 0.25")
                .contains(smooth.toString());

        // another σ than the model was noise-trained with: still CERTIFY at that σ, with a note; the trained σ: no note
        Cli.Run other = Cli.run("certify", "--checkpoint", base.toString(), "--method", "cohen", "--sigma", "0.5", "--images", "1",
                "--n", "100", "--n0", "10", "--threads", "1", "--out", dir.resolve("other-sigma").toString());
        assertThat(other.exitCode()).as(other.err()).isEqualTo(0);
        assertThat(other.out()).contains("note:   --sigma 0.5 differs from the σ 0.25 that").contains("noise-trained");
        Cli.Run same = Cli.run("certify", "--checkpoint", base.toString(), "--method", "cohen", "--sigma", "0.25", "--images", "1",
                "--n", "100", "--n0", "10", "--threads", "1", "--out", dir.resolve("same-sigma").toString());
        assertThat(same.out()).doesNotContain("differs from the σ");

        Cli.Run k = Cli.run("certify", "--checkpoint", base.toString(), "--method", "cohen", "--images", "3", "--n", "300",
                "--predict-images", "1", "--attack-steps", "3", "--threads", "1", "--out", cohen.toString());
        assertThat(k.exitCode()).as(k.err()).isEqualTo(0);
        JsonNode cm = JSON.readTree(cohen.resolve("metrics.json").toFile());
        dev.tikhon.report.Csv.Table ct = dev.tikhon.report.Csv.read(cohen.resolve("certify.csv"));
        long certified = ct.records().stream().filter(row -> !row.get("prediction_cohen").equals("-1")).count();
        // one abstention encoding (−1), the kind and α on every row, PREDICT's time only on the image it timed
        for (Map<String, String> row : ct.records()) {
            assertThat(row.get("prediction_cohen")).isEqualTo(row.get("prediction")).doesNotContain("abstain");
            assertThat(row.get("kind_cohen")).isEqualTo("probabilistic");
            assertThat(row.get("alpha_cohen")).isEqualTo("0.001");
            assertThat(row.get("base_prediction")).matches("\\d+");
            if (row.get("index").equals("0")) assertThat(Double.parseDouble(row.get("classify_ms"))).isPositive();
            else assertThat(row.get("classify_ms")).isEmpty();
        }
        // the accuracy of the smoothed classifier is named as such, beside the base model's; no NaN written as a string
        assertThat(cm.at("/result/smoothed_accuracy").isNumber()).isTrue();
        assertThat(cm.at("/result/clean_accuracy").isMissingNode()).isTrue();
        assertThat(cm.at("/result/base_model_clean_accuracy").isNumber()).isTrue();
        assertThat(k.out()).contains("accuracy of the smoothed classifier (abstain = wrong").contains("base model's clean accuracy")
                .doesNotContain("clean accuracy " + String.format(java.util.Locale.ROOT, "%.4f", cm.at("/result/smoothed_accuracy").asDouble()) + " on");
        assertThat(Files.readString(cohen.resolve("metrics.json"))).doesNotContain("\"NaN\"");
        assertThat(cm.at("/attack/cohen/tested").asLong()).isPositive().isLessThanOrEqualTo(certified);
        assertThat(cm.at("/attack/cohen/broken").asLong()).as("violations of Cohen certificates").isZero();
        assertThat(k.out()).contains("inside radius (cohen): broke 0 of " + cm.at("/attack/cohen/tested").asLong());
        assertThat(cm.at("/result/certificates/cohen/alpha").asDouble()).isEqualTo(0.001);
        assertThat(cm.at("/result/predict_ms_per_image").asDouble()).isPositive();
        assertThat(cm.at("/max_certifiable_radius").asDouble()).isLessThan(0.25 * 2.7);

        // the same certificates with two images' noise sharing each forward pass (3 images: groups of 2 and 1)
        Path packed = dir.resolve("cohen-packed");
        Cli.Run p = Cli.run("certify", "--checkpoint", base.toString(), "--method", "cohen", "--images", "3", "--n", "300",
                "--images-per-batch", "2", "--threads", "1", "--out", packed.toString());
        assertThat(p.exitCode()).as(p.err()).isEqualTo(0);
        assertThat(withoutTimes(packed.resolve("certify.csv"))).isEqualTo(withoutTimes(cohen.resolve("certify.csv")));
        JsonNode pm = JSON.readTree(packed.resolve("metrics.json").toFile());
        assertThat(pm.at("/result/classify_ms_per_image").isMissingNode()).as("nothing classified was timed").isTrue();
        assertThat(Files.readString(packed.resolve("metrics.json"))).doesNotContain("NaN");
        assertThat(JSON.readTree(packed.resolve("metrics.json").toFile()).at("/smoothing/imagesPerBatch").asInt()).isEqualTo(2);
        Path heatPacked = dir.resolve("heat-packed");
        Cli.Run hp = Cli.run("certify", "--checkpoint", smooth.toString(), "--method", "heat", "--images", "4", "--n", "200",
                "--noise-batch", "100", "--images-per-batch", "3", "--threads", "1", "--out", heatPacked.toString());
        assertThat(hp.exitCode()).as(hp.err()).isEqualTo(0);
        assertThat(withoutTimes(heatPacked.resolve("certify.csv"))).isEqualTo(withoutTimes(heat.resolve("certify.csv")));
    }

    /** certify.csv's rows without the two time columns at their end. */
    private static List<String> withoutTimes(Path csv) throws IOException {
        return Files.readAllLines(csv).stream().map(l -> l.replaceFirst(",[^,]*,[^,]*$", "")).toList();
    }

    @Test
    void v1ScheduleRunsItsStepsAndResumes(@TempDir Path dir) throws IOException {
        Path base = dir.resolve("base"), smooth = dir.resolve("v1");
        assertThat(Cli.run("train", "--data", "fashion-mnist-sample", "--model", "mlp", "--hidden", "16", "--epochs", "1",
                "--threads", "1", "--out", base.toString()).exitCode()).isEqualTo(0);
        String[] args = {"smooth", "--checkpoint", base.toString(), "--schedule", "v1", "--steps", "2", "--subset", "128",
                "--kappa", "2", "--batch-size", "64", "--threads", "1", "--out", smooth.toString()};
        Cli.Run s = Cli.run(args);
        assertThat(s.exitCode()).as(s.err()).isEqualTo(0);
        assertThat(smooth.resolve("step-1/checkpoint.tkn")).exists();
        assertThat(smooth.resolve("step-2/checkpoint.tkn")).exists();
        JsonNode m = JSON.readTree(smooth.resolve("metrics.json").toFile());
        assertThat(m.at("/steps").size()).isEqualTo(2);
        String[] again = java.util.Arrays.copyOf(args, args.length + 1);
        again[args.length] = "--resume";
        Cli.Run r = Cli.run(again);
        assertThat(r.exitCode()).as(r.err()).isEqualTo(0);
        assertThat(JSON.readTree(smooth.resolve("metrics.json").toFile()).at("/train_seconds").asDouble())
                .isEqualTo(m.at("/train_seconds").asDouble());   // nothing retrained
    }

    @Test
    void aTorchScriptModelIsSmoothedInPlaceAndCertified(@TempDir Path dir) throws IOException {
        // with batch norm, as the model of the bug report: only the running statistics changed, the weights never did
        Path input = Path.of("src/test/resources/torchscript/tiny_bn_cnn.pt");
        Path smooth = dir.resolve("ts"), cert = dir.resolve("cert"), eval = dir.resolve("eval");
        Cli.Run s = Cli.run("smooth", "--torchscript", input.toString(), "--data", "fashion-mnist-sample",
                "--subset", "128", "--kappa", "2", "--batch-size", "64", "--lr", "1e-3", "--momentum", "0.5", "--threads", "1", "--out", smooth.toString());
        assertThat(s.exitCode()).as(s.err()).isEqualTo(0);
        assertThat(s.err()).contains("note:   --momentum does nothing with --optimizer adam; it is ignored");
        Path smoothed = smooth.resolve("smoothed.pt");
        assertThat(smoothed).exists();
        Map<String, Tensor> before = ScriptedModel.load(input).stateDict(), after = ScriptedModel.load(smoothed).stateDict();
        for (String weight : List.of("conv/weight", "bn/weight", "fc/weight", "fc/bias")) {
            assertThat(after.get(weight).toFloatArray()).as(weight + " smoothed").isNotEqualTo(before.get(weight).toFloatArray());
        }
        // the saved model is the smoothed one: it evaluates to the accuracy smooth printed
        double printed = JSON.readTree(smooth.resolve("metrics.json").toFile()).at("/test_accuracy_after").asDouble();
        assertThat(s.out()).contains(String.format("%.4f after smoothing", printed));
        Cli.Run e = Cli.run("eval", "--torchscript", smoothed.toString(), "--data", "fashion-mnist-sample", "--threads", "1",
                "--out", eval.toString());
        assertThat(e.exitCode()).as(e.err()).isEqualTo(0);
        assertThat(JSON.readTree(eval.resolve("metrics.json").toFile()).at("/evaluation/accuracy").asDouble()).isEqualTo(printed);

        Cli.Run c = Cli.run("certify", "--torchscript", smoothed.toString(), "--data", "fashion-mnist-sample",
                "--method", "heat", "--sigma", "0.25", "--no-monte-carlo", "--images", "3", "--threads", "1", "--out", cert.toString());
        assertThat(c.exitCode()).as(c.err()).isEqualTo(0);
        assertThat(c.out()).contains("is taken to be heat-smoothed at σ 0.25").contains("mean nothing if it was not");
        assertThat(JSON.readTree(cert.resolve("metrics.json").toFile()).at("/result/certificates").has("a")).isFalse();
        // the checkpoint names the original file, so it loads too
        Cli.Run k = Cli.run("certify", "--checkpoint", smooth.toString(), "--data", "fashion-mnist-sample", "--method", "heat",
                "--no-monte-carlo", "--images", "2", "--threads", "1", "--out", dir.resolve("cert2").toString());
        assertThat(k.exitCode()).as(k.err()).isEqualTo(0);
    }

    @Test
    void badCertifyInputIsAOneLineError(@TempDir Path dir) {
        Cli.Run r = Cli.run("certify", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--method", "heat",
                "--out", dir.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("--sigma is needed");
        Cli.Run m = Cli.run("certify", "--torchscript", "src/test/resources/torchscript/tiny_cnn.pt", "--method", "monte",
                "--sigma", "0.25", "--out", dir.toString());
        assertThat(m.exitCode()).isEqualTo(2);
        assertThat(m.err()).contains("unknown --method 'monte'");
    }
}
