package dev.tikhon;

/**
 * A problem with what the user supplied (a missing or corrupt file, a bad option, a shape that
 * does not fit) that the user can fix. The CLI prints its message on one line, without a stack
 * trace, and exits with code 2; the message names the culprit and, where it can, the fix.
 */
public class UserError extends RuntimeException {
    public UserError(String message) { super(message); }
    public UserError(String message, Throwable cause) { super(message, cause); }
}
