package dev.tikhon.report;

import dev.tikhon.io.AtomicFiles;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A 2-D scalar field as a heat map with a scatter of points on top: decision maps of classifiers on
 * the plane (the field is the probability of one class, with its ½ level set drawn as the decision
 * boundary). Drawn with Java2D, written atomically as PNG. Values outside [0, 1] are clamped for
 * colouring; non-finite values are drawn grey.
 */
public final class FieldChart {
    /** Points drawn as dots (filled) or rings (hollow) in one colour, named in the legend. */
    public record Points(String name, double[] x, double[] y, Color color, boolean hollow) {
        public Points {
            if (x.length != y.length) throw new IllegalArgumentException("Points '" + name + "': " + x.length + " x but " + y.length + " y");
        }
    }

    private static final int PLOT = 480, LEFT = 60, TOP = 40, BOTTOM = 70, RIGHT = 20;

    private FieldChart() {}

    /**
     * @param values field values on a {@code cols × rows} grid, row-major, row 0 at {@code yMin},
     *               column 0 at {@code xMin}, cell centres spanning the extent
     */
    public static void write(Path png, String title, double xMin, double xMax, double yMin, double yMax, int cols, int rows,
                             double[] values, List<Points> points) {
        write(png, title, xMin, xMax, yMin, yMax, cols, rows, values, points, Style.DECISION);
    }

    /** How values in [0, 1] are coloured and explained. */
    public enum Style {
        /** Blue (0) – white (½) – red (1), with the ½ level set drawn as a decision boundary. */
        DECISION,
        /** White (0) to dark blue (1), no level set: a density divided by its maximum. */
        DENSITY
    }

    public static void write(Path png, String title, double xMin, double xMax, double yMin, double yMax, int cols, int rows,
                             double[] values, List<Points> points, Style style) {
        if (values.length != cols * rows) throw new IllegalArgumentException(values.length + " values for a " + cols + "×" + rows + " grid");
        int w = LEFT + PLOT + RIGHT, h = TOP + PLOT + BOTTOM;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        // the field, pixel by pixel (nearest grid cell)
        for (int py = 0; py < PLOT; py++) {
            int r = Math.min(rows - 1, (int) ((PLOT - 1 - py) / (double) PLOT * rows));
            for (int px = 0; px < PLOT; px++) {
                int c = Math.min(cols - 1, (int) (px / (double) PLOT * cols));
                double v = values[r * cols + c];
                img.setRGB(LEFT + px, TOP + py, (style == Style.DENSITY ? densityColour(v) : colour(v)).getRGB());
            }
        }
        // the ½ level set: cells whose value is on the other side of ½ from a neighbour's
        g.setColor(Color.BLACK);
        for (int r = 0; r < rows && style == Style.DECISION; r++) {
            for (int c = 0; c < cols; c++) {
                double v = values[r * cols + c];
                boolean edge = (c + 1 < cols && (v - 0.5) * (values[r * cols + c + 1] - 0.5) < 0)
                        || (r + 1 < rows && (v - 0.5) * (values[(r + 1) * cols + c] - 0.5) < 0);
                if (edge) {
                    int px = LEFT + (int) ((c + 0.5) / cols * PLOT), py = TOP + PLOT - 1 - (int) ((r + 0.5) / rows * PLOT);
                    g.fillRect(px - 1, py - 1, 2, 2);
                }
            }
        }
        // points
        g.setStroke(new BasicStroke(1.2f));
        for (Points p : points) {
            g.setColor(p.color());
            for (int i = 0; i < p.x().length; i++) {
                if (!Double.isFinite(p.x()[i]) || !Double.isFinite(p.y()[i])) continue;
                int px = LEFT + (int) ((p.x()[i] - xMin) / (xMax - xMin) * PLOT);
                int py = TOP + PLOT - (int) ((p.y()[i] - yMin) / (yMax - yMin) * PLOT);
                if (px < LEFT || px > LEFT + PLOT || py < TOP || py > TOP + PLOT) continue;
                int size = p.hollow() ? 7 : 4;
                if (p.hollow()) g.drawOval(px - size / 2, py - size / 2, size, size);
                else g.fillOval(px - size / 2, py - size / 2, size, size);
            }
        }
        // frame, ticks, title, legend
        g.setColor(Color.DARK_GRAY);
        g.drawRect(LEFT, TOP, PLOT, PLOT);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (int k = 0; k <= 4; k++) {
            double fx = xMin + k * (xMax - xMin) / 4, fy = yMin + k * (yMax - yMin) / 4;
            g.drawString(String.format(Locale.ROOT, "%.2g", fx), LEFT + k * PLOT / 4 - 10, TOP + PLOT + 15);
            g.drawString(String.format(Locale.ROOT, "%.2g", fy), 8, TOP + PLOT - k * PLOT / 4 + 4);
        }
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, LEFT, TOP - 14);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        int lx = LEFT;
        for (Points p : points) {
            g.setColor(p.color());
            if (p.hollow()) g.drawOval(lx, TOP + PLOT + 34, 7, 7);
            else g.fillOval(lx, TOP + PLOT + 34, 7, 7);
            g.setColor(Color.DARK_GRAY);
            g.drawString(p.name(), lx + 11, TOP + PLOT + 42);
            lx += 20 + g.getFontMetrics().stringWidth(p.name());
        }
        g.drawString(style == Style.DECISION ? "colour: probability of class 1 (blue 0 – white ½ – red 1); black: decision boundary"
                : "colour: density / its maximum (white 0 – dark blue 1)", LEFT, TOP + PLOT + 60);
        g.dispose();
        AtomicFiles.write(png, out -> ImageIO.write(img, "png", out));
    }

    /** White (0) – dark blue (1). */
    static Color densityColour(double v) {
        if (!Double.isFinite(v)) return Color.LIGHT_GRAY;
        double t = Math.max(0, Math.min(1, v));
        return new Color((int) (255 - 225 * t), (int) (255 - 200 * t), (int) (255 - 120 * t));
    }

    /** Blue (0) – white (½) – red (1). */
    static Color colour(double v) {
        if (!Double.isFinite(v)) return Color.LIGHT_GRAY;
        double t = Math.max(0, Math.min(1, v));
        if (t < 0.5) {
            double s = t / 0.5;
            return new Color((int) (70 + 185 * s), (int) (110 + 145 * s), 255);
        }
        double s = (t - 0.5) / 0.5;
        return new Color(255, (int) (255 - 175 * s), (int) (255 - 185 * s));
    }
}
