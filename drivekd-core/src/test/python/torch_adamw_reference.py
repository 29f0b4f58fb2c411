"""Expected values for PyTorchAdamWTest and GradientClippingTest, from torch itself.

Run with a PyTorch that has the single-tensor AdamW (Debian's python3-torch 1.13 was used):
    /usr/bin/python3 drivekd-core/src/test/python/torch_adamw_reference.py
It rewrites ../resources/dev/drivekd/core/train/optimizer/torch_adamw_reference.json. CI does not run it;
the JSON is committed. Gradients are float32 values drawn from a seeded numpy generator, with a
few tiny and zero entries so that eps matters.
"""
import json
import math
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "dev", "drivekd", "core", "train", "optimizer",
                   "torch_adamw_reference.json")


def lr_lambda(kind, total, warmup, min_ratio):
    # trainer.py L888-910
    def f(step):
        if total <= 0:
            return 1.0
        if warmup > 0 and step < warmup:
            return float(step) / float(max(1, warmup))
        remain = max(1, total - warmup)
        prog = max(0.0, min(1.0, float(step - warmup) / float(remain)))
        if kind == "linear":
            return max(min_ratio, 1.0 - prog)
        return max(min_ratio, 0.5 * (1.0 + math.cos(math.pi * prog)))
    return f


def f32list(a):
    return [float(x) for x in np.asarray(a, dtype=np.float32).reshape(-1)]


def adamw_case(name, shapes, steps, lr, betas, eps, wd, schedule, seed, tiny=False):
    rng = np.random.default_rng(seed)
    init = [rng.uniform(-1, 1, size=s).astype(np.float32) for s in shapes]
    params = [torch.nn.Parameter(torch.tensor(x)) for x in init]
    opt = torch.optim.AdamW(params, lr=lr, betas=betas, eps=eps, weight_decay=wd, foreach=False)
    sched = None
    if schedule is not None:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(*schedule))
    records = []
    for t in range(steps):
        grads = []
        for s in shapes:
            g = rng.normal(0, 1, size=s).astype(np.float32)
            if tiny:
                g = (g * np.float32(1e-9)).astype(np.float32)
            flat = g.reshape(-1)
            flat[t % flat.size] = 0.0  # one exact zero per step
            grads.append(g)
        lr_used = opt.param_groups[0]["lr"]
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if sched is not None:
            sched.step()
        rec = {"grads": [f32list(g) for g in grads], "lr": lr_used, "params": [], "exp_avg": [],
               "exp_avg_sq": [], "step": []}
        for p in params:
            st = opt.state[p]
            rec["params"].append(f32list(p.detach().numpy()))
            rec["exp_avg"].append(f32list(st["exp_avg"].numpy()))
            rec["exp_avg_sq"].append(f32list(st["exp_avg_sq"].numpy()))
            rec["step"].append(int(st["step"].item()))
        records.append(rec)
    return {
        "name": name,
        "shapes": [list(s) for s in shapes],
        "lr": lr, "betas": list(betas), "eps": eps, "weight_decay": wd,
        "schedule": None if schedule is None else {
            "type": schedule[0], "total": schedule[1], "warmup": schedule[2], "min_ratio": schedule[3]},
        "initial": [f32list(x) for x in init],
        "steps": records,
    }


def clip_case(name, grads, max_norm):
    params = [torch.nn.Parameter(torch.zeros(len(g))) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.tensor(np.asarray(g, dtype=np.float32))
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return {"name": name, "max_norm": max_norm, "grads": [f32list(g) for g in grads],
            "total_norm": float(total.item()),
            "clipped": [f32list(p.grad.numpy()) for p in params]}


def main():
    cases = [
        adamw_case("reference_student_lr5e-5", [(2, 3)], 5, 5e-5, (0.9, 0.999), 1e-8, 0.0, None, 1),
        adamw_case("tiny_gradients_eps_matters", [(4,)], 4, 1e-3, (0.9, 0.999), 1e-8, 0.0, None, 2,
                   tiny=True),
        adamw_case("weight_decay_cosine_schedule", [(3,), (2, 2)], 6, 1e-2, (0.8, 0.95), 1e-6, 0.1,
                   ("cosine", 4, 1, 0.1), 3),
        adamw_case("large_lr_linear_schedule", [(5,)], 5, 0.1, (0.9, 0.999), 1e-8, 0.01,
                   ("linear", 5, 0, 0.2), 4),
    ]
    clips = [
        clip_case("clipped", [[3.0, 4.0], [12.0]], 1.0),
        clip_case("below_max_norm", [[0.3, -0.4], [0.0]], 1.0),
        clip_case("clipped_max_norm_2_5", [[1.5, -2.0, 0.25], [-0.5, 3.0]], 2.5),
    ]
    with open(OUT, "w") as f:
        json.dump({"torch_version": torch.__version__, "adamw": cases, "clip_grad_norm": clips}, f,
                  indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
