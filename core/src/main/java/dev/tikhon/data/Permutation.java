package dev.tikhon.data;

import java.util.SplittableRandom;

/** Seeded Fisher–Yates permutations, the one source of random order in this package. */
public final class Permutation {
    private Permutation() {}

    /** A uniformly random permutation of 0..n-1 drawn from {@code rng}. */
    public static long[] of(int n, SplittableRandom rng) {
        long[] p = identity(n);
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            long t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    static long[] identity(int n) {
        long[] p = new long[n];
        for (int i = 0; i < n; i++) p[i] = i;
        return p;
    }
}
