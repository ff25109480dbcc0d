package dev.tikhon.data;

import dev.tikhon.UserError;

/**
 * A data file or data option the user can fix: a missing, truncated or foreign file, a folder laid
 * out wrongly, an unknown data set name. The message is one line that starts with the culprit (a
 * file's path or the data set's name) and names the fault, because the CLI prints it as it is.
 */
public class DataException extends UserError {
    public DataException(String message) {
        super(oneLine(message));
    }

    public DataException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    private static String oneLine(String message) {
        return message.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip();
    }
}
