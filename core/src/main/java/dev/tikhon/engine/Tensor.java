package dev.tikhon.engine;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * A libtorch tensor. The one tensor type of Tikhon: every method family works on it, and only the
 * engine package sees the native binding underneath.
 *
 * <p>Memory: a tensor created inside a {@link Scope} is freed when the scope closes. Tensors that
 * must outlive the scope (parameters, optimizer state, results) are created outside any scope or
 * {@link #keep() kept}. Methods whose name ends in {@code _} modify the tensor in place, as in torch.
 */
public final class Tensor {
    static {
        Engine.init();
    }

    final org.bytedeco.pytorch.Tensor t;

    Tensor(org.bytedeco.pytorch.Tensor t) {
        this.t = t;
        Scope.created(this);
    }

    private static Scalar s(double v) { return new Scalar(v); }

    private static TensorOptions options(DType dtype, Device device) {
        return new TensorOptions(dtype.scalarType).device(new DeviceOptional(device.toNative()));
    }

    // ------------------------------------------------------------------ factories

    public static Tensor zeros(long... shape) { return zeros(DType.FLOAT32, Device.CPU, shape); }

    public static Tensor zeros(DType dtype, Device device, long... shape) {
        return new Tensor(torch.zeros(shape, options(dtype, device)));
    }

    public static Tensor ones(long... shape) { return ones(DType.FLOAT32, Device.CPU, shape); }

    public static Tensor ones(DType dtype, Device device, long... shape) {
        return new Tensor(torch.ones(shape, options(dtype, device)));
    }

    public static Tensor full(double value, DType dtype, Device device, long... shape) {
        return new Tensor(torch.full(shape, s(value), options(dtype, device)));
    }

    /** Uninitialized memory of the given shape (every element must be written before it is read). */
    public static Tensor empty(DType dtype, Device device, long... shape) {
        return new Tensor(torch.empty(shape, options(dtype, device), new MemoryFormatOptional()));
    }

    /** Standard normal samples from the calling thread's generator (seed it with {@link Rng#seed}). */
    public static Tensor randn(long... shape) { return randn(DType.FLOAT32, Device.CPU, shape); }

    public static Tensor randn(DType dtype, Device device, long... shape) {
        org.bytedeco.pytorch.Tensor out = torch.empty(shape, options(dtype, device), new MemoryFormatOptional());
        out.normal_(0, 1, Rng.generator(device));   // what torch::randn does, with an explicit generator
        return new Tensor(out);
    }

    /** Uniform samples on [0, 1). */
    public static Tensor rand(long... shape) { return rand(DType.FLOAT32, Device.CPU, shape); }

    public static Tensor rand(DType dtype, Device device, long... shape) {
        org.bytedeco.pytorch.Tensor out = torch.empty(shape, options(dtype, device), new MemoryFormatOptional());
        out.uniform_(0, 1, Rng.generator(device));   // what torch::rand does
        return new Tensor(out);
    }

    /** Integers uniform on [0, high), as INT64. */
    public static Tensor randint(long high, Device device, long... shape) {
        return new Tensor(torch.randint(high, shape, Rng.generator(device), options(DType.INT64, device)));
    }

    public static Tensor randperm(long n, Device device) {
        return new Tensor(torch.randperm(n, Rng.generator(device), options(DType.INT64, device)));
    }

    public static Tensor arange(long n, DType dtype, Device device) {
        return new Tensor(torch.arange(s(n), options(dtype, device)));
    }

    public static Tensor eye(long n, DType dtype, Device device) {
        return new Tensor(torch.eye(n, options(dtype, device)));
    }

    public static Tensor scalar(double value, DType dtype, Device device) {
        return new Tensor(torch.scalar_tensor(s(value), options(dtype, device)));
    }

    /** Copies the array into a new FLOAT32 CPU tensor of the given shape. */
    public static Tensor fromFloats(float[] data, long... shape) {
        checkCount(data.length, shape);
        return copyOf(new FloatPointer(data), DType.FLOAT32, shape);
    }

    /** Copies the array into a new FLOAT64 CPU tensor of the given shape. */
    public static Tensor fromDoubles(double[] data, long... shape) {
        checkCount(data.length, shape);
        return copyOf(new DoublePointer(data), DType.FLOAT64, shape);
    }

    /** Copies the array into a new INT64 CPU tensor of the given shape. */
    public static Tensor fromLongs(long[] data, long... shape) {
        checkCount(data.length, shape);
        return copyOf(new LongPointer(data), DType.INT64, shape);
    }

    /** Copies unsigned bytes (0..255, as Java bytes) into a new UINT8 CPU tensor. */
    public static Tensor fromUnsignedBytes(byte[] data, long... shape) {
        checkCount(data.length, shape);
        return copyOf(new BytePointer(data), DType.UINT8, shape);
    }

    private static void checkCount(long n, long[] shape) {
        long want = 1;
        for (long d : shape) want *= d;
        if (want != n) {
            throw new IllegalArgumentException("array of " + n + " elements does not fill shape " + Arrays.toString(shape));
        }
    }

    public static Tensor cat(List<Tensor> parts, int dim) {
        return new Tensor(torch.cat(vector(parts), dim));
    }

    public static Tensor stack(List<Tensor> parts, int dim) {
        return new Tensor(torch.stack(vector(parts), dim));
    }

    /** Elementwise {@code cond ? a : b}. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        return new Tensor(torch.where(cond.t, a.t, b.t));
    }

    static TensorVector vector(List<Tensor> ts) {
        TensorVector v = new TensorVector();
        for (Tensor x : ts) v.push_back(x.t);
        return v;
    }

    public Tensor zerosLike() { return new Tensor(torch.zeros_like(t)); }

    public Tensor onesLike() { return new Tensor(torch.ones_like(t)); }

    public Tensor randnLike() { return randn(dtype(), device(), shape()); }

    public Tensor randLike() { return new Tensor(torch.rand_like(t, Rng.generator(device()))); }

    // ------------------------------------------------------------------ facts

    public long[] shape() { return t.shape(); }

    public long size(int dim) { return t.size(dim < 0 ? dim + dim() : dim); }

    public int dim() { return (int) t.dim(); }

    public long numel() { return t.numel(); }

    public DType dtype() { return DType.of(t.scalar_type()); }

    public Device device() { return Device.of(t.device()); }

    public boolean requiresGrad() { return t.requires_grad(); }

    public boolean isLeaf() { return t.is_leaf(); }

    /** Whether both wrappers refer to the same underlying tensor. */
    public boolean isSame(Tensor other) { return t.is_same(other.t); }

    // ------------------------------------------------------------------ conversions

    public Tensor to(DType dtype) { return dtype() == dtype ? this : new Tensor(t.to(dtype.scalarType)); }

    public Tensor to(Device device) {
        return device().equals(device) ? this : new Tensor(t.to(device.toNative(), t.scalar_type()));
    }

    public Tensor to(Device device, DType dtype) { return to(device).to(dtype); }

    public Tensor cpu() { return to(Device.CPU); }

    /**
     * In place: this tensor takes {@code src}'s data (its values, device and element type), as
     * {@code param.data = src} does in PyTorch. Every holder of this tensor (a module, an optimizer,
     * a TorchScript model) sees the change; requires-grad is kept, autograd history is not carried over.
     */
    public Tensor setData_(Tensor src) {
        t.set_data(src.t);
        return this;
    }

    public Tensor contiguous() { return new Tensor(t.contiguous()); }

    public Tensor copy() { return new Tensor(t.clone()); }

    /** A tensor sharing storage but cut from the autograd graph. */
    public Tensor detach() { return new Tensor(t.detach()); }

    // ------------------------------------------------------------------ arithmetic

    public Tensor add(Tensor o) { return new Tensor(t.add(o.t)); }

    public Tensor add(double v) { return new Tensor(t.add(s(v))); }

    /** {@code this + alpha * o}. */
    public Tensor add(Tensor o, double alpha) { return new Tensor(t.add(o.t, s(alpha))); }

    public Tensor sub(Tensor o) { return new Tensor(t.sub(o.t)); }

    public Tensor sub(double v) { return new Tensor(t.sub(s(v))); }

    public Tensor mul(Tensor o) { return new Tensor(t.mul(o.t)); }

    public Tensor mul(double v) { return new Tensor(t.mul(s(v))); }

    public Tensor div(Tensor o) { return new Tensor(t.div(o.t)); }

    public Tensor div(double v) { return new Tensor(t.div(s(v))); }

    public Tensor neg() { return new Tensor(t.neg()); }

    public Tensor pow(double p) { return new Tensor(t.pow(s(p))); }

    public Tensor square() { return new Tensor(t.square()); }

    public Tensor sqrt() { return new Tensor(t.sqrt()); }

    public Tensor exp() { return new Tensor(t.exp()); }

    public Tensor log() { return new Tensor(t.log()); }

    public Tensor abs() { return new Tensor(t.abs()); }

    public Tensor sin() { return new Tensor(t.sin()); }

    public Tensor cos() { return new Tensor(t.cos()); }

    public Tensor sign() { return new Tensor(t.sign()); }

    public Tensor reciprocal() { return new Tensor(t.reciprocal()); }

    public Tensor floor() { return new Tensor(t.floor()); }

    public Tensor round() { return new Tensor(t.round()); }

    public Tensor clamp(double lo, double hi) {
        return new Tensor(t.clamp(new ScalarOptional(s(lo)), new ScalarOptional(s(hi))));
    }

    public Tensor clampMin(double lo) { return new Tensor(t.clamp_min(s(lo))); }

    public Tensor clampMax(double hi) { return new Tensor(t.clamp_max(s(hi))); }

    public Tensor maximum(Tensor o) { return new Tensor(t.maximum(o.t)); }

    public Tensor minimum(Tensor o) { return new Tensor(t.minimum(o.t)); }

    public Tensor matmul(Tensor o) { return new Tensor(t.matmul(o.t)); }

    /** The error function, elementwise (Φ(z) = ½(1 + erf(z/√2))). */
    public Tensor erf() { return new Tensor(t.erf()); }

    // ------------------------------------------------------------------ activations

    public Tensor relu() { return new Tensor(t.relu()); }

    public Tensor sigmoid() { return new Tensor(t.sigmoid()); }

    public Tensor tanh() { return new Tensor(t.tanh()); }

    /** softplus(x) = log(1 + e^{βx}) / β, linear above {@code threshold} for stability. */
    public Tensor softplus(double beta, double threshold) {
        return new Tensor(torch.softplus(t, s(beta), s(threshold)));
    }

    public Tensor softmax(int dim) { return new Tensor(t.softmax(dim)); }

    public Tensor logSoftmax(int dim) { return new Tensor(t.log_softmax(dim)); }

    public Tensor logsumexp(int dim, boolean keepDim) { return new Tensor(t.logsumexp(new long[]{dim}, keepDim)); }

    // ------------------------------------------------------------------ comparisons

    public Tensor eq(Tensor o) { return new Tensor(t.eq(o.t)); }

    public Tensor eq(double v) { return new Tensor(t.eq(s(v))); }

    public Tensor gt(double v) { return new Tensor(t.gt(s(v))); }

    public Tensor ge(double v) { return new Tensor(t.ge(s(v))); }

    public Tensor lt(double v) { return new Tensor(t.lt(s(v))); }

    public Tensor le(double v) { return new Tensor(t.le(s(v))); }

    public Tensor gt(Tensor o) { return new Tensor(t.gt(o.t)); }

    public Tensor lt(Tensor o) { return new Tensor(t.lt(o.t)); }

    public Tensor le(Tensor o) { return new Tensor(t.le(o.t)); }

    public Tensor isFinite() { return new Tensor(t.isfinite()); }

    public Tensor logicalNot() { return new Tensor(t.logical_not()); }

    public Tensor logicalAnd(Tensor o) { return new Tensor(t.logical_and(o.t)); }

    public Tensor logicalOr(Tensor o) { return new Tensor(t.logical_or(o.t)); }

    public Tensor ne(Tensor o) { return new Tensor(t.ne(o.t)); }

    /** True when every element is finite (no NaN, no ±inf). */
    public boolean allFinite() { return t.isfinite().all().item().toBool(); }

    // ------------------------------------------------------------------ reductions

    public Tensor sum() { return new Tensor(t.sum()); }

    public Tensor sum(int dim, boolean keepDim) {
        return new Tensor(t.sum(new long[]{dim}, keepDim, new ScalarTypeOptional()));
    }

    public Tensor mean() { return new Tensor(t.mean()); }

    public Tensor mean(int dim, boolean keepDim) {
        return new Tensor(t.mean(new long[]{dim}, keepDim, new ScalarTypeOptional()));
    }

    public Tensor max() { return new Tensor(t.max()); }

    public Tensor min() { return new Tensor(t.min()); }

    /** {@code {min, max}} over every element, in one read from the device. */
    public double[] minMax() {
        try (Scope s = Scope.open()) {
            return stack(java.util.List.of(min(), max()), 0).toDoubleArray();
        }
    }

    /** Maximum along a dimension (values only). */
    public Tensor amax(int dim, boolean keepDim) { return new Tensor(t.amax(new long[]{dim}, keepDim)); }

    /** Occurrences of each value 0 … max(minLength, max + 1) − 1 in this non-negative INT64 vector, as INT64. */
    public Tensor bincount(long minLength) { return new Tensor(torch.bincount(t, new org.bytedeco.pytorch.TensorOptional(), minLength)); }

    public Tensor argmax(int dim) { return new Tensor(t.argmax(new LongOptional(dim), false)); }

    /** The k largest values and their indices along {@code dim}: {@code [values, indices]}. */
    public Tensor[] topk(int k, int dim) {
        return owned(t.topk(k, dim, true, true));
    }

    /**
     * Euclidean distances ‖a_i − b_j‖₂ between the rows of this [n, d] and {@code other} [m, d], [n, m], computed
     * from the differences directly (libtorch's cdist without the matrix-product shortcut): no cancellation, so
     * the distance of a row to itself is exactly 0. Differentiable.
     */
    public Tensor pairwiseDistances(Tensor other) {
        return new Tensor(torch.cdist(t, other.t, 2.0, new LongOptional(2)));   // 2: donot_use_mm_for_euclid_dist
    }

    /** Vector p-norm over all elements. */
    public Tensor norm(double p) { return new Tensor(torch.linalg_vector_norm(t, s(p), new long[0], false, new ScalarTypeOptional())); }

    /** Vector p-norm over the given dims. */
    public Tensor norm(double p, long[] dims, boolean keepDim) {
        return new Tensor(torch.linalg_vector_norm(t, s(p), dims, keepDim, new ScalarTypeOptional()));
    }

    /** Per-example p-norm of a batch: the norm over every dimension but the first, shape [N]. */
    public Tensor normPerExample(double p) {
        return new Tensor(torch.linalg_vector_norm(t.flatten(1, -1), s(p), new long[]{1}, false, new ScalarTypeOptional()));
    }

    /** Minimum along a dimension with its position: {@code [values, indices]}. */
    public Tensor[] minWithIndex(int dim) {
        return owned(t.min(dim, false));
    }

    /**
     * Owning copies of a tuple's two tensors: get0()/get1() are references into the tuple, which dangle once the
     * tuple is freed (by its Scope or the GC) while the results live on.
     */
    private static Tensor[] owned(T_TensorTensor_T r) {
        return new Tensor[]{new Tensor(new org.bytedeco.pytorch.Tensor(r.get0())), new Tensor(new org.bytedeco.pytorch.Tensor(r.get1()))};
    }

    /** Spectral norm (largest singular value) of each matrix in the last two dimensions. */
    public Tensor spectralNorm() {
        return new Tensor(torch.linalg_matrix_norm(t, s(2), new long[]{-2, -1}, false, new ScalarTypeOptional()));
    }

    // ------------------------------------------------------------------ linear algebra

    /** The lower Cholesky factor L of a symmetric positive-definite matrix, A = L Lᵀ (torch.linalg.cholesky). */
    public Tensor cholesky() { return new Tensor(torch.linalg_cholesky(t)); }

    /** Solves A X = this for X, given the lower Cholesky factor L of A (torch.cholesky_solve). */
    public Tensor choleskySolve(Tensor lower) { return new Tensor(torch.cholesky_solve(t, lower.t, false)); }

    // ------------------------------------------------------------------ shape

    public Tensor reshape(long... shape) { return new Tensor(t.reshape(shape)); }

    public Tensor view(long... shape) { return new Tensor(t.view(shape)); }

    public Tensor flatten(int startDim, int endDim) { return new Tensor(t.flatten(startDim, endDim)); }

    public Tensor unsqueeze(int dim) { return new Tensor(t.unsqueeze(dim)); }

    public Tensor squeeze(int dim) { return new Tensor(t.squeeze(dim)); }

    public Tensor permute(long... dims) { return new Tensor(t.permute(dims)); }

    public Tensor transpose(int d0, int d1) { return new Tensor(t.transpose(d0, d1)); }

    /** Matrix transpose of a 2-D tensor. */
    public Tensor t() { return new Tensor(t.t()); }

    /** Whether the elements lie in memory in row-major order with no gaps (torch's is_contiguous). */
    public boolean isContiguous() { return t.is_contiguous(); }

    public Tensor expand(long... shape) { return new Tensor(t.expand(shape)); }

    public Tensor expandAs(Tensor o) { return new Tensor(t.expand_as(o.t)); }

    public Tensor narrow(int dim, long start, long length) { return new Tensor(t.narrow(dim, start, length)); }

    public Tensor select(int dim, long index) { return new Tensor(t.select(dim, index)); }

    public Tensor indexSelect(int dim, Tensor index) { return new Tensor(t.index_select(dim, index.t)); }

    public Tensor gather(int dim, Tensor index) { return new Tensor(t.gather(dim, index.t)); }

    public Tensor repeat(long... times) { return new Tensor(t.repeat(times)); }

    public Tensor maskedFill(Tensor mask, double value) { return new Tensor(t.masked_fill(mask.t, s(value))); }

    /** One-hot encoding of an INT64 label vector (INT64 result; convert with {@link #to(DType)}). */
    public Tensor oneHot(long numClasses) { return new Tensor(torch.one_hot(t, numClasses)); }

    /** A copy of this tensor with the slices {@code index} along {@code dim} replaced by those of {@code source}. */
    public Tensor indexCopy(int dim, Tensor index, Tensor source) { return new Tensor(t.index_copy(dim, index.t, source.t)); }

    /** In place: the slices {@code index} along {@code dim} replaced by those of {@code source}; returns this. */
    public Tensor indexCopy_(int dim, Tensor index, Tensor source) { t.index_copy_(dim, index.t, source.t); return this; }

    // ------------------------------------------------------------------ in place (no autograd history wanted)

    public Tensor add_(Tensor o) { t.add_(o.t); return this; }

    /** {@code this += alpha * o}. */
    public Tensor add_(Tensor o, double alpha) { t.add_(o.t, s(alpha)); return this; }

    public Tensor add_(double v) { t.add_(s(v)); return this; }

    public Tensor sub_(Tensor o) { t.sub_(o.t); return this; }

    public Tensor mul_(double v) { t.mul_(s(v)); return this; }

    public Tensor mul_(Tensor o) { t.mul_(o.t); return this; }

    public Tensor div_(Tensor o) { t.div_(o.t); return this; }

    public Tensor div_(double v) { t.div_(s(v)); return this; }

    /** {@code this += value * a * b}. */
    public Tensor addcmul_(Tensor a, Tensor b, double value) { t.addcmul_(a.t, b.t, s(value)); return this; }

    /** {@code this += value * a / b}. */
    public Tensor addcdiv_(Tensor a, Tensor b, double value) { t.addcdiv_(a.t, b.t, s(value)); return this; }

    public Tensor sqrt_() { t.sqrt_(); return this; }

    public Tensor clamp_(double lo, double hi) {
        t.clamp_(new ScalarOptional(s(lo)), new ScalarOptional(s(hi)));
        return this;
    }

    /** Clamps in place between two tensors that broadcast against this one: {@code min(max(this, lo), hi)}, one pass. */
    public Tensor clamp_(Tensor lo, Tensor hi) {
        t.clamp_(new TensorOptional(lo.t), new TensorOptional(hi.t));
        return this;
    }

    public Tensor copy_(Tensor src) { t.copy_(src.t); return this; }

    /**
     * Takes {@code src}'s values where {@code cond} holds and keeps its own elsewhere ({@code cond} and {@code src}
     * broadcast against this tensor): {@code where(cond, src, this)} written into this tensor in one pass, without a
     * temporary and a copy. Neither argument may require a gradient.
     */
    public Tensor assignWhere_(Tensor cond, Tensor src) {
        torch.where_out(t, cond.t, src.t, t);
        return this;
    }

    public Tensor zero_() { t.zero_(); return this; }

    public Tensor fill_(double v) { t.fill_(s(v)); return this; }

    public Tensor uniform_(double lo, double hi) { t.uniform_(lo, hi, Rng.generator(device())); return this; }

    public Tensor normal_(double mean, double std) { t.normal_(mean, std, Rng.generator(device())); return this; }

    // ------------------------------------------------------------------ autograd

    /** Marks (or unmarks) this tensor as a leaf that autograd tracks; returns this. */
    public Tensor requiresGrad(boolean on) { t.set_requires_grad(on); return this; }

    /** The gradient accumulated by {@link #backward()}, or null when none has been. */
    public Tensor grad() {
        org.bytedeco.pytorch.Tensor g = t.grad();   // a reference into this tensor's autograd data: copy it
        return g.defined() ? new Tensor(new org.bytedeco.pytorch.Tensor(g)) : null;
    }

    /** Drops the accumulated gradient (torch's zero_grad with set_to_none). */
    public void clearGrad() {
        org.bytedeco.pytorch.Tensor g = t.mutable_grad();
        if (g.defined()) g.reset();
    }

    /** Backpropagates a scalar into the {@code .grad} of every leaf that requires it. */
    public void backward() { t.backward(); }

    // ------------------------------------------------------------------ values

    /** The value of a one-element tensor. Synchronizes with the device. */
    public double item() { return t.item_double(); }

    public long itemLong() { return t.item_long(); }

    public float[] toFloatArray() {
        FloatBuffer b = elements(DType.FLOAT32).asFloatBuffer();
        float[] out = new float[b.remaining()];
        b.get(out);
        return out;
    }

    public double[] toDoubleArray() {
        DoubleBuffer b = elements(DType.FLOAT64).asDoubleBuffer();
        double[] out = new double[b.remaining()];
        b.get(out);
        return out;
    }

    public long[] toLongArray() {
        LongBuffer b = elements(DType.INT64).asLongBuffer();
        long[] out = new long[b.remaining()];
        b.get(out);
        return out;
    }

    /** A boolean (or 0/1) tensor as a Java array. */
    public boolean[] toBooleanArray() {
        byte[] b = to(DType.UINT8).rawBytes();
        boolean[] out = new boolean[b.length];
        for (int i = 0; i < b.length; i++) out[i] = b[i] != 0;
        return out;
    }

    /** Raw bytes of a UINT8 tensor. */
    public byte[] toUnsignedBytes() {
        return to(DType.UINT8).rawBytes();
    }

    /** The elements converted to {@code dtype}, as a native-order buffer over a copy. */
    private ByteBuffer elements(DType dtype) {
        return ByteBuffer.wrap(to(dtype).rawBytes()).order(ByteOrder.nativeOrder());
    }

    /** Raw native-order bytes of any dense tensor, for checkpoints and the typed copies above. */
    byte[] rawBytes() {
        org.bytedeco.pytorch.Tensor c = t.detach().cpu().contiguous();
        byte[] out = new byte[(int) c.nbytes()];
        new BytePointer(c.data_ptr()).capacity(out.length).get(out);
        Reference.reachabilityFence(c);   // the pointer does not keep c alive: without this the GC may free the data mid-copy
        return out;
    }

    static Tensor fromRawBytes(byte[] data, DType dtype, long... shape) {
        return copyOf(new BytePointer(data), dtype, shape);
    }

    /** A tensor owning a copy of native memory the caller filled; the memory is released here. */
    private static Tensor copyOf(org.bytedeco.javacpp.Pointer data, DType dtype, long[] shape) {
        try {
            return new Tensor(torch.from_blob(data, shape, new TensorOptions(dtype.scalarType)).clone());
        } finally {
            data.close();
        }
    }

    // ------------------------------------------------------------------ memory

    /**
     * Lets this tensor survive the enclosing {@link Scope}s: for results computed inside a step
     * that must be kept (optimizer state created lazily, cached values). Freed by the GC later.
     */
    public Tensor keep() {
        t.retainReference();
        return this;
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape()) + "(" + dtype() + ", " + device() + ")";
    }
}
