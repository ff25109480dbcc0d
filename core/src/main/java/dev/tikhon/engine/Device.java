package dev.tikhon.engine;

import org.bytedeco.pytorch.global.torch.DeviceType;

import java.util.Locale;
import java.util.Objects;

/** Where tensors live: the CPU or one CUDA device. */
public final class Device {
    public static final Device CPU = new Device(false, -1);

    private final boolean cuda;
    private final int index;

    private Device(boolean cuda, int index) {
        this.cuda = cuda;
        this.index = index;
    }

    public static Device cuda(int index) { return new Device(true, index); }

    public boolean isCuda() { return cuda; }

    public int index() { return index; }

    /**
     * Parses {@code cpu}, {@code cuda}, {@code cuda:N} or {@code auto} (CUDA when available, else CPU),
     * and checks that a CUDA device really is usable, with a message that says what to do if not.
     */
    public static Device parse(String spec) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("cpu")) return CPU;
        if (s.equals("auto")) return Engine.cudaAvailable() ? cuda(0) : CPU;
        if (s.equals("cuda") || s.equals("gpu") || s.startsWith("cuda:")) {
            int idx = 0;
            if (s.startsWith("cuda:")) {
                try {
                    idx = Integer.parseInt(s.substring(5));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("bad device '" + spec + "': use cpu, cuda, cuda:N or auto");
                }
            }
            Engine.requireCuda(idx);
            return cuda(idx);
        }
        throw new IllegalArgumentException("unknown device '" + spec + "': use cpu, cuda, cuda:N or auto");
    }

    org.bytedeco.pytorch.Device toNative() {
        return cuda ? new org.bytedeco.pytorch.Device(DeviceType.CUDA, (byte) index)
                    : new org.bytedeco.pytorch.Device(DeviceType.CPU);
    }

    static Device of(org.bytedeco.pytorch.Device d) {
        return d.is_cuda() ? cuda(Math.max(0, d.index())) : CPU;
    }

    @Override public boolean equals(Object o) {
        return o instanceof Device && ((Device) o).cuda == cuda && ((Device) o).index == index;
    }

    @Override public int hashCode() { return Objects.hash(cuda, index); }

    @Override public String toString() { return cuda ? "cuda:" + index : "cpu"; }
}
