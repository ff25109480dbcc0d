package dev.tikhon.report;

import dev.tikhon.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class RunDirectoryTest {
    @TempDir
    Path dir;

    @Test
    void metricsRecordTheEndTimeAsFinished(@TempDir Path tmp) throws Exception {
        RunDirectory run = RunDirectory.create(tmp.resolve("r"));
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("started", "2000-01-01T00:00:00Z");
        m.put("finished", "2000-01-01T00:00:00Z");   // as a header makes it, at the start
        java.time.Instant before = java.time.Instant.now();
        run.writeMetrics(m);
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(run.resolve("metrics.json").toFile());
        assertThat(json.get("started").asText()).isEqualTo("2000-01-01T00:00:00Z");
        assertThat(java.time.Instant.parse(json.get("finished").asText())).isAfterOrEqualTo(before);
        assertThat(m.get("finished")).as("the map the page is written from says the same").isEqualTo(json.get("finished").asText());
        run.writeMetrics(Map.of("accuracy", 0.5));   // no header: nothing added
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(run.resolve("metrics.json").toFile()).has("finished")).isFalse();
    }

    @Test
    void createsMissingParentsAndReusesAnExistingDirectory() {
        Path path = dir.resolve("runs/mnist/1");

        RunDirectory run = RunDirectory.create(path);

        assertThat(run.path()).isEqualTo(path.toAbsolutePath()).isDirectory();
        assertThat(RunDirectory.create(path).path()).isEqualTo(run.path());
        assertThat(run.resolve("history.csv")).isEqualTo(run.path().resolve("history.csv"));
    }

    @Test
    void aFileInTheWayIsAUserError() throws Exception {
        Path file = Files.writeString(dir.resolve("out"), "not a directory");

        assertThatThrownBy(() -> RunDirectory.create(file))
                .isInstanceOf(RunDirectoryError.class).isInstanceOf(UserError.class)
                .hasMessageContaining("exists and is a file");
        assertThatThrownBy(() -> RunDirectory.create(file.resolve("below")))
                .isInstanceOf(RunDirectoryError.class).hasMessageContaining("Cannot create");
    }

    /**
     * A directory that exists but takes no files. Permission bits alone do not stop root (as CI runs), so the case
     * every user hits is /proc/self: a directory nobody, root included, can create a file in; the check writes a
     * probe file rather than reading the bits. A chmod-ed directory is tried too where the bits mean something.
     */
    @Test
    void anUnwritableDirectoryIsAUserError() throws Exception {
        Path proc = Path.of("/proc/self");
        assumeTrue(Files.isDirectory(proc), "Linux /proc");
        assertThatThrownBy(() -> RunDirectory.create(proc)).isInstanceOf(RunDirectoryError.class)
                .hasMessageContaining("/proc/self").hasMessageContaining("not writable");
        assertThatThrownBy(() -> RunDirectory.create(proc.resolve("run"))).isInstanceOf(RunDirectoryError.class)
                .hasMessageContaining("Cannot create");

        Path locked = Files.createDirectory(dir.resolve("locked"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("r-xr-xr-x")));
        if (!Files.isWritable(locked)) {   // not root
            assertThatThrownBy(() -> RunDirectory.create(locked)).isInstanceOf(RunDirectoryError.class).hasMessageContaining("not writable");
        }
    }

    @Test
    void staleTemporaryFilesOfAKilledWriterAreCleanedAndNothingElse() throws Exception {
        Path run = Files.createDirectories(dir.resolve("run"));
        Files.writeString(run.resolve("checkpoint.tkn.tmp"), "half a checkpoint");
        Files.writeString(run.resolve("metrics.json"), "{}");
        RunDirectory.create(run);
        try (var files = Files.list(run)) {
            assertThat(files).extracting(p -> p.getFileName().toString()).containsExactly("metrics.json");   // the probe file is gone too
        }
    }

    @Test
    void onlyTheEmptyDirectoriesThisProcessCreatedAreRemoved() throws Exception {
        RunDirectory.forgetCreated();
        Path mine = dir.resolve("a/b"), used = dir.resolve("used"), theirs = Files.createDirectories(dir.resolve("theirs"));
        RunDirectory.create(mine);
        RunDirectory.create(used).writeMetrics(Map.of("x", 1));
        RunDirectory.create(theirs);
        assertThat(RunDirectory.removeEmptyCreated()).isEqualTo(2);
        assertThat(dir.resolve("a")).doesNotExist();
        assertThat(used.resolve("metrics.json")).exists();
        assertThat(theirs).isDirectory();
    }

    @Test
    void resolveStaysInsideTheDirectory() {
        RunDirectory run = RunDirectory.create(dir.resolve("run"));

        assertThatThrownBy(() -> run.resolve("../elsewhere.json")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> run.resolve(".")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void writesMetricsAndAnIndexOfWhatIsThere() throws Exception {
        RunDirectory run = RunDirectory.create(dir.resolve("run"));
        Map<String, Object> metrics = Map.of("test", Map.of("acc", 0.91));
        Charts.trainingCurves(run.path(), List.of(Map.of("epoch", 1, "train_loss", 0.5, "test_acc", 0.91)));

        Path json = run.writeMetrics(metrics);
        Path index = run.writeIndex("Run", "one epoch", metrics);

        assertThat(json).isEqualTo(run.resolve("metrics.json"));
        assertThat(Json.readMap(json)).isEqualTo(metrics);
        assertThat(Files.readString(index)).contains("test.acc", "0.91", "<img src=\"loss.png\"", "<img src=\"accuracy.png\"",
                "<a href=\"metrics.json\">");
        try (var files = Files.list(run.path())) {
            assertThat(files).extracting(p -> p.getFileName().toString())
                    .containsExactlyInAnyOrder("metrics.json", "index.html", "loss.png", "accuracy.png");
        }
    }
}
