package dev.tikhon.engine;

import org.bytedeco.pytorch.Dispatcher;
import org.bytedeco.pytorch.GenericList;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.OperatorHandle;
import org.bytedeco.pytorch.TensorType;
import org.bytedeco.pytorch.Type;

import java.util.List;

/**
 * Updates of many tensors in one call, through libtorch's fused optimizer kernels, which the Java binding does not map
 * as functions and which are therefore called through the operator dispatcher. On a GPU a whole list is one kernel
 * launch instead of several per tensor; on the CPU each tensor is read and written once instead of once per operation
 * (measured 2.3× on the update of eight 100,000-element tensors, one thread: docs/benchmarks.md).
 */
public final class MultiTensor {
    private MultiTensor() {}

    private static final class Ops {   // looked up on first use, maybe inside a scope: retained, or the scope would free it
        static final OperatorHandle FUSED_SGD = Dispatcher.singleton().findSchemaOrThrow("aten::_fused_sgd_", "").retainReference();
        static final OperatorHandle FUSED_ADAM = Dispatcher.singleton().findSchemaOrThrow("aten::_fused_adam_", "").retainReference();
        static final OperatorHandle FUSED_ADAMW = Dispatcher.singleton().findSchemaOrThrow("aten::_fused_adamw_", "").retainReference();
        static final Type.TypePtr TENSOR = new Type.TypePtr(TensorType.get()).retainReference();
    }

    /**
     * One step of SGD as torch.optim.SGD defines it (dampening 0), on every tensor of the lists at once:
     * g ← g + λθ; b ← μb + g (when μ &gt; 0); θ ← θ − η·(g + μb if Nesterov, else b; g when μ = 0). The gradients are
     * not modified. Returns false, having changed nothing, where the fused kernel does not apply: it walks each tensor's
     * memory in order, so every tensor must be contiguous, and one call takes one device and one floating-point dtype.
     * The caller then updates the tensors one by one.
     *
     * @param buffers the momentum buffers (zero before the first step), one per parameter; empty when μ = 0
     */
    public static boolean sgd(List<Tensor> params, List<Tensor> grads, List<Tensor> buffers,
                              double weightDecay, double momentum, double lr, boolean nesterov) {
        if (grads.size() != params.size() || buffers.size() != (momentum > 0 ? params.size() : 0)) {
            throw new IllegalArgumentException("fused SGD: " + params.size() + " parameters, " + grads.size() + " gradients and "
                    + buffers.size() + " momentum buffers");
        }
        if (params.isEmpty()) return true;
        if (!uniform(params, params.get(0)) || !uniform(grads, params.get(0)) || !uniform(buffers, params.get(0))) return false;
        IValueVector stack = new IValueVector(list(params), list(grads), list(buffers),
                new IValue(weightDecay), new IValue(momentum), new IValue(lr), new IValue(0.0) /* dampening */,
                new IValue(nesterov), new IValue(false) /* maximize */,
                new IValue(false) /* first step: the buffers start at zero, so μ·0 + g is the same as g */,
                new IValue() /* grad scale */, new IValue() /* found inf */);
        Ops.FUSED_SGD.callBoxed(stack);
        return true;
    }

    /**
     * One step of Adam (Kingma &amp; Ba, with bias correction) as torch.optim.Adam and AdamW define it, on every tensor of the
     * lists at once: with L2 weight decay g ← g + λθ, or decoupled θ ← θ − ηλθ; m ← β₁m + (1 − β₁)g;
     * v ← β₂v + (1 − β₂)g²; θ ← θ − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε). The gradients are not modified. Returns
     * false, having changed nothing, where the fused kernel does not apply (as {@link #sgd}).
     *
     * @param step the step number t, a one-element FLOAT32 tensor on the parameters' device: the CUDA kernel reads it
     *             through a {@code float*} whatever its dtype, so any other dtype would be read as garbage
     */
    public static boolean adam(List<Tensor> params, List<Tensor> grads, List<Tensor> expAvgs, List<Tensor> expAvgSqs, Tensor step,
                               double lr, double beta1, double beta2, double weightDecay, boolean decoupled, double eps) {
        if (grads.size() != params.size() || expAvgs.size() != params.size() || expAvgSqs.size() != params.size()) {
            throw new IllegalArgumentException("fused Adam: " + params.size() + " parameters, " + grads.size() + " gradients, "
                    + expAvgs.size() + " first and " + expAvgSqs.size() + " second moments");
        }
        if (step.dtype() != DType.FLOAT32 || step.numel() != 1) {
            throw new IllegalArgumentException("fused Adam: the step count must be one FLOAT32 element, got " + step.dtype()
                    + " " + java.util.Arrays.toString(step.shape()));
        }
        if (params.isEmpty()) return true;
        Tensor like = params.get(0);
        if (!uniform(params, like) || !uniform(grads, like) || !uniform(expAvgs, like) || !uniform(expAvgSqs, like)
                || !onDeviceOf(step, like, indexedGpu(like))) return false;
        for (int i = 0; i < params.size(); i++) {   // the CUDA kernel walks the four tensors of a parameter in lockstep
            long[] shape = params.get(i).shape();
            if (!java.util.Arrays.equals(shape, grads.get(i).shape()) || !java.util.Arrays.equals(shape, expAvgs.get(i).shape())
                    || !java.util.Arrays.equals(shape, expAvgSqs.get(i).shape())) return false;
        }
        GenericList steps = new GenericList(Ops.TENSOR);   // one entry per parameter; every one reads the same count
        steps.reserve(params.size());
        for (int i = 0; i < params.size(); i++) steps.push_back(new IValue(step.t));
        IValueVector stack = new IValueVector(list(params), list(grads), list(expAvgs), list(expAvgSqs),
                list(List.of()) /* AMSGrad's maxima: none */, new IValue(steps),
                new IValue(lr), new IValue(beta1), new IValue(beta2), new IValue(weightDecay), new IValue(eps),
                new IValue(false) /* AMSGrad */, new IValue(false) /* maximize */,
                new IValue() /* grad scale */, new IValue() /* found inf */);
        (decoupled ? Ops.FUSED_ADAMW : Ops.FUSED_ADAM).callBoxed(stack);
        return true;
    }

    /**
     * Whether every tensor is contiguous, floating point, and of {@code like}'s dtype and device ({@link #onDeviceOf}):
     * this runs on every tensor at every step.
     */
    private static boolean uniform(List<Tensor> ts, Tensor like) {
        DType dtype = like.dtype();
        if (dtype != DType.FLOAT32 && dtype != DType.FLOAT64) return false;
        Device gpu = indexedGpu(like);
        for (Tensor t : ts) if (!t.isContiguous() || t.dtype() != dtype || !onDeviceOf(t, like, gpu)) return false;
        return true;
    }

    /** {@code like}'s device where it must be compared by index (a GPU among several), else null. */
    private static Device indexedGpu(Tensor like) {
        return like.t.is_cuda() && Engine.cudaDeviceCount() > 1 ? like.device() : null;
    }

    /**
     * Whether {@code t} is on {@code like}'s device (CPU or CUDA), compared through {@code is_cpu}/{@code is_cuda}, which
     * make no native object, and by index only where {@code gpu} ({@link #indexedGpu}) is given.
     */
    private static boolean onDeviceOf(Tensor t, Tensor like, Device gpu) {
        if (like.t.is_cuda()) return t.t.is_cuda() && (gpu == null || t.device().equals(gpu));
        return like.t.is_cpu() && t.t.is_cpu();
    }

    /** A list of tensors as the dispatcher takes it: an IValue list whose element type is Tensor. */
    private static IValue list(List<Tensor> ts) {
        GenericList l = new GenericList(Ops.TENSOR);
        l.reserve(ts.size());
        for (Tensor t : ts) l.push_back(new IValue(t.t));
        return new IValue(l);
    }
}
