package dev.tikhon;

/** The Tikhon version, from the jar manifest when packaged. */
public final class Version {
    public static final String VERSION = resolve();

    private Version() {}

    private static String resolve() {
        Package p = Version.class.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        return v == null ? "0.1.0-SNAPSHOT" : v;
    }
}
