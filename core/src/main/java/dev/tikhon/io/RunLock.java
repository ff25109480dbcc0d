package dev.tikhon.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tikhon.UserError;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One run per folder: the file {@value #FILE} in a run's folder, held for the run's life, naming the process that holds
 * it (pid, host, the process's start time), its command line and when it started. A second run into the folder is
 * refused with those facts; a lock whose process is gone (a SIGKILLed run, a power cut) is stale and taken over, with
 * a note. "Gone" is judged only on the same host: the pid must be alive and must have started when the lock says
 * (a recycled pid is another process). The start is compared as the kernel's clock ticks since boot where /proc gives
 * them: the wall-clock start instant that Java derives from the boot time moves when the clock is stepped (a VM that was
 * paused; a live run's lock was once taken over under heavy load, and a stepped clock is the suspect). A lock from
 * another host is always respected; delete it by hand if that host is known dead.
 *
 * <p>The lock is created atomically: its content goes to a temporary file that is then hard-linked to {@value #FILE},
 * which fails if the file exists (two runs racing for one folder cannot both win), on file systems without hard links
 * by an exclusive create.
 */
public final class RunLock implements AutoCloseable {
    public static final String FILE = "run.lock";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final long pid;
    private boolean held = true;

    private RunLock(Path file, long pid) {
        this.file = file;
        this.pid = pid;
    }

    /** What a lock file says: who holds the folder. */
    public record Holder(long pid, String host, String command, String started, String processStart, long processStartTicks) {
        String describe() {
            return "pid " + pid + (host.equals(hostName()) ? "" : " on " + host) + ", '" + command + "', started " + started;
        }
    }

    /**
     * Takes the lock of {@code dir} (created if missing) for {@code command}; a stale lock is taken over and a note
     * printed on {@code notes}. A live holder is a {@link UserError} naming it.
     */
    public static RunLock acquire(Path dir, String command, java.io.PrintStream notes) {
        Path file = dir.resolve(FILE);
        ProcessHandle self = ProcessHandle.current();
        Map<String, Object> me = new LinkedHashMap<>();
        me.put("pid", self.pid());
        me.put("host", hostName());
        me.put("command", command);
        me.put("started", Instant.now().toString());
        me.put("process_start", self.info().startInstant().map(Instant::toString).orElse(""));
        me.put("process_start_ticks", startTicks(self.pid()));
        try {
            try {
                Files.createDirectories(dir);
            } catch (java.nio.file.FileSystemException e) {   // dir, or a folder above it, is a file; or no permission
                for (Path p = dir.toAbsolutePath(); p != null; p = p.getParent()) {
                    if (Files.exists(p) && !Files.isDirectory(p)) {
                        throw new UserError("cannot use " + dir + " as the output folder: " + p + " exists and is not a folder; "
                                + "choose another --out");
                    }
                }
                if (e instanceof java.nio.file.AccessDeniedException) {
                    throw new UserError("cannot create the output folder " + dir + ": permission denied on " + e.getFile()
                            + "; choose another --out");
                }
                throw e;
            }
            for (int attempt = 0; ; attempt++) {
                if (create(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(me))) return new RunLock(file, self.pid());
                Optional<Holder> holder = read(file);
                if (holder.isEmpty()) {   // vanished between the create and the read, or torn by a kill while written
                    if (attempt > 2) throw new UserError(file + " cannot be read: delete it if no run is using " + dir);
                    if (Files.exists(file) && Files.getLastModifiedTime(file).toInstant().isBefore(Instant.now().minusSeconds(5))) {
                        Files.deleteIfExists(file);
                    }
                    continue;
                }
                Holder h = holder.get();
                if (alive(h) || attempt > 2) {
                    throw new UserError(dir + " is in use by another run (" + h.describe() + "); wait for it to finish, or choose "
                            + "another --out");
                }
                notes.println("note:   took over the stale lock of a run that is gone (" + h.describe() + ")");
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot lock " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The holder named in {@code dir}'s lock, if there is a readable one. */
    public static Optional<Holder> holder(Path dir) {
        return read(dir.resolve(FILE));
    }

    /** Whether the holder's process is still running (always true for another host's lock). */
    public static boolean alive(Holder h) {
        if (!h.host().equals(hostName())) return true;
        Optional<ProcessHandle> p = ProcessHandle.of(h.pid());
        if (p.isEmpty() || !p.get().isAlive()) return false;
        long ticks = startTicks(h.pid());
        if (h.processStartTicks() >= 0 && ticks >= 0) return ticks == h.processStartTicks();
        if (h.processStart().isEmpty()) return true;
        Optional<Instant> start = p.get().info().startInstant();
        return start.isEmpty() || Duration.between(start.get(), Instant.parse(h.processStart())).abs().toMillis() < 2000;
    }

    /**
     * When process {@code pid} started, in clock ticks since boot (field 22 of /proc/PID/stat, counted after the command
     * name, which may hold spaces and parentheses); −1 where there is no /proc or the process is gone.
     */
    static long startTicks(long pid) {
        try {
            return startTicksOf(Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    static long startTicksOf(String stat) {
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        return Long.parseLong(fields[19]);   // fields[0] is field 3 (the state)
    }

    private static boolean create(Path file, byte[] content) throws IOException {
        Path tmp = AtomicFiles.tmpOf(file.resolveSibling(FILE + "." + ProcessHandle.current().pid()));
        try {
            Files.write(tmp, content);
            try {
                Files.createLink(file, tmp);
                return true;
            } catch (FileAlreadyExistsException e) {
                return false;
            } catch (UnsupportedOperationException | IOException e) {
                if (Files.exists(file)) return false;
                try {
                    Files.write(file, content, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE);
                    return true;
                } catch (FileAlreadyExistsException taken) {
                    return false;
                }
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static Optional<Holder> read(Path file) {
        try {
            JsonNode n = JSON.readTree(new String(Files.readAllBytes(file), StandardCharsets.UTF_8));
            if (n == null || !n.has("pid")) return Optional.empty();
            return Optional.of(new Holder(n.path("pid").asLong(), n.path("host").asText(""), n.path("command").asText(""),
                    n.path("started").asText(""), n.path("process_start").asText(""), n.path("process_start_ticks").asLong(-1)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static volatile String host;

    static String hostName() {
        if (host == null) {
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                host = "localhost";
            }
        }
        return host;
    }

    /** Releases the lock if this process still holds it (idempotent; safe from a shutdown hook). */
    @Override public synchronized void close() {
        if (!held) return;
        held = false;
        try {
            Optional<Holder> h = read(file);
            if (h.isPresent() && h.get().pid() == pid) Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // the folder went away; nothing is left to release
        }
    }
}
