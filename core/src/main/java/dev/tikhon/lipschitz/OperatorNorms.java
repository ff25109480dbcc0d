package dev.tikhon.lipschitz;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.ConvGeometry;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;

/**
 * ℓ2 operator norms of the linear layers, as sound upper bounds (and, beside them, power-iteration lower bounds).
 *
 * <h2>Dense layers</h2>
 * {@code ‖W‖₂ = σ_max(W)}, computed by LAPACK's SVD in float64 (W's float32 entries are exact in float64). A computed
 * singular value is an exact singular value of W + E with ‖E‖₂ ≤ p(m, n)·u·‖W‖₂ (u = 2⁻⁵³, p a modest polynomial), so by
 * Weyl's inequality |σ̂ − σ| ≤ ‖E‖₂. The returned bound adds {@link #MARGIN} (10⁻⁹ relative), which exceeds
 * p(m, n)·u for every layer size Tikhon builds (it would take p ≈ 10⁷).
 *
 * <h2>Convolutions (zero padding, any stride)</h2>
 * Let K be the kernel [C_out, C_in, k, k], the input C_in × H × W, padding p, stride s. With stride 1, the output is
 * y = R · C · P x, where P zero-pads x and places it on a torus of N₁ × N₂ = (H + 2p) × (W + 2p) pixels (an isometry),
 * C is the circular cross-correlation with K on that torus, and R keeps the valid output positions (a coordinate
 * restriction, norm ≤ 1): no window of a valid output wraps around because N₁ ≥ H + 2p. Stride s keeps every s-th
 * output (another restriction). Hence ‖conv‖₂ ≤ ‖C‖₂. For stride s &gt; 1 that would lose up to a factor s, so we
 * first rewrite the strided convolution exactly as a stride-1 one on the s² polyphase components of the padded input
 * (X_{c,α,β}[u, v] = x_pad[c, su + α, sv + β], a permutation of the padded pixels after zero extension to a multiple
 * of s) with the kernel K'[o, (c, α, β), a', b'] = K[o, c, sa' + α, sb' + β] of size ⌈k/s⌉, on a torus of
 * ⌈(H + 2p)/s⌉ × ⌈(W + 2p)/s⌉; the same no-wrap argument holds because every pixel a valid output reads lies
 * inside the padded image. The 2-D DFT block-diagonalizes C (Sedghi, Gupta and Long 2019,
 * "The singular values of convolutional layers"): ‖C‖₂ = max over the N₁N₂ frequencies ω of σ_max(K̂(ω)), with
 * K̂(ω)[o, c] = Σ_{a,b} K[o, c, a, b] e^{2πi(aω₁/N₁ + bω₂/N₂)}, a C_out × C_in complex matrix. We compute it through
 * the real form [[A, −B], [B, A]] of K̂ = A + iB (same singular values), by batched float64 SVD, plus {@link #MARGIN}.
 *
 * <p><b>Dilation, per-axis stride and padding, groups</b> (imported convolutions). A convolution with dilation d is the
 * same map as the dilation-1 convolution with the kernel whose taps lie d apart with zeros between (size (k − 1)·d + 1),
 * so it is bounded as that one; per-axis strides s₁, s₂ take the polyphase components X_{c,α,β}[u, v] = x_pad[c, s₁u + α,
 * s₂v + β] and per-axis paddings a torus of ⌈(H + 2p₁)/s₁⌉ × ⌈(W + 2p₂)/s₂⌉, by the same argument. With G groups, output
 * channels of group g read only input channels of group g, so after permuting the input and the output channels (isometries)
 * the map is block diagonal with the G ungrouped convolutions of the groups' kernels as blocks, and the norm of a block
 * diagonal map is the largest of its blocks': the bound is the max over the groups and the frequencies of σ_max of group
 * g's K̂_g(ω) (a depthwise convolution's are 1 × 1: max |K̂_c(ω)|).
 *
 * <p><b>Tightness.</b> The circulant bound exceeds the exact zero-padded norm only through the boundary: the
 * zero-padded operator is a compression of C, and as H, W grow its norm tends to sup_ω σ_max(K̂(ω)), which the
 * circulant norm never exceeds. Known answer: single-channel kernel with 1 at the centre and 1 to its right on
 * 28 × 28 with padding 1: exact norm 2cos(π/57) ≈ 1.99696, this bound 2 (ratio 1.0015). On small random layers
 * (8 × 8 inputs) the ratio to the SVD of the explicitly built matrix stays below 1.3 ({@code OperatorNormsTest}).
 * This is the same quantity Gram iteration (Delattre et al. 2023) bounds from above; with a batched SVD of each
 * K̂(ω) we get it without iterating.
 *
 * <h2>Lower bounds</h2>
 * Power iteration on AᵀA (the transpose by a vector–Jacobian product) converges to σ_max from below: ‖Av‖ for a unit
 * v is always ≤ ‖A‖. It is reported beside the upper bound to show the gap, never used as a certificate.
 */
public final class OperatorNorms {
    /** Relative safety margin on every computed upper bound (covers float64 rounding in the DFT and the SVD). */
    public static final double MARGIN = 1e-9;

    private OperatorNorms() {}

    /** A sound upper bound on σ_max(W) for a matrix [out, in]. */
    public static double dense(Tensor weight) {
        try (Scope s = Scope.open()) {
            Tensor w = weight.detach().to(DType.FLOAT64).cpu();
            return w.spectralNorm().item() * (1 + MARGIN);
        }
    }

    /**
     * A sound upper bound on the ℓ2 operator norm of x ↦ conv2d(x, kernel, stride, padding) for inputs [C_in, h, w]
     * (the bias does not change the Lipschitz constant). See the class comment for the proof.
     */
    public static double conv(Tensor kernel, int stride, int padding, long h, long w) {
        return conv(kernel, ConvGeometry.square(stride, padding), h, w);
    }

    /**
     * A sound upper bound on the ℓ2 operator norm of the convolution of any {@link ConvGeometry} on inputs [C_in, h, w]:
     * dilation becomes a kernel with zeros between its taps, per-axis strides per-axis polyphase components, and the groups
     * the max over the groups' blocks (see the class comment).
     */
    public static double conv(Tensor kernel, ConvGeometry g, long h, long w) {
        try (Scope s = Scope.open()) {
            Tensor k = dilate(kernel.detach().to(DType.FLOAT64).cpu(), g.dilation());
            long n1 = h + 2L * g.padding()[0], n2 = w + 2L * g.padding()[1];
            long s1 = g.stride()[0], s2 = g.stride()[1];
            if (s1 == 1 && s2 == 1) return circulant(k, Math.max(n1, k.size(2)), Math.max(n2, k.size(3)), g.groups()) * (1 + MARGIN);
            Tensor p = polyphase(k, s1, s2);
            return circulant(p, Math.max(ceilDiv(n1, s1), p.size(2)), Math.max(ceilDiv(n2, s2), p.size(3)), g.groups()) * (1 + MARGIN);
        }
    }

    /** The kernel of the same convolution without dilation: taps d apart, zeros between ((k − 1)·d + 1 per axis). */
    static Tensor dilate(Tensor k, long[] d) {
        if (d[0] == 1 && d[1] == 1) return k;
        long co = k.size(0), ci = k.size(1), kh = k.size(2), kw = k.size(3);
        Tensor out = Tensor.zeros(k.dtype(), k.device(), co, ci, (kh - 1) * d[0] + 1, (kw - 1) * d[1] + 1);
        for (long a = 0; a < kh; a++) {
            for (long b = 0; b < kw; b++) {
                out.narrow(2, a * d[0], 1).narrow(3, b * d[1], 1).copy_(k.narrow(2, a, 1).narrow(3, b, 1));
            }
        }
        return out;
    }

    /**
     * The kernel of strides s1 down and s2 across as a stride-1 kernel on the s1·s2 polyphase components of the padded
     * input: K'[o, (c, α, β), a', b'] = K[o, c, s1·a' + α, s2·b' + β] (zero beyond k), of size ⌈kh/s1⌉ × ⌈kw/s2⌉.
     */
    static Tensor polyphase(Tensor k, long s1, long s2) {
        long co = k.size(0), ci = k.size(1), kh = k.size(2), kw = k.size(3);
        long ph = ceilDiv(kh, s1), pw = ceilDiv(kw, s2);
        Tensor padded = Tensor.zeros(DType.FLOAT64, k.device(), co, ci, ph * s1, pw * s2);
        padded.narrow(2, 0, kh).narrow(3, 0, kw).copy_(k);
        return padded.reshape(co, ci, ph, s1, pw, s2).permute(0, 1, 3, 5, 2, 4).reshape(co, ci * s1 * s2, ph, pw);
    }

    private static long ceilDiv(long a, long b) { return (a + b - 1) / b; }

    /**
     * ‖C‖₂ of the circular cross-correlation with K on an n1 × n2 torus, K [C_out, C_in / G, kh, kw] with G groups: max over
     * the groups and the frequencies of σ_max(K̂_g(ω)), K_g the kernels of group g's output channels (block diagonal).
     */
    private static double circulant(Tensor k, long n1, long n2, long groups) {
        long co = k.size(0), ci = k.size(1), kh = k.size(2), kw = k.size(3);
        // phase[a·kw + b, f] = 2π(a ω₁/N₁ + b ω₂/N₂) for frequency f = ω₁·N₂ + ω₂
        double[] phase = new double[(int) (kh * kw * n1 * n2)];
        int idx = 0;
        for (long a = 0; a < kh; a++) {
            for (long b = 0; b < kw; b++) {
                for (long w1 = 0; w1 < n1; w1++) {
                    for (long w2 = 0; w2 < n2; w2++) {
                        phase[idx++] = 2 * Math.PI * ((double) ((a * w1) % n1) / n1 + (double) ((b * w2) % n2) / n2);
                    }
                }
            }
        }
        Tensor ph = Tensor.fromDoubles(phase, kh * kw, n1 * n2);
        Tensor flat = k.reshape(co * ci, kh * kw);
        long freqs = n1 * n2, cg = co / groups, blocks = groups * freqs;
        // [G·F, cg, ci] real and imaginary parts (block (g, f): group g at frequency f), and the real form [[A, −B], [B, A]]
        Tensor re = flat.matmul(ph.cos()).reshape(groups, cg, ci, freqs).permute(0, 3, 1, 2).reshape(blocks, cg, ci);
        Tensor im = flat.matmul(ph.sin()).reshape(groups, cg, ci, freqs).permute(0, 3, 1, 2).reshape(blocks, cg, ci);
        Tensor real = Tensor.cat(java.util.List.of(Tensor.cat(java.util.List.of(re, im.neg()), 2),
                Tensor.cat(java.util.List.of(im, re), 2)), 1);
        double max = 0;
        long chunk = Math.max(1, 4_000_000 / (4 * cg * ci));
        for (long f0 = 0; f0 < blocks; f0 += chunk) {
            try (Scope inner = Scope.open()) {
                max = Math.max(max, real.narrow(0, f0, Math.min(chunk, blocks - f0)).spectralNorm().max().item());
            }
        }
        return max;
    }

    /** A lower bound on σ_max(W): ‖Wv‖ after {@code iterations} steps of power iteration on WᵀW, float64, seeded. */
    public static double denseLower(Tensor weight, int iterations, long seed) {
        try (Scope s = Scope.open(); Autograd.Guard g = Autograd.noGrad()) {
            Tensor w = weight.detach().to(DType.FLOAT64).cpu();
            Rng.seed(seed);
            Tensor v = Tensor.randn(DType.FLOAT64, Device.CPU, w.size(1), 1);
            v = v.div(v.norm(2));
            for (int i = 0; i < iterations; i++) {
                Tensor u = w.t().matmul(w.matmul(v));
                v = u.div(u.norm(2).clampMin(1e-300));
            }
            return w.matmul(v).norm(2).item();
        }
    }

    /**
     * A lower bound on the operator norm of the zero-padded, strided convolution on [C_in, h, w] inputs: ‖conv(v)‖ for
     * the unit v reached by {@code iterations} steps of power iteration on convᵀconv (float64, seeded).
     */
    public static double convLower(Tensor kernel, int stride, int padding, long h, long w, int iterations, long seed) {
        return convLower(kernel, ConvGeometry.square(stride, padding), h, w, iterations, seed);
    }

    /** {@link #convLower(Tensor, int, int, long, long, int, long)} for a convolution of any {@link ConvGeometry}. */
    public static double convLower(Tensor kernel, ConvGeometry g, long h, long w, int iterations, long seed) {
        try (Scope s = Scope.open()) {
            Tensor k = kernel.detach().to(DType.FLOAT64).cpu();
            Rng.seed(seed);
            Tensor v = Tensor.randn(DType.FLOAT64, Device.CPU, 1, k.size(1) * g.groups(), h, w);
            v = v.div(v.norm(2));
            for (int i = 0; i < iterations; i++) {
                try (Scope step = Scope.open()) {
                    Tensor next = convTransposeConv(k, v, g);
                    v = next.div(next.norm(2).clampMin(1e-300)).keep();
                }
            }
            try (Autograd.Guard ng = Autograd.noGrad()) {
                return g.apply(v, k, null).norm(2).item();
            }
        }
    }

    /** convᵀ(conv(v)) for a convolution of any {@link ConvGeometry}, the transpose applied by a vector–Jacobian product (no graph is kept). */
    static Tensor convTransposeConv(Tensor kernel, Tensor v, ConvGeometry g) {
        try (Autograd.Guard ag = Autograd.enableGrad()) {
            Tensor x = v.detach().requiresGrad(true);
            Tensor y = g.apply(x, kernel.detach(), null);
            return Autograd.vjp(y, x, y.detach(), false).detach();
        }
    }
}
