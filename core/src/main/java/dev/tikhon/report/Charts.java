package dev.tikhon.report;

import dev.tikhon.io.AtomicFiles;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.DoublePredicate;

/**
 * PNG charts for run reports, drawn with XChart and written atomically.
 *
 * <p>Non-finite values (a diverged loss, a metric not computed that epoch) are skipped rather
 * than fatal: a report should still come out of a run that went wrong. A chart whose every point
 * was skipped is still written, empty, so the set of files a run produces does not depend on its
 * numbers.
 */
public final class Charts {
    static final int WIDTH = 800;
    static final int HEIGHT = 500;
    /** Above this many points per series, markers hide the line instead of helping read it. */
    private static final int MAX_POINTS_WITH_MARKERS = 50;

    /**
     * How a curve is drawn. Certified-accuracy charts draw each certificate kind distinctly: a sound certificate
     * (a proof) solid, a probabilistic one (holds with probability ≥ 1 − α) dashed, a heuristic one or an estimate
     * (no guarantee) dotted; {@link #forKind} maps a kind's name to its stroke.
     */
    public enum Stroke {
        SOLID(null), DASHED(new float[]{9f, 5f}), DOTTED(new float[]{2f, 4f});

        private final float[] dash;

        Stroke(float[] dash) {
            this.dash = dash;
        }

        /** sound (and anything unnamed) → solid, probabilistic → dashed, heuristic / estimate / empirical → dotted. */
        public static Stroke forKind(String kind) {
            if (kind == null) return SOLID;
            String k = kind.toLowerCase(Locale.ROOT);
            if (k.startsWith("probabilistic")) return DASHED;
            if (k.startsWith("heuristic") || k.startsWith("estimate") || k.startsWith("empirical")) return DOTTED;
            return SOLID;
        }

        java.awt.BasicStroke awt() {
            return dash == null ? new java.awt.BasicStroke(2f)
                    : new java.awt.BasicStroke(2f, java.awt.BasicStroke.CAP_BUTT, java.awt.BasicStroke.JOIN_MITER, 10f, dash, 0f);
        }
    }

    /** One named curve; {@code x} and {@code y} have equal length. */
    public record Series(String name, double[] x, double[] y, Stroke stroke) {
        public Series {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(stroke, "stroke");
            if (x.length != y.length) {
                throw new IllegalArgumentException("Series '" + name + "' has " + x.length + " x values but " + y.length + " y values");
            }
        }

        /** A solid curve. */
        public Series(String name, double[] x, double[] y) {
            this(name, x, y, Stroke.SOLID);
        }

        @Override public String toString() {
            return "Series " + name + " (" + x.length + " points, " + stroke.name().toLowerCase(Locale.ROOT) + ")";
        }
    }

    private Charts() {}

    /** A line chart with a linear y axis. */
    public static void line(Path png, String title, String xLabel, String yLabel, List<Series> series) {
        line(png, title, xLabel, yLabel, series, false);
    }

    /**
     * A line chart; with {@code logY}, points with y &le; 0 are skipped too, as a log axis cannot
     * show them.
     */
    public static void line(Path png, String title, String xLabel, String yLabel, List<Series> series, boolean logY) {
        DoublePredicate plottable = logY ? y -> Double.isFinite(y) && y > 0 : Double::isFinite;
        List<String> names = new ArrayList<>();
        List<List<Double>> xss = new ArrayList<>(), yss = new ArrayList<>();
        List<Stroke> strokes = new ArrayList<>();
        for (Series s : series) {
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (int i = 0; i < s.x().length; i++) {
                if (Double.isFinite(s.x()[i]) && plottable.test(s.y()[i])) {
                    xs.add(s.x()[i]);
                    ys.add(s.y()[i]);
                }
            }
            if (xs.isEmpty()) continue;
            names.add(s.name());
            xss.add(xs);
            yss.add(ys);
            strokes.add(s.stroke());
        }
        if (!names.isEmpty() && xss.stream().allMatch(xs -> xs.size() == 1)) {
            // one point per curve (a one-epoch run) is no line: one bar per curve, the x value in the title
            Set<Double> at = new LinkedHashSet<>();
            xss.forEach(xs -> at.add(xs.get(0)));
            String where = at.size() == 1 ? " at " + xLabel + " " + Format.number(at.iterator().next()) : "";
            double[] heights = yss.stream().mapToDouble(ys -> ys.get(0)).toArray();
            List<String> labels = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) labels.add(at.size() == 1 ? names.get(i) : names.get(i) + " (" + Format.number(xss.get(i).get(0)) + ")");
            bar(png, title + where, labels, heights, yLabel);
            return;
        }
        int legendHeight = legendRows(names) > 1 ? 18 * names.size() : 0;
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT + legendHeight)
                .title(title).xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        style(chart.getStyler());
        if (legendHeight > 0) chart.getStyler().setLegendLayout(Styler.LegendLayout.Vertical);
        chart.getStyler().setYAxisLogarithmic(logY);
        for (int i = 0; i < names.size(); i++) {
            XYSeries added = chart.addSeries(names.get(i), xss.get(i), yss.get(i));
            added.setMarker(xss.get(i).size() > MAX_POINTS_WITH_MARKERS ? SeriesMarkers.NONE : SeriesMarkers.CIRCLE);
            added.setLineStyle(strokes.get(i).awt());
        }
        save(png, chart);
    }

    /**
     * 1 when the legend's names fit on one horizontal line under the chart, more otherwise (then the legend is laid
     * out one name per line, and the chart grows to hold it, so that no name is cut off).
     */
    static int legendRows(List<String> names) {
        int width = 0;
        for (String n : names) width += 40 + 7 * n.length();   // marker, gaps and about 7 px per character
        return width <= WIDTH - 40 ? 1 : names.size();
    }

    /**
     * Plots a training history: every column named {@code loss} or ending in {@code _loss}, and {@code train_data},
     * goes to {@code loss.png} (legend labels from {@link #CURVE_LABELS}), every column named {@code acc} or ending in {@code _acc} to
     * {@code accuracy.png}, against the {@code epoch} column (or the row number where a row has
     * none). Values may be numbers or numeric strings, so rows read back by {@link Csv} work too.
     *
     * @return the names of the files written, in {@code dir}; a chart with no matching column is
     *     not written
     */
    public static List<String> trainingCurves(Path dir, List<? extends Map<String, ?>> history) {
        Set<String> columns = new LinkedHashSet<>();
        history.forEach(row -> columns.addAll(row.keySet()));
        double[] epochs = new double[history.size()];
        for (int i = 0; i < epochs.length; i++) {
            double epoch = number(history.get(i).get("epoch"));
            epochs[i] = Double.isNaN(epoch) ? i + 1 : epoch;
        }
        List<String> written = new ArrayList<>();
        if (curves(dir.resolve("loss.png"), "Loss", "loss", "_loss", columns, epochs, history)) written.add("loss.png");
        if (curves(dir.resolve("accuracy.png"), "Accuracy", "acc", "_acc", columns, epochs, history)) written.add("accuracy.png");
        return written;
    }

    /**
     * A histogram of the finite values over {@code bins} equal-width bins spanning their range;
     * the legend gives the count plotted and the count skipped.
     */
    public static void histogram(Path png, String title, String xLabel, double[] values, int bins) {
        if (bins < 1) throw new IllegalArgumentException("A histogram needs at least one bin, got " + bins);
        double[] finite = Arrays.stream(values).filter(Double::isFinite).toArray();
        double min = finite.length == 0 ? 0 : Arrays.stream(finite).min().orElseThrow();
        double max = finite.length == 0 ? 1 : Arrays.stream(finite).max().orElseThrow();
        if (min == max) { // one distinct value still gets a visible bar
            min -= 0.5;
            max += 0.5;
        }
        double width = (max - min) / bins;
        double[] counts = new double[bins + 1]; // the extra entry closes the last step at the right edge
        for (double v : finite) counts[Math.min(bins - 1, (int) ((v - min) / width))]++;
        counts[bins] = counts[bins - 1];
        double[] edges = new double[bins + 1];
        for (int i = 0; i <= bins; i++) edges[i] = min + i * width;

        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
                .title(title).xAxisTitle(xLabel).yAxisTitle("count").build();
        style(chart.getStyler());
        chart.getStyler().setYAxisMin(0.0);
        int skipped = values.length - finite.length;
        String name = "n = " + finite.length + (skipped > 0 ? ", " + skipped + " non-finite skipped" : "");
        XYSeries series = chart.addSeries(name, edges, counts);
        series.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.StepArea);
        series.setMarker(SeriesMarkers.NONE);
        save(png, chart);
    }

    /** A bar chart, one bar per category; categories with a non-finite value are left out. */
    public static void bar(Path png, String title, List<String> categories, double[] values) {
        bar(png, title, categories, values, null);
    }

    private static void bar(Path png, String title, List<String> categories, double[] values, String yLabel) {
        if (categories.size() != values.length) {
            throw new IllegalArgumentException(categories.size() + " categories but " + values.length + " values");
        }
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).yAxisTitle(yLabel == null ? "" : yLabel).build();
        style(chart.getStyler());
        chart.getStyler().setyAxisTickLabelsFormattingFunction(Format::number);
        chart.getStyler().setLegendVisible(false);
        if (categories.size() > 8 || categories.stream().mapToInt(String::length).sum() > 90) chart.getStyler().setXAxisLabelRotation(45);
        List<String> names = new ArrayList<>();
        List<Double> heights = new ArrayList<>();
        for (int i = 0; i < values.length; i++) {
            if (Double.isFinite(values[i])) {
                names.add(categories.get(i));
                heights.add(values[i]);
            }
        }
        if (names.isEmpty()) { // XChart cannot lay out a category axis without categories
            line(png, title, "", "", List.of());
            return;
        }
        chart.addSeries(title, names, heights);
        save(png, chart);
    }

    /**
     * What a training history's loss columns are, in the legend: train_loss is the training objective (loss plus any
     * penalty) averaged over the epoch's batches, while test and validation loss are the data loss alone at the end of
     * the epoch, so they are not the same quantity.
     */
    static final Map<String, String> CURVE_LABELS = Map.of(
            "train_loss", "train objective (loss + penalty, epoch mean)",
            "train_data", "train loss without penalty (epoch mean)",
            "test_loss", "test loss (no penalty, end of epoch)",
            "val_loss", "validation loss (no penalty, end of epoch)");

    /** The columns a chart of {@code exact}/{@code suffix} columns plots, in order, each with its legend label. */
    static Map<String, String> curveLabels(String exact, String suffix, Set<String> columns) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (String column : columns) {
            boolean dataTerm = exact.equals("loss") && column.equals("train_data");   // the objective's loss part, beside it
            if (column.equals(exact) || column.endsWith(suffix) || dataTerm) out.put(column, CURVE_LABELS.getOrDefault(column, column));
        }
        return out;
    }

    private static boolean curves(Path png, String title, String exact, String suffix, Set<String> columns,
                                  double[] epochs, List<? extends Map<String, ?>> history) {
        List<Series> series = new ArrayList<>();
        curveLabels(exact, suffix, columns).forEach((column, label) -> {
            double[] y = history.stream().mapToDouble(row -> number(row.get(column))).toArray();
            series.add(new Series(label, epochs, y));
        });
        if (series.isEmpty()) return false;
        line(png, title, "epoch", title.toLowerCase(Locale.ROOT), series);
        return true;
    }

    /** A cell's value as a double: NaN when absent, empty or not numeric. */
    private static double number(Object value) {
        if (value instanceof Number n) return n.doubleValue();
        if (value instanceof String s && !s.isBlank()) {
            try {
                return Double.parseDouble(s.trim());
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
        return Double.NaN;
    }

    private static void style(XYStyler styler) {
        style((Styler) styler);
        // XChart puts x ticks at data values, which for a histogram's bin edges print 16 digits.
        styler.setxAxisTickLabelsFormattingFunction(Format::number);
        styler.setyAxisTickLabelsFormattingFunction(Format::number);
    }

    /** Ten colours told apart easily (Tableau 10); XChart's own cycle repeats near-identical yellows. */
    private static final Color[] PALETTE = {new Color(0x4e79a7), new Color(0xf28e2b), new Color(0xe15759), new Color(0x76b7b2),
            new Color(0x59a14f), new Color(0xedc948), new Color(0xb07aa1), new Color(0xff9da7), new Color(0x9c755f), new Color(0xbab0ac)};

    private static void style(Styler styler) {
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setSeriesColors(PALETTE);
        styler.setLegendPosition(Styler.LegendPosition.OutsideS);
        styler.setLegendLayout(Styler.LegendLayout.Horizontal);
    }

    private static void save(Path png, Chart<?, ?> chart) {
        AtomicFiles.write(png, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
    }
}
