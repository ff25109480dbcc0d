package dev.tikhon.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Oracle: the file system. A write either replaces the file whole or leaves the old one; no temporary file survives. */
class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void writesCreatesParentsAndReplaces() throws IOException {
        Path f = dir.resolve("a/b/metrics.json");
        AtomicFiles.writeString(f, "one");
        AtomicFiles.writeString(f, "two");
        assertThat(Files.readString(f)).isEqualTo("two");
        assertThat(AtomicFiles.tmpOf(f)).doesNotExist();
    }

    @Test
    void aFailedWriteKeepsThePreviousFileAndLeavesNoTemporary() throws IOException {
        Path f = dir.resolve("checkpoint.tkn");
        AtomicFiles.writeString(f, "good");
        assertThatThrownBy(() -> AtomicFiles.write(f, out -> {
            out.write("half".getBytes(StandardCharsets.UTF_8));
            throw new IOException("disk full");
        })).isInstanceOf(UncheckedIOException.class).hasMessageContaining("checkpoint.tkn").hasMessageContaining("disk full");
        assertThatThrownBy(() -> AtomicFiles.write(f, out -> {
            out.write(1);
            throw new IllegalStateException("bug");
        })).isInstanceOf(IllegalStateException.class);
        assertThat(Files.readString(f)).isEqualTo("good");
        assertThat(AtomicFiles.tmpOf(f)).doesNotExist();
    }

    @Test
    void aPathWriterWritesTheTemporaryFileOnly() throws IOException {
        Path f = dir.resolve("smoothed.pt");
        AtomicFiles.writeVia(f, tmp -> {
            assertThat(tmp).isEqualTo(AtomicFiles.tmpOf(f));
            assertThat(tmp.getParent()).isEqualTo(f.toAbsolutePath().getParent());
            assertThat(f).doesNotExist();   // the target appears only by the rename
            Files.writeString(tmp, "model");
        });
        assertThat(Files.readString(f)).isEqualTo("model");
        assertThatThrownBy(() -> AtomicFiles.writeVia(dir.resolve("none"), tmp -> {})).hasMessageContaining("produced no file");
    }

    @Test
    void aStaleTemporaryFromAKilledWriterIsReplacedAndCleaned() throws IOException {
        Path f = dir.resolve("history.csv");
        Files.writeString(AtomicFiles.tmpOf(f), "torn");
        AtomicFiles.writeString(f, "whole");
        assertThat(Files.readString(f)).isEqualTo("whole");
        Files.writeString(dir.resolve("checkpoint.tkn.tmp"), "torn");
        Files.writeString(dir.resolve("notes.txt"), "kept");
        assertThat(AtomicFiles.cleanStale(dir)).isEqualTo(1);
        assertThat(dir.resolve("notes.txt")).exists();
        assertThat(dir.resolve("checkpoint.tkn.tmp")).doesNotExist();
        assertThat(AtomicFiles.cleanStale(dir.resolve("absent"))).isZero();
    }

    @Test
    void sha256IsTheStandardDigest() throws IOException {
        Path f = dir.resolve("abc");
        Files.writeString(f, "abc");
        assertThat(AtomicFiles.sha256(f)).isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
