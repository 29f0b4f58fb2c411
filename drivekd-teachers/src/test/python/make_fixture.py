#!/usr/bin/python3
"""Writes the TorchScript fixtures that drivekd-teachers' tests read.

A tiny InternVL-shaped vision-language model is built in PyTorch, scripted with
torch.jit.script and saved beside its drivekd descriptor, together with the outputs
it gives for a fixed input (the parity values the Java tests compare against).

    tiny ViT (patch conv, class token, LayerNorm, MHA, GELU MLP, layer scale)
      -> drop class token -> pixel shuffle 0.5 -> MLP projector (LayerNorm, Linear, GELU, Linear)
      -> vision tokens replace the embeddings at the image positions
      -> tiny Qwen2-like decoder (RMSNorm, RoPE theta 1e6, GQA with q/k/v bias, SwiGLU),
         eager attention returning softmax probabilities
      -> LM head

The forward follows drivekd's TorchScript VLM contract, version 1 (docs/torchscript.md):

    forward(input_ids int64 [B,L], pixel_values float [N,3,S,S] (N may be 0),
            image_mask bool [B,L], attention_mask int64 [B,L] (1 = valid, right padding),
            layers int64 [k], output_hidden_states bool [])
      -> (logits [B,L,V], List[[B,H,L,L]] in the order of `layers`,
          List[[B,L,D]]: N+1 hidden states when asked, else empty)

Run with Debian's torch (python3-torch, 1.13 CPU), from the repository root:

    /usr/bin/python3 drivekd-teachers/src/test/python/make_fixture.py

It writes under drivekd-teachers/src/test/resources/torchscript/:
    tiny-internvl/model.pt, model.json, expected.json   the parity fixture (no dropout)
    tiny-dropout/model.pt, model.json                   a smaller variant with embedding dropout 0.1,
                                                        to observe train/eval mode switching
    tiny-hybrid/model.pt, model.json                    the same weights exported as a scripted wrapper
                                                        around traced decoder and vision parts
    ignores-layers/model.pt, model.json                 a broken export that returns every layer's
                                                        map whatever `layers` asks (contract errors)
"""

import argparse
import json
import math
import os
from typing import Dict, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

CONTRACT_VERSION = 1


class VisionAttention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(self.head_dim)
        probs = torch.softmax(scores, dim=-1)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(b, n, c)
        return self.proj(out)


class VisionLayer(nn.Module):
    """InternViT encoder layer: pre-LayerNorm attention and MLP, each scaled by a learned ls vector."""

    def __init__(self, dim: int, heads: int, mlp: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = VisionAttention(dim, heads)
        self.ls1 = nn.Parameter(torch.ones(dim) * 0.5)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, mlp)
        self.fc2 = nn.Linear(mlp, dim)
        self.ls2 = nn.Parameter(torch.ones(dim) * 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x)) * self.ls1
        x = x + self.fc2(F.gelu(self.fc1(self.norm2(x)))) * self.ls2
        return x


class VisionModel(nn.Module):
    def __init__(self, image_size: int, patch: int, dim: int, heads: int, mlp: int, depth: int):
        super().__init__()
        patches = (image_size // patch) ** 2
        self.patch_embedding = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)
        self.class_embedding = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.position_embedding = nn.Parameter(torch.randn(1, patches + 1, dim) * 0.02)
        self.layers = nn.ModuleList([VisionLayer(dim, heads, mlp) for _ in range(depth)])

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        x = self.patch_embedding(pixel_values)  # [N, C, h, w]
        x = x.flatten(2).transpose(1, 2)  # [N, h*w, C]
        cls = self.class_embedding.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.position_embedding
        for layer in self.layers:
            x = layer(x)
        return x  # last_hidden_state


def pixel_shuffle(x: torch.Tensor, scale_factor: float) -> torch.Tensor:
    """InternVL's pixel_shuffle (ps_version v2): [N, W, H, C] -> [N, W*s, H*s, C/s^2]."""
    n, w, h, c = x.shape
    x = x.view(n, w, int(h * scale_factor), int(c / scale_factor))
    x = x.permute(0, 2, 1, 3).contiguous()
    x = x.view(n, int(h * scale_factor), int(w * scale_factor), int(c / (scale_factor * scale_factor)))
    x = x.permute(0, 2, 1, 3).contiguous()
    return x


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        variance = x.float().pow(2).mean(-1, keepdim=True)
        return self.weight * (x.float() * torch.rsqrt(variance + self.eps)).to(x.dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def repeat_kv(x: torch.Tensor, groups: int) -> torch.Tensor:
    if groups == 1:
        return x
    b, kv, l, d = x.shape
    return x[:, :, None, :, :].expand(b, kv, groups, l, d).reshape(b, kv * groups, l, d)


class Qwen2Attention(nn.Module):
    """Eager attention as HF Qwen2 computes it; returns the output and the probabilities P."""

    def __init__(self, dim: int, heads: int, kv_heads: int):
        super().__init__()
        self.heads = heads
        self.kv_heads = kv_heads
        self.head_dim = dim // heads
        self.q_proj = nn.Linear(dim, heads * self.head_dim, bias=True)
        self.k_proj = nn.Linear(dim, kv_heads * self.head_dim, bias=True)
        self.v_proj = nn.Linear(dim, kv_heads * self.head_dim, bias=True)
        self.o_proj = nn.Linear(heads * self.head_dim, dim, bias=False)

    def forward(
        self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask_bias: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        b, l, _ = x.shape
        q = self.q_proj(x).view(b, l, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, l, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, l, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = repeat_kv(k, self.heads // self.kv_heads)
        v = repeat_kv(v, self.heads // self.kv_heads)
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim) + mask_bias
        probs = torch.softmax(scores.float(), dim=-1).to(q.dtype)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(b, l, self.heads * self.head_dim)
        return self.o_proj(out), probs


class DecoderLayer(nn.Module):
    def __init__(self, dim: int, heads: int, kv_heads: int, intermediate: int):
        super().__init__()
        self.input_layernorm = RMSNorm(dim)
        self.self_attn = Qwen2Attention(dim, heads, kv_heads)
        self.post_attention_layernorm = RMSNorm(dim)
        self.gate_proj = nn.Linear(dim, intermediate, bias=False)
        self.up_proj = nn.Linear(dim, intermediate, bias=False)
        self.down_proj = nn.Linear(intermediate, dim, bias=False)

    def forward(
        self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask_bias: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        attended, probs = self.self_attn(self.input_layernorm(x), cos, sin, mask_bias)
        x = x + attended
        h = self.post_attention_layernorm(x)
        x = x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))
        return x, probs


class TinyInternVL(nn.Module):
    """The whole model behind drivekd's TorchScript VLM contract, version 1."""

    def __init__(self, cfg: Dict[str, float]):
        super().__init__()
        dim = int(cfg["hidden_size"])
        self.depth = int(cfg["depth"])
        self.heads = int(cfg["heads"])
        self.head_dim = dim // self.heads
        self.rope_theta = float(cfg["rope_theta"])
        self.tokens_per_image = int(cfg["tokens_per_image"])
        vdim = int(cfg["vision_hidden"])
        self.vision_model = VisionModel(
            int(cfg["image_size"]), int(cfg["patch"]), vdim, int(cfg["vision_heads"]),
            int(cfg["vision_mlp"]), int(cfg["vision_depth"]))
        self.downsample_ratio = 0.5
        self.mlp1_norm = nn.LayerNorm(vdim * 4, eps=1e-5)
        self.mlp1_fc1 = nn.Linear(vdim * 4, dim)
        self.mlp1_fc2 = nn.Linear(dim, dim)
        self.embed_tokens = nn.Embedding(int(cfg["vocab_size"]), dim)
        # Not part of InternVL3 (its LLM has no dropout): lets a test observe train/eval mode.
        self.embed_dropout = nn.Dropout(float(cfg["dropout"]))
        self.layers = nn.ModuleList([
            DecoderLayer(dim, self.heads, int(cfg["kv_heads"]), int(cfg["intermediate"]))
            for _ in range(self.depth)])
        self.norm = RMSNorm(dim)
        self.lm_head = nn.Linear(dim, int(cfg["vocab_size"]), bias=False)
        self.all_layers = bool(cfg.get("ignore_layers", False))

    def extract_feature(self, pixel_values: torch.Tensor) -> torch.Tensor:
        vit = self.vision_model(pixel_values)[:, 1:, :]
        side = int(math.sqrt(vit.shape[1]))
        vit = vit.reshape(vit.shape[0], side, side, -1)
        vit = pixel_shuffle(vit, self.downsample_ratio)
        vit = vit.reshape(vit.shape[0], -1, vit.shape[-1])
        return self.mlp1_fc2(F.gelu(self.mlp1_fc1(self.mlp1_norm(vit))))

    def forward(
        self,
        input_ids: torch.Tensor,
        pixel_values: torch.Tensor,
        image_mask: torch.Tensor,
        attention_mask: torch.Tensor,
        layers: torch.Tensor,
        output_hidden_states: torch.Tensor,
    ) -> Tuple[torch.Tensor, List[torch.Tensor], List[torch.Tensor]]:
        b, l = input_ids.shape
        embeds = self.embed_tokens(input_ids)
        image_mask = image_mask.to(torch.bool)
        image_positions = int(image_mask.sum())
        if image_positions != pixel_values.shape[0] * self.tokens_per_image:
            raise ValueError(
                "image_mask marks " + str(image_positions) + " positions but " + str(pixel_values.shape[0])
                + " images give " + str(pixel_values.shape[0] * self.tokens_per_image) + " vision tokens")
        if pixel_values.shape[0] > 0:
            vision = self.extract_feature(pixel_values.to(embeds.dtype)).reshape(-1, embeds.shape[-1])
            embeds = embeds.masked_scatter(image_mask.unsqueeze(-1).expand_as(embeds), vision)
        hidden = self.embed_dropout(embeds)

        # Causal mask plus key padding (right padding), as an additive bias [B,1,L,L].
        positions = torch.arange(l, device=input_ids.device)
        causal = positions[None, :] <= positions[:, None]
        keys = attention_mask.to(torch.bool)[:, None, None, :]
        allowed = causal[None, None, :, :] & keys
        mask_bias = torch.zeros(allowed.shape, dtype=hidden.dtype, device=hidden.device)
        mask_bias = mask_bias.masked_fill(~allowed, -1e9)

        inv_freq = 1.0 / (self.rope_theta ** (
            torch.arange(0, self.head_dim, 2, dtype=torch.float32, device=input_ids.device)
            / self.head_dim))
        freqs = positions.float()[:, None] * inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos = emb.cos().to(hidden.dtype)
        sin = emb.sin().to(hidden.dtype)

        wanted: List[int] = layers.tolist()
        for layer in wanted:
            if layer < 0 or layer >= self.depth:
                raise ValueError("layer " + str(layer) + " is outside 0.." + str(self.depth - 1))
        want_hidden = bool(output_hidden_states)
        kept: Dict[int, torch.Tensor] = {}
        all_maps: List[torch.Tensor] = []
        hiddens: List[torch.Tensor] = []
        index = 0
        for decoder in self.layers:
            if want_hidden:
                hiddens.append(hidden)
            hidden, probs = decoder(hidden, cos, sin, mask_bias)
            if self.all_layers:
                all_maps.append(probs)
            elif index in wanted:
                kept[index] = probs
            index += 1
        hidden = self.norm(hidden)
        if want_hidden:
            hiddens.append(hidden)
        logits = self.lm_head(hidden)
        if self.all_layers:
            return logits, all_maps, hiddens
        maps: List[torch.Tensor] = []
        for layer in wanted:
            maps.append(kept[layer])
        return logits, maps, hiddens


class TracedDecoder(nn.Module):
    """The decoder stack as a tracer sees it: inputs_embeds and attention_mask in, all layers out.

    Stands for a Hugging Face language model that torch.jit.script cannot compile: it is traced,
    and a scripted wrapper (HybridExport) selects the requested layers. It holds only the modules
    it uses, so that no weight appears twice in the exported module.
    """

    def __init__(self, model: TinyInternVL):
        super().__init__()
        self.layers = model.layers
        self.norm = model.norm
        self.lm_head = model.lm_head
        self.rope_theta = model.rope_theta
        self.head_dim = model.head_dim

    def forward(self, embeds: torch.Tensor, attention_mask: torch.Tensor):
        b, l = attention_mask.shape
        positions = torch.arange(l, device=embeds.device)
        causal = positions[None, :] <= positions[:, None]
        allowed = causal[None, None, :, :] & attention_mask.to(torch.bool)[:, None, None, :]
        mask_bias = torch.zeros(allowed.shape, dtype=embeds.dtype).masked_fill(~allowed, -1e9)
        inv_freq = 1.0 / (self.rope_theta ** (
            torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim))
        freqs = positions.float()[:, None] * inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(embeds.dtype), emb.sin().to(embeds.dtype)
        hidden = embeds
        maps = []
        hiddens = []
        for decoder in self.layers:
            hiddens.append(hidden)
            hidden, probs = decoder(hidden, cos, sin, mask_bias)
            maps.append(probs)
        hidden = self.norm(hidden)
        hiddens.append(hidden)
        return self.lm_head(hidden), torch.stack(maps), torch.stack(hiddens)


class TracedVision(nn.Module):
    """extract_feature (ViT, pixel shuffle, projector) holding only the vision tower and projector."""

    def __init__(self, model: TinyInternVL):
        super().__init__()
        self.vision_model = model.vision_model
        self.mlp1_norm = model.mlp1_norm
        self.mlp1_fc1 = model.mlp1_fc1
        self.mlp1_fc2 = model.mlp1_fc2
        self.downsample_ratio = model.downsample_ratio

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return TinyInternVL.extract_feature(self, pixel_values)


class HybridExport(nn.Module):
    """Contract version 1 as a scripted wrapper around traced parts (docs/torchscript.md, route B)."""

    def __init__(self, embed_tokens: nn.Module, vision, decoder, tokens_per_image: int):
        super().__init__()
        self.embed_tokens = embed_tokens
        self.vision = vision
        self.decoder = decoder
        self.tokens_per_image = tokens_per_image

    def forward(
        self,
        input_ids: torch.Tensor,
        pixel_values: torch.Tensor,
        image_mask: torch.Tensor,
        attention_mask: torch.Tensor,
        layers: torch.Tensor,
        output_hidden_states: torch.Tensor,
    ) -> Tuple[torch.Tensor, List[torch.Tensor], List[torch.Tensor]]:
        embeds = self.embed_tokens(input_ids)
        image_mask = image_mask.to(torch.bool)
        if int(image_mask.sum()) != pixel_values.shape[0] * self.tokens_per_image:
            raise ValueError("image_mask and pixel_values disagree")
        if pixel_values.shape[0] > 0:
            vision = self.vision(pixel_values.to(embeds.dtype)).reshape(-1, embeds.shape[-1])
            embeds = embeds.masked_scatter(image_mask.unsqueeze(-1).expand_as(embeds), vision)
        logits, all_maps, all_hidden = self.decoder(embeds, attention_mask)
        wanted: List[int] = layers.tolist()
        maps: List[torch.Tensor] = []
        for layer in wanted:
            maps.append(all_maps[layer])
        hiddens: List[torch.Tensor] = []
        if bool(output_hidden_states):
            hiddens = list(all_hidden.unbind(0))
        return logits, maps, hiddens


def perturb_norms(model: nn.Module, generator: torch.Generator) -> None:
    """Moves norm weights and layer scales off 1 so that parity covers them too."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("layernorm.weight") or name == "norm.weight" or ".ls" in name \
                    or name.endswith("norm1.weight") or name.endswith("norm2.weight") \
                    or name == "mlp1_norm.weight":
                p.add_(0.1 * torch.randn(p.shape, generator=generator))


def descriptor(cfg: Dict[str, float], name: str) -> Dict[str, object]:
    return {
        "format": "drivekd-torchscript-vlm",
        "contract_version": CONTRACT_VERSION,
        "name": name,
        "depth": int(cfg["depth"]),
        "heads": int(cfg["heads"]),
        "hidden_size": int(cfg["hidden_size"]),
        "vocab_size": int(cfg["vocab_size"]),
        "tokens_per_image": int(cfg["tokens_per_image"]),
        "image_size": int(cfg["image_size"]),
        "tokenizer": "drivekd-fixture-vocab-" + str(int(cfg["vocab_size"])),
        "dtype": "float32",
        "hidden_states": True,
        "source": "drivekd-teachers/src/test/python/make_fixture.py (torch " + torch.__version__ + ")",
    }


def build(cfg: Dict[str, float], seed: int) -> Tuple[nn.Module, torch.jit.ScriptModule]:
    torch.manual_seed(seed)
    model = TinyInternVL(cfg)
    perturb_norms(model, torch.Generator().manual_seed(seed + 1))
    model.eval()
    return model, torch.jit.script(model)


def save(scripted: torch.jit.ScriptModule, cfg: Dict[str, float], folder: str, name: str) -> str:
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "model.pt")
    scripted.save(path)
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(descriptor(cfg, name), f, indent=2)
        f.write("\n")
    return path


def floats(t: torch.Tensor) -> List[float]:
    # %.9g round-trips float32 exactly.
    return [float("%.9g" % v) for v in t.detach().reshape(-1).tolist()]


def next_token_ce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """drivekd's NextTokenCrossEntropy: per-sample mean over supervised next tokens, then batch mean."""
    pred = logits[:, :-1].float().log_softmax(-1)
    target = labels[:, 1:]
    supervised = target != -100
    picked = pred.gather(2, torch.where(supervised, target, torch.zeros_like(target)).unsqueeze(2)).squeeze(2)
    w = supervised.float()
    return (-(picked * w).sum(1) / w.sum(1).clamp(min=1)).mean()


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "resources", "torchscript"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=default_out)
    args = parser.parse_args()
    torch.set_num_threads(1)

    cfg = {
        "depth": 3, "heads": 4, "kv_heads": 2, "hidden_size": 32, "intermediate": 64,
        "vocab_size": 48, "rope_theta": 1e6, "image_size": 16, "patch": 4, "vision_hidden": 16,
        "vision_heads": 2, "vision_mlp": 32, "vision_depth": 2, "tokens_per_image": 4, "dropout": 0.0,
    }
    model, scripted = build(cfg, seed=1234)
    path = save(scripted, cfg, os.path.join(args.out, "tiny-internvl"), "tiny-internvl")
    loaded = torch.jit.load(path)
    loaded.eval()

    # The fixed input: two samples, right padding, two images, image token placeholder id 3.
    ph = 3
    ids = torch.tensor([
        [1, 5, ph, ph, ph, ph, 7, 8, 9, 10, 11, 12],
        [1, ph, ph, ph, ph, 13, 14, 15, 0, 0, 0, 0],
    ], dtype=torch.int64)
    lengths = [12, 8]
    image_mask = ids == ph
    attention_mask = torch.tensor([[1 if i < n else 0 for i in range(12)] for n in lengths], dtype=torch.int64)
    labels = torch.full_like(ids, -100)
    labels[0, 8:12] = ids[0, 8:12]
    labels[1, 6:8] = ids[1, 6:8]
    pixels = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(7))
    layers = torch.tensor([0, 2], dtype=torch.int64)
    yes = torch.tensor(True)

    with torch.no_grad():
        logits, maps, hiddens = loaded(ids, pixels, image_mask, attention_mask, layers, yes)
        eager = model(ids, pixels, image_mask, attention_mask, layers, yes)
    assert torch.allclose(logits, eager[0], atol=1e-6), "scripted and eager logits differ"
    assert len(maps) == 2 and len(hiddens) == cfg["depth"] + 1
    for m in maps:
        assert m.shape == (2, 4, 12, 12)
        assert torch.allclose(m.sum(-1), torch.ones(2, 4, 12)), "map rows must sum to 1"
        assert float(m.triu(1).abs().max()) == 0.0, "maps must be causal"

    # Text only: N = 0 images as a [0, 3, S, S] tensor, layers [1], no hidden states.
    text_ids = torch.tensor([[1, 20, 21, 22, 23, 24]], dtype=torch.int64)
    no_pixels = torch.zeros(0, 3, 16, 16)
    with torch.no_grad():
        t_logits, t_maps, t_hiddens = loaded(
            text_ids, no_pixels, torch.zeros(1, 6, dtype=torch.bool), torch.ones(1, 6, dtype=torch.int64),
            torch.tensor([1], dtype=torch.int64), torch.tensor(False))
    assert len(t_maps) == 1 and len(t_hiddens) == 0

    # Gradients in training mode: CE alone, and the squared head-averaged layer-0 map alone.
    probe = "layers.0.self_attn.q_proj.weight"
    loaded.train()
    params = dict(loaded.named_parameters())
    out = loaded(ids, pixels, image_mask, attention_mask, layers, torch.tensor(False))
    ce = next_token_ce(out[0], labels)
    ce_grad = torch.autograd.grad(ce, params[probe])[0]
    out = loaded(ids, pixels, image_mask, attention_mask, layers, torch.tensor(False))
    map_loss = out[1][0].mean(1).pow(2).sum()
    map_grad = torch.autograd.grad(map_loss, params[probe])[0]
    vision_probe = "vision_model.patch_embedding.weight"
    out = loaded(ids, pixels, image_mask, attention_mask, layers, torch.tensor(False))
    vision_grad = torch.autograd.grad(next_token_ce(out[0], labels), params[vision_probe])[0]

    expected = {
        "note": "Outputs of tiny-internvl/model.pt in eval mode for the inputs below, from make_fixture.py",
        "torch": torch.__version__,
        "placeholder_id": ph,
        "input_ids": ids.tolist(),
        "lengths": lengths,
        "labels": labels.tolist(),
        "pixel_values": {"shape": list(pixels.shape), "data": floats(pixels)},
        "layers": layers.tolist(),
        "logits": {"shape": list(logits.shape), "data": floats(logits)},
        "maps": [{"layer": int(layer), "shape": list(m.shape), "data": floats(m)}
                 for layer, m in zip(layers.tolist(), maps)],
        "hidden_states": [{"shape": list(h.shape), "data": floats(h)} for h in hiddens],
        "text_only": {
            "input_ids": text_ids.tolist(),
            "layers": [1],
            "logits": {"shape": list(t_logits.shape), "data": floats(t_logits)},
            "maps": [{"layer": 1, "shape": list(t_maps[0].shape), "data": floats(t_maps[0])}],
        },
        "gradients": {
            "parameter": probe,
            "next_token_ce": float("%.9g" % float(ce)),
            "next_token_ce_grad": floats(ce_grad),
            "layer0_map_square_sum": float("%.9g" % float(map_loss)),
            "layer0_map_square_sum_grad": floats(map_grad),
            "vision_parameter": vision_probe,
            "vision_next_token_ce_grad": floats(vision_grad),
        },
        "parameter_count": sum(p.numel() for p in loaded.parameters()),
        "parameter_tensors": len(list(loaded.parameters())),
    }
    with open(os.path.join(args.out, "tiny-internvl", "expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")

    # Route B of docs/torchscript.md: trace what cannot be scripted, script a thin wrapper. Traced
    # at one length, batch and image count; checked at others against the scripted model.
    with torch.no_grad():
        example_ids = torch.tensor([[1, 5, ph, ph, ph, ph, 7, 8]])
        decoder = torch.jit.trace(TracedDecoder(model), (model.embed_tokens(example_ids),
                                                         torch.ones(1, 8, dtype=torch.int64)))
        vision = torch.jit.trace(TracedVision(model), (torch.randn(1, 3, 16, 16),))
    hybrid = torch.jit.script(HybridExport(model.embed_tokens, vision, decoder, int(cfg["tokens_per_image"])))
    assert len(list(hybrid.parameters())) == len(list(model.parameters())), "a weight appears twice"
    hybrid_path = save(hybrid, cfg, os.path.join(args.out, "tiny-hybrid"), "tiny-hybrid")
    hybrid = torch.jit.load(hybrid_path)
    hybrid.eval()
    with torch.no_grad():
        for case in [(ids, pixels, image_mask, attention_mask),
                     (text_ids, no_pixels, torch.zeros(1, 6, dtype=torch.bool), torch.ones(1, 6, dtype=torch.int64))]:
            a = loaded(*case, layers, yes)
            h = hybrid(*case, layers, yes)
            assert torch.allclose(a[0], h[0], atol=1e-6), "hybrid logits differ"
            assert all(torch.allclose(x, y, atol=1e-6) for x, y in zip(a[1], h[1])), "hybrid maps differ"
            assert len(h[2]) == len(a[2])

    micro = dict(cfg, depth=2, heads=2, kv_heads=1, hidden_size=16, intermediate=32, vocab_size=32,
                 vision_hidden=8, vision_mlp=16, vision_depth=1, vision_heads=1)
    _, dropout_model = build(dict(micro, dropout=0.1), seed=99)
    save(dropout_model, micro, os.path.join(args.out, "tiny-dropout"), "tiny-dropout")
    _, broken = build(dict(micro, ignore_layers=True), seed=98)
    save(broken, micro, os.path.join(args.out, "ignores-layers"), "ignores-layers")

    for folder in ("tiny-internvl", "tiny-hybrid", "tiny-dropout", "ignores-layers"):
        for name in sorted(os.listdir(os.path.join(args.out, folder))):
            print(folder + "/" + name, os.path.getsize(os.path.join(args.out, folder, name)), "bytes")
    print("parameters:", expected["parameter_count"], "in", expected["parameter_tensors"], "tensors")


if __name__ == "__main__":
    main()
