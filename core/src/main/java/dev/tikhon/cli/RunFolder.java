package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.Version;
import dev.tikhon.engine.Engine;
import dev.tikhon.io.AtomicFiles;
import dev.tikhon.io.RunLock;
import dev.tikhon.report.Json;
import dev.tikhon.train.TrainingDivergedException;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The life of a run in its folder (docs/runs.md), for the commands whose runs are long: train, smooth, certify, attack,
 * bounds and flow train. Before the command runs, {@link #open} takes the folder's {@link RunLock}, refuses a folder that holds
 * another run (finished or not) unless {@code --force}, and writes the run's settings, its command line, to
 * {@value #SETTINGS} (atomically), so that {@code --resume} takes every setting from the folder: an option given again
 * with another value is an error naming both, and a run killed before its first checkpoint resumes with what it was
 * started with. {@link Session#close} marks the run finished (its end time) and releases the lock; SIGTERM and Ctrl-C
 * print what was kept and the command that resumes.
 */
final class RunFolder {
    static final String SETTINGS = "run.json";
    private static final Set<String> MANAGED = Set.of("train", "smooth", "certify", "attack", "bounds", "flow train");
    /** Options a resumed run may give anew: where and how fast it runs, not what it computes (--out: the folder, wherever it now is). */
    private static final Set<String> FREE = Set.of("--threads", "--device", "--out");

    /** A command whose run lives in a folder: the folder it writes, its default included. */
    interface Owner {
        Path outDir();
    }

    /** Options whose files the run computes on: a resumed run must find them as they were (a run of 40 images must not be 8 of one model and 32 of another). */
    private static final Set<String> INPUTS = Set.of("--checkpoint", "--torchscript", "--onnx", "--transfer-from");

    /**
     * What {@value #SETTINGS} holds.
     *
     * @param inputs SHA-256 of each file named by an {@link #INPUTS} option, by path (null in runs recorded before it)
     */
    record Settings(String command, List<String> args, String started, String finished,
                    @com.fasterxml.jackson.annotation.JsonProperty("tikhon_version") String tikhonVersion,
                    Map<String, String> inputs) {}

    private static volatile Session current;

    private RunFolder() {}

    /** Whether the command now running continues a run (its settings then come from the folder). */
    static boolean resuming() {
        Session s = current;
        return s != null && s.resuming;
    }

    /** Whether the command now running is a --resume of recorded settings (those of run.json, not of the command line). */
    static boolean continued() {
        Session s = current;
        return s != null && s.continued;
    }

    /**
     * A divergence with the way out of it: --resume repeats the recorded settings, and a recorded option given again with
     * another value is refused, so a run that diverged starts over with --force and {@code lower} ("a smaller --lr").
     */
    static TrainingDivergedException diverged(TrainingDivergedException e, String lower) {
        if (e.dir == null) return e;
        Session s = current;
        if (e.kept != null) {
            return e.withHint(e.keptText() + ", but --resume would repeat the same steps with the same settings and diverge again: "
                    + "start over with --force and " + lower + ", or check the data");
        }
        // a new run that wrote nothing leaves no settings behind (Session#close); one beside other files, or that wrote some, keeps them
        boolean settingsKept = s == null || s.settingsLeftOnFailure();
        return e.withHint(e.keptText() + "; rerun with " + lower + (settingsKept ? " and --force (its " + SETTINGS + " is kept, and "
                + "--resume would start it over with the same settings)" : "") + ", or check the data");
    }

    /** A checkpoint --resume cannot read: the run starts over with --force, or the file comes back from a copy. */
    static UserError unreadable(dev.tikhon.train.Checkpoint.Corrupt e) {
        return new UserError(e.file + ": corrupt or truncated checkpoint (" + e.detail + "), so --resume cannot continue from it: "
                + "restore the file from a copy, or start the run over with --force (its epochs are lost)", e);
    }

    /** What the running command has kept so far, for the message on SIGTERM or Ctrl-C ("37 of 100 images in certify.tsv"). */
    static void kept(Supplier<String> what) {
        Session s = current;
        if (s != null) s.kept = what;
    }

    /** A run in its folder, from {@link #open} to {@link #close}. */
    static final class Session {
        final Path dir;
        final String command;
        final boolean resuming;
        /** Resuming with the settings recorded in run.json. */
        final boolean continued;
        final String[] args;
        private final boolean createdDir;
        private final RunLock lock;
        private final Settings settings;
        /** What {@value #SETTINGS} held before this run wrote its own (null: none), put back by a failure that changed nothing else. */
        private final byte[] previousSettings;
        /** The folder's other entries when the run began (name, size, modification time), to tell whether it did anything. */
        private final Map<String, String> before;
        private final Thread hook;
        volatile Supplier<String> kept;

        private Session(Path dir, String command, boolean resuming, boolean continued, String[] args, boolean createdDir, RunLock lock,
                        Settings settings, byte[] previousSettings, Map<String, String> before) {
            this.dir = dir;
            this.command = command;
            this.resuming = resuming;
            this.continued = continued;
            this.args = args;
            this.createdDir = createdDir;
            this.lock = lock;
            this.settings = settings;
            this.previousSettings = previousSettings;
            this.before = before;
            this.hook = new Thread(this::interrupted, "tikhon-stop");
            Runtime.getRuntime().addShutdownHook(hook);
        }

        /** The command line to run: the recorded settings when resuming. */
        String[] args() { return args; }

        private void interrupted() {
            Engine.stopNativeWork();   // what was kept is counted, and temporary files removed, after the last step
            String what;
            try {
                what = kept != null ? kept.get() : checkpoints();
            } catch (RuntimeException e) {
                what = "what it wrote";
            }
            System.err.println("tikhon: stopped; kept " + what + " in " + dir + "; resume with: tikhon " + command + " --resume --out " + dir);
            System.err.flush();
            try {
                AtomicFiles.cleanStale(dir);
            } catch (RuntimeException ignored) {
                // a temporary file left behind is removed by the next run
            }
            lock.close();
        }

        private String checkpoints() {
            try (Stream<Path> files = Files.list(dir)) {
                List<String> tkn = files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".tkn")).sorted().toList();
                return tkn.isEmpty() ? "its settings (" + SETTINGS + ")" : "the last checkpoint (" + String.join(", ", tkn) + ")";
            } catch (IOException e) {
                return "its settings (" + SETTINGS + ")";
            }
        }

        /**
         * Ends the run: finished (exit 0) records its end time. A failed run that wrote nothing leaves the folder as it was:
         * a --resume (or --force) puts back the {@value #SETTINGS} it found, or removes its own where there was none (a
         * resume that failed on a usage error had relabelled a finished run of another command as an unfinished run of its
         * own); a fresh run removes its settings when they are all the folder holds; a folder the run created goes when empty.
         */
        void close(int exitCode) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                return;   // the hook reports and releases
            }
            current = null;
            if (exitCode == 0) {
                write(dir, new Settings(settings.command(), settings.args(), settings.started(), Instant.now().toString(), Version.VERSION,
                        settings.inputs()));
            } else if (restoresSettings() && unchanged()) {
                try {
                    if (previousSettings == null) Files.deleteIfExists(dir.resolve(SETTINGS));
                    else AtomicFiles.write(dir.resolve(SETTINGS), out -> out.write(previousSettings));
                } catch (IOException | java.io.UncheckedIOException ignored) {
                    // left behind: the next run into the folder says it holds an unfinished run
                }
            } else if (!restoresSettings() && onlyOurs()) {
                try {
                    Files.deleteIfExists(dir.resolve(SETTINGS));
                } catch (IOException ignored) {
                    // left behind: the next run into the folder says it holds an unfinished run
                }
            }
            lock.close();
            if (createdDir && exitCode != 0) {
                try {
                    Files.deleteIfExists(dir);   // only when empty
                } catch (IOException ignored) {
                    // not empty: it keeps what the run wrote
                }
            }
        }

        /** A resume, or a run over recorded settings (--force): a failure that changed nothing puts the folder's settings back. */
        private boolean restoresSettings() {
            return resuming || previousSettings != null;
        }

        /** Whether a failure now would leave a {@value #SETTINGS} in the folder (see {@link #close}). */
        boolean settingsLeftOnFailure() {
            if (restoresSettings()) return previousSettings != null || !unchanged();
            return !onlyOurs();
        }

        /** Whether the folder's entries other than the settings, the lock and temporary files are as they were when the run began. */
        private boolean unchanged() {
            return before != null && before.equals(entries(dir));
        }

        private boolean onlyOurs() {
            try (Stream<Path> files = Files.list(dir)) {
                return files.map(f -> f.getFileName().toString()).allMatch(n -> n.equals(SETTINGS) || n.equals(RunLock.FILE));
            } catch (IOException e) {
                return false;
            }
        }
    }

    /**
     * Prepares a command line: null when the command keeps no run folder (or asks for help); otherwise the session, whose
     * {@link Session#args()} are the command line to run.
     *
     * @param fresh a new, unused command line of the whole CLI (for parsing recorded and given settings)
     */
    static Session open(Supplier<CommandLine> fresh, String[] args, PrintStream notes) {
        CommandLine cl = fresh.get();
        int i = 0;
        while (i < args.length && cl.getSubcommands().containsKey(args[i])) cl = cl.getSubcommands().get(args[i++]);
        String command = String.join(" ", List.of(args).subList(0, i));
        List<String> rest = new ArrayList<>(List.of(args).subList(i, args.length));
        if (!MANAGED.contains(command) || rest.stream().anyMatch(a -> Set.of("-h", "--help", "-V", "--version").contains(a))) return null;
        boolean resume = rest.remove("--resume"), force = rest.remove("--force");
        List<String> absolute = ResumeArgs.absolutePaths(cl.getCommandSpec(), rest);   // recorded: the same files from any directory
        List<String> path = List.of(args).subList(0, i);
        Path dir = outDir(fresh, path, rest, resume);
        if (dir == null) return null;   // not a valid command line: the parser says why
        boolean existed = Files.isDirectory(dir);
        boolean empty = isEmpty(dir);
        RunLock lock = RunLock.acquire(dir, "tikhon " + String.join(" ", args), notes);
        try {
            Map<String, String> before = entries(dir);
            byte[] previous = Files.isRegularFile(dir.resolve(SETTINGS)) ? Files.readAllBytes(dir.resolve(SETTINGS)) : null;
            Settings recorded = previous != null ? Json.read(dir.resolve(SETTINGS), Settings.class) : null;
            if (resume && recorded == null && !force) {
                // no settings to continue: a run of another command (or of an unknown one) is not overwritten without --force
                if (!legacyRunOf(dir, command)) refuseExisting(dir, null, command, true);
            }
            List<String> run;
            if (resume && recorded != null) {
                if (!recorded.command().equals(command)) {
                    throw new UserError(dir + " holds a 'tikhon " + recorded.command() + "' run, not '" + command + "': --resume it with "
                            + "'tikhon " + recorded.command() + " --resume --out " + dir + "', or choose another --out");
                }
                run = ResumeArgs.merge(fresh, path, recorded.args(), absolute, FREE, dir.resolve(SETTINGS).toString());
            } else {
                if (!resume && !force) refuseExisting(dir, recorded, command, false);
                run = rest;
            }
            // unfinished until it ends; a resumed run keeps its start and records what it now runs with (an extension)
            boolean continued = resume && recorded != null;
            // --force starts over only where there is nothing to continue; beside a recorded run it was dropped silently
            if (continued && force) OptionChecks.noteIgnored("--force", "--resume of the run recorded in " + dir + " (to start over, drop --resume)");
            Map<String, String> inputs = fingerprints(cl.getCommandSpec(), continued ? run : absolute);
            if (continued) requireUnchanged(recorded.inputs(), inputs, dir);
            Settings settings = new Settings(command, List.copyOf(continued ? run : absolute),
                    continued ? recorded.started() : Instant.now().toString(), null, Version.VERSION,
                    continued && recorded.inputs() != null ? recorded.inputs() : inputs);
            List<String> full = new ArrayList<>(path);
            full.addAll(run);
            if (resume) full.add("--resume");
            if (force) full.add("--force");
            // a command line that cannot run (the recorded settings merged with those given) is refused before the folder is written
            OptionChecks.check(fresh.get().parseArgs(full.toArray(String[]::new)));
            if (resume && recorded == null && (empty || !holdsRun(dir))) {
                // start-or-continue launchers rely on this, but a misspelt --out would silently start over: say so
                System.err.println("note:   --resume: " + dir + (!existed ? " does not exist" : empty ? " is empty" : " holds no run")
                        + ", so there is no run to continue; starting a new one with the options given");
            }
            write(dir, settings);
            Session s = new Session(dir, command, resume, continued, full.toArray(String[]::new), !existed, lock, settings, previous, before);
            current = s;
            return s;
        } catch (IOException e) {
            lock.close();
            throw new java.io.UncheckedIOException("Cannot read " + dir.resolve(SETTINGS) + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            lock.close();
            if (!existed) {
                try {
                    Files.deleteIfExists(dir);   // the lock's folder, when nothing else is in it
                } catch (IOException ignored) {
                    // not empty
                }
            }
            throw e;
        }
    }

    /** The folder's entries other than the settings, the lock and temporary files, with their sizes and modification times. */
    private static Map<String, String> entries(Path dir) {
        Map<String, String> out = new TreeMap<>();
        if (!Files.isDirectory(dir)) return out;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String n = f.getFileName().toString();
                if (n.equals(SETTINGS) || n.equals(RunLock.FILE) || n.endsWith(AtomicFiles.TMP_SUFFIX)) continue;
                try {
                    out.put(n, Files.size(f) + "@" + Files.getLastModifiedTime(f).toMillis());
                } catch (IOException gone) {
                    out.put(n, "?");
                }
            }
        } catch (IOException e) {
            return null;   // unreadable: counts as changed, so nothing is removed
        }
        return out;
    }

    /** The run outputs that mark a folder as holding a run without {@value #SETTINGS}: metrics.json and checkpoints, sorted. */
    private static List<String> runFiles(Path dir) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.equals("metrics.json") || n.endsWith(".tkn")).sorted().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("Cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static boolean holdsRun(Path dir) {
        return !runFiles(dir).isEmpty();
    }

    /**
     * Whether a folder without {@value #SETTINGS} holds a run that {@code command --resume} may continue: one from before
     * run.json whose metrics.json names the same command, or a training run's own checkpoint without metrics (killed).
     */
    private static boolean legacyRunOf(Path dir, String command) {
        List<String> files = runFiles(dir);
        if (files.isEmpty()) return true;   // nothing to overwrite
        if (files.contains("metrics.json")) return command.equals(commandOf(dir.resolve("metrics.json")));
        String own = switch (command) {
            case "train", "smooth" -> dev.tikhon.train.Checkpoint.FILE_NAME;
            case "flow train" -> dev.tikhon.flow.FlowTraining.CHECKPOINT;
            default -> null;
        };
        return own != null && files.contains(own);
    }

    private static boolean isEmpty(Path dir) {
        if (!Files.isDirectory(dir)) return true;
        try (var entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        } catch (java.io.IOException e) {
            return false;   // unreadable: the run itself will say why
        }
    }

    /**
     * SHA-256 of each file an {@link #INPUTS} option names (a run folder given as --checkpoint: of its checkpoint.tkn), by
     * the path as given; files that do not exist are left out (the command itself says so).
     */
    static Map<String, String> fingerprints(CommandLine.Model.CommandSpec spec, List<String> args) {
        Map<String, String> out = new TreeMap<>();
        for (ResumeArgs.Given g : ResumeArgs.tokenize(spec, args)) {
            if (!INPUTS.contains(g.name()) || g.tokens().isEmpty()) continue;
            String last = g.tokens().get(g.tokens().size() - 1);
            String value = g.tokens().size() == 1 ? last.substring(last.indexOf('=') + 1) : last;
            for (String v : value.split(",")) {
                if (v.isEmpty()) continue;
                Path file = dev.tikhon.train.Checkpoint.fileIn(Path.of(v), dev.tikhon.train.Checkpoint.FILE_NAME);
                if (Files.isRegularFile(file)) out.put(v, AtomicFiles.sha256(file));
            }
        }
        return out;
    }

    /** A resumed run whose model files changed since it started: refused, as its results would mix two models. */
    private static void requireUnchanged(Map<String, String> recorded, Map<String, String> now, Path dir) {
        if (recorded == null) return;   // recorded before fingerprints
        for (Map.Entry<String, String> e : recorded.entrySet()) {
            String is = now.get(e.getKey());
            if (e.getValue().equals(is)) continue;
            throw new UserError(e.getKey() + (is == null ? " is gone" : " changed") + " since the run in " + dir + " started (SHA-256 "
                    + e.getValue().substring(0, 12) + "…" + (is == null ? "" : ", now " + is.substring(0, 12) + "…")
                    + "): resuming would mix results of two models; restore the file, or start over with --force");
        }
    }

    /**
     * An output file ({@code export --onnx}, {@code vnnlib --result}) is not written over a file the command reads
     * ({@code reads}: what it is, and the file), nor over a zip archive, which a Tikhon checkpoint is and neither an ONNX
     * model nor a result file is: {@code export --onnx run/checkpoint.tkn} replaced the trained model by its ONNX copy.
     */
    static void refuseOverwriteOfInput(String option, Path file, Map<String, Path> reads) {
        if (!Files.isRegularFile(file)) return;
        for (Map.Entry<String, Path> e : reads.entrySet()) {
            boolean same;
            try {
                same = e.getValue() != null && Files.exists(e.getValue()) && Files.isSameFile(file, e.getValue());
            } catch (IOException unreadable) {
                same = false;
            }
            if (same) {
                throw new UserError(option + " " + file + " is " + e.getKey() + ", which this command reads: writing it would destroy it; "
                        + "name another file");
            }
        }
        byte[] head = new byte[4];
        try (var in = Files.newInputStream(file)) {
            if (in.readNBytes(head, 0, 4) < 4) return;
        } catch (IOException unreadable) {
            return;   // the write itself will say why
        }
        if (head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            throw new UserError(option + " " + file + " holds a Tikhon checkpoint (or another zip archive): writing over it would destroy it; "
                    + "name another file");
        }
    }

    /**
     * For the commands whose runs keep no {@value #SETTINGS} (eval, verify, generalization, data-lipschitz, kernel, compare): a folder that
     * holds any run is not overwritten without {@code --force} (verify into a training run replaced its metrics.json).
     */
    static void refuseOverwrite(Path out, boolean force) {
        Path dir = out.toAbsolutePath().normalize();
        if (force || !Files.isDirectory(dir)) return;
        Settings recorded = Files.isRegularFile(dir.resolve(SETTINGS)) ? Json.read(dir.resolve(SETTINGS), Settings.class) : null;
        refuseExisting(dir, recorded, null, false);
    }

    /**
     * A new run into a folder that holds one: refused (exit 2), saying which and how to go on. {@code resume}: a --resume
     * that found no {@value #SETTINGS} of {@code command} to continue.
     */
    private static void refuseExisting(Path dir, Settings recorded, String command, boolean resume) {
        if (recorded != null) {
            String what = "'tikhon " + recorded.command() + " " + String.join(" ", recorded.args()) + "'";
            if (recorded.finished() != null) {
                throw new UserError(dir + " holds a finished run (" + what + ", finished " + recorded.finished() + "); pass --force to "
                        + "overwrite it, or choose another --out");
            }
            throw new UserError(dir + " holds an unfinished run (" + what + ", started " + recorded.started() + "); --resume continues it, "
                    + "--force starts over");
        }
        // a run from before run.json, or of a command that keeps none: its metrics or checkpoints
        String f = runFiles(dir).stream().findFirst().orElse(null);
        if (f != null) {
            String kind = f.equals("metrics.json") ? commandOf(dir.resolve(f)) : null;
            throw new UserError(dir + " holds " + (kind == null ? "an earlier run" : "a 'tikhon " + kind + "' run") + " (" + f
                    + (resume ? ", not a 'tikhon " + command + "' run that --resume could continue" : "")
                    + "); pass --force to overwrite it, or choose another --out");
        }
    }

    /** The command a metrics.json was written by, or null where it does not say. */
    private static String commandOf(Path metrics) {
        try {
            com.fasterxml.jackson.databind.JsonNode c = Json.mapper().readTree(metrics.toFile()).get("command");
            return c == null || !c.isTextual() ? null : c.asText();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The run's folder: --out as given, or the command's default; null when the command line does not parse. */
    private static Path outDir(Supplier<CommandLine> fresh, List<String> path, List<String> rest, boolean resume) {
        for (int k = 0; k < rest.size(); k++) {
            String a = rest.get(k);
            if (a.equals("--out") && k + 1 < rest.size()) return Path.of(rest.get(k + 1)).toAbsolutePath().normalize();
            if (a.startsWith("--out=")) return Path.of(a.substring(6)).toAbsolutePath().normalize();
        }
        List<String> all = new ArrayList<>(path);
        all.addAll(rest);
        try {
            CommandLine cl = fresh.get();
            List<CommandLine> parsed = cl.parseArgs(all.toArray(String[]::new)).asCommandLineList();
            if (parsed.get(parsed.size() - 1).getCommand() instanceof Owner o) return o.outDir().toAbsolutePath().normalize();
        } catch (CommandLine.ParameterException e) {
            if (resume) throw new UserError("--resume needs --out RUN, the folder of the run to continue");
        }
        return null;
    }

    private static void write(Path dir, Settings s) {
        Json.write(dir.resolve(SETTINGS), s);
    }
}
