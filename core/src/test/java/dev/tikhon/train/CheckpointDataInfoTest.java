package dev.tikhon.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tikhon.Version;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Module;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The data a checkpoint records, its image size included: written only when the images were resized, read from older files. */
class CheckpointDataInfoTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theImageSizeIsWrittenOnlyWhenTheImagesWereResized() throws IOException {
        String resized = JSON.writeValueAsString(new DataInfo("folder", "/pics", "pics", 28, 32));
        assertThat(JSON.readTree(resized).path("imageHeight").asInt()).isEqualTo(28);
        assertThat(JSON.readTree(resized).path("imageWidth").asInt()).isEqualTo(32);
        assertThat(JSON.readValue(resized, DataInfo.class)).isEqualTo(new DataInfo("folder", "/pics", "pics", 28, 32));

        String own = JSON.writeValueAsString(new DataInfo("moons", null, "toy"));
        assertThat(JSON.readTree(own).fieldNames()).toIterable().containsExactly("name", "dir", "description");
    }

    @Test
    void dataRecordedBeforeTheImageSizeReadsAsTheImagesOwnSize() throws IOException {
        DataInfo old = JSON.readValue("{\"name\": \"folder\", \"dir\": \"/pics\", \"description\": \"pics\"}", DataInfo.class);
        assertThat(old).isEqualTo(new DataInfo("folder", "/pics", "pics"));
        assertThat(old.resized()).isFalse();
        assertThat(new DataInfo("folder", "/pics", "pics", 8, 8).resized()).isTrue();
    }

    @Test
    void aHalfGivenOrNegativeSizeIsRefused() {
        assertThatThrownBy(() -> new DataInfo("folder", null, "", 8, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("8x0");
        assertThatThrownBy(() -> new DataInfo("folder", null, "", -1, -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aCheckpointRoundTripsTheSizeAndAnOlderOneWithoutItStillLoads(@TempDir Path dir) throws IOException {
        ModelSpec spec = Models.spec("mlp", List.of(1L, 8L, 8L), 2, Map.of("hidden", List.of(4)));
        Module m = Models.build(spec);
        Path file = dir.resolve(Checkpoint.FILE_NAME);
        Checkpoint.save(file, new Checkpoint.Meta(spec, TrainConfig.builder().build(), "cross-entropy",
                new DataInfo("folder", "/pics", "pics resized", 8, 8), 1, 0, Map.of(), List.of(), Version.VERSION), m.stateDict(), Map.of());
        assertThat(Checkpoint.load(file).meta().data()).isEqualTo(new DataInfo("folder", "/pics", "pics resized", 8, 8));

        Path older = dir.resolve("older.tkn");
        rewriteMeta(file, older, meta -> ((ObjectNode) meta.path("meta").path("data")).remove(List.of("imageHeight", "imageWidth")));
        assertThat(metaJson(older)).doesNotContain("imageHeight");
        DataInfo back = Checkpoint.load(older).meta().data();
        assertThat(back).isEqualTo(new DataInfo("folder", "/pics", "pics resized"));
        assertThat(back.resized()).isFalse();
    }

    /** A copy of checkpoint {@code from} whose meta.json {@code edit} changed (the tensors as they were). */
    private static void rewriteMeta(Path from, Path to, java.util.function.Consumer<ObjectNode> edit) throws IOException {
        try (InputStream in = Files.newInputStream(from); ZipInputStream zin = new ZipInputStream(in);
             OutputStream out = Files.newOutputStream(to); ZipOutputStream zout = new ZipOutputStream(out)) {
            for (ZipEntry e; (e = zin.getNextEntry()) != null; ) {
                byte[] bytes = zin.readAllBytes();
                if (e.getName().equals("meta.json")) {
                    ObjectNode meta = (ObjectNode) JSON.readTree(bytes);
                    edit.accept(meta);
                    bytes = JSON.writeValueAsBytes(meta);
                }
                zout.putNextEntry(new ZipEntry(e.getName()));
                zout.write(bytes);
                zout.closeEntry();
            }
        }
    }

    private static String metaJson(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file); ZipInputStream zin = new ZipInputStream(in)) {
            for (ZipEntry e; (e = zin.getNextEntry()) != null; ) {
                if (e.getName().equals("meta.json")) return new String(zin.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            }
        }
        throw new IOException(file + ": no meta.json");
    }
}
