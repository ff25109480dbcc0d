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
 */
public record DataInfo(String name, String dir, String description,
                       @JsonInclude(JsonInclude.Include.NON_DEFAULT) int imageHeight,
                       @JsonInclude(JsonInclude.Include.NON_DEFAULT) int imageWidth) {

    public DataInfo {
        if (imageHeight < 0 || imageWidth < 0 || (imageHeight == 0) != (imageWidth == 0)) {
            throw new IllegalArgumentException("image size must be two positive sides, or 0x0 for the images' own, got "
                    + imageHeight + "x" + imageWidth);
        }
    }

    /** Data whose images, if any, kept their own size. */
    public DataInfo(String name, String dir, String description) {
        this(name, dir, description, 0, 0);
    }

    /** Whether the images were resized to {@link #imageHeight} × {@link #imageWidth}. */
    public boolean resized() {
        return imageHeight > 0;
    }
}
