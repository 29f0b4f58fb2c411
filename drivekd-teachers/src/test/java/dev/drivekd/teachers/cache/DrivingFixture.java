package dev.drivekd.teachers.cache;

import ai.djl.Device;
import ai.djl.nn.Parameter;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.testing.TinyDriving;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The tiny driving set-up of drivekd-core's tests ({@link TinyDriving}) with what the teachers'
 * tests add: weights snapshots and a teacher that counts its forwards.
 */
final class DrivingFixture extends TinyDriving {

  DrivingFixture(Path dir) {
    super(dir);
  }

  /** The fixture's images with other questions and answers (another dataset file). */
  DrivingFixture(Path dir, String[][] samples) {
    super(dir, samples);
  }

  /** Every parameter's values, in the model's fixed order. */
  static List<float[]> weights(InternVlModel model) {
    List<float[]> out = new ArrayList<>();
    for (Parameter p : model.namedParameters().values()) {
      out.add(p.getArray().toFloatArray());
    }
    return out;
  }

  /** A teacher seen through the model contract only, counting its forwards and their layers. */
  static final class CountingModel implements VisionLanguageModel {
    final VisionLanguageModel inner;
    final List<SortedSet<Integer>> requests = new ArrayList<>();

    CountingModel(VisionLanguageModel inner) {
      this.inner = inner;
    }

    @Override
    public ModelCard card() {
      return inner.card();
    }

    @Override
    public Device device() {
      return inner.device();
    }

    @Override
    public ModelOutput forward(VlmBatch batch, ForwardRequest request, boolean training) {
      SortedSet<Integer> layers = new TreeSet<>();
      for (int l : request.layers()) {
        layers.add(l);
      }
      requests.add(layers);
      return inner.forward(batch, request, training);
    }

    @Override
    public List<Parameter> trainableParameters() {
      return inner.trainableParameters();
    }

    @Override
    public void freeze(boolean frozen) {
      inner.freeze(frozen);
    }

    @Override
    public void close() {
      inner.close();
    }
  }
}
