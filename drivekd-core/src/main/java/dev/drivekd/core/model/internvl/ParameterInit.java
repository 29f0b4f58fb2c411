package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.initializer.Initializer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

/**
 * How one parameter starts: a seeded normal, or a constant. Values are drawn on the host with
 * {@link java.util.Random} seeded from the model seed and the parameter's full name, so a model is
 * the same on every machine and engine, and adding a parameter never reshuffles the others.
 */
record ParameterInit(double std, float constant) {

  /** Normal with mean 0 and standard deviation {@code std}. */
  static ParameterInit normal(double std) {
    return new ParameterInit(std, 0f);
  }

  /** Every entry {@code value}. */
  static ParameterInit constant(float value) {
    return new ParameterInit(0, value);
  }

  /** An initializer for the parameter named {@code name} of a model seeded with {@code seed}. */
  Initializer seeded(long seed, String name) {
    long mixed = mix(seed, name);
    return (NDManager manager, Shape shape, DataType dataType) -> {
      float[] values = new float[Math.toIntExact(shape.size())];
      if (std > 0) {
        Random random = new Random(mixed);
        for (int i = 0; i < values.length; i++) {
          values[i] = (float) (random.nextGaussian() * std);
        }
      } else {
        Arrays.fill(values, constant);
      }
      NDArray array = manager.create(values, shape);
      return dataType == DataType.FLOAT32 ? array : array.toType(dataType, false);
    };
  }

  /** Zeros of the right shape, for a model whose weights are about to be loaded. */
  static Initializer zeros() {
    return (manager, shape, dataType) -> manager.zeros(shape, dataType);
  }

  /** FNV-1a over the name's bytes, folded with the seed through a SplitMix64 finaliser. */
  static long mix(long seed, String name) {
    long h = 0xcbf29ce484222325L;
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    long z = h ^ (seed * 0x9E3779B97F4A7C15L);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
