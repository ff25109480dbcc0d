package dev.tikhon.archfixture.cli;

/** A stand-in CLI class that a library class below wrongly uses. */
public class Command {
}
