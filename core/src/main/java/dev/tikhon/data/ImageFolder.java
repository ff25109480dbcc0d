package dev.tikhon.data;

import dev.tikhon.engine.Tensor;

import javax.imageio.ImageIO;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Loads a classification data set laid out as one subfolder of PNG or JPEG images per class (the
 * layout of torchvision's ImageFolder): the sorted subfolder names are the class names. Lets a
 * user train on their own pictures without converting them to any other format first.
 *
 * <p>A set whose images are all grayscale gets one channel, any other three (RGB; alpha is
 * dropped). Images are either all of one size, or resized with bilinear interpolation to a target
 * size given by the caller.
 */
public final class ImageFolder {
    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private static final long MAX_BYTES = Integer.MAX_VALUE - 8;

    private ImageFolder() {}

    /** Loads the folder; every image must have the size of the first one read. */
    public static Dataset load(Path root) {
        return read(root, 0, 0);
    }

    /** Loads the folder, resizing every image to {@code height} × {@code width} pixels. */
    public static Dataset load(Path root, int height, int width) {
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException("target image size must be positive, got " + height + "x" + width);
        }
        return read(root, height, width);
    }

    /** The class subfolders of {@code root}, sorted by name (hidden folders left out). */
    public static List<Path> classFolders(Path root) {
        if (!Files.isDirectory(root)) throw new DataException(root + ": no such directory");
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(Files::isDirectory).filter(p -> !hidden(p)).sorted().toList();
        } catch (IOException e) {
            throw new DataException(root + ": cannot list: " + e.getMessage(), e);
        }
    }

    private static Dataset read(Path root, int height, int width) {
        List<Path> classDirs = classFolders(root);
        if (classDirs.isEmpty()) {
            throw new DataException(root + ": no class subfolders (expected one subfolder of PNG or JPEG images per class)");
        }
        List<String> classNames = new ArrayList<>();
        List<Pixels> images = new ArrayList<>();
        List<Long> labels = new ArrayList<>();
        Pixels first = null;
        for (Path dir : classDirs) {
            List<Path> files = imageFiles(dir);
            if (files.isEmpty()) throw new DataException(dir + ": class '" + dir.getFileName() + "' has no PNG or JPEG images");
            for (Path f : files) {
                Pixels px = Pixels.read(f, height, width);
                if (first == null) {
                    first = px;
                } else if (px.height != first.height || px.width != first.width) {
                    throw new DataException(f + ": image is " + px.width + "x" + px.height + " (width x height) but the first image, "
                            + first.file + ", is " + first.width + "x" + first.height + "; a folder data set needs images of one size: "
                            + "resize them as they are read with --image-size HxW (height x width, e.g. --image-size " + first.height + "x"
                            + first.width + ", the first image's), or from Java with ImageFolder.load(dir, height, width)");
                }
                images.add(px);
                labels.add((long) classNames.size());
            }
            classNames.add(dir.getFileName().toString());
        }
        boolean gray = images.stream().allMatch(px -> px.gray);
        int channels = gray ? 1 : 3;
        int plane = first.height * first.width;
        long total = (long) images.size() * channels * plane;
        if (total > MAX_BYTES) {
            throw new DataException(root + ": " + images.size() + " images of " + channels + "x" + first.height + "x"
                    + first.width + " need " + total + " bytes, more than one array holds; load them smaller with --image-size HxW "
                    + "(height x width), or from Java with ImageFolder.load(dir, height, width)");
        }
        byte[] data = new byte[(int) total];
        for (int i = 0; i < images.size(); i++) images.get(i).copyTo(data, (long) i * channels * plane, channels);
        long[] y = labels.stream().mapToLong(Long::longValue).toArray();
        return new Dataset(root.getFileName() == null ? root.toString() : root.getFileName().toString(), root.toString(),
                Tensor.fromUnsignedBytes(data, images.size(), channels, first.height, first.width),
                Tensor.fromLongs(y, y.length), classNames.size(), classNames);
    }

    private static List<Path> imageFiles(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> !hidden(p)).filter(ImageFolder::isImageName).sorted().toList();
        } catch (IOException e) {
            throw new DataException(dir + ": cannot list: " + e.getMessage(), e);
        }
    }

    private static boolean hidden(Path p) {
        return p.getFileName().toString().startsWith(".");
    }

    private static boolean isImageName(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
    }

    /** One decoded image: a gray plane, or R, G and B planes, row-major. */
    private static final class Pixels {
        final Path file;
        final boolean gray;
        final int height;
        final int width;
        final byte[] planes;

        private Pixels(Path file, boolean gray, int height, int width, byte[] planes) {
            this.file = file;
            this.gray = gray;
            this.height = height;
            this.width = width;
            this.planes = planes;
        }

        static Pixels read(Path file, int height, int width) {
            BufferedImage img;
            try {
                img = ImageIO.read(file.toFile());
            } catch (IOException | RuntimeException e) {
                throw new DataException(file + ": unreadable image (" + e.getMessage() + ")", e);
            }
            if (img == null) throw new DataException(file + ": unreadable image (not a PNG or JPEG that ImageIO can decode)");
            boolean gray = img.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY;
            BufferedImage src = gray ? toGray8(img) : img;
            int h = height > 0 ? height : img.getHeight();
            int w = width > 0 ? width : img.getWidth();
            BufferedImage out = new BufferedImage(w, h, gray ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
            Graphics2D g = out.createGraphics();
            try {
                g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
                g.drawImage(src, 0, 0, w, h, null);
            } finally {
                g.dispose();
            }
            return new Pixels(file, gray, h, w, gray ? grayPlane(out) : rgbPlanes(out));
        }

        /** A gray image as 8-bit gray, taken from the raster (getRGB would apply a gamma curve). */
        private static BufferedImage toGray8(BufferedImage img) {
            if (img.getType() == BufferedImage.TYPE_BYTE_GRAY) return img;
            Raster r = img.getRaster();
            int max = (1 << img.getColorModel().getComponentSize(0)) - 1;
            BufferedImage g = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < img.getHeight(); y++) {
                for (int x = 0; x < img.getWidth(); x++) {
                    g.getRaster().setSample(x, y, 0, Math.round(r.getSample(x, y, 0) * 255f / max));
                }
            }
            return g;
        }

        private static byte[] grayPlane(BufferedImage img) {
            byte[] out = new byte[img.getWidth() * img.getHeight()];
            img.getRaster().getDataElements(0, 0, img.getWidth(), img.getHeight(), out);
            return out;
        }

        private static byte[] rgbPlanes(BufferedImage img) {
            int plane = img.getWidth() * img.getHeight();
            int[] rgb = img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
            byte[] out = new byte[3 * plane];
            for (int i = 0; i < plane; i++) {
                out[i] = (byte) (rgb[i] >> 16);
                out[plane + i] = (byte) (rgb[i] >> 8);
                out[2 * plane + i] = (byte) rgb[i];
            }
            return out;
        }

        /** Writes this image as {@code channels} planes at {@code offset}; gray fills all three when RGB. */
        void copyTo(byte[] data, long offset, int channels) {
            int plane = height * width;
            for (int c = 0; c < channels; c++) {
                System.arraycopy(planes, gray ? 0 : c * plane, data, (int) offset + c * plane, plane);
            }
        }
    }
}
