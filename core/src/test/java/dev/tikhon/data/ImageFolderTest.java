package dev.tikhon.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.tikhon.data.IdxReaderTest.assertFault;
import static org.assertj.core.api.Assertions.assertThat;

/** Oracle: PNG/JPEG files written here with ImageIO from known pixel values. */
class ImageFolderTest {
    @TempDir
    Path root;

    /** A gray image whose pixel (x, y) is base + 10·y + x. */
    static BufferedImage gray(int w, int h, int base) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.getRaster().setSample(x, y, 0, base + 10 * y + x);
        return img;
    }

    static BufferedImage rgb(int w, int h, int r, int g, int b) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, r << 16 | g << 8 | b);
        return img;
    }

    static Path save(BufferedImage img, Path file) {
        try {
            Files.createDirectories(file.getParent());
            String n = file.getFileName().toString();
            assertThat(ImageIO.write(img, n.substring(n.lastIndexOf('.') + 1), file.toFile())).isTrue();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void grayImagesGiveOneChannelWithExactPixelsAndSortedClasses() throws IOException {
        save(gray(3, 2, 0), root.resolve("dog/b.png"));
        save(gray(3, 2, 100), root.resolve("cat/a.png"));
        save(gray(3, 2, 200), root.resolve("dog/a.png"));
        Files.writeString(root.resolve("dog/notes.txt"), "not an image");
        Files.writeString(root.resolve("README"), "ignored");
        save(gray(3, 2, 7), root.resolve(".hidden/x.png"));
        Dataset d = ImageFolder.load(root);
        assertThat(d.classNames()).containsExactly("cat", "dog");
        assertThat(d.inputShape()).containsExactly(1, 2, 3);
        assertThat(d.labels().toLongArray()).containsExactly(0, 1, 1);
        assertThat(d.inputs().toUnsignedBytes()).containsExactly(
                100, 101, 102, 110, 111, 112,
                (byte) 200, (byte) 201, (byte) 202, (byte) 210, (byte) 211, (byte) 212,
                0, 1, 2, 10, 11, 12);
        assertThat(d.source()).isEqualTo(root.toString());
        assertThat(d.split(0.34, 1).heldOut().size()).isEqualTo(1);
    }

    @Test
    void anyColourImageMakesThreeChannelsAndGrayIsReplicated() {
        save(gray(2, 2, 50), root.resolve("a/g.png"));
        save(rgb(2, 2, 10, 20, 30), root.resolve("b/c.png"));
        Dataset d = ImageFolder.load(root);
        assertThat(d.inputShape()).containsExactly(3, 2, 2);
        assertThat(d.inputs().toUnsignedBytes()).containsExactly(
                50, 51, 60, 61, 50, 51, 60, 61, 50, 51, 60, 61,
                10, 10, 10, 10, 20, 20, 20, 20, 30, 30, 30, 30);
    }

    @Test
    void jpegAndSixteenBitGrayAreRead() {
        save(rgb(8, 8, 200, 100, 50), root.resolve("a/photo.jpg"));
        save(rgb(8, 8, 200, 100, 50), root.resolve("a/photo2.JPEG"));
        BufferedImage deep = new BufferedImage(8, 8, BufferedImage.TYPE_USHORT_GRAY);
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) deep.getRaster().setSample(x, y, 0, 257 * 77);
        save(deep, root.resolve("b/deep.png"));
        Dataset d = ImageFolder.load(root);
        assertThat(d.inputShape()).containsExactly(3, 8, 8);
        byte[] px = d.inputs().toUnsignedBytes();
        assertThat(px[0] & 0xff).isCloseTo(200, org.assertj.core.data.Offset.offset(6));   // JPEG is lossy
        assertThat(px[64] & 0xff).isCloseTo(100, org.assertj.core.data.Offset.offset(6));
        assertThat(px[2 * 192] & 0xff).isEqualTo(77);
        assertThat(px[2 * 192 + 128] & 0xff).isEqualTo(77);
    }

    @Test
    void sizeMismatchNamesTheOddFileAndBothSizes() {
        save(gray(4, 3, 0), root.resolve("a/first.png"));
        Path odd = save(gray(5, 3, 0), root.resolve("b/odd.png"));
        assertFault(() -> ImageFolder.load(root), odd.toString(),
                "image is 5x3 (width x height) but the first image, " + root.resolve("a/first.png") + ", is 4x3");
        assertFault(() -> ImageFolder.load(root), odd.toString(), "resize them as they are read with --image-size HxW (height x width, "
                + "e.g. --image-size 3x4, the first image's), or from Java with ImageFolder.load(dir, height, width)");
        assertThat(ImageFolder.load(root, 3, 4).inputShape()).containsExactly(1, 3, 4);
    }

    @Test
    void targetSizeResizesEveryImage() {
        BufferedImage flat = new BufferedImage(8, 6, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 6; y++) for (int x = 0; x < 8; x++) flat.getRaster().setSample(x, y, 0, 100);
        save(flat, root.resolve("a/big.png"));
        save(rgb(3, 5, 10, 20, 30), root.resolve("b/small.png"));
        Dataset d = ImageFolder.load(root, 4, 4);
        assertThat(d.inputShape()).containsExactly(3, 4, 4);
        byte[] px = d.inputs().toUnsignedBytes();
        for (int i = 0; i < 48; i++) assertThat(px[i] & 0xff).as("uniform gray stays 100").isEqualTo(100);
        for (int i = 0; i < 48; i++) assertThat(px[48 + i] & 0xff).isEqualTo(10 * (1 + i / 16));

        Path gray = root.resolve("gray");
        save(flat, gray.resolve("x/1.png"));
        save(gray(2, 2, 100), gray.resolve("y/1.png"));
        Dataset g = ImageFolder.load(gray, 3, 2);
        assertThat(g.inputShape()).containsExactly(1, 3, 2);
        assertThat(g.head(1).inputs().toUnsignedBytes()).containsOnly((byte) 100);
    }

    @Test
    void folderFaultsNameTheCulprit() throws IOException {
        Path missing = root.resolve("nowhere");
        assertFault(() -> ImageFolder.load(missing), missing.toString(), "no such directory");

        Path flat = root.resolve("flat");
        save(gray(2, 2, 0), flat.resolve("img.png"));
        assertFault(() -> ImageFolder.load(flat), flat.toString(), "no class subfolders");

        Path sparse = root.resolve("sparse");
        save(gray(2, 2, 0), sparse.resolve("a/img.png"));
        Files.createDirectories(sparse.resolve("b"));
        Files.writeString(sparse.resolve("b/readme.txt"), "x");
        assertFault(() -> ImageFolder.load(sparse), sparse.resolve("b").toString(), "class 'b' has no PNG or JPEG images");

        Path broken = root.resolve("broken");
        save(gray(2, 2, 0), broken.resolve("a/img.png"));
        Path bad = broken.resolve("a/zz.png");
        Files.write(bad, new byte[]{1, 2, 3, 4, 5});
        assertFault(() -> ImageFolder.load(broken), bad.toString(), "unreadable image");
        byte[] png = Files.readAllBytes(broken.resolve("a/img.png"));
        Files.write(bad, java.util.Arrays.copyOf(png, 30));
        assertFault(() -> ImageFolder.load(broken), bad.toString(), "unreadable image");
    }
}
