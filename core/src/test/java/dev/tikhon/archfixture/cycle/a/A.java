package dev.tikhon.archfixture.cycle.a;

/** Half of a deliberate package cycle: ArchitectureTest checks that its rule catches it. */
public class A {
    public dev.tikhon.archfixture.cycle.b.B partner;
}
