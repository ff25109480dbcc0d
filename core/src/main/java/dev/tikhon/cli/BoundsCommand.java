package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.lipschitz.LipschitzCertification;
import dev.tikhon.lipschitz.LipschitzCertifier;
import dev.tikhon.robustness.RobustnessEvaluation;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tikhon bounds}: per-image lower bounds on the adversarial distance, checked against DDN. */
@Command(name = "bounds", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Per-image lower bounds on the adversarial distance: the L-bound max(−ℓ,0)/L and, for smooth models, the C-bound "
                + "from the largest Hessian eigenvalue (Lanczos on Hessian-vector products), ℓ the softmax margin loss.",
                "L and C are estimated as maxima over the evaluated images, so the bounds are estimates, not proofs; each is checked "
                        + "against the smallest adversarial example DDN finds, and any violation is reported.",
                "Beside them, for Tikhon checkpoints and ONNX models of the layers it knows: the sound ℓ2 Lipschitz upper bound of the logit margins (layer operator norms, "
                        + "docs/lipschitz.md) and the sound radii it certifies."})
final class BoundsCommand implements Callable<Integer>, RunFolder.Owner {
    @ArgGroup(exclusive = false, multiplicity = "1")
    ModelSource source;

    @Mixin DataOptions data = new DataOptions();

    @Option(names = "--lanczos", paramLabel = "K", defaultValue = "20",
            description = "Lanczos steps for the C-bound (0: L-bound only). Default: ${DEFAULT-VALUE}.")
    int lanczos;

    @Option(names = "--check", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Check the bounds against DDN's smallest adversarial examples. Default: on.")
    boolean check;

    @Mixin RobustnessOptions options = new RobustnessOptions();

    @Mixin ResumeOptions resumeOptions = new ResumeOptions();

    @Mixin RuntimeOptions runtime = new RuntimeOptions();

    @Mixin ClusterOptions cluster = new ClusterOptions();

    @Override public Path outDir() {
        return options.out != null ? options.out : DEFAULT_OUT;
    }

    private static final Path DEFAULT_OUT = Path.of("runs", "bounds");

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override public Integer call() {
        // attack's budget options are shared, but bounds runs no attack: only the check's minimum-distance search reads any
        for (String o : List.of("--steps", "--restarts", "--targets", "--queries", "--ddn-steps")) {
            if (OptionChecks.given(spec, o) && !(check && AttackCommand.SEARCH_READS.contains(o))) {
                OptionChecks.noteIgnored(o, check ? "bounds (only its check's minimum-distance search reads --steps, --targets and --ddn-steps)"
                        : "bounds --no-check");
            }
        }
        RobustnessEvaluation.Config config = new RobustnessEvaluation.Config(options.norm, new double[0], "none", options.steps,
                options.restarts, options.targets, options.queries, options.ddnSteps, check, true, lanczos, options.batchSize, options.seed);
        return AttackCommand.evaluate("bounds", "Tikhon robustness bounds", source, data, options, runtime, cluster, config, DEFAULT_OUT,
                (model, set, device, header) -> soundBound(model, set, device, header, options.norm), new TransferOptions());
    }

    /**
     * Beside the estimates: the sound ℓ2 Lipschitz bound of the logit margins (docs/lipschitz.md) and the sound certified
     * radii it gives on the evaluated images. A TorchScript model has no sound bound (its layers are opaque); that is said.
     */
    static void soundBound(ModelSource.Loaded model, dev.tikhon.data.Dataset set, dev.tikhon.engine.Device device, Map<String, Object> header,
                           dev.tikhon.attack.Norm runNorm) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("norm", "l2");   // the bound and its radii are ℓ2 whatever the run's --norm
        if (model.opaque()) {
            s.put("available", false);
            s.put("reason", "TorchScript model: its architecture is opaque, no composition rule applies");
            System.out.println("sound Lipschitz bound: not available for a TorchScript model");
            header.put("sound_lipschitz", s);
            return;
        }
        LipschitzCertification.Result r;
        try {
            r = LipschitzCertification.run(model.model(), set, set.size(), dev.tikhon.attack.Norm.L2, 256, device, null);
        } catch (UserError e) {   // an imported model with a layer the composition rules do not cover: the estimates stand alone
            s.put("available", false);
            s.put("reason", e.getMessage());
            System.out.println("sound Lipschitz bound: not available: " + e.getMessage());
            header.put("sound_lipschitz", s);
            return;
        }
        double[] radii = r.images().stream().filter(LipschitzCertification.Image::correct).mapToDouble(LipschitzCertification.Image::radius).sorted().toArray();
        double median = dev.tikhon.robustness.RobustnessReport.median(radii);   // the two middle radii averaged, as every median here
        s.put("kind", "sound");
        s.put("logits", r.bound().total());
        s.put("body", r.bound().body());
        s.put("max_pairwise", r.maxPairBound());
        s.put("max_margin_gradient_norm", r.maxGradientNorm());
        s.put("radius_median_correct", median);
        s.put("certified_accuracy", r.summary().get("certified_accuracy"));
        // an ℓ∞ run: the ℓ∞ radius the ℓ2 certificate implies, r₂/√d, since ‖δ‖₂ ≤ √d‖δ‖∞ (sound, and loose by up to √d)
        long d = 1;
        for (long k : set.inputShape()) d *= k;
        double linf = median / Math.sqrt(d);
        if (runNorm == dev.tikhon.attack.Norm.LINF) {
            s.put("input_dimension", d);
            s.put("linf_radius_median_correct", linf);
            s.put("linf_from_l2", "r∞ = r₂/√d (‖δ‖₂ ≤ √d‖δ‖∞): the ℓ∞ ball of that radius lies in the certified ℓ2 ball");
        }
        s.put("bound_seconds", r.boundSeconds());
        header.put("sound_lipschitz", s);
        System.out.printf(Locale.ROOT, "sound Lipschitz bound (upper, ℓ2): logits %.4g, largest margin pair L_cj %.4g (largest margin gradient seen %.4g); "
                + "sound ℓ2 radius median %.4g over %d correct images%s%n", r.bound().total(), r.maxPairBound(), r.maxGradientNorm(),
                median, radii.length, runNorm == dev.tikhon.attack.Norm.LINF
                        ? String.format(Locale.ROOT, " (as ℓ∞: %.4g = r₂/√%d)", linf, d) : "");
    }
}
