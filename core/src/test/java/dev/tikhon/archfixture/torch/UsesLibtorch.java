package dev.tikhon.archfixture.torch;

/** Touches the binding outside engine/ and uses the stand-in CLI: the rules must flag both. */
public class UsesLibtorch {
    public org.bytedeco.javacpp.Pointer pointer;
    public dev.tikhon.archfixture.cli.Command command;
}
