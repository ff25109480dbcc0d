package dev.tikhon.cli;

import dev.tikhon.UserError;
import dev.tikhon.Version;
import dev.tikhon.engine.EngineException;
import dev.tikhon.train.TrainingDivergedException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/** {@code tikhon <command>}: the command-line entry point. */
@Command(name = "tikhon", mixinStandardHelpOptions = true, versionProvider = Main.VersionInfo.class,
        description = "Robust, certifiable and well-regularized deep learning on libtorch.",
        subcommands = {TrainCommand.class, EvalCommand.class, AttackCommand.class, BoundsCommand.class, SmoothCommand.class, CertifyCommand.class,
                InfoCommand.class, BenchCommand.class, ReproduceCommand.class, DataLipschitzCommand.class, KernelCommand.class,
                GeneralizationCommand.class, FlowCommand.class, VerifyCommand.class,
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
        System.exit(execute(args));
    }

    /** Runs a command line and returns its exit code (for tests and embedding). */
    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(Main::handle);
        cl.setParameterExceptionHandler(Main::usageError);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl.execute(args);
    }

    private static int handle(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        boolean debug = System.getenv("TIKHON_DEBUG") != null;
        int code;
        if (e instanceof UserError || e instanceof IllegalArgumentException || e instanceof EngineException) {
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

    /** A bad command line: the problem, any "did you mean", and where to find help, without the whole usage text. */
    private static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println("tikhon: " + e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("Try 'tikhon " + String.join(" ", cl.getCommandSpec().qualifiedName().replaceFirst("^tikhon ?", "")).trim()
                + (cl.getCommandSpec().qualifiedName().equals("tikhon") ? "" : " ") + "--help' for the options.");
        err.flush();
        return EXIT_USER;
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
