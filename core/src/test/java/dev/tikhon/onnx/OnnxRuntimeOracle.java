package dev.tikhon.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.tikhon.engine.Tensor;

import java.nio.FloatBuffer;
import java.util.Map;

/** ONNX Runtime (Microsoft's, for Java): an implementation of the ONNX operators independent of Tikhon and libtorch. */
public final class OnnxRuntimeOracle {
    private OnnxRuntimeOracle() {}

    /** The outputs ONNX Runtime computes for {@code x} with the model in {@code onnx}, flattened ([N, K] row by row). */
    public static float[] logits(byte[] onnx, Tensor x) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(1);
            try (OrtSession s = env.createSession(onnx, o);
                 OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.contiguous().toFloatArray()), x.shape());
                 OrtSession.Result r = s.run(Map.of(s.getInputNames().iterator().next(), in))) {
                float[][] out = (float[][]) r.get(0).getValue();
                float[] flat = new float[out.length * out[0].length];
                for (int i = 0; i < out.length; i++) System.arraycopy(out[i], 0, flat, i * out[0].length, out[0].length);
                return flat;
            }
        }
    }
}
