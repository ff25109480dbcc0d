package dev.tikhon.report;

import dev.tikhon.UserError;

/** A run's output directory cannot be used: it is a file, or cannot be created or written. */
public class RunDirectoryError extends UserError {
    public RunDirectoryError(String message) { super(message); }
    public RunDirectoryError(String message, Throwable cause) { super(message, cause); }
}
