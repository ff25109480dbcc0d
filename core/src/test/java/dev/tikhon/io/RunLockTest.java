package dev.tikhon.io;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Whether a lock's holder is alive, judged by the kernel's start ticks where /proc has them, not by the wall clock. */
class RunLockTest {
    private static final ProcessHandle SELF = ProcessHandle.current();

    private static RunLock.Holder self(String processStart, long ticks) {
        return new RunLock.Holder(SELF.pid(), RunLock.hostName(), "tikhon certify", "2026-01-02T03:04:05Z", processStart, ticks);
    }

    @Test
    void aLiveHolderStaysAliveWhenTheClockWasSteppedSinceItStarted() {
        long ticks = RunLock.startTicks(SELF.pid());
        assumeTrue(ticks >= 0, "/proc");
        Instant start = SELF.info().startInstant().orElseThrow();
        // the start instant Java derives moves with a stepped clock; the kernel's ticks since boot do not
        assertThat(RunLock.alive(self(start.plusSeconds(3600).toString(), ticks))).isTrue();
        assertThat(RunLock.alive(self(start.toString(), ticks))).isTrue();
    }

    @Test
    void aRecycledPidIsAnotherProcess() {
        long ticks = RunLock.startTicks(SELF.pid());
        assumeTrue(ticks >= 0, "/proc");
        assertThat(RunLock.alive(self(SELF.info().startInstant().orElseThrow().toString(), ticks + 1))).isFalse();
    }

    @Test
    void aLockWithoutTicksIsJudgedByTheStartInstant() {
        Instant start = SELF.info().startInstant().orElseThrow();
        assertThat(RunLock.alive(self(start.toString(), -1))).isTrue();
        assertThat(RunLock.alive(self(start.minusSeconds(3600).toString(), -1))).isFalse();
    }

    @Test
    void theLockRecordsTheTicksAndIsReleased(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        PrintStream notes = new PrintStream(new ByteArrayOutputStream());
        try (RunLock lock = RunLock.acquire(dir, "tikhon test", notes)) {
            RunLock.Holder h = RunLock.holder(dir).orElseThrow();
            assertThat(h.pid()).isEqualTo(SELF.pid());
            assertThat(h.processStartTicks()).isEqualTo(RunLock.startTicks(SELF.pid()));
            assertThat(RunLock.alive(h)).isTrue();
        }
        assertThat(Files.exists(dir.resolve(RunLock.FILE))).isFalse();
    }

    @Test
    void startTicksAreField22CountedAfterACommandNameWithSpacesAndParentheses() throws Exception {
        String stat = "4242 (java (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 19 0 987654 123456 789 18446744073709551615\n";
        assertThat(RunLock.startTicksOf(stat)).isEqualTo(987654);
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        assertThat(RunLock.startTicks(p.pid())).isEqualTo(-1);   // gone
    }
}
