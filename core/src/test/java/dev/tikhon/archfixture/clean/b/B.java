package dev.tikhon.archfixture.clean.b;

/** Imports nothing of its sibling. */
public class B {
}
