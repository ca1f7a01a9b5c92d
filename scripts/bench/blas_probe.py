#!/usr/bin/env python3
"""One OpenBLAS core type, checked and timed, for `npm run bench` (scripts/bench/blas-coretypes.mjs).

OpenBLAS picks its kernels when it loads, from OPENBLAS_CORETYPE or from its own CPU detection,
so every core type needs a fresh process: the caller sets OPENBLAS_CORETYPE (or leaves it unset
for the auto-detected kernels), LD_LIBRARY_PATH and the thread variables, and this script prints
one line `BENCH_JSON {...}` with:

- `core`: the core name OpenBLAS reports (it falls back silently when a core type is unknown or
  not supported by the CPU, so the caller compares it with the one it asked for);
- `checks`: for each matrix product, the float32 product through torch (OpenBLAS sgemm) against
  the same product in float64, as the largest error relative to the rounding-error bound of any
  summation order: max_ij |C32 - C64|_ij / (gamma_K * (|A| |B|)_ij) with gamma_K = K u / (1 - K u),
  u = 2^-24. A correct float32 kernel stays below 1 (the bound is a worst case; typical values are
  0.001-0.05); a wrong kernel (bad instructions, broken blocking) goes far above it;
- `gflops`: the median rate of each product over a few repetitions.

The shapes are those of a maejs preset A training step (tokens x width products of the blocks)
plus the 512^3 square product the benchmark reports as the ceiling.
"""

import argparse
import ctypes
import json
import os
import statistics
import time

import torch

U = 2.0 ** -24


def openblas_core():
    """The core name of the OpenBLAS loaded in this process, or None when torch uses another BLAS."""
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "openblas" in line}
    for path in sorted(paths):
        if path.startswith("/") and os.path.basename(path).startswith("libopenblas"):
            lib = ctypes.CDLL(path)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            lib.openblas_get_config.restype = ctypes.c_char_p
            return {"path": path, "core": lib.openblas_get_corename().decode(), "config": lib.openblas_get_config().decode()}
    return None


def check_product(m, k, n, repeats, generator):
    """Error of the float32 product [m,k]x[k,n] against float64, in units of the bound, and its rate."""
    a64 = torch.randn(m, k, dtype=torch.float64, generator=generator)
    b64 = torch.randn(k, n, dtype=torch.float64, generator=generator)
    a32, b32 = a64.float(), b64.float()
    exact = a32.double() @ b32.double()  # the product of the float32 inputs, in float64
    scale = a32.double().abs() @ b32.double().abs()
    c32 = a32 @ b32
    gamma = k * U / (1 - k * U)
    ratio = ((c32.double() - exact).abs() / (gamma * scale)).max().item()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        a32 @ b32
        times.append(time.perf_counter() - t0)
    return {"shape": [m, k, n], "errorOverBound": ratio, "gflops": 2 * m * k * n / statistics.median(times) / 1e9}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    # preset A at batch 128: encoder 13 tokens x 128 wide (qkv, proj, fc1, fc2), decoder 50 x 64, and 512^3
    shapes = [(128 * 13, 128, 384), (128 * 13, 512, 128), (128 * 50, 64, 256), (128 * 50, 256, 64), (512, 512, 512)]
    checks = [check_product(m, k, n, args.repeats, generator) for m, k, n in shapes]
    print("BENCH_JSON " + json.dumps({
        "requested": os.environ.get("OPENBLAS_CORETYPE"),
        "openblas": openblas_core(),
        "threads": args.threads,
        "torch": torch.__version__,
        "checks": checks,
    }))


if __name__ == "__main__":
    main()
