package dev.tikhon.train;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Which data a model was trained on, recorded in its checkpoint so that {@code eval} can find
 * the same data again.
 *
 * <p>The image size is written only when the images were resized, so a checkpoint of a run that kept their own size
 * reads as before (and one written before the size was recorded reads as 0 × 0, the images' own size).
 *
 * @param name        the data-set name (fashion-mnist, mnist, a toy set, folder)
 * @param dir         the --data-dir given, or null when discovered
 * @param description one line saying exactly what was used, e.g. the bundled sample
 * @param imageHeight the height a folder's images were resized to (--image-size), or 0 when they kept their own
 * @param imageWidth  the width they were resized to, or 0
 * @param seed        the seed a toy set was generated with and a folder's held-out split drawn with, or null where not
 *                    recorded (checkpoints written before it: the run's own seed, {@code config.seed()}, was used)
 */
public record DataInfo(String name, String dir, String description,
                       @JsonInclude(JsonInclude.Include.NON_DEFAULT) int imageHeight,
                       @JsonInclude(JsonInclude.Include.NON_DEFAULT) int imageWidth,
                       @JsonInclude(JsonInclude.Include.NON_NULL) Long seed) {

    public DataInfo {
        if (imageHeight < 0 || imageWidth < 0 || (imageHeight == 0) != (imageWidth == 0)) {
            throw new IllegalArgumentException("image size must be two positive sides, or 0x0 for the images' own, got "
                    + imageHeight + "x" + imageWidth);
        }
    }

    /** Data whose images, if any, kept their own size. */
    public DataInfo(String name, String dir, String description) {
        this(name, dir, description, 0, 0, null);
    }

    /** Data whose seed is not recorded. */
    public DataInfo(String name, String dir, String description, int imageHeight, int imageWidth) {
        this(name, dir, description, imageHeight, imageWidth, null);
    }

    /** The same data, recorded with the seed it was generated or split with. */
    public DataInfo withSeed(long s) {
        return new DataInfo(name, dir, description, imageHeight, imageWidth, s);
    }

    /** Whether the images were resized to {@link #imageHeight} × {@link #imageWidth}. */
    public boolean resized() {
        return imageHeight > 0;
    }
}
