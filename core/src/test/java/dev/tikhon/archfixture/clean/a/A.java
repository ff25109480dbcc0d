package dev.tikhon.archfixture.clean.a;

/** One way only: the cycle rule must pass on this pair. */
public class A {
    public dev.tikhon.archfixture.clean.b.B below;
}
