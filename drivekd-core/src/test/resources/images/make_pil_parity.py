#!/usr/bin/python3
"""Writes the small test images and pil_parity.json: what PIL gives for them.

Run from this folder with Debian's Pillow (apt-get install -y python3-pil; /usr/bin/python3
make_pil_parity.py). CI has no Python: the images and the JSON are committed. For each image the
JSON holds PIL's convert("RGB") pixels and its resize((s, s), BICUBIC) pixels for a few sizes,
as flat HWC lists of 0..255. For the camera-sized synthetic image (1600x900, as nuScenes) it
holds SHA-256 hashes of the HWC bytes instead, plus a few sample pixels.
"""
import hashlib
import json
import random

import PIL
from PIL import Image

SIZES = [1, 3, 4, 7, 16, 20]
rng = random.Random(20240611)


def noise(w, h, channels):
    return bytes(rng.randrange(256) for _ in range(w * h * channels))


def smooth(w, h):
    # a smooth pattern plus noise: exercises both flat and sharp regions
    out = bytearray()
    for y in range(h):
        for x in range(w):
            out += bytes(((x * 255) // (w - 1), (y * 255) // (h - 1), ((x + y) * 37 + rng.randrange(40)) % 256))
    return bytes(out)


images = {}
Image.frombytes("RGB", (13, 9), noise(13, 9, 3)).save("rgb_noise_13x9.png")
images["rgb_noise_13x9.png"] = None
Image.frombytes("RGB", (17, 11), smooth(17, 11)).save("rgb_smooth_17x11.png")
images["rgb_smooth_17x11.png"] = None
Image.frombytes("L", (10, 7), noise(10, 7, 1)).save("grey_10x7.png")
images["grey_10x7.png"] = None
Image.frombytes("LA", (6, 5), noise(6, 5, 2)).save("grey_alpha_6x5.png")
images["grey_alpha_6x5.png"] = None
Image.frombytes("RGBA", (8, 8), noise(8, 8, 4)).save("rgba_8x8.png")
images["rgba_8x8.png"] = None
pal = Image.frombytes("P", (9, 6), bytes(rng.randrange(16) for _ in range(9 * 6)))
pal.putpalette([rng.randrange(256) for _ in range(16 * 3)])
pal.save("palette_9x6.png")
images["palette_9x6.png"] = None
Image.frombytes("RGB", (16, 12), smooth(16, 12)).save("rgb_16x12.jpg", quality=95)
images["rgb_16x12.jpg"] = None

out = {"pillow": PIL.__version__, "sizes": SIZES, "images": {}}
for name in images:
    im = Image.open(name)
    mode = im.mode
    rgb = im.convert("RGB")
    entry = {"mode": mode, "width": rgb.width, "height": rgb.height, "rgb": list(rgb.tobytes()), "resized": {}}
    for s in SIZES:
        entry["resized"][str(s)] = list(rgb.resize((s, s), Image.BICUBIC).tobytes())
    out["images"][name] = entry


def camera(w, h):
    # gradients plus a checkerboard-modulated pattern: sharp edges and smooth areas, small as PNG
    out = bytearray()
    for y in range(h):
        for x in range(w):
            checker = x * 3 if (x // 40 + y // 40) % 2 else 0
            out += bytes(((x * 255) // (w - 1), (y * 255) // (h - 1), ((x // 8) * (y // 8) * 7 + checker) & 255))
    return bytes(out)


Image.frombytes("RGB", (1600, 900), camera(1600, 900)).save("camera_1600x900.png", optimize=True)
big = Image.open("camera_1600x900.png").convert("RGB")
hashed = {"width": big.width, "height": big.height, "rgb_sha256": hashlib.sha256(big.tobytes()).hexdigest(), "resized": {}}
for s in [448, 224, 37]:
    r = big.resize((s, s), Image.BICUBIC).tobytes()
    hashed["resized"][str(s)] = {"sha256": hashlib.sha256(r).hexdigest(), "first": list(r[:12]), "center": list(r[((s // 2) * s + s // 2) * 3:((s // 2) * s + s // 2) * 3 + 3])}
out["hashed"] = {"camera_1600x900.png": hashed}

with open("pil_parity.json", "w") as f:
    json.dump(out, f, separators=(",", ":"))
    f.write("\n")
