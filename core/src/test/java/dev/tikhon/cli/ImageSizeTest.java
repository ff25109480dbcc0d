package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.train.DataInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code --image-size}: what it reads, what it refuses, and which size a command on a model's data resizes to. */
class ImageSizeTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {"28x28; 28; 28", "32; 32; 32", "24x32; 24; 32", "24X32; 24; 32", "24×32; 24; 32",
            "' 7 x 9 '; 7; 9", "1x4096; 1; 4096", "0028; 28; 28"})
    void readsHeightByWidthOrOneSide(String value, int height, int width) {
        assertThat(ImageSize.parse(value)).isEqualTo(new ImageSize(height, width));
    }

    @Test
    void itsTextIsCanonicalSoThatAResumeComparesValuesNotSpellings() {
        assertThat(ImageSize.parse("28")).hasToString("28x28");
        assertThat(ImageSize.parse(" 24 X 32")).hasToString("24x32");
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {"28by28", "28x", "x28", "28x28x3", "-5", "-5x5", "2.5", "", "28,28", "twenty"})
    void aMalformedValueNamesItAndTheForm(String value) {
        assertThatThrownBy(() -> ImageSize.parse(value)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("'" + value + "' is not an image size: give HxW (height x width in pixels, e.g. 28x28) or N for NxN");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"0x5", "5x0", "0", "4097", "5000x5000", "28x99999999999999999999"})
    void aSideOutOfRangeNamesTheValueAndTheRange(String value) {
        assertThatThrownBy(() -> ImageSize.parse(value)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("'" + value + "': each side must be 1 to 4096 pixels; give HxW (height x width in pixels, e.g. 28x28) or N for NxN");
    }

    @Test
    void theConverterMakesItAUsageError() {
        assertThatThrownBy(() -> new ImageSize.Converter().convert("28by28")).isInstanceOf(CommandLine.TypeConversionException.class)
                .hasMessageStartingWith("'28by28' is not an image size");
    }

    private static DataOptions options(String name, String dir, String size) {
        DataOptions o = new DataOptions();
        o.name = name;
        o.dir = dir == null ? null : Path.of(dir);
        o.imageSize = size == null ? null : ImageSize.parse(size);
        return o;
    }

    private static final DataInfo RESIZED_FOLDER = new DataInfo("folder", "/pics", "pics", 8, 8);

    @Test
    void aModelsOwnFolderIsResizedAsItWasTrained() {
        DataOptions.Choice own = options(null, null, null).choose(RESIZED_FOLDER);
        assertThat(own).isEqualTo(new DataOptions.Choice("folder", Path.of("/pics"), new ImageSize(8, 8), new ImageSize(8, 8)));
        assertThat(own.info("d", 0)).isEqualTo(new DataInfo("folder", "/pics", "d", 8, 8, 0L));
        // its own folder is split with the seed recorded with it, or else the one the model was trained with; another folder not
        assertThat(options(null, null, null).choose(RESIZED_FOLDER.withSeed(7), 3L).seedFor(0)).isEqualTo(7);
        assertThat(options(null, null, null).choose(RESIZED_FOLDER, 3L).seedFor(0)).isEqualTo(3);
        assertThat(options(null, null, null).choose(RESIZED_FOLDER, 3L).info("d", 0).seed()).isEqualTo(3L);
        assertThat(options("folder", "/other", null).choose(RESIZED_FOLDER, 3L).seedFor(4)).isEqualTo(4);
        assertThat(options("fashion-mnist", null, null).choose(RESIZED_FOLDER, 3L).seedFor(4)).isEqualTo(4);
        // another folder for the same model: it takes 8x8 images all the same
        assertThat(options("folder", "/other", null).choose(RESIZED_FOLDER))
                .isEqualTo(new DataOptions.Choice("folder", Path.of("/other"), new ImageSize(8, 8), new ImageSize(8, 8)));
        // a size given is honoured (the model's input check then judges it)
        assertThat(options(null, null, "6x6").choose(RESIZED_FOLDER))
                .isEqualTo(new DataOptions.Choice("folder", Path.of("/pics"), new ImageSize(6, 6), new ImageSize(8, 8)));
        // another data set, or a folder trained at the images' own size: nothing is resized
        assertThat(options("fashion-mnist", null, null).choose(RESIZED_FOLDER).imageSize()).isNull();
        assertThat(options(null, null, null).choose(new DataInfo("folder", "/pics", "pics")).imageSize()).isNull();
        assertThat(options(null, null, null).choose(null)).isEqualTo(new DataOptions.Choice("fashion-mnist", null, null, null));
        assertThat(options(null, null, null).choose(null).info("d", 2)).isEqualTo(new DataInfo("fashion-mnist", null, "d", 0, 0, 2L));
    }

    @Test
    void aSizeForAnotherDataSetThanAFolderIsRefused() {
        assertThatThrownBy(() -> options("moons", null, "8").choose()).isInstanceOf(UserError.class)
                .hasMessage("--image-size 8x8 applies only to --data folder (it resizes an image folder's pictures), not to --data moons: "
                        + "drop --image-size");
        assertThatThrownBy(() -> options(null, null, "8").choose()).isInstanceOf(UserError.class)
                .hasMessageContaining("not to --data fashion-mnist (the default)");
        assertThatThrownBy(() -> options(null, null, "8").choose(new DataInfo("moons", null, "toy"))).isInstanceOf(UserError.class)
                .hasMessageContaining("not to the model's data, moons");
    }

    @Test
    void aModelOfAnotherSizeIsToldTheSizeThatFits() {
        List<Long> model = List.of(1L, 8L, 8L);
        assertThat(options("folder", "/pics", null).choose().refit(model, new long[]{1, 6, 6}))
                .isEqualTo("resize the folder's images to the model's size with --image-size 8x8");
        assertThat(options("folder", "/pics", "6").choose(RESIZED_FOLDER).refit(model, new long[]{1, 6, 6}))
                .isEqualTo("--image-size 6x6 resizes the folder's images to another size than the model's: give --image-size 8x8, "
                        + "or drop --image-size to use the size its checkpoint records");
        assertThat(options("folder", "/pics", "6").choose().refit(model, new long[]{1, 6, 6})).as("no size recorded")
                .isEqualTo("--image-size 6x6 resizes the folder's images to another size than the model's: give --image-size 8x8");
        assertThat(options(null, null, null).choose(RESIZED_FOLDER).refit(List.of(1L, 9L, 9L), new long[]{1, 8, 8}))
                .as("a checkpoint whose model and data disagree").isEqualTo("the folder's images were resized to the 8x8 its checkpoint "
                        + "records: give --image-size 9x9");
        assertThat(options("folder", "/pics", null).choose().refit(model, new long[]{3, 6, 6})).as("colour against gray").isNull();
        assertThat(options("mnist", null, null).choose().refit(model, new long[]{1, 28, 28})).isNull();
        assertThat(options("folder", "/pics", null).choose().refit(List.of(2L), new long[]{1, 6, 6})).isNull();
    }
}
