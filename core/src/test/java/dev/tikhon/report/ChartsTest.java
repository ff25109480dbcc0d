package dev.tikhon.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ChartsTest {
    private static final double NAN = Double.NaN;

    @TempDir
    Path dir;

    /** Pixels of exactly this colour (the antialiased edges of a line are blends, its core is the colour). */
    private static long pixels(Path png, int rgb) throws Exception {
        BufferedImage img = ImageIO.read(png.toFile());
        long n = 0;
        for (int y = 0; y < img.getHeight(); y++) for (int x = 0; x < img.getWidth(); x++) if ((img.getRGB(x, y) & 0xffffff) == rgb) n++;
        return n;
    }

    @Test
    void certificateKindsAreDrawnDistinctly() throws Exception {
        assertThat(Charts.Stroke.forKind("sound")).isEqualTo(Charts.Stroke.SOLID);
        assertThat(Charts.Stroke.forKind("probabilistic (α 0.001)")).isEqualTo(Charts.Stroke.DASHED);
        assertThat(Charts.Stroke.forKind("heuristic")).isEqualTo(Charts.Stroke.DOTTED);
        assertThat(Charts.Stroke.forKind("estimate")).isEqualTo(Charts.Stroke.DOTTED);
        // the same flat curve drawn three ways (the first colour each time): solid inks more than dashed, dashed more than dotted
        double[] x = new double[60], y = new double[60];
        for (int i = 0; i < x.length; i++) x[i] = i;
        java.util.Arrays.fill(y, 0.5);
        long[] ink = new long[3];
        Charts.Stroke[] strokes = {Charts.Stroke.SOLID, Charts.Stroke.DASHED, Charts.Stroke.DOTTED};
        for (int k = 0; k < 3; k++) {
            Path png = dir.resolve("kind" + k + ".png");
            Charts.line(png, "kinds", "r", "certified accuracy", List.of(new Charts.Series("curve", x, y, strokes[k])));
            ink[k] = pixels(png, 0x4e79a7);
        }
        assertThat(ink[0]).as("solid vs dashed").isGreaterThan(ink[1] * 5 / 4);
        assertThat(ink[1]).as("dashed vs dotted").isGreaterThan(ink[2] * 5 / 4);
    }

    @Test
    void aChartOfSinglePointsIsDrawnAsBarsWithShortTicks() throws Exception {
        Path png = dir.resolve("one.png");
        Charts.line(png, "Loss", "epoch", "loss", List.of(new Charts.Series("train_loss", new double[]{1}, new double[]{0.004637180303689092}),
                new Charts.Series("test_loss", new double[]{1}, new double[]{0.652924885749817})));
        assertValidPng(png);
        assertThat(pixels(png, 0x4e79a7)).as("filled bars, not two dots").isGreaterThan(20_000);
    }

    @Test
    void longLegendsGetOneLinePerNameAndATallerChart() throws Exception {
        List<String> names = List.of("undefended (cohen σ 0.25), probabilistic (α 0.001)", "noise σ 0.25 (cohen), probabilistic (α 0.001)",
                "heat revision σ 0.25 (b), heuristic");
        assertThat(Charts.legendRows(names)).isEqualTo(3);
        assertThat(Charts.legendRows(List.of("train_loss", "test_loss"))).isEqualTo(1);
        Path png = dir.resolve("legend.png");
        Charts.line(png, "c", "r", "a", names.stream().map(n -> new Charts.Series(n, new double[]{0, 1}, new double[]{1, 0})).toList());
        assertThat(ImageIO.read(png.toFile()).getHeight()).isGreaterThan(Charts.HEIGHT);
    }

    @Test
    void lineChartIsAValidPng() throws Exception {
        Path png = dir.resolve("line.png");
        Charts.line(png, "Loss", "epoch", "loss", List.of(
                new Charts.Series("train", new double[] {1, 2, 3}, new double[] {1.0, 0.5, 0.25}),
                new Charts.Series("test", new double[] {1, 2, 3}, new double[] {1.2, 0.7, 0.4})));

        assertValidPng(png);
    }

    @Test
    void skipsNaNPointsAndDrawsSinglePointsAndEmptySeries() throws Exception {
        Charts.line(dir.resolve("nan.png"), "NaN", "x", "y", List.of(
                new Charts.Series("some", new double[] {1, 2, NAN, 4}, new double[] {NAN, 0.5, 1, Double.POSITIVE_INFINITY}),
                new Charts.Series("none", new double[] {1, 2}, new double[] {NAN, NAN})));
        Charts.line(dir.resolve("single.png"), "One", "x", "y",
                List.of(new Charts.Series("one", new double[] {3}, new double[] {0.7})));
        Charts.line(dir.resolve("empty.png"), "Nothing", "x", "y", List.of());

        assertValidPng(dir.resolve("nan.png"));
        assertValidPng(dir.resolve("single.png"));
        assertValidPng(dir.resolve("empty.png"));
    }

    @Test
    void logAxisSkipsValuesItCannotShow() throws Exception {
        Path png = dir.resolve("log.png");
        Charts.line(png, "Log", "step", "loss",
                List.of(new Charts.Series("loss", new double[] {1, 2, 3, 4}, new double[] {10, 0, -1, 0.01})), true);

        assertValidPng(png);
    }

    @Test
    void seriesLengthsMustMatch() {
        assertThatThrownBy(() -> new Charts.Series("bad", new double[2], new double[3]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bad");
    }

    @Test
    void trainingCurvesPlotOnlyTheColumnsPresent() throws Exception {
        List<Map<String, Object>> history = new ArrayList<>();
        for (int epoch = 1; epoch <= 5; epoch++) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("epoch", epoch);
            row.put("train_loss", 1.0 / epoch);
            row.put("val_loss", epoch == 3 ? NAN : 1.2 / epoch);
            row.put("val_acc", 1 - 0.5 / epoch);
            row.put("lr", 0.1);
            history.add(row);
        }

        assertThat(Charts.trainingCurves(dir, history)).containsExactly("loss.png", "accuracy.png");
        assertValidPng(dir.resolve("loss.png"));
        assertValidPng(dir.resolve("accuracy.png"));

        Path lossOnly = Files.createDirectory(dir.resolve("loss-only"));
        assertThat(Charts.trainingCurves(lossOnly, List.of(Map.of("train_loss", 0.3)))).containsExactly("loss.png");
        assertThat(lossOnly.resolve("accuracy.png")).doesNotExist();
    }

    @Test
    void trainingCurvesReadHistoryBackFromCsv() throws Exception {
        Path csv = dir.resolve("history.csv");
        Csv.write(csv, List.of("epoch", "train_loss", "train_acc"),
                List.of(List.of(1, 0.9, 0.6), List.of(2, "", 0.7), List.of(3, 0.4, 0.8)));

        assertThat(Charts.trainingCurves(dir, Csv.read(csv).records())).containsExactly("loss.png", "accuracy.png");
        assertValidPng(dir.resolve("loss.png"));
    }

    @Test
    void histogramHandlesNaNConstantAndEmptyData() throws Exception {
        double[] distances = new double[1000];
        for (int i = 0; i < distances.length; i++) distances[i] = Math.sqrt(i) / 10;
        distances[7] = NAN;

        Charts.histogram(dir.resolve("hist.png"), "Distances", "L2 distance", distances, 30);
        Charts.histogram(dir.resolve("constant.png"), "Constant", "x", new double[] {2, 2, 2}, 10);
        Charts.histogram(dir.resolve("none.png"), "None", "x", new double[] {NAN}, 10);

        assertValidPng(dir.resolve("hist.png"));
        assertValidPng(dir.resolve("constant.png"));
        assertValidPng(dir.resolve("none.png"));
        assertThatThrownBy(() -> Charts.histogram(dir.resolve("x.png"), "t", "x", new double[] {1}, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void barChartSkipsNaNAndSurvivesHavingNothingToShow() throws Exception {
        List<String> classes = List.of("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");
        double[] accuracy = {0.9, 0.95, 0.7, NAN, 0.8, 0.75, 0.9, 0.88, 0.93, 0.91};

        Charts.bar(dir.resolve("per-class.png"), "Per-class accuracy", classes, accuracy);
        Charts.bar(dir.resolve("nothing.png"), "Nothing", List.of("a"), new double[] {NAN});

        assertValidPng(dir.resolve("per-class.png"));
        assertValidPng(dir.resolve("nothing.png"));
        assertThatThrownBy(() -> Charts.bar(dir.resolve("x.png"), "t", List.of("a"), new double[2]))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void chartsLeaveNoTemporaryFiles() throws Exception {
        Charts.line(dir.resolve("a.png"), "a", "x", "y", List.of());
        Charts.line(dir.resolve("a.png"), "a", "x", "y", List.of());
        Charts.bar(dir.resolve("b.png"), "b", List.of("x"), new double[] {1});

        try (var files = Files.list(dir)) {
            assertThat(files).extracting(p -> p.getFileName().toString()).containsExactlyInAnyOrder("a.png", "b.png");
        }
    }

    static void assertValidPng(Path png) throws Exception {
        assertThat(png).isRegularFile();
        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image).as("%s decodes as an image", png).isNotNull();
        assertThat(image.getWidth()).isEqualTo(Charts.WIDTH);
        assertThat(image.getHeight()).isEqualTo(Charts.HEIGHT);
    }

    @Test
    void lossCurvesSayTheTrainingObjectiveIsNotTheTestLoss() {
        Map<String, String> labels = Charts.curveLabels("loss", "_loss",
                new java.util.LinkedHashSet<>(List.of("epoch", "train_loss", "train_acc", "train_data", "train_penalty", "test_loss")));
        assertThat(labels).containsExactly(
                Map.entry("train_loss", "train objective (loss + penalty, epoch mean)"),
                Map.entry("train_data", "train loss without penalty (epoch mean)"),
                Map.entry("test_loss", "test loss (no penalty, end of epoch)"));
        assertThat(Charts.curveLabels("acc", "_acc", new java.util.LinkedHashSet<>(List.of("train_acc", "train_data", "test_acc"))))
                .containsOnlyKeys("train_acc", "test_acc");
    }
}
