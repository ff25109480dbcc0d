package dev.tikhon.onnx;

import dev.tikhon.UserError;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Tensor;
import dev.tikhon.onnx.OnnxProto.Attribute;
import dev.tikhon.onnx.OnnxProto.Node;
import dev.tikhon.onnx.OnnxProto.TensorData;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Evaluates, at import, nodes whose inputs are all constants: the shape arithmetic exporters leave in a graph
 * (PyTorch computes a ZeroPad2d's pads with ConstantOfShape, Concat, Reshape, Slice, Transpose and Cast; torch.chunk's
 * slice bounds with Add, Div and Mul of int64 dimensions). Values are computed in float64, exact for the small integers
 * such graphs hold; arithmetic of two integer tensors stays integer (Div truncates, as ONNX's integer Div), of two float
 * tensors float32 (each operation correctly rounded to float).
 */
final class ConstantFolding {
    private ConstantFolding() {}

    static TensorData fold(Node n, Map<String, TensorData> constants, String source) {
        List<Tensor> in = new ArrayList<>();
        for (String name : n.inputs) in.add(name.isEmpty() ? null : value(constants.get(name)));
        Tensor out;
        switch (n.opType) {
            case "ConstantOfShape": {
                Attribute v = n.attribute("value");
                double fill = v == null || v.t == null ? 0 : v.t.toDoubles()[0];
                out = Tensor.full(fill, DType.FLOAT64, Device.CPU, longs(in.get(0)));
                break;
            }
            case "Concat": out = Tensor.cat(in, axis(OnnxImport.intAttr(n, "axis", 0), in.get(0))); break;
            case "Reshape": {
                long[] shape = longs(in.get(1));
                for (int i = 0; i < shape.length; i++) if (shape[i] == 0) shape[i] = in.get(0).size(i);
                out = in.get(0).reshape(shape);
                break;
            }
            case "Transpose": {
                Tensor x = in.get(0);
                Attribute perm = n.attribute("perm");
                long[] p = new long[x.dim()];
                for (int i = 0; i < p.length; i++) p[i] = perm == null ? p.length - 1 - i : perm.ints.get(i);
                out = x.permute(p).contiguous();
                break;
            }
            case "Slice": out = slice(in); break;
            case "Add": case "Sub": case "Mul": case "Div": {
                Tensor a = in.get(0), b = in.get(1);
                out = n.opType.equals("Add") ? a.add(b) : n.opType.equals("Sub") ? a.sub(b) : n.opType.equals("Mul") ? a.mul(b) : a.div(b);
                TensorData x = constants.get(n.inputs.get(0)), y = constants.get(n.inputs.get(1));
                if (integer(x) && integer(y)) return TensorData.ofLongs(n.outputs.get(0), out.shape(), longs(out));   // (long) truncates
                if (x.dataType == OnnxProto.FLOAT && y.dataType == OnnxProto.FLOAT) {
                    double[] d = out.contiguous().toDoubleArray();
                    float[] f = new float[d.length];
                    for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
                    return TensorData.ofFloats(n.outputs.get(0), out.shape(), f);
                }
                break;
            }
            case "Cast": case "Identity": out = in.get(0); break;
            case "Unsqueeze": case "Squeeze": {
                Tensor x = in.get(0);
                // an input from operator set 13 on, an attribute before (a constant shape of operator set 11 had lost its Unsqueeze)
                long[] axes = in.size() > 1 && in.get(1) != null ? longs(in.get(1)) : OnnxImport.intsAttr(n, "axes", new long[0]);
                List<Long> shape = new ArrayList<>();
                for (long d : x.shape()) shape.add(d);
                boolean unsqueeze = n.opType.equals("Unsqueeze");
                int rank = unsqueeze ? shape.size() + axes.length : shape.size();
                long[] sorted = java.util.Arrays.stream(axes).map(a -> a < 0 ? a + rank : a).sorted().toArray();
                if (unsqueeze) {
                    for (long a : sorted) shape.add((int) a, 1L);
                } else if (sorted.length == 0) {
                    shape.removeIf(d -> d == 1);
                } else {
                    for (int i = sorted.length - 1; i >= 0; i--) shape.remove((int) sorted[i]);
                }
                out = x.reshape(shape.stream().mapToLong(Long::longValue).toArray());
                break;
            }
            default: throw new UserError(source + ": cannot evaluate constant node '" + n.name + "' (" + n.opType + ")");
        }
        return TensorData.ofDoubles(n.outputs.get(0), out.shape(), out.contiguous().toDoubleArray());
    }

    /** ONNX Slice (operator set 10 on): starts, ends, axes, steps as inputs; clamped like the specification. */
    private static Tensor slice(List<Tensor> in) {
        Tensor x = in.get(0);
        long[] starts = longs(in.get(1)), ends = longs(in.get(2));
        long[] axes = in.size() > 3 && in.get(3) != null ? longs(in.get(3)) : null;
        long[] steps = in.size() > 4 && in.get(4) != null ? longs(in.get(4)) : null;
        for (int k = 0; k < starts.length; k++) {
            int axis = axis(axes == null ? k : axes[k], x);
            long dim = x.size(axis), step = steps == null ? 1 : steps[k];
            long start = starts[k] < 0 ? starts[k] + dim : starts[k], end = ends[k] < 0 && ends[k] > Long.MIN_VALUE / 2 ? ends[k] + dim : ends[k];
            List<Long> idx = new ArrayList<>();
            if (step > 0) {
                start = Math.max(0, Math.min(start, dim));
                end = Math.max(0, Math.min(end, dim));
                for (long i = start; i < end; i += step) idx.add(i);
            } else {
                start = Math.max(-1, Math.min(start, dim - 1));
                end = Math.max(-1, Math.min(end, dim - 1));
                for (long i = start; i > end; i += step) idx.add(i);
            }
            x = x.indexSelect(axis, Tensor.fromLongs(idx.stream().mapToLong(Long::longValue).toArray(), idx.size()));
        }
        return x;
    }

    private static boolean integer(TensorData t) {
        return t.dataType == OnnxProto.INT64 || t.dataType == OnnxProto.INT32 || t.dataType == OnnxProto.INT8 || t.dataType == OnnxProto.UINT8;
    }

    private static Tensor value(TensorData t) {
        return Tensor.fromDoubles(t.toDoubles(), t.shape());
    }

    private static long[] longs(Tensor t) {
        double[] d = t.contiguous().toDoubleArray();
        long[] out = new long[d.length];
        for (int i = 0; i < d.length; i++) out[i] = d[i] <= Long.MIN_VALUE ? Long.MIN_VALUE : d[i] >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) d[i];
        return out;
    }

    private static int axis(long a, Tensor x) {
        return (int) (a < 0 ? a + x.dim() : a);
    }
}
