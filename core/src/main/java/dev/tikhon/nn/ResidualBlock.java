package dev.tikhon.nn;

import dev.tikhon.engine.Tensor;

/**
 * The basic residual block of He et al.: relu(x' + F(x)), F = conv3×3 [bn] relu conv3×3 [bn],
 * with a 1×1 projection (and bn) on the shortcut when the shape changes. Batch norm is optional so
 * that networks without normalization (the Farkas comparison) use the same block.
 */
public final class ResidualBlock extends Module implements Init.ZeroLast {
    private final Conv2d conv1, conv2;
    private final BatchNorm2d bn1, bn2;
    private final Sequential shortcut;
    private final boolean batchNorm;

    public ResidualBlock(int in, int out, int stride, boolean batchNorm) {
        this.batchNorm = batchNorm;
        conv1 = child("conv1", new Conv2d(in, out, 3, stride, 1, !batchNorm));
        bn1 = batchNorm ? child("bn1", new BatchNorm2d(out)) : null;
        conv2 = child("conv2", new Conv2d(out, out, 3, 1, 1, !batchNorm));
        bn2 = batchNorm ? child("bn2", new BatchNorm2d(out)) : null;
        if (stride != 1 || in != out) {
            Sequential s = new Sequential(new Conv2d(in, out, 1, stride, 0, !batchNorm));
            if (batchNorm) s.add(new BatchNorm2d(out));
            shortcut = child("shortcut", s);
        } else {
            shortcut = null;
        }
    }

    @Override public Tensor forward(Tensor x) {
        Tensor h = conv1.forward(x);
        if (batchNorm) h = bn1.forward(h);
        h = conv2.forward(h.relu());
        if (batchNorm) h = bn2.forward(h);
        Tensor skip = shortcut == null ? x : shortcut.forward(x);
        return h.add(skip).relu();
    }

    public Conv2d conv1() { return conv1; }

    public Conv2d conv2() { return conv2; }

    /** The batch norm after conv1, or null without batch norm. */
    public BatchNorm2d bn1() { return bn1; }

    /** The batch norm after conv2, or null without batch norm. */
    public BatchNorm2d bn2() { return bn2; }

    /** The 1×1 projection (and batch norm) on the shortcut, or null when the shortcut is the identity. */
    public Sequential shortcut() { return shortcut; }

    /** The residual branch F in order: conv1, [bn1], relu, conv2, [bn2] (the block adds the shortcut, then applies relu). */
    public java.util.List<Module> branch() {
        java.util.List<Module> b = new java.util.ArrayList<>();
        b.add(conv1);
        if (batchNorm) b.add(bn1);
        b.add(Activation.relu());
        b.add(conv2);
        if (batchNorm) b.add(bn2);
        return b;
    }

    /** The shortcut's layers: empty for the identity. */
    public java.util.List<Module> shortcutLayers() {
        return shortcut == null ? java.util.List.of() : shortcut.layers();
    }

    /** The residual branch starts at zero, so the block starts as (relu of) the identity. */
    @Override public void zeroLast() {
        if (batchNorm) bn2.zeroScale();
        else conv2.zero();
    }

    @Override public String describe() {
        return "ResidualBlock(" + conv1.in + "→" + conv1.out + ", stride " + conv1.stride + (batchNorm ? ", bn" : "") + ")";
    }
}
