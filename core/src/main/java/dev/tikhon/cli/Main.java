package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.Version;
import dev.tikhon.engine.Engine;
import dev.tikhon.engine.EngineException;
import dev.tikhon.report.RunDirectory;
import dev.tikhon.train.TrainingDivergedException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/** {@code tikhon <command>}: the command-line entry point. */
@Command(name = "tikhon", mixinStandardHelpOptions = true, versionProvider = Main.VersionInfo.class,
        description = "Robust, certifiable and well-regularized deep learning on libtorch.",
        subcommands = {TrainCommand.class, EvalCommand.class, AttackCommand.class, BoundsCommand.class, SmoothCommand.class, CertifyCommand.class,
                InfoCommand.class, BenchCommand.class, ReproduceCommand.class, DataLipschitzCommand.class, KernelCommand.class,
                GeneralizationCommand.class, FlowCommand.class, VerifyCommand.class, CompareCommand.class, ExportCommand.class, VnnlibCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Exit codes: 0 success, 1 internal error, 2 bad input or usage, 3 training diverged. */
    public static final int EXIT_INTERNAL = 1, EXIT_USER = 2, EXIT_DIVERGED = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));   // one command per process: nothing to set back after it
    }

    /**
     * Runs a command line and returns its exit code (for tests and embedding). The JVM-wide thread count a command's
     * {@code --threads} sets is set back when it ends, so that commands run one after another in a process (the tests
     * run hundreds) each start at the count the process had, not at the last command's.
     */
    public static int execute(String... args) {
        int threads = Engine.threadsIfLoaded();
        try {
            return run(args);
        } finally {
            Engine.restoreThreads(threads);
        }
    }

    private static int run(String... args) {
        RunReport.commandStarted(java.time.Instant.now());   // metrics.json's "started"
        try {
            return executeCommand(args);
        } finally {
            RunReport.commandEnded();
        }
    }

    private static int executeCommand(String... args) {
        CommandLine cl = commandLine();
        cl.setExecutionExceptionHandler(Main::handle);
        cl.setParameterExceptionHandler(Main::usageError);
        RunDirectory.forgetCreated();
        RunFolder.Session run;
        try {
            run = RunFolder.open(Main::commandLine, args, System.out);   // lock, settings, --resume's recorded settings (docs/runs.md)
        } catch (UserError | java.io.UncheckedIOException e) {
            System.err.println("tikhon: error: " + oneLine(e.getMessage()));
            System.err.flush();
            return EXIT_USER;
        } catch (CommandLine.ParameterException e) {   // the command line to run (with a resumed run's settings) cannot run
            System.err.println(usageLine(e));
            System.err.flush();
            return EXIT_USER;
        }
        int code = EXIT_INTERNAL;
        try {
            code = cl.execute(run != null ? run.args() : args);
        } finally {
            if (run != null) run.close(code);
        }
        if (code != 0) RunDirectory.removeEmptyCreated();   // a failed run leaves no empty --out behind
        else RunDirectory.forgetCreated();
        return code;
    }

    /** The whole CLI, unused, with its option checks. */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        OptionChecks.install(cl);
        return cl;
    }

    private static int handle(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        boolean debug = System.getenv("TIKHON_DEBUG") != null;
        int code;
        if (dev.tikhon.engine.Engine.isDeviceMismatch(e)) {
            String first = String.valueOf(e.getMessage()).lines().filter(l -> !l.isBlank()).findFirst().orElse("");
            err.println("tikhon: error: model and data are on different devices (" + first.trim()
                    + "); rerun with --device cpu, and report it if --device was given");
            code = EXIT_USER;
        } else if (e instanceof UserError || e instanceof IllegalArgumentException || e instanceof EngineException) {
            err.println("tikhon: error: " + oneLine(e.getMessage()));
            code = EXIT_USER;
        } else if (e instanceof TrainingDivergedException) {
            err.println("tikhon: " + oneLine(e.getMessage()));
            code = EXIT_DIVERGED;
        } else if (e instanceof java.io.UncheckedIOException || e instanceof java.io.IOException) {
            err.println("tikhon: error: " + oneLine(e.getMessage()));
            code = EXIT_USER;
        } else {
            err.println("tikhon: internal error: " + e + " (rerun with TIKHON_DEBUG=1 for the stack trace, and report it)");
            code = EXIT_INTERNAL;
            debug = true;
        }
        if (debug) e.printStackTrace(err);
        err.flush();
        return code;
    }

    /**
     * A bad command line, on one line like every other error: the problem, any "did you mean", and where to find
     * help, without the whole usage text.
     */
    private static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println(usageLine(e));
        err.flush();
        return EXIT_USER;
    }

    static String usageLine(CommandLine.ParameterException e) {
        // picocli starts some messages (an argument group's missing options) with an "Error: " of its own
        StringBuilder line = new StringBuilder("tikhon: error: ").append(oneLine(e.getMessage()).replaceFirst("^Error: ", "")
                .replaceAll("[.:;]$", ""));
        if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
            line.append("; did you mean ").append(String.join(" or ", u.getSuggestions().stream().limit(3).toList())).append('?');
        }
        String command = e.getCommandLine().getCommandSpec().qualifiedName();
        line.append(" (try '").append(command).append(" --help')");
        return line.toString();
    }

    private static String oneLine(String s) {
        return s == null ? "(no message)" : s.replace('\n', ' ').replaceAll("\\s+", " ").trim();
    }

    static final class VersionInfo implements CommandLine.IVersionProvider {
        @Override public String[] getVersion() {
            return new String[]{"tikhon " + Version.VERSION, "Java " + System.getProperty("java.version")};
        }
    }
}
