package dev.drivekd.core.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AttentionSignalTest {

  @Test
  void singleLayerSignalsResolveEachSideSeparately() {
    assertEquals(List.of(LayerGroup.pair(0, 0)), AttentionSignal.firstLayer().layerGroups(24, 28));
    assertEquals(
        List.of(LayerGroup.pair(22, 26)), AttentionSignal.penultimateLayer().layerGroups(24, 28));
    assertEquals(Set.of(22), AttentionSignal.penultimateLayer().studentLayers(24, 28));
    assertEquals(Set.of(26), AttentionSignal.penultimateLayer().teacherLayers(24, 28));
  }

  @Test
  void intermediateSignalUsesTheGroupMapping() {
    AttentionSignal signal = AttentionSignal.intermediate(LayerRange.defaults());
    assertEquals(Set.of(0, 1), signal.studentLayers(3, 6));
    assertEquals(Set.of(0, 1, 2, 3, 4), signal.teacherLayers(3, 6));
    assertEquals(List.of(0, 1, 2, 3), signal.layerGroups(3, 6).get(0).teachers());
  }

  @Test
  void errorsNameTheSideAndKind() {
    LayerIndexException teacher =
        assertThrows(
            LayerIndexException.class, () -> AttentionSignal.penultimateLayer().layerGroups(4, 1));
    assertEquals(LayerIndexException.Side.TEACHER, teacher.side().orElseThrow());
    assertEquals(LayerIndexException.Kind.INDEX_OUT_OF_RANGE, teacher.kind());
    LayerIndexException student =
        assertThrows(
            LayerIndexException.class, () -> AttentionSignal.firstLayer().layerGroups(0, 3));
    assertEquals(LayerIndexException.Side.STUDENT, student.side().orElseThrow());
    LayerIndexException range =
        assertThrows(
            LayerIndexException.class, () -> LayerGroupMapping.of(LayerRange.of(2, 1), 5, 5));
    assertEquals(LayerIndexException.Kind.START_AFTER_END, range.kind());
  }

  @Test
  void zeroDepthGivesAnEmptyMapping() {
    LayerGroupMapping mapping = LayerGroupMapping.of(LayerRange.defaults(), 4, 0);
    assertEquals(List.of(), mapping.groups());
    assertEquals(List.of(0, 1, 2), mapping.studentIndices());
  }
}
