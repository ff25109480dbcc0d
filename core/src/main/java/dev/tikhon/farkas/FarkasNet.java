package dev.tikhon.farkas;

import dev.tikhon.UserError;
import dev.tikhon.nn.Init;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Pool;
import dev.tikhon.nn.Sequential;

/**
 * A residual network of Farkas layers with no normalization (docs/methods.md §8), laid out like the
 * ResNet-(6n+2) of He et al. for small images: a 3×3 Farkas convolution stem of {@code width}
 * channels; three stages of n Farkas blocks, each block widening by one channel; between stages a
 * 1×1 Farkas convolution to 2× (then 4×) {@code width} channels and 2×2 average pooling; global
 * average pooling and a linear classifier. Depth counts the convolutions on the residual path plus
 * the stem and the classifier: 6n + 2 with basic blocks (two convolutions each), 9n + 2 with
 * bottleneck blocks (three each). For 28×28 inputs the stages work at 28, 14 and 7 pixels.
 */
public final class FarkasNet extends Sequential implements Init.ZeroLast {
    public enum Block { BASIC, BOTTLENECK }

    public final int depth, width, blocksPerStage;
    public final Block block;
    private final Linear classifier;

    /**
     * @param inChannels input channels (1 for Fashion-MNIST)
     * @param numClasses classifier outputs
     * @param depth      6n + 2 (basic) or 9n + 2 (bottleneck)
     * @param width      channels of the first stage
     */
    public FarkasNet(int inChannels, int numClasses, int depth, int width, Block block) {
        int per = block == Block.BASIC ? 6 : 9;
        if (depth < per + 2 || (depth - 2) % per != 0) {
            throw new UserError("farkas-resnet depth with " + name(block) + " blocks must be " + per + "n+2 ("
                    + (per + 2) + ", " + (2 * per + 2) + ", " + (3 * per + 2) + ", …), got " + depth);
        }
        int minWidth = block == Block.BASIC ? 2 : 8;
        if (width < minWidth) throw new UserError("farkas-resnet width with " + name(block) + " blocks must be at least " + minWidth + ", got " + width);
        this.depth = depth;
        this.width = width;
        this.block = block;
        this.blocksPerStage = (depth - 2) / per;
        add(new FarkasConv2d(inChannels, width, 3, 1, 1));
        int c = width;
        for (int stage = 0; stage < 3; stage++) {
            if (stage > 0) {
                int next = width << stage;
                add(new FarkasConv2d(c, next, 1, 1, 0));
                add(Pool.avg(2));
                c = next;
            }
            for (int b = 0; b < blocksPerStage; b++, c++) add(block == Block.BASIC ? new FarkasBlock(c) : new FarkasBottleneck(c));
        }
        add(Pool.globalAvg());
        classifier = new Linear(c, numClasses);
        add(classifier);
    }

    public static Block parseBlock(String s) {
        switch (s) {
            case "basic": return Block.BASIC;
            case "bottleneck": return Block.BOTTLENECK;
            default: throw new UserError("unknown Farkas block '" + s + "': use basic or bottleneck");
        }
    }

    private static String name(Block b) { return b.name().toLowerCase(java.util.Locale.ROOT); }

    /** Zero-last also zeroes the classifier (the blocks zero their own last convolution). */
    @Override public void zeroLast() { classifier.zero(); }

    /** The Farkas layers and blocks in order: each guarantees an active unit at every position of its output. */
    public java.util.List<Module> farkasLayers() {
        return layers().stream().filter(m -> m instanceof FarkasConv2d || m instanceof FarkasBlock || m instanceof FarkasBottleneck).toList();
    }

    @Override public String describe() {
        return "FarkasNet(depth " + depth + ", width " + width + ", " + name(block) + ", " + blocksPerStage + " blocks per stage)";
    }
}
