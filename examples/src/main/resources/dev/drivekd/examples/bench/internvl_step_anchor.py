"""PyTorch eager anchor for `drivekd bench model` and `drivekd bench eval`.

Rebuilds a native drivekd InternVL-shaped model in plain PyTorch from the files drivekd wrote
(config.json + model.safetensors), checks that its logits equal drivekd's on the same batch, and
times the same training step: forward with the requested layers' attention maps, loss = next-token
CE on the answer tokens + sum over requested layers of mean(head-averaged map ** 2), backward.

Usage: python3 internvl_step_anchor.py DIR --threads N [--repeats R | --serve | --decode]
With --serve the script prints one JSON line after its parity check and warm-up, then times one
step for every line "step" read on stdin (answering {"ms": ..., "forward_ms": ...}), or measures
one step's peak memory for "peak" ({"peak_mb": ...}), until "quit", so that the caller can
interleave its own steps with these.
DIR holds config.json, model.safetensors and batch.safetensors (input_ids, pixel_values,
image_mask, labels, expected_logits, layers).
With --decode it serves greedy decoding with a key/value cache instead (bench eval): DIR holds
decode.safetensors (input_ids, pixel_values, image_mask, expected_tokens, vocabulary); it checks
its tokens against drivekd's, then decodes once per line "decode" ({"first_ms", "total_ms"}).
Prints JSON on stdout.
Needs only torch and numpy (Debian's python3-torch is enough); drivekd never requires Python.
"""
import argparse
import gc
import json
import math
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8,
          "BOOL": np.bool_, "F16": np.float16, "I8": np.int8}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(data[base + start:base + end], dtype=DTYPES[info["dtype"]])
        out[name] = torch.from_numpy(array.reshape(info["shape"]).copy())
    return out


class VisionAttention(nn.Module):
    def __init__(self, c, heads):
        super().__init__()
        self.heads, self.head_dim = heads, c // heads
        self.qkv = nn.Linear(c, 3 * c)
        self.proj = nn.Linear(c, c)

    def forward(self, x):
        n, t, c = x.shape
        qkv = self.qkv(x).reshape(n, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        p = (q * self.head_dim ** -0.5) @ k.transpose(-2, -1)
        return self.proj((p.softmax(-1) @ v).transpose(1, 2).reshape(n, t, c))


class VisionLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c, eps = cfg["hidden_size"], cfg["layer_norm_eps"]
        self.norm1 = nn.LayerNorm(c, eps=eps)
        self.attn = VisionAttention(c, cfg["num_attention_heads"])
        self.norm2 = nn.LayerNorm(c, eps=eps)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(c, cfg["intermediate_size"])
        self.mlp.fc2 = nn.Linear(cfg["intermediate_size"], c)
        self.scaled = cfg["layer_scale_init"] > 0
        if self.scaled:
            self.ls1 = nn.Parameter(torch.ones(c))
            self.ls2 = nn.Parameter(torch.ones(c))

    def forward(self, x):
        a = self.attn(self.norm1(x))
        x = x + (a * self.ls1 if self.scaled else a)
        m = self.mlp.fc2(F.gelu(self.mlp.fc1(self.norm2(x))))
        return x + (m * self.ls2 if self.scaled else m)


class VisionModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c, p = cfg["hidden_size"], cfg["patch_size"]
        grid = cfg["image_size"] // p
        self.embeddings = nn.Module()
        self.embeddings.class_embedding = nn.Parameter(torch.zeros(1, 1, c))
        self.embeddings.patch_embedding = nn.Conv2d(3, c, p, stride=p)
        self.embeddings.position_embedding = nn.Parameter(torch.zeros(1, grid * grid + 1, c))
        self.encoder = nn.Module()
        self.encoder.layers = nn.ModuleList(VisionLayer(cfg) for _ in range(cfg["num_hidden_layers"]))

    def forward(self, pixels):
        e = self.embeddings
        patches = e.patch_embedding(pixels).flatten(2).transpose(1, 2)
        x = torch.cat([e.class_embedding.expand(pixels.shape[0], -1, -1), patches], 1)
        x = x + e.position_embedding
        for layer in self.encoder.layers:
            x = layer(x)
        return x


class RmsNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


class DecoderAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, self.heads, self.kv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
        self.head_dim = d // self.heads
        self.q_proj = nn.Linear(d, self.heads * self.head_dim)
        self.k_proj = nn.Linear(d, self.kv * self.head_dim)
        self.v_proj = nn.Linear(d, self.kv * self.head_dim)
        self.o_proj = nn.Linear(self.heads * self.head_dim, d, bias=False)

    def forward(self, x, cos, sin, mask, cache=None):
        b, n, _ = x.shape
        q = self.q_proj(x).view(b, n, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, n, self.kv, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, n, self.kv, self.head_dim).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        if cache is not None:  # generation: keys and values of earlier positions are kept
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
        t = k.shape[2]
        g = self.heads // self.kv  # Hugging Face repeat_kv
        k = k[:, :, None].expand(b, self.kv, g, t, self.head_dim).reshape(b, self.heads, t, self.head_dim)
        v = v[:, :, None].expand(b, self.kv, g, t, self.head_dim).reshape(b, self.heads, t, self.head_dim)
        s = q @ k.transpose(2, 3) / math.sqrt(self.head_dim) + mask
        p = s.softmax(-1, dtype=torch.float32).to(q.dtype)
        out = (p @ v).transpose(1, 2).reshape(b, n, -1)
        return self.o_proj(out), p


class DecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, i = cfg["hidden_size"], cfg["intermediate_size"]
        self.input_layernorm = RmsNorm(d, cfg["rms_norm_eps"])
        self.self_attn = DecoderAttention(cfg)
        self.post_attention_layernorm = RmsNorm(d, cfg["rms_norm_eps"])
        self.mlp = nn.Module()
        self.mlp.gate_proj = nn.Linear(d, i, bias=False)
        self.mlp.up_proj = nn.Linear(d, i, bias=False)
        self.mlp.down_proj = nn.Linear(i, d, bias=False)

    def forward(self, x, cos, sin, mask, cache=None):
        a, p = self.self_attn(self.input_layernorm(x), cos, sin, mask, cache)
        x = x + a
        h = self.post_attention_layernorm(x)
        return x + self.mlp.down_proj(F.silu(self.mlp.gate_proj(h)) * self.mlp.up_proj(h)), p


class InternVl(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        v, lm = cfg["vision"], cfg["language"]
        self.cfg = cfg
        self.vision_model = VisionModel(v)
        c, d = v["hidden_size"], lm["hidden_size"]
        self.mlp1 = nn.Sequential(nn.LayerNorm(4 * c, eps=cfg["projector"]["layer_norm_eps"]),
                                  nn.Linear(4 * c, d), nn.GELU(), nn.Linear(d, d))
        self.language_model = nn.Module()
        self.language_model.model = nn.Module()
        m = self.language_model.model
        m.embed_tokens = nn.Embedding(lm["vocab_size"], d)
        m.layers = nn.ModuleList(DecoderLayer(lm) for _ in range(lm["num_hidden_layers"]))
        m.norm = RmsNorm(d, lm["rms_norm_eps"])
        self.language_model.lm_head = nn.Linear(d, lm["vocab_size"], bias=False)
        hd = d // lm["num_attention_heads"]
        self.inv_freq = 1.0 / (lm["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))

    def extract_feature(self, pixels):
        x = self.vision_model(pixels)[:, 1:, :]
        n, t, c = x.shape
        g = int(round(t ** 0.5))
        x = x.reshape(n, g, g, c)
        # pixel shuffle 0.5, ps_version v2
        x = x.reshape(n, g, g // 2, 2 * c).permute(0, 2, 1, 3).reshape(n, g // 2, g // 2, 4 * c).permute(0, 2, 1, 3)
        return self.mlp1(x.reshape(n, -1, 4 * c))

    def forward(self, ids, pixels, image_mask, layers):
        m = self.language_model.model
        x = m.embed_tokens(ids)
        if pixels is not None and pixels.shape[0] > 0:
            vis = self.extract_feature(pixels).reshape(-1, x.shape[-1])
            x = x.masked_scatter(image_mask[..., None].expand_as(x), vis)
        n = ids.shape[1]
        f = torch.outer(torch.arange(n, dtype=torch.float32), self.inv_freq)
        emb = torch.cat([f, f], -1)
        cos, sin = emb.cos(), emb.sin()
        mask = torch.full((n, n), torch.finfo(torch.float32).min).triu(1)
        maps = {}
        for i, layer in enumerate(m.layers):
            x, p = layer(x, cos, sin, mask)
            if i in layers:
                maps[i] = p.mean(1)
        return self.language_model.lm_head(m.norm(x)), maps


def generate(model, ids, pixels, image_mask, new_tokens, vocabulary):
    """Greedy decoding with a key/value cache, as drivekd's InternVlModel.generate: the prompt
    once, then one token at a time over ids 0..vocabulary-1. Returns the tokens and the
    milliseconds to the first token and to the last."""
    m = model.language_model.model
    t0 = time.perf_counter()
    with torch.no_grad():
        x = m.embed_tokens(ids)
        if pixels is not None and pixels.shape[0] > 0:
            vis = model.extract_feature(pixels).reshape(-1, x.shape[-1])
            x = x.masked_scatter(image_mask[..., None].expand_as(x), vis)
        caches = [dict() for _ in m.layers]
        n = ids.shape[1]
        tokens, first_ms = [], None
        position = 0
        while True:
            length = x.shape[1]
            f = torch.outer(torch.arange(position, position + length, dtype=torch.float32), model.inv_freq)
            emb = torch.cat([f, f], -1)
            cos, sin = emb.cos(), emb.sin()
            mask = torch.full((length, length), torch.finfo(torch.float32).min).triu(1)
            if position > 0:
                mask = torch.zeros(length, position + length)
            h = x
            for layer, cache in zip(m.layers, caches):
                h, _ = layer(h, cos, sin, mask, cache)
            logits = model.language_model.lm_head(m.norm(h[:, -1:]))
            token = int(logits[0, -1, :vocabulary].argmax())
            tokens.append(token)
            if first_ms is None:
                first_ms = (time.perf_counter() - t0) * 1e3
            if len(tokens) == new_tokens:
                break
            position += length
            x = m.embed_tokens(torch.tensor([[token]]))
    return tokens, first_ms, (time.perf_counter() - t0) * 1e3


def decode_main(args, model):
    batch = read_safetensors(f"{args.dir}/decode.safetensors")
    ids, pixels = batch["input_ids"], batch["pixel_values"]
    mask = batch["image_mask"].bool()
    expected = batch["expected_tokens"].tolist()
    vocabulary = int(batch["vocabulary"].item())
    model.eval()
    tokens, _, _ = generate(model, ids, pixels, mask, len(expected), vocabulary)
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library(),
            "tokens_equal": tokens == expected,
            "first_difference": next((i for i, (a, b) in enumerate(zip(tokens, expected)) if a != b), None)}
    print(json.dumps(info), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "decode":
            _, first_ms, total_ms = generate(model, ids, pixels, mask, len(expected), vocabulary)
            print(json.dumps({"first_ms": first_ms, "total_ms": total_ms}), flush=True)
        elif command == "quit":
            break
        else:
            sys.exit(f"unknown command {command!r}")


def step_loss(model, batch, layers):
    logits, maps = model(batch["input_ids"], batch["pixel_values"], batch["image_mask"], layers)
    ce = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), batch["labels"][:, 1:].reshape(-1),
                         ignore_index=-100)
    return ce + sum(mp.pow(2).mean() for mp in maps.values()), logits


def blas_library():
    """The BLAS shared library this process loaded (Debian: the libblas.so.3 alternative)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
    except OSError:
        return None
    return ", ".join(sorted(paths)) or None


def timed_step(model, batch, layers):
    """One step's milliseconds: the whole step and its forward + loss part.

    The step ends when its tensors are released (the loss, whose autograd graph holds the step's
    nodes, and the logits), as drivekd's step ends when it closes the step's arrays. The gradient
    buffers stay allocated and are zeroed before the step, untimed, as drivekd's are (and as both
    keep them between the micro-steps of an accumulated update): setting them to None would make
    the step allocate them inside the timing and the resident memory before the step include
    buffers that the step first frees."""
    model.zero_grad(set_to_none=False)
    t0 = time.perf_counter()
    loss, logits = step_loss(model, batch, layers)
    t1 = time.perf_counter()
    loss.backward()
    del loss, logits
    t2 = time.perf_counter()
    return (t2 - t0) * 1e3, (t1 - t0) * 1e3


def status_kb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    return None


def peak_step_mb(model, batch, layers):
    """The rise of resident memory during one step over the resident size before it (MiB), as
    drivekd's bench measures its own: peak reset through /proc/self/clear_refs, then VmHWM."""
    gc.collect()
    base = status_kb("VmRSS:")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return None
    timed_step(model, batch, layers)
    peak = status_kb("VmHWM:")
    return None if base is None or peak is None else max(0, peak - base) / 1024.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--decode", action="store_true",
                        help="serve greedy decoding with a key/value cache on decode.safetensors:"
                             " print one JSON line (parity of the tokens), then decode once per"
                             " line 'decode' read on stdin (printing first-token and total ms)")
    parser.add_argument("--serve", action="store_true",
                        help="after the parity check print one JSON line, then time one step per"
                             " line 'step' read on stdin (printing step and forward ms) until 'quit'")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with open(f"{args.dir}/config.json") as f:
        cfg = json.load(f)
    model = InternVl(cfg)
    weights = read_safetensors(f"{args.dir}/model.safetensors")
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if missing or unexpected:
        sys.exit(f"weights do not match the anchor model: missing {missing}, unexpected {unexpected}")
    if args.decode:
        decode_main(args, model)
        return
    batch = read_safetensors(f"{args.dir}/batch.safetensors")
    batch["image_mask"] = batch["image_mask"].bool()
    layers = set(int(i) for i in batch["layers"].tolist())
    model.train()
    loss, logits = step_loss(model, batch, layers)
    diff = (logits.detach() - batch["expected_logits"]).abs().max().item()
    first_loss = loss.item()
    loss.backward()
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library(),
            "max_abs_logit_diff": diff, "loss": first_loss}
    if args.serve:
        timed_step(model, batch, layers)  # warm-up
        print(json.dumps(info), flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "step":
                ms, forward_ms = timed_step(model, batch, layers)
                print(json.dumps({"ms": ms, "forward_ms": forward_ms}), flush=True)
            elif command == "peak":
                print(json.dumps({"peak_mb": peak_step_mb(model, batch, layers)}), flush=True)
            elif command == "quit":
                break
            else:
                sys.exit(f"unknown command {command!r}")
        return
    times = sorted(timed_step(model, batch, layers)[0] for _ in range(args.repeats))
    info["step_ms"] = times[len(times) // 2]
    print(json.dumps(info))


if __name__ == "__main__":
    main()
