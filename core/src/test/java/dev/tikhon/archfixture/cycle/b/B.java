package dev.tikhon.archfixture.cycle.b;

/** The other half of a deliberate package cycle. */
public class B {
    public dev.tikhon.archfixture.cycle.a.A partner;
}
