package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.certify.CertificationRun;
import dev.tikhon.engine.Device;
import dev.tikhon.lipschitz.LipschitzCertification;
import dev.tikhon.lipschitz.LipschitzCertifier;
import dev.tikhon.lipschitz.NetworkBound;
import dev.tikhon.report.Charts;
import dev.tikhon.report.Csv;
import dev.tikhon.report.Progress;
import dev.tikhon.report.RunDirectory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code tikhon certify --method lipschitz}: the sound one-pass certificate, in batches, with its outputs. */
final class LipschitzCertify {
    private LipschitzCertify() {}

    static LipschitzCertifier.Norm parseNorm(String norm) {
        switch (norm.toLowerCase(Locale.ROOT)) {
            case "l2": return LipschitzCertifier.Norm.L2;
            case "linf": return LipschitzCertifier.Norm.LINF;
            default: throw new UserError("unknown --norm '" + norm + "' for --method lipschitz: use l2 or linf");
        }
    }

    static int run(CertifyCommand c, Device device) {
        LipschitzCertifier.Norm norm = parseNorm(c.norm);
        if (c.cluster.enabled()) {
            throw new UserError("--spark is not used by --method lipschitz: its certificate is one batched forward pass (milliseconds "
                    + "per image); drop --spark");
        }
        ModelSource.Loaded model = c.source.load();
        if (model.opaque()) {
            throw new UserError(model.name() + " is a TorchScript model: its architecture is opaque to Tikhon, so no sound Lipschitz bound "
                    + "can be computed; use a Tikhon checkpoint (mlp, cnn, resnet, farkas-resnet) or --method cohen");
        }
        RunDirectory run = RunDirectory.create(c.out != null ? c.out : Path.of("runs", "certify-lipschitz"));
        ModelSource.Loaded.Data data = model.split(c.data, c.split, c.seed);
        model.model().to(device);
        int count = Math.min(c.images, data.set().size());
        Map<String, Object> metrics = RunReport.header("certify", device);
        long wall0 = System.nanoTime();
        LipschitzCertification.Result r;
        try (Progress bar = Progress.start("certify lipschitz", count)) {
            r = LipschitzCertification.run(model.model(), data.set(), count, norm, c.batchSize, device, bar);
        }
        double wall = (System.nanoTime() - wall0) / 1e9;
        metrics.put("wall_seconds", wall);
        metrics.put("images_per_second", count / wall);
        metrics.put("model", model.name());
        metrics.put("data", data.description());
        metrics.put("result", r.summary());
        write(run, r);
        run.writeMetrics(metrics);
        run.writeIndex("Tikhon certification: lipschitz (sound)", model.name() + " on " + data.description() + ", " + c.norm, metrics);
        print(r);
        System.out.println("outputs: " + run.path() + " (certify.csv, certified_accuracy.csv/.png, layers.csv, metrics.json, index.html)");
        return 0;
    }

    static void write(RunDirectory run, LipschitzCertification.Result r) {
        r.writeCsv(run.resolve("certify.csv"));
        List<String> header = new ArrayList<>(List.of("certificate", "kind"));
        for (double radius : CertificationRun.RADII) header.add("r=" + radius);
        List<Object> row = new ArrayList<>(List.of("lipschitz", "sound"));
        for (double radius : CertificationRun.RADII) row.add(r.certifiedAccuracy(radius));
        Csv.write(run.resolve("certified_accuracy.csv"), header, List.of(row));
        List<List<Object>> layers = new ArrayList<>();
        for (NetworkBound.Layer l : r.bound().layers()) layers.add(List.of(l.name(), l.kind(), l.upper(), l.lower()));
        Csv.write(run.resolve("layers.csv"), List.of("layer", "kind", "upper", "power_iteration_lower"), layers);
        String n = r.norm() == LipschitzCertifier.Norm.L2 ? "ℓ2" : "ℓ∞";
        double max = r.norm() == LipschitzCertifier.Norm.L2 ? 1.0 : 0.1;
        Charts.line(run.resolve("certified_accuracy.png"), "Certified accuracy (lipschitz, sound, " + n + ")", n + " radius",
                "certified accuracy", r.asCertificationRun().curves("lipschitz ", max));
    }

    static void print(LipschitzCertification.Result r) {
        StringBuilder h = new StringBuilder(String.format(Locale.ROOT, "%-12s", "certificate"));
        for (double radius : CertificationRun.RADII) h.append(String.format(Locale.ROOT, "  r=%-5s", radius));
        System.out.println(h);
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-12s", "lipschitz"));
        for (double radius : CertificationRun.RADII) line.append(String.format(Locale.ROOT, "  %7.3f", r.certifiedAccuracy(radius)));
        System.out.println(line + "   (sound)");
        System.out.printf(Locale.ROOT, "clean accuracy %.4f on %d images; certification %.3f ms/image (+ %.2f s once for the bound)%n",
                r.cleanAccuracy(), r.images().size(), 1000 * r.meanSeconds(), r.boundSeconds());
        System.out.printf(Locale.ROOT, "bound: body %.4g, logits %.4g, largest pairwise L_cj %.4g; largest margin gradient on the data %.4g "
                + "(%.1f%% of its L_cj at most)%n", r.bound().body(), r.bound().total(), r.maxPairBound(), r.maxGradientNorm(),
                100 * r.maxGradientRatio());
    }
}
