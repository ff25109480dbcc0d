package dev.tikhon.report;

import dev.tikhon.UserError;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProgressTest {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    /** A fake clock: each reading advances 10 ms. */
    private final AtomicLong now = new AtomicLong();
    private final LongSupplier ticking = () -> now.addAndGet(TimeUnit.MILLISECONDS.toNanos(10));

    private List<String> lines() {
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertThat(text).doesNotContain("\r");
        return text.lines().toList();
    }

    @Test
    void plainPrinterPrintsAboutTenLinesWithRateAndEta() {
        try (Progress progress = new PlainProgress("epoch 1", 1000, out, ticking)) {
            for (int i = 0; i < 1000; i++) {
                progress.setExtra("loss " + (1.0 / (i + 1)));
                progress.step(1);
            }
        }

        List<String> lines = lines();
        assertThat(lines).hasSizeBetween(9, 12);
        assertThat(lines).allSatisfy(line -> assertThat(line).startsWith("epoch 1: ").contains("/1000 (", "/s", "ETA ", "| loss "));
        assertThat(lines.get(0)).startsWith("epoch 1: 100/1000 (10%), 100/s, elapsed 0:01, ETA 0:09");
        assertThat(lines.get(lines.size() - 1)).startsWith("epoch 1: 1000/1000 (100%)").contains("ETA 0:00");
    }

    @Test
    void systemClockPrinterStaysBoundedToo() {
        try (Progress progress = Progress.plain("eval", 1000, out)) {
            for (int i = 0; i < 1000; i++) progress.step();
        }

        assertThat(lines()).hasSizeBetween(1, 12);
    }

    @Test
    void slowLoopsGetAHeartbeatEveryThirtySeconds() {
        LongSupplier slow = () -> now.addAndGet(TimeUnit.SECONDS.toNanos(20));
        try (Progress progress = new PlainProgress("certify", 1000, out, slow)) {
            for (int i = 0; i < 10; i++) progress.step(1); // 1% of the total, 200 s in all
        }

        List<String> lines = lines();
        assertThat(lines).hasSizeBetween(5, 6);
        assertThat(lines.get(0)).startsWith("certify: 2/1000 (0%), 0.05/s, elapsed 0:40, ETA 5:32:40");
    }

    @Test
    void closePrintsTheFinalCountOnceAndUnknownTotalsHaveNoEta() {
        Progress progress = new PlainProgress("stream", 0, out, ticking);
        progress.step(5);
        progress.setExtra("line\nbreak");
        progress.close();
        progress.close();
        progress.step(1);

        assertThat(lines()).containsExactly("stream: 5, 250/s, elapsed 0:00 | line break");
    }

    @Test
    void durationsReadAsClockTimes() {
        assertThat(PlainProgress.duration(59.4)).isEqualTo("0:59");
        assertThat(PlainProgress.duration(61)).isEqualTo("1:01");
        assertThat(PlainProgress.duration(3 * 3600 + 5)).isEqualTo("3:00:05");
    }

    @Test
    void environmentModeParsing() {
        assertThat(Progress.Mode.parse(null)).isEmpty();
        assertThat(Progress.Mode.parse(" ")).isEmpty();
        assertThat(Progress.Mode.parse("Plain")).isEqualTo(Optional.of(Progress.Mode.PLAIN));
        assertThat(Progress.Mode.parse("bar")).contains(Progress.Mode.BAR);
        assertThat(Progress.Mode.parse("off")).contains(Progress.Mode.OFF);
        assertThatThrownBy(() -> Progress.Mode.parse("fancy"))
                .isInstanceOf(UserError.class).hasMessageContaining(Progress.ENV).hasMessageContaining("fancy");
    }

    @Test
    void terminalBarRedrawsOneLineWithCountAndExtra() {
        try (Progress progress = Progress.bar("bar", 10, out)) {
            progress.setExtra("acc 0.5");
            progress.step(10);
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("\r").contains("bar").contains("10/10").contains("acc 0.5");   // redrawn in place
    }

    @Test
    void aHeartbeatPrintsWhileNoStepCompletes() {
        PlainProgress progress = new PlainProgress("attack", 200, out, now::get);
        progress.announce();
        now.addAndGet(TimeUnit.SECONDS.toNanos(29));
        progress.tick();                        // not due yet
        now.addAndGet(TimeUnit.SECONDS.toNanos(2));
        progress.tick();                        // 31 s without a line: one heartbeat
        progress.tick();                        // and not again at once
        progress.close();
        progress.tick();                        // nothing after close
        assertThat(lines()).containsExactly("attack: started, 200 to do", "attack: 0/200 (0%), 0/s, elapsed 0:31, ETA ?");
    }

    @Test
    void theSystemPrinterAnnouncesItselfAtOnce() {
        try (Progress progress = Progress.plain("certify", 3, out)) {
            assertThat(lines()).containsExactly("certify: started, 3 to do");
            progress.step(3);
        }
        assertThat(lines()).hasSize(2).last().asString().startsWith("certify: 3/3 (100%)");
    }

    @Test
    void aResumedLoopsRateAndEtaCountOnlyItsOwnSteps() {
        // 400 of 1000 steps were done by an earlier run; this run does 100 in 10 s: 10/s, 500 left, ETA 50 s
        PlainProgress progress = new PlainProgress("epoch 4", 1000, out, now::get);
        progress.skip(400);
        for (int i = 0; i < 100; i++) {
            now.addAndGet(TimeUnit.MILLISECONDS.toNanos(100));
            progress.step(1);
        }
        progress.close();
        assertThat(lines()).containsExactly("epoch 4: 400/1000 (40%), ?/s, elapsed 0:00, ETA ?",
                "epoch 4: 500/1000 (50%), 10/s, elapsed 0:10, ETA 0:50");
    }

    @Test
    void aLoopDoneEntirelyByAnEarlierRunEndsAtItsTotal() {
        PlainProgress progress = new PlainProgress("certify", 50, out, now::get);
        progress.skip(50);
        progress.close();
        assertThat(lines()).containsExactly("certify: 50/50 (100%), ?/s, elapsed 0:00, ETA 0:00");
    }

    @Test
    void aResumedBarStartsFromTheStepsAlreadyDone() {
        try (Progress progress = Progress.bar("bar", 10, out)) {
            progress.skip(6);
            progress.step(4);
        }
        assertThat(bytes.toString(StandardCharsets.UTF_8)).contains("10/10");
    }
}
