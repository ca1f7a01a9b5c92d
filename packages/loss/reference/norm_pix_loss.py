#!/usr/bin/env python3
"""Independent float64 reference for maejs's masked MSE with norm_pix_loss.

Writes norm_pix_loss.json beside this script: float32 inputs (pred, target, mask) and the
float64 results of the official `forward_loss` with `norm_pix_loss=True`:

    mean = target.mean(-1, keepdim=True)
    var = target.var(-1, keepdim=True)          # unbiased: divides by n - 1
    target = (target - mean) / (var + 1e-6) ** .5
    loss = ((pred - target) ** 2).mean(-1)      # per patch
    loss = (loss * mask).sum() / mask.sum()     # removed patches only

Needs only numpy (Debian: apt-get install python3-numpy). Run: python3 norm_pix_loss.py
"""
import json
import os

import numpy as np

N, L, K = 2, 6, 12  # K = p*p*C values per patch (e.g. p = 2, C = 3)
EPS = 1e-6

rng = np.random.default_rng(20261130)
target = rng.normal(0.4, 1.5, size=(N, L, K))
target[0, 1] = 0.25  # a constant patch: variance 0, the normalised patch is 0 (eps avoids 0/0)
target[0, 3] = rng.normal(0.0, 1e-3, size=K)  # variance ~1e-6: eps changes the result by ~30%
target[1, 2] *= 40.0  # a large-scale patch
pred = rng.normal(0.0, 1.0, size=(N, L, K))
mask = np.array([[1, 1, 0, 1, 0, 1], [0, 1, 1, 0, 1, 1]], dtype=np.float64)  # 1 = removed

# Inputs as float32 (what maejs computes on); the reference arithmetic is float64 on those values.
target = target.astype(np.float32).astype(np.float64)
pred = pred.astype(np.float32).astype(np.float64)

mean = target.mean(axis=-1, keepdims=True)
var = ((target - mean) ** 2).sum(axis=-1, keepdims=True) / (K - 1)  # unbiased, written out
assert np.allclose(var, target.var(axis=-1, ddof=1, keepdims=True), rtol=1e-12, atol=0)
normalized = (target - mean) / np.sqrt(var + EPS)
per_patch = ((pred - normalized) ** 2).mean(axis=-1)  # [N, L]
loss = float((per_patch * mask).sum() / mask.sum())

out = {
    "about": "float64 reference of the official forward_loss with norm_pix_loss=True "
             "(unbiased variance, eps 1e-6); written by norm_pix_loss.py",
    "shape": [N, L, K],
    "pred": pred.ravel().tolist(),
    "target": target.ravel().tolist(),
    "mask": mask.ravel().tolist(),
    "normalized_target": normalized.ravel().tolist(),
    "per_patch_loss": per_patch.ravel().tolist(),
    "loss": loss,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "norm_pix_loss.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(f"loss {loss!r} -> {path}")
