package dev.tikhon.engine;

/** A failure inside libtorch or the native binding, rephrased so that it names the problem. */
public class EngineException extends RuntimeException {
    public EngineException(String message) { super(message); }
    public EngineException(String message, Throwable cause) { super(message, cause); }
}
