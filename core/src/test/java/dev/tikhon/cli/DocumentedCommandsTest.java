package dev.tikhon.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every Tikhon command line that README.md and docs/*.md show still parses under the current CLI: the subcommand
 * exists, every option exists, arities and value types fit, and the ranges of {@link OptionChecks} hold. Users copy
 * these lines; options have been renamed, removed and checked more strictly since many of them were written.
 *
 * <p>Where command lines are found:
 * <ul>
 *   <li>lines of fenced code blocks (```), with lines ending in {@code \} joined to the next;</li>
 *   <li>inline code spans (`…`), which may run over a line break inside a paragraph.</li>
 * </ul>
 * Which are Tikhon command lines, and which are skipped:
 * <ul>
 *   <li>a leading prompt {@code $ } and leading environment settings ({@code ONEDNN_MAX_CPU_ISA=AVX2}) are dropped;</li>
 *   <li>the command must then be {@code tikhon} or {@code ./tikhon} followed by a word: anything else is skipped
 *       (mvn, python, java, bench/harness scripts, shell assignments, Java code, and output such as {@code tikhon: error: …});</li>
 *   <li>one exception: {@code spark-submit … --class dev.tikhon.cli.Main … tikhon-spark.jar ARGS} is checked on ARGS;</li>
 *   <li>an unquoted {@code #} that starts a word starts a comment, which is dropped.</li>
 * </ul>
 * Two kinds of line are checked less strictly:
 * <ul>
 *   <li>an inline code span may name a command with some of its options in a sentence ("`tikhon certify --method heat`
 *       classifies…"): every option it gives must parse, but required options it leaves out are not asked for (lines
 *       in code blocks must be complete);</li>
 *   <li>a {@code --resume} line takes its other settings from the run folder's run.json, so it too may leave required
 *       options out.</li>
 * </ul>
 * Placeholders ({@code RUN}, {@code DIR}, {@code …}, {@code [--backward]}, {@code 0|5}, {@code train|eval|sample}; see
 * {@link #isPlaceholder}) make a line a sketch, not a command: such a line is checked for its subcommand and option
 * names only (every alternative of {@code a|b}).
 */
class DocumentedCommandsTest {

    private static final Pattern INLINE = Pattern.compile("`([^`]+)`");
    private static final Set<String> PLACEHOLDER_WORDS = Set.of("RUN", "DIR", "FILE", "MASTER", "B", "R", "L", "X", "N", "PGD7");

    /** One documented command line: where it is, and its words after {@code tikhon}. */
    record Documented(String where, List<String> args, boolean inline, int block) {}

    /** The CLI, built once (building it for each line took 20 s): picocli resets every option before each parse. */
    private static final CommandLine CLI = Main.commandLine();

    @Test
    void everyDocumentedCommandLineParses() throws IOException {
        List<Documented> lines = documented();
        assertThat(lines.size()).as("documented command lines found").isGreaterThan(150);
        List<String> problems = new ArrayList<>();
        for (Documented d : lines) {
            String problem = problem(d.args(), d.inline() || d.args().contains("--resume"));
            if (problem != null) problems.add(d.where() + ": tikhon " + String.join(" ", d.args()) + "\n    -> " + problem);
        }
        assertThat(problems).as("documented command lines that the CLI refuses").isEmpty();
    }

    /**
     * Lines shown one after another (one code block) that write the same run folder (the same --out, or the same
     * command's default one): the second is refused without --force. Not counted: --resume and --force lines, and
     * commands that replace their own earlier output (reproduce, flow eval/sample) or keep no run folder.
     */
    @Test
    void commandLinesOfOneBlockWriteDifferentFolders() throws IOException {
        java.util.Map<String, String> written = new java.util.HashMap<>();
        List<String> clashes = new ArrayList<>();
        for (Documented d : documented()) {
            if (d.inline() || d.args().contains("--resume") || d.args().contains("--force") || problem(d.args(), false) != null
                    || d.args().stream().anyMatch(DocumentedCommandsTest::isPlaceholder)) continue;
            CommandLine.ParseResult p = CLI.parseArgs(d.args().toArray(String[]::new));
            while (p.hasSubcommand()) p = p.subcommand();
            String command = p.commandSpec().qualifiedName();
            if (p.commandSpec().findOption("--out") == null || command.matches("tikhon (reproduce|flow eval|flow sample|bench|info|export).*")) continue;
            String folder = p.hasMatchedOption("--out") ? p.matchedOption("--out").stringValues().get(0) : "the default of " + command;
            String before = written.put(d.block() + " " + folder, d.where());
            if (before != null) clashes.add(d.where() + " writes " + folder + ", as " + before + " just did");
        }
        assertThat(clashes).as("command lines that would be refused after the line before them").isEmpty();
    }

    @Test
    void theRulesFindTikhonLinesAndReportProblems() {
        assertThat(tikhonArgs(words("$ ONEDNN_MAX_CPU_ISA=AVX2 ./tikhon info --threads 2   # a comment")))
                .containsExactly("info", "--threads", "2");
        assertThat(words("certify --spark 'local[2]' --out \"my runs\"")).containsExactly("certify", "--spark", "local[2]", "--out", "my runs");
        assertThat(tikhonArgs(words("python3 bench/reference_pgd.py --out tikhon"))).isNull();
        assertThat(tikhonArgs(words("tikhon: error: model.onnx: unsupported operator"))).isNull();
        assertThat(problem(List.of("train", "--hiddn", "64"), false)).contains("--hiddn");
        assertThat(problem(List.of("train", "--epochs", "0"), false)).contains("--epochs must be ≥ 1");
        assertThat(problem(List.of("certify", "--method", "heat"), false)).contains("Missing required");
        assertThat(problem(List.of("certify", "--method", "heat"), true)).isNull();
        assertThat(problem(List.of("compare", "RUN…", "--nope"), false)).contains("--nope");
        assertThat(problem(List.of("kernel", "fit|fitt"), false)).contains("fitt");
    }

    /**
     * Why {@code args} would be refused before the command runs; null when they parse ({@code partial}: or when only
     * required options are missing).
     */
    static String problem(List<String> args, boolean partial) {
        if (args.stream().anyMatch(DocumentedCommandsTest::isPlaceholder)) return namesProblem(args);
        try {
            OptionChecks.check(CLI.parseArgs(args.toArray(String[]::new)));
            return null;
        } catch (CommandLine.MissingParameterException e) {
            return partial ? null : e.getMessage();
        } catch (CommandLine.ParameterException e) {
            return e.getMessage();
        }
    }

    /** A sketch: every subcommand (each alternative of a|b) must exist, and every --option must be an option of each. */
    private static String namesProblem(List<String> args) {
        List<CommandSpec> commands = List.of(CLI.getCommandSpec());
        int i = 0;
        for (; i < args.size() && !args.get(i).startsWith("-") && !commands.get(0).subcommands().isEmpty(); i++) {
            CommandSpec parent = commands.get(0);
            commands = new ArrayList<>();
            for (String alternative : args.get(i).split("\\|")) {
                CommandLine sub = parent.subcommands().get(alternative);
                if (sub == null) return "no subcommand '" + alternative + "' of '" + parent.qualifiedName() + "'";
                commands.add(sub.getCommandSpec());
            }
        }
        for (; i < args.size(); i++) {
            String name = args.get(i).replaceAll("^\\[|]$", "").replaceFirst("=.*", "");
            if (!name.startsWith("--")) continue;
            for (CommandSpec c : commands) {
                if (c.findOption(name) == null && !c.negatedOptionsMap().containsKey(name)) {
                    return "'" + c.qualifiedName() + "' has no option " + name;
                }
            }
        }
        return null;
    }

    /** A word that stands for something the reader fills in. */
    static boolean isPlaceholder(String word) {
        return PLACEHOLDER_WORDS.contains(word.replaceAll("[…,]+$", "")) || word.contains("…") || word.contains("...")
                || word.contains("|") || word.startsWith("[") || word.startsWith("<");
    }

    /** Every documented Tikhon command line, in the order of the files. */
    static List<Documented> documented() throws IOException {
        List<Path> files = new ArrayList<>(List.of(Path.of("../README.md")));
        try (Stream<Path> docs = Files.list(Path.of("../docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
        }
        List<Documented> out = new ArrayList<>();
        int blocks = 0;
        for (Path file : files) {
            List<String> lines = Files.readAllLines(file);
            String name = Path.of("..").relativize(file).toString();
            boolean fenced = false;
            StringBuilder prose = new StringBuilder();
            List<Integer> proseLine = new ArrayList<>();   // the line of each character of prose
            for (int n = 0; n < lines.size(); n++) {
                String line = lines.get(n);
                if (line.strip().startsWith("```")) {
                    fenced = !fenced;
                    blocks++;
                    prose.append(' ');
                    proseLine.add(n + 1);
                    continue;
                }
                if (fenced) {
                    int first = n;
                    StringBuilder joined = new StringBuilder(line);
                    while (joined.toString().endsWith("\\") && n + 1 < lines.size()) {
                        joined.setLength(joined.length() - 1);
                        joined.append(' ').append(lines.get(++n).strip());
                    }
                    List<String> args = tikhonArgs(words(joined.toString()));
                    if (args != null) out.add(new Documented(name + ":" + (first + 1), args, false, blocks));
                } else {
                    prose.append(line).append(' ');
                    for (int k = 0; k <= line.length(); k++) proseLine.add(n + 1);
                }
            }
            Matcher m = INLINE.matcher(prose);
            while (m.find()) {
                List<String> args = tikhonArgs(words(m.group(1)));
                if (args != null) out.add(new Documented(name + ":" + proseLine.get(m.start()), args, true, -1));
            }
        }
        return out;
    }

    /** The words after tikhon when {@code words} run Tikhon, else null. */
    static List<String> tikhonArgs(List<String> words) {
        int i = 0;
        if (i < words.size() && words.get(i).equals("$")) i++;
        while (i < words.size() && words.get(i).matches("[A-Z_][A-Z0-9_]*=.*")) i++;
        if (i + 1 < words.size() && (words.get(i).equals("tikhon") || words.get(i).equals("./tikhon"))
                && words.get(i + 1).matches("[a-z-].*")) {
            return words.subList(i + 1, words.size());
        }
        if (i < words.size() && words.get(i).equals("spark-submit") && words.contains("dev.tikhon.cli.Main")) {
            for (int k = i; k < words.size(); k++) {
                if (words.get(k).endsWith("tikhon-spark.jar")) return words.subList(k + 1, words.size());
            }
        }
        return null;
    }

    /** A shell line's words: quotes removed, a comment dropped. */
    static List<String> words(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = null;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) quote = 0;
                else word.append(c);
            } else if (c == '\'' || c == '"') {
                quote = c;
                if (word == null) word = new StringBuilder();
            } else if (Character.isWhitespace(c)) {
                if (word != null) words.add(word.toString());
                word = null;
            } else if (c == '#' && word == null) {
                break;
            } else {
                if (word == null) word = new StringBuilder();
                word.append(c);
            }
        }
        if (word != null) words.add(word.toString());
        return words;
    }
}
