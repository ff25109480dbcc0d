package dev.tikhon.kernel;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

/** The feature map x ↦ (k(x, c₁), …, k(x, c_m)) of a kernel over fixed centres (a buffer, not trained). */
public final class KernelFeatures extends Module {
    private final Kernel kernel;
    private final Tensor[] centres;

    public KernelFeatures(Kernel kernel, Tensor centres) {
        this.kernel = kernel;
        this.centres = buffer("centres", centres.contiguous());
    }

    /** Centres left at zero, to be filled by {@link #loadStateDict} (a saved model). */
    KernelFeatures(Kernel kernel, int count, int inputDim, DType dtype) {
        this(kernel, Tensor.zeros(dtype, Device.CPU, count, inputDim));
    }

    public Kernel kernel() { return kernel; }

    public Tensor centres() { return centres[0]; }

    @Override public Tensor forward(Tensor x) { return kernel.matrix(x, centres[0]); }

    @Override public String describe() { return "KernelFeatures(" + kernel.describe() + ", " + centres[0].size(0) + " centres)"; }
}
