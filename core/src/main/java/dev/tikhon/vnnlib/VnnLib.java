package dev.tikhon.vnnlib;

import dev.tikhon.UserError;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A VNN-LIB property (the VNN-COMP format): the SMT-LIB subset of {@code (declare-const X_i Real)}, {@code (declare-const
 * Y_j Real)} and {@code (assert F)}, F built of {@code and}, {@code or} and linear atoms {@code (<= a b)}, {@code (>= a b)}
 * whose terms are variables, numbers, {@code (+ …)}, {@code (- a b …)}, {@code (- a)} and {@code (* c v)}. The asserts
 * together describe the <em>unsafe</em> set: the property holds ("unsat") when no input of the box(es) maps to outputs
 * satisfying them.
 *
 * <p>The formula is put in disjunctive normal form; each disjunct is a {@link Case}: an input box (every X_i bounded above and
 * below by atoms on X_i alone) and a conjunction of output constraints c·Y + d ≥ 0 (atoms on Y alone). The arithmetic is
 * exact ({@link BigDecimal}); a case keeps its box rounded outward to doubles (it holds the exact box) and to nearest.
 */
public final class VnnLib {
    /** More disjuncts than this after distributing {@code and} over {@code or} is refused rather than enumerated. */
    public static final int MAX_CASES = 100_000;

    /** One output constraint g(Y) = c·Y + d ≥ 0 of the unsafe set, and the atom it came from. */
    public record Constraint(BigDecimal[] c, BigDecimal d, String atom) {
        public double[] coefficients() {
            double[] out = new double[c.length];
            for (int j = 0; j < c.length; j++) out[j] = c[j].doubleValue();
            return out;
        }

        /** Whether every coefficient is a double exactly (−1, 1, 0.5, …; not 0.1). */
        public boolean exactCoefficients() {
            for (BigDecimal v : c) if (new BigDecimal(v.doubleValue()).compareTo(v) != 0) return false;
            return true;
        }

        /** g(y) in double arithmetic. */
        public double value(double[] y) {
            double s = d.doubleValue();
            for (int j = 0; j < c.length; j++) s += c[j].doubleValue() * y[j];
            return s;
        }
    }

    /**
     * One disjunct: inputs in [lo, hi] (nearest doubles; {@code loOut}/{@code hiOut} rounded outward, holding the exact box)
     * whose outputs satisfy every constraint. An empty box ({@link #empty}) holds no input.
     */
    public record Case(double[] lo, double[] hi, double[] loOut, double[] hiOut, List<Constraint> constraints) {
        public boolean empty() {
            for (int i = 0; i < lo.length; i++) if (loOut[i] > hiOut[i]) return true;
            return false;
        }
    }

    /** The parsed property: input and output counts and its cases. */
    public record Property(int inputs, int outputs, List<Case> cases) {
        /** A one-line error unless the network takes {@code inputs} values and returns {@code outputs}. */
        public void checkFits(String source, long networkInputs, long networkOutputs, String network) {
            if (inputs != networkInputs) {
                throw new UserError(source + " declares " + inputs + " inputs X_0…X_" + (inputs - 1) + " but " + network + " takes "
                        + networkInputs + " values per example: give a property written for this network");
            }
            if (outputs != networkOutputs) {
                throw new UserError(source + " declares " + outputs + " outputs Y_0…Y_" + (outputs - 1) + " but " + network + " returns "
                        + networkOutputs + ": give a property written for this network");
            }
        }
    }

    private VnnLib() {}

    /** Reads and parses a property file; errors name the file, line and column. */
    public static Property read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new UserError("no such property file " + file + ": give a .vnnlib file with --property");
        } catch (IOException e) {
            throw new UserError("cannot read the property file " + file + ": " + e.getMessage());
        }
        return parse(text, file.toString());
    }

    // ------------------------------------------------------------------ s-expressions

    /** A symbol or number ({@code atom} non-null) or a list, with where it starts. */
    private record Sx(String atom, List<Sx> list, int line, int col) {
        boolean isList() { return list != null; }

        String head() { return list != null && !list.isEmpty() && list.get(0).atom != null ? list.get(0).atom : null; }

        @Override public String toString() {
            if (atom != null) return atom;
            StringBuilder b = new StringBuilder("(");
            for (int i = 0; i < list.size(); i++) b.append(i > 0 ? " " : "").append(list.get(i));
            return b.append(')').toString();
        }
    }

    private static final class Reader {
        final String text, source;
        int pos, line = 1, col = 1;

        Reader(String text, String source) { this.text = text; this.source = source; }

        UserError error(int l, int c, String message) { return new UserError(source + ":" + l + ":" + c + ": " + message); }

        void skip() {
            while (pos < text.length()) {
                char ch = text.charAt(pos);
                if (ch == ';') {
                    while (pos < text.length() && text.charAt(pos) != '\n') advance();
                } else if (Character.isWhitespace(ch)) {
                    advance();
                } else {
                    return;
                }
            }
        }

        void advance() {
            if (text.charAt(pos) == '\n') { line++; col = 1; } else { col++; }
            pos++;
        }

        /** The next expression, or null at the end. */
        Sx next() {
            skip();
            if (pos >= text.length()) return null;
            int l = line, c = col;
            char ch = text.charAt(pos);
            if (ch == ')') throw error(l, c, "unbalanced ')': remove it or add the '(' it closes");
            if (ch == '(') {
                advance();
                List<Sx> items = new ArrayList<>();
                while (true) {
                    skip();
                    if (pos >= text.length()) throw error(l, c, "the '(' here is never closed: add the missing ')'");
                    if (text.charAt(pos) == ')') { advance(); return new Sx(null, items, l, c); }
                    items.add(next());
                }
            }
            int start = pos;
            while (pos < text.length() && !Character.isWhitespace(text.charAt(pos)) && "();".indexOf(text.charAt(pos)) < 0) advance();
            return new Sx(text.substring(start, pos), null, l, c);
        }
    }

    // ------------------------------------------------------------------ the property

    /** A linear term: coefficients per variable and a constant, exact. */
    private record Linear(Map<String, BigDecimal> coef, BigDecimal constant) {
        static Linear constant(BigDecimal v) { return new Linear(new LinkedHashMap<>(), v); }

        Linear plus(Linear o, int sign) {
            Map<String, BigDecimal> m = new LinkedHashMap<>(coef);
            o.coef.forEach((k, v) -> m.merge(k, sign < 0 ? v.negate() : v, BigDecimal::add));
            m.values().removeIf(v -> v.signum() == 0);
            return new Linear(m, sign < 0 ? constant.subtract(o.constant) : constant.add(o.constant));
        }

        Linear times(BigDecimal s) {
            Map<String, BigDecimal> m = new LinkedHashMap<>();
            if (s.signum() != 0) coef.forEach((k, v) -> m.put(k, v.multiply(s)));
            return new Linear(m, constant.multiply(s));
        }
    }

    /** A normalized atom: {@code lin ≥ 0}. */
    private record Atom(Linear lin, Sx where) {}

    private static final class Parser {
        final Reader r;
        final Map<String, Sx> declared = new LinkedHashMap<>();
        int inputs, outputs;

        Parser(Reader r) { this.r = r; }

        UserError error(Sx at, String message) { return r.error(at.line, at.col, message); }

        void declare(Sx d) {
            List<Sx> l = d.list;
            if (l.size() != 3 || l.get(1).isList() || l.get(2).isList()) throw error(d, "expected (declare-const NAME Real), got " + d);
            if (!l.get(2).atom.equals("Real")) throw error(d, "only Real constants are supported, got " + d);
            String name = l.get(1).atom;
            if (!name.matches("[XY]_(0|[1-9][0-9]*)")) {
                throw error(d, "declared name '" + name + "' is neither X_i (an input) nor Y_j (an output): rename it");
            }
            if (declared.containsKey(name)) throw error(d, name + " is declared twice: remove one declaration");
            declared.put(name, d);
        }

        /** X_0 … X_{n−1} and Y_0 … Y_{m−1}, no gaps. */
        void checkDeclarations() {
            for (String kind : List.of("X", "Y")) {
                int n = (int) declared.keySet().stream().filter(k -> k.startsWith(kind)).count();
                if (n == 0) throw r.error(1, 1, "no " + kind + "_i is declared: declare the " + (kind.equals("X") ? "inputs" : "outputs")
                        + " with (declare-const " + kind + "_0 Real) …");
                for (int i = 0; i < n; i++) {
                    if (!declared.containsKey(kind + "_" + i)) {
                        throw r.error(1, 1, n + " " + kind + " variables are declared but " + kind + "_" + i + " is not: number them "
                                + kind + "_0 … " + kind + "_" + (n - 1));
                    }
                }
                if (kind.equals("X")) inputs = n; else outputs = n;
            }
        }

        Linear term(Sx t) {
            if (!t.isList()) {
                if (declared.containsKey(t.atom)) {
                    Map<String, BigDecimal> m = new LinkedHashMap<>();
                    m.put(t.atom, BigDecimal.ONE);
                    return new Linear(m, BigDecimal.ZERO);
                }
                try {
                    return Linear.constant(new BigDecimal(t.atom));
                } catch (NumberFormatException e) {
                    throw error(t, "unknown symbol '" + t.atom + "': declare it with (declare-const " + t.atom + " Real) or fix the name");
                }
            }
            String op = t.head();
            List<Sx> args = t.list.subList(1, t.list.size());
            if (op == null || args.isEmpty()) throw error(t, "expected a term (a variable, a number, +, - or *), got " + t);
            switch (op) {
                case "+": {
                    Linear s = Linear.constant(BigDecimal.ZERO);
                    for (Sx a : args) s = s.plus(term(a), 1);
                    return s;
                }
                case "-": {
                    if (args.size() == 1) return Linear.constant(BigDecimal.ZERO).plus(term(args.get(0)), -1);
                    Linear s = term(args.get(0));
                    for (Sx a : args.subList(1, args.size())) s = s.plus(term(a), -1);
                    return s;
                }
                case "*": {
                    Linear s = Linear.constant(BigDecimal.ONE);
                    for (Sx a : args) {
                        Linear f = term(a);
                        if (f.coef.isEmpty()) s = s.times(f.constant);
                        else if (s.coef.isEmpty()) s = f.times(s.constant);
                        else throw error(t, "nonlinear term " + t + ": only products of a number and a term are supported");
                    }
                    return s;
                }
                default:
                    throw error(t, "unsupported operator '" + op + "' in " + t + ": terms may use +, - and * (by a number)");
            }
        }

        /** A formula in disjunctive normal form: a list of conjunctions of atoms. */
        List<List<Atom>> formula(Sx f) {
            String op = f.head();
            if (op == null) throw error(f, "expected a formula ((<= a b), (>= a b), (and …), (or …)), got " + f);
            List<Sx> args = f.list.subList(1, f.list.size());
            switch (op) {
                case "<=":
                case ">=": {
                    if (args.size() != 2) throw error(f, "'" + op + "' takes two terms, got " + f);
                    Linear a = term(args.get(0)), b = term(args.get(1));
                    Linear lin = op.equals(">=") ? a.plus(b, -1) : b.plus(a, -1);
                    boolean x = lin.coef.keySet().stream().anyMatch(k -> k.startsWith("X")), y = lin.coef.keySet().stream().anyMatch(k -> k.startsWith("Y"));
                    if (x && y) throw error(f, "the atom " + f + " mixes inputs X and outputs Y: constrain them in separate atoms");
                    if (x && lin.coef.size() > 1) {
                        throw error(f, "the atom " + f + " constrains several inputs at once: input atoms must bound one X_i (a box)");
                    }
                    List<List<Atom>> out = new ArrayList<>();
                    out.add(new ArrayList<>(List.of(new Atom(lin, f))));
                    return out;
                }
                case "and": {
                    List<List<Atom>> out = new ArrayList<>();
                    out.add(new ArrayList<>());
                    for (Sx a : args) out = product(out, formula(a), f);
                    return out;
                }
                case "or": {
                    List<List<Atom>> out = new ArrayList<>();
                    for (Sx a : args) out.addAll(formula(a));
                    if (out.size() > MAX_CASES) throw error(f, "more than " + MAX_CASES + " disjuncts: split the property into several files");
                    return out;
                }
                case "<":
                case ">":
                    throw error(f, "strict comparison '" + op + "' in " + f + " is not supported: use <= or >=");
                default:
                    throw error(f, "unsupported formula '" + op + "' in " + f + ": use <=, >=, and, or");
            }
        }

        List<List<Atom>> product(List<List<Atom>> a, List<List<Atom>> b, Sx at) {
            if ((long) a.size() * b.size() > MAX_CASES) {
                throw error(at, "more than " + MAX_CASES + " cases after distributing 'and' over 'or': split the property into several files");
            }
            List<List<Atom>> out = new ArrayList<>();
            for (List<Atom> p : a) {
                for (List<Atom> q : b) {
                    List<Atom> both = new ArrayList<>(p);
                    both.addAll(q);
                    out.add(both);
                }
            }
            return out;
        }

        Case toCase(List<Atom> atoms, int index, int count) {
            BigDecimal[] lo = new BigDecimal[inputs], hi = new BigDecimal[inputs];
            List<Constraint> constraints = new ArrayList<>();
            for (Atom a : atoms) {
                Linear lin = a.lin;
                if (!lin.coef.isEmpty() && lin.coef.keySet().iterator().next().startsWith("X")) {
                    // s·X_i + k ≥ 0: X_i ≥ −k/s for s > 0, X_i ≤ −k/s for s < 0 (the quotient rounded outward when inexact)
                    Map.Entry<String, BigDecimal> e = lin.coef.entrySet().iterator().next();
                    int i = Integer.parseInt(e.getKey().substring(2));
                    BigDecimal s = e.getValue();
                    boolean lower = s.signum() > 0;
                    BigDecimal bound = lin.constant.negate().divide(s, new MathContext(40, lower ? RoundingMode.FLOOR : RoundingMode.CEILING));
                    if (lower) lo[i] = lo[i] == null || bound.compareTo(lo[i]) > 0 ? bound : lo[i];
                    else hi[i] = hi[i] == null || bound.compareTo(hi[i]) < 0 ? bound : hi[i];
                } else {
                    BigDecimal[] c = new BigDecimal[outputs];
                    java.util.Arrays.fill(c, BigDecimal.ZERO);
                    lin.coef.forEach((k, v) -> c[Integer.parseInt(k.substring(2))] = v);
                    constraints.add(new Constraint(c, lin.constant, a.where.toString()));
                }
            }
            double[] l = new double[inputs], h = new double[inputs], lOut = new double[inputs], hOut = new double[inputs];
            for (int i = 0; i < inputs; i++) {
                if (lo[i] == null || hi[i] == null) {
                    Sx d = declared.get("X_" + i);
                    throw error(d, "X_" + i + " has no " + (lo[i] == null ? "lower" : "upper") + " bound"
                            + (count > 1 ? " in case " + (index + 1) + " of " + count : "") + ": assert (" + (lo[i] == null ? ">=" : "<=")
                            + " X_" + i + " VALUE) so that the inputs form a box");
                }
                l[i] = lo[i].doubleValue();
                h[i] = hi[i].doubleValue();
                lOut[i] = new BigDecimal(l[i]).compareTo(lo[i]) > 0 ? Math.nextDown(l[i]) : l[i];
                hOut[i] = new BigDecimal(h[i]).compareTo(hi[i]) < 0 ? Math.nextUp(h[i]) : h[i];
            }
            return new Case(l, h, lOut, hOut, List.copyOf(constraints));
        }
    }

    /** Parses a property; {@code source} names it in errors. */
    public static Property parse(String text, String source) {
        Reader r = new Reader(text, source);
        Parser p = new Parser(r);
        List<Sx> asserts = new ArrayList<>();
        for (Sx e = r.next(); e != null; e = r.next()) {
            String head = e.head();
            if ("declare-const".equals(head)) {
                p.declare(e);
            } else if ("assert".equals(head)) {
                if (e.list.size() != 2) throw p.error(e, "(assert F) takes one formula, got " + e);
                asserts.add(e.list.get(1));
            } else {
                throw p.error(e, "expected (declare-const …) or (assert …), got " + (e.toString().length() > 60 ? e.toString().substring(0, 60) + "…" : e));
            }
        }
        p.checkDeclarations();
        if (asserts.isEmpty()) throw r.error(1, 1, "no (assert …): the property states no unsafe set");
        List<List<Atom>> dnf = new ArrayList<>();
        dnf.add(new ArrayList<>());
        for (Sx a : asserts) dnf = p.product(dnf, p.formula(a), a);
        List<Case> cases = new ArrayList<>();
        for (int k = 0; k < dnf.size(); k++) cases.add(p.toCase(dnf.get(k), k, dnf.size()));
        return new Property(p.inputs, p.outputs, List.copyOf(cases));
    }
}
