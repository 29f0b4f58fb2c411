package dev.drivekd.core.prompt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** Writes blocks in the golden files' shape: {@code {type, text|path, loss_mask}}. */
public final class BlockJson {

  private static final ObjectMapper JSON = new ObjectMapper();

  private BlockJson() {}

  /** The golden JSON form of a block list. */
  public static JsonNode toJson(List<ContentBlock> blocks) {
    ArrayNode out = JSON.createArrayNode();
    for (ContentBlock block : blocks) {
      ObjectNode node = out.addObject();
      if (block instanceof TextBlock) {
        node.put("type", "text").put("text", ((TextBlock) block).text());
      } else {
        node.put("type", "image").put("path", ((ImageBlock) block).path());
      }
      node.put("loss_mask", block.lossMask());
    }
    return out;
  }
}
