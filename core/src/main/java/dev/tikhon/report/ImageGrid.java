package dev.tikhon.report;

import dev.tikhon.io.AtomicFiles;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Path;

/**
 * A grid of greyscale images as one PNG (samples of an image model next to real images), each
 * pixel drawn as a {@code zoom × zoom} block, images separated by a 2-pixel grey gutter. Values are
 * clamped to [0, 1] (0 black, 1 white); written atomically.
 */
public final class ImageGrid {
    private static final int GUTTER = 2, GUTTER_GREY = 128;

    private ImageGrid() {}

    /**
     * @param pixels {@code n × height × width} values, image-major, row-major (a [N, 1, H, W] tensor's data)
     * @param cols   images per row of the grid
     */
    public static void write(Path png, double[] pixels, int n, int height, int width, int cols, int zoom) {
        if (pixels.length != (long) n * height * width) {
            throw new IllegalArgumentException(pixels.length + " values for " + n + " images of " + height + "×" + width);
        }
        int rows = Math.max(1, (n + cols - 1) / cols);
        int cellW = width * zoom + GUTTER, cellH = height * zoom + GUTTER;
        BufferedImage img = new BufferedImage(cols * cellW + GUTTER, rows * cellH + GUTTER, BufferedImage.TYPE_BYTE_GRAY);
        var raster = img.getRaster();
        for (int x = 0; x < img.getWidth(); x++) for (int y = 0; y < img.getHeight(); y++) raster.setSample(x, y, 0, GUTTER_GREY);
        for (int k = 0; k < n; k++) {
            int x0 = GUTTER + (k % cols) * cellW, y0 = GUTTER + (k / cols) * cellH;
            for (int i = 0; i < height; i++) for (int j = 0; j < width; j++) {
                double v = pixels[(k * height + i) * width + j];
                int g = Double.isFinite(v) ? (int) Math.round(255 * Math.min(1, Math.max(0, v))) : GUTTER_GREY;
                for (int a = 0; a < zoom; a++) for (int b = 0; b < zoom; b++) raster.setSample(x0 + j * zoom + b, y0 + i * zoom + a, 0, g);
            }
        }
        AtomicFiles.write(png, out -> ImageIO.write(img, "png", out));
    }
}
