package dev.tikhon.engine;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Scope#stopWork}, what the engine's shutdown hook runs so that no thread is inside libtorch when the C library's
 * exit destroys its static state: threads stop at their next scope boundary and park; a thread held inside a scope keeps
 * the stop waiting until it leaves. After each case the stop is cancelled and the threads let go (tests only).
 */
class ScopeStopTest {
    private Thread worker;
    private final AtomicBoolean done = new AtomicBoolean();
    private final CountDownLatch leave = new CountDownLatch(1);

    @BeforeAll
    static void loadTheEngine() {
        Engine.init();   // its start-up (a kernel check) takes seconds on a loaded machine: not inside a case's waits
    }

    @AfterEach
    void letGo() throws InterruptedException {
        Scope.cancelStop();
        done.set(true);
        leave.countDown();
        if (worker != null) {
            LockSupport.unpark(worker);
            worker.join(10_000);
            assertThat(worker.isAlive()).as("the worker goes on once the stop is cancelled").isFalse();
        }
    }

    private void start(Runnable body) {
        worker = new Thread(body, "scope-stop-worker");
        worker.setDaemon(true);
        worker.start();
    }

    @Test
    @Timeout(60)
    void aLoopOfStepsStopsAtAScopeBoundaryAndParks() throws Exception {
        AtomicLong steps = new AtomicLong();
        CountDownLatch running = new CountDownLatch(1);
        start(() -> {
            Tensor a = Tensor.randn(128, 128);
            while (!done.get()) {
                try (Scope outer = Scope.open()) {
                    for (int i = 0; i < 3; i++) {
                        try (Scope inner = Scope.open()) {
                            a.matmul(a).sum().item();   // native work inside nested scopes
                        }
                    }
                }
                steps.incrementAndGet();
                running.countDown();
            }
        });
        assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Scope.stopWork(20_000)).as("every thread left native work").isTrue();
        long at = steps.get();
        Thread.sleep(200);
        assertThat(worker.getState()).isEqualTo(Thread.State.WAITING);
        assertThat(steps.get()).as("no step runs while stopping").isLessThanOrEqualTo(at + 1);

        Scope.cancelStop();
        LockSupport.unpark(worker);
        long resumed = steps.get();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (steps.get() < resumed + 3 && System.nanoTime() < deadline) Thread.sleep(10);
        assertThat(steps.get()).as("steps go on once the stop is cancelled").isGreaterThanOrEqualTo(resumed + 3);
    }

    @Test
    @Timeout(60)
    void aThreadInsideAScopeHoldsTheStopUntilItLeaves() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        AtomicBoolean after = new AtomicBoolean();
        start(() -> {
            try (Scope s = Scope.open()) {
                inside.countDown();
                leave.await();   // stands for a long libtorch call
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            after.set(true);   // not reached while stopping: the thread parks as the scope closes
        });
        assertThat(inside.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Scope.stopWork(300)).as("a thread is still inside a scope").isFalse();
        assertThat(Scope.stopping()).isTrue();
        leave.countDown();
        assertThat(Scope.stopWork(20_000)).isTrue();
        Thread.sleep(100);
        assertThat(after.get()).isFalse();
        assertThat(worker.getState()).isEqualTo(Thread.State.WAITING);
    }

    @Test
    @Timeout(60)
    void theCallingThreadInsideAScopeDoesNotWaitForItself() {
        try (Scope s = Scope.open()) {
            try {
                long t0 = System.nanoTime();
                assertThat(Scope.stopWork(5_000)).isTrue();
                assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(4));
            } finally {
                Scope.cancelStop();   // before this scope closes: the test thread must not park
            }
        }
    }

    @Test
    @Timeout(60)
    void aLoopWithStopPointsStopsOnlyThereAfterKeepingItsState() throws Exception {
        AtomicLong steps = new AtomicLong(), keptAt = new AtomicLong(-1);
        CountDownLatch running = new CountDownLatch(1);
        start(() -> {
            Tensor a = Tensor.randn(64, 64);
            try (Scope.StopPoints loop = Scope.stopPoints()) {
                while (!done.get()) {
                    long at = steps.get();
                    Scope.stopHere(() -> {
                        try {
                            Thread.sleep(300);   // a checkpoint being written: the stop waits for it
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        keptAt.set(at);
                    });
                    try (Scope step = Scope.open()) {
                        for (int i = 0; i < 3; i++) {
                            try (Scope inner = Scope.open()) {
                                a.matmul(a).sum().item();   // inner boundaries: no stop here inside a loop with stop points
                            }
                        }
                    }
                    steps.incrementAndGet();
                    running.countDown();
                }
            }
        });
        assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Scope.stopWork(20_000)).isTrue();
        assertThat(keptAt.get()).as("the state was kept before the stop ended").isGreaterThanOrEqualTo(0);
        assertThat(steps.get()).as("stopped at a stop point, with every step it began finished").isEqualTo(keptAt.get());
        Thread.sleep(100);
        assertThat(worker.getState()).isEqualTo(Thread.State.WAITING);
    }
}
