package dev.tikhon.train;

/**
 * Which data a model was trained on, recorded in its checkpoint so that {@code eval} can find
 * the same data again.
 *
 * @param name        the data-set name (fashion-mnist, mnist, a toy set, folder)
 * @param dir         the --data-dir given, or null when discovered
 * @param description one line saying exactly what was used, e.g. the bundled sample
 */
public record DataInfo(String name, String dir, String description) {}
