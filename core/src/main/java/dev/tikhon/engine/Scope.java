package dev.tikhon.engine;

import org.bytedeco.javacpp.PointerScope;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Frees every tensor created inside it when it closes. Wrap each training or evaluation step:
 * native memory is invisible to the Java GC, so a tensor created outside any scope is freed only
 * when the GC happens to collect its Java handle, which native memory does not prompt.
 *
 * <pre>{@code try (Scope step = Scope.open()) { ... } }</pre>
 *
 * <p>Measured ({@code UnscopedMemoryTest.measureGrowthPerStep}, 40 steps each, CPU, -Xmx4g): a hand-written
 * loop of the small CNN with the Tikhonov penalty at batch 64 grew the resident set by about 71 MB a step
 * without a scope (0.45 to 3.3 GB in 40 steps) and not at all with one (−0.2 MB a step); a user's report saw
 * about 78 MB a step. (An earlier version of this comment said ~85 KB, which was wrong by three orders of
 * magnitude.) The library's own loops ({@code Trainer}, the attacks, certification, evaluation) open their scopes.
 *
 * <p>The unscoped path is loud. Tensors created outside any scope are counted per thread, and each
 * optimizer step is a checkpoint ({@link #checkStep}): a step that runs outside any scope after tensors
 * were created outside one since the previous step prints one warning (once per process) naming the
 * first such tensor and where it was made. In strict mode ({@link #strict(boolean)}, or
 * {@code -Dtikhon.strictScopes=true}, or {@code TIKHON_STRICT_SCOPES=1}) the first tensor created
 * outside any scope after a thread's first optimizer step throws an {@link EngineException} naming it,
 * so a leaking loop stops at its first leaked tensor.
 *
 * <p>Scopes are also where a stopping process waits for its work ({@link #stopWork}). On SIGTERM or Ctrl-C the JVM runs
 * its shutdown hooks and then calls the C library's {@code exit}, which destroys libtorch's static state; a thread still
 * inside a libtorch call at that moment crashes the process (a native SIGSEGV and an {@code hs_err} file, measured: a
 * CROWN-IBP training step stopped by SIGTERM). So the engine's shutdown hook asks every thread to stop at its next scope
 * boundary, where it is in Java and parks, and waits until no thread is inside a scope.
 */
public final class Scope implements AutoCloseable {
    // before the engine's start-up, which opens scopes (its kernel check)
    /** Set once the process is stopping: threads park at their next scope boundary. */
    private static volatile boolean stopping;
    /** Threads inside at least one scope and not parked: those that may be inside a libtorch call. */
    private static final AtomicInteger BUSY = new AtomicInteger();
    /** Per thread: how many scopes and {@link StopPoints} are open. */
    private static final ThreadLocal<Held> HELD = ThreadLocal.withInitial(Held::new);

    private static final class Held {
        int depth, loops;
        /** Tensors made outside any scope since this thread last opened one (before its first optimizer step). */
        long unscopedInARow;

        /** How many times this thread counts in {@link #BUSY}: once for its scopes, once for its stop points. */
        int busy() {
            return (depth > 0 ? 1 : 0) + (loops > 0 ? 1 : 0);
        }
    }

    static {
        Engine.init();
    }

    private static volatile boolean strict = Boolean.getBoolean("tikhon.strictScopes")
            || "1".equals(System.getenv("TIKHON_STRICT_SCOPES"));
    private static volatile boolean warned;

    /** Per thread: tensors created outside any scope since the last step, and the first of them. */
    private static final class Unscoped {
        long count;
        String first;
        long steps;
    }

    /**
     * Unscoped tensors in a row (no scope opened in between, no optimizer step yet) that make a loop, not set-up: a
     * model, its data and an optimizer take a few hundred; a loop of predictions without a scope passes this within a
     * few hundred iterations. Code that opens scopes itself (the attacks, certification) starts the count afresh.
     */
    static final long UNSCOPED_LOOP = 10_000;
    private static volatile boolean warnedLoop;

    /** Tests: the loop warning may be printed again. */
    static void forgetLoopWarning() {
        warnedLoop = false;
    }

    private static final ThreadLocal<Unscoped> UNSCOPED = ThreadLocal.withInitial(Unscoped::new);

    private final PointerScope scope;

    private Scope() {
        this.scope = new PointerScope();
    }

    public static Scope open() {
        Held h = HELD.get();
        h.unscopedInARow = 0;
        if (h.depth++ == 0) BUSY.incrementAndGet();
        if (stopping && h.loops == 0) parkWhileStopping(h);
        return new Scope();
    }

    /**
     * Stops native work before the process exits: from now on every thread parks at its next scope boundary (open or
     * close, where it is in Java); waits until no thread is inside a scope, or {@code timeoutMillis}. Idempotent; called
     * by the engine's shutdown hook and by hooks that must not write while a step is under way.
     *
     * @return whether every thread stopped within the time
     */
    public static boolean stopWork(long timeoutMillis) {
        stopping = true;
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        Held mine = HELD.get();
        while (BUSY.get() > mine.busy()) {   // the calling thread, if inside a scope, is in Java here
            if (System.nanoTime() >= end) return false;
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        return true;
    }

    /** Whether {@link #stopWork} was called (tests: loops ask it through {@link #stopHere}). */
    static boolean stopping() {
        return stopping;
    }

    /** Tests only: lets parked threads go on, as if the stop had not been asked. */
    static void cancelStop() {
        stopping = false;
    }

    private static void parkWhileStopping(Held h) {
        int held = h.busy();
        BUSY.addAndGet(-held);
        while (stopping) LockSupport.park(Scope.class);   // the process exits around this thread
        BUSY.addAndGet(held);
    }

    /**
     * A loop that stops itself where its state is whole, instead of at whichever scope boundary comes next: while open,
     * its thread does not park at scope boundaries when the process stops, and counts as busy, so that the process waits
     * (up to {@link #stopWork}'s limit) until the loop reaches {@link #stopHere}. A training loop keeps a checkpoint there.
     */
    public static StopPoints stopPoints() {
        Held h = HELD.get();
        if (h.loops++ == 0) BUSY.incrementAndGet();
        return new StopPoints(h);
    }

    /**
     * A point of a {@link #stopPoints} loop where its state is whole: when the process is stopping, runs {@code keep}
     * (e.g. writes a checkpoint; the process waits for it) and parks the thread for good. Otherwise does nothing.
     */
    public static void stopHere(Runnable keep) {
        if (!stopping) return;
        try {
            keep.run();
        } finally {
            parkWhileStopping(HELD.get());
        }
    }

    /** See {@link #stopPoints}. */
    public static final class StopPoints implements AutoCloseable {
        private final Held held;
        private boolean closed;

        private StopPoints(Held held) {
            this.held = held;
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            if (--held.loops == 0) BUSY.decrementAndGet();
            if (stopping && held.loops == 0) parkWhileStopping(held);
        }
    }

    /** Whether any scope is open on this thread. */
    public static boolean isOpen() {
        return PointerScope.getInnerScope() != null;
    }

    /**
     * Strict mode on or off (for every thread); see the class comment. On the calling thread, counting starts
     * afresh: tensors are checked from its next optimizer step on.
     */
    public static void strict(boolean on) {
        strict = on;
        UNSCOPED.remove();
    }

    /**
     * Called by optimizers at each step: warns (or, strict, has already thrown) when a step runs outside any
     * scope after tensors were made outside one since the previous step, then starts counting afresh.
     */
    public static void checkStep(String what) {
        Unscoped u = UNSCOPED.get();
        if (!isOpen() && u.steps > 0 && u.count > 0 && !warned) {
            warned = true;
            System.err.println("tikhon: warning: " + what + " outside any Scope, after " + u.count + " tensors were created "
                    + "outside one since the previous step (the first: " + u.first + "); they are freed only when the "
                    + "Java GC runs, so native memory grows every step. Wrap each step in try (Scope s = Scope.open()) { ... }"
                    + " (dev.tikhon.engine.Scope; strict mode stops at the first such tensor)");
        }
        u.steps++;
        u.count = 0;
        u.first = null;
    }

    /** Accounts for a tensor just made; in strict mode, after this thread's first step, refuses an unscoped one. */
    static void created(Tensor t) {
        if (isOpen()) return;
        Unscoped u = UNSCOPED.get();
        if (u.steps == 0) {   // setup before the first step (models, optimizers, data) may well be unscoped; a loop may not
            if (++HELD.get().unscopedInARow == UNSCOPED_LOOP && !warnedLoop) {
                warnedLoop = true;
                System.err.println("tikhon: warning: " + UNSCOPED_LOOP + " tensors in a row were made outside any Scope (the latest: " + t
                        + " created at " + site() + "); they are freed only when the Java GC runs, which may not be before native "
                        + "memory runs out. Wrap each iteration of a loop (predictions, attacks, certificates) in "
                        + "try (Scope s = Scope.open()) { ... } (dev.tikhon.engine.Scope), keeping only plain Java results");
            }
            return;
        }
        if (u.count++ == 0 || strict) {
            String what = t + " created at " + site();
            if (strict) {
                throw new EngineException(what + ", outside any Scope after an optimizer step (strict mode): it is freed only when "
                        + "the Java GC runs, so memory grows every step; wrap each step in try (Scope s = Scope.open()) { ... }");
            }
            u.first = what;
        }
    }

    /** The first caller outside the engine, and the first outside Tikhon (and the JDK) when that is another frame. */
    private static String site() {
        StackTraceElement lib = null, user = null;
        for (StackTraceElement e : new Throwable().getStackTrace()) {
            String c = e.getClassName();
            if (c.startsWith("dev.tikhon.engine.")) continue;
            if (lib == null) lib = e;
            if (!c.startsWith("dev.tikhon.")) {
                if (!c.startsWith("java.") && !c.startsWith("jdk.") && !c.startsWith("sun.")) user = e;
                break;
            }
        }
        if (lib == null) return "(unknown)";
        return user == null || lib.equals(user) ? lib.toString() : lib + " called from " + user;
    }

    @Override
    public void close() {
        try {
            scope.close();
        } finally {
            Held h = HELD.get();
            if (--h.depth == 0) BUSY.decrementAndGet();
            if (stopping && h.loops == 0) parkWhileStopping(h);
        }
    }
}
