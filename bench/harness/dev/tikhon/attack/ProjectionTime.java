package dev.tikhon.attack;

/** FAB's box projection on 784-pixel points, half of them at 0, with FAB-sized gaps: µs per projection, one thread. */
public class ProjectionTime {
    public static void main(String[] a) {
        int d = 784, n = 2000;
        java.util.Random r = new java.util.Random(1);
        double[][] ps = new double[n][d], ws = new double[n][d];
        double[] bs = new double[n];
        for (int j = 0; j < n; j++) {
            double wp = 0;
            for (int k = 0; k < d; k++) {
                ps[j][k] = r.nextInt(2) == 0 ? 0 : r.nextDouble();
                ws[j][k] = r.nextGaussian() * 0.01;
                wp += ws[j][k] * ps[j][k];
            }
            bs[j] = wp + (r.nextDouble() * 2 - 1) * 0.05;
        }
        for (Norm norm : Norm.values()) {
            BoxProjection bp = new BoxProjection(norm, d);
            double[] out = new double[d];
            for (int rep = 0; rep < 3; rep++) {
                double sum = 0;
                long t0 = System.nanoTime();
                for (int it = 0; it < 10; it++) for (int j = 0; j < n; j++) sum += bp.project(ps[j], 0, ws[j], 0, bs[j], out, 0);
                System.out.printf("%s: %.2f µs per projection (sum of sizes %.4f)%n", norm, (System.nanoTime() - t0) / 1e3 / (10.0 * n), sum);
            }
        }
    }
}
