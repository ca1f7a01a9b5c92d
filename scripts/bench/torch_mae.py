#!/usr/bin/env python3
"""PyTorch reference for `npm run bench`: times one MAE training step (forward, backward,
AdamW step) or encoder-only inference on CPU (or CUDA with --device cuda) and prints one JSON
line prefixed `BENCH_JSON ` per batch size (--batch 64 or --batch 64,256,1024).

A from-scratch PyTorch MAE with the same structure and sizes as maejs (and the official
MaskedAutoencoderViT): Conv2d patch embedding (kernel = stride = p), fixed 2-D sin-cos position
embeddings, cls token, random masking by argsort of uniform noise, pre-norm ViT blocks with a
fused qkv Linear(D, 3D), exact (erf) GELU, LayerNorm eps 1e-6, decoder embedding, mask tokens,
unshuffle by gather, decoder blocks, prediction head and the masked MSE with norm_pix_loss.

Run it with Debian's python3-torch and the pthread OpenBLAS:
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=1 \
  OMP_NUM_THREADS=1 /usr/bin/python3 scripts/bench/torch_mae.py --threads 1 \
    --config '{"imgSize":28,"patchSize":4,"inChans":1,"embedDim":128,"depth":6,"numHeads":4,
               "decoderEmbedDim":64,"decoderDepth":2,"decoderNumHeads":4}' --batch 128
(scripts/bench/run.mjs sets the environment itself.)

With --device cuda (the GPU kit, scripts/bench/gpu-kit) the model, images, masking noise and
AdamW state live on the GPU, every timed step starts and ends with torch.cuda.synchronize(), and
the JSON adds the GPU name and the torch / CUDA / cuDNN versions. Eager fp32: no autocast, no
torch.compile, TF32 off in matmuls and cuDNN convolutions, so both sides compute in fp32.

Config keys are maejs's MaeConfig names (camelCase). Only the standard library and torch are used.
"""

import argparse
import ctypes
import json
import math
import os
import platform
import resource
import statistics
import sys
import time

# Thread counts must be in the environment before torch (and its BLAS) is loaded: run.mjs sets
# them; a direct call gets them here from --threads.
def _early_threads():
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return None


_t = _early_threads()
if _t:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, _t)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

# the same defaults as maejs CONFIG_DEFAULTS (run.mjs always passes normPixLoss explicitly)
DEFAULTS = {"mlpRatio": 4.0, "normPixLoss": False, "maskRatio": 0.75, "layerNormEps": 1e-6, "inChans": 3}


# ---------------------------------------------------------------------------------------------
# Model


def sincos_1d(dim, positions):
    """[len(positions), dim]: sin of pos*omega in the first half, cos in the second."""
    assert dim % 2 == 0
    omega = torch.arange(dim // 2, dtype=torch.float64) / (dim / 2.0)
    omega = 1.0 / (10000.0 ** omega)
    angles = positions.reshape(-1, 1).double() * omega.reshape(1, -1)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


def sincos_2d(dim, grid, with_cls):
    """Fixed 2-D sin-cos embedding of a grid x grid patch layout: half the channels encode the
    column, half the row; an all-zero row for the cls token goes first when with_cls."""
    assert dim % 4 == 0
    rows, cols = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")
    emb = torch.cat([sincos_1d(dim // 2, cols.flatten()), sincos_1d(dim // 2, rows.flatten())], dim=1)
    if with_cls:
        emb = torch.cat([torch.zeros(1, dim, dtype=emb.dtype), emb], dim=0)
    return emb.float().unsqueeze(0)


class SelfAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        assert dim % heads == 0
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        n, t, d = x.shape
        qkv = self.qkv(x).reshape(n, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # [n, heads, t, head_dim]
        scores = (q @ k.transpose(-2, -1)) * self.scale
        weights = scores.softmax(dim=-1)
        out = (weights @ v).transpose(1, 2).reshape(n, t, d)
        return self.proj(out)


class FeedForward(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))  # exact (erf) GELU


class PreNormBlock(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = SelfAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = FeedForward(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TorchMae(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        p, c, D, Dd = cfg["patchSize"], cfg["inChans"], cfg["embedDim"], cfg["decoderEmbedDim"]
        eps = cfg["layerNormEps"]
        self.grid = cfg["imgSize"] // p
        self.num_patches = self.grid * self.grid
        # encoder
        self.patch_embed = nn.Conv2d(c, D, kernel_size=p, stride=p)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        self.register_buffer("pos_embed", sincos_2d(D, self.grid, True))
        self.blocks = nn.ModuleList(
            [PreNormBlock(D, cfg["numHeads"], cfg["mlpRatio"], eps) for _ in range(cfg["depth"])])
        self.norm = nn.LayerNorm(D, eps=eps)
        # decoder
        self.decoder_embed = nn.Linear(D, Dd)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, Dd))
        self.register_buffer("decoder_pos_embed", sincos_2d(Dd, self.grid, True))
        self.decoder_blocks = nn.ModuleList(
            [PreNormBlock(Dd, cfg["decoderNumHeads"], cfg["mlpRatio"], eps) for _ in range(cfg["decoderDepth"])])
        self.decoder_norm = nn.LayerNorm(Dd, eps=eps)
        self.decoder_pred = nn.Linear(Dd, p * p * c)
        self._init_weights()

    def _init_weights(self):
        w = self.patch_embed.weight.data
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.normal_(self.cls_token, std=0.02)
        nn.init.normal_(self.mask_token, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def patchify(self, imgs):
        """[N, C, H, W] -> [N, L, p*p*C] in (p, q, c) order."""
        n, c = imgs.shape[0], imgs.shape[1]
        p, g = self.cfg["patchSize"], self.grid
        x = imgs.reshape(n, c, g, p, g, p)
        x = x.permute(0, 2, 4, 3, 5, 1)  # n, gh, gw, p, q, c
        return x.reshape(n, g * g, p * p * c)

    def embed(self, imgs):
        x = self.patch_embed(imgs).flatten(2).transpose(1, 2)  # [N, L, D]
        return x + self.pos_embed[:, 1:, :]

    def run_encoder_blocks(self, x):
        cls = (self.cls_token + self.pos_embed[:, :1, :]).expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)

    def encode_masked(self, imgs, mask_ratio):
        x = self.embed(imgs)
        n, L, D = x.shape
        keep = int(L * (1 - mask_ratio))
        noise = torch.rand(n, L, device=x.device)
        order = torch.argsort(noise, dim=1)        # ascending: the smallest noise is kept
        restore = torch.argsort(order, dim=1)
        kept = order[:, :keep]
        x = torch.gather(x, 1, kept.unsqueeze(-1).expand(-1, -1, D))
        mask = torch.ones(n, L, device=x.device)
        mask[:, :keep] = 0
        mask = torch.gather(mask, 1, restore)
        return self.run_encoder_blocks(x), mask, restore

    def encode_all(self, imgs):
        return self.run_encoder_blocks(self.embed(imgs))

    def decode(self, latent, restore):
        x = self.decoder_embed(latent)
        n, t, Dd = x.shape
        L = restore.shape[1]
        fill = self.mask_token.expand(n, L + 1 - t, -1)
        body = torch.cat([x[:, 1:, :], fill], dim=1)
        body = torch.gather(body, 1, restore.unsqueeze(-1).expand(-1, -1, Dd))
        x = torch.cat([x[:, :1, :], body], dim=1) + self.decoder_pos_embed
        for blk in self.decoder_blocks:
            x = blk(x)
        x = self.decoder_pred(self.decoder_norm(x))
        return x[:, 1:, :]

    def masked_loss(self, imgs, pred, mask):
        target = self.patchify(imgs)
        if self.cfg["normPixLoss"]:
            mean = target.mean(dim=-1, keepdim=True)
            var = target.var(dim=-1, keepdim=True)  # unbiased, as the official code
            target = (target - mean) / (var + 1e-6) ** 0.5
        per_patch = ((pred - target) ** 2).mean(dim=-1)
        return (per_patch * mask).sum() / mask.sum()

    def forward(self, imgs):
        latent, mask, restore = self.encode_masked(imgs, self.cfg["maskRatio"])
        pred = self.decode(latent, restore)
        return self.masked_loss(imgs, pred, mask)


# ---------------------------------------------------------------------------------------------
# Environment report


def blas_report():
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if path.startswith("/") and any(k in path for k in ("blas", "lapack", "mkl", "gomp", "omp")):
                    libs.add(path)
    except OSError:
        pass
    info = {"loaded": sorted(libs), "torchBlasInfo": None, "openblas": None}
    cfg = torch.__config__.show()
    for part in cfg.replace("\n", ",").split(","):
        if "BLAS_INFO" in part and "LAPACK" not in part:
            info["torchBlasInfo"] = part.strip().split("BLAS_INFO=", 1)[1]
    for path in sorted(libs):
        if "openblas" in os.path.basename(path):
            try:
                lib = ctypes.CDLL(path)
                lib.openblas_get_config.restype = ctypes.c_char_p
                lib.openblas_get_corename.restype = ctypes.c_char_p
                info["openblas"] = {
                    "path": path,
                    "config": lib.openblas_get_config().decode(),
                    "core": lib.openblas_get_corename().decode(),
                    "threads": lib.openblas_get_num_threads(),
                }
                info["_lib"] = lib
            except (OSError, AttributeError):
                pass
            break
    return info


def set_openblas_threads(info, threads):
    lib = info.get("_lib")
    if lib is not None:
        lib.openblas_set_num_threads(ctypes.c_int(threads))
        info["openblas"]["threads"] = lib.openblas_get_num_threads()


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_probe(device, n=512, reps=5):
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    for _ in range(2):
        a @ b
    times = []
    for _ in range(reps):
        synchronize(device)
        t0 = time.perf_counter()
        a @ b
        synchronize(device)
        times.append(time.perf_counter() - t0)
    return {"n": n, "gflops": 2 * n ** 3 / statistics.median(times) / 1e9}


def device_report(device):
    """GPU name, memory and the torch / CUDA / cuDNN versions (None on CPU)."""
    if device.type != "cuda":
        return None
    props = torch.cuda.get_device_properties(device)
    return {
        "name": torch.cuda.get_device_name(device),
        "capability": "%d.%d" % (props.major, props.minor),
        "memoryBytes": props.total_memory,
        "multiProcessors": props.multi_processor_count,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "tf32Matmul": torch.backends.cuda.matmul.allow_tf32,
        "tf32Cudnn": torch.backends.cudnn.allow_tf32,
    }


# ---------------------------------------------------------------------------------------------
# Main


def batch_list(text):
    try:
        batches = [int(b) for b in text.split(",")]
    except ValueError:
        batches = []
    if not batches or any(b < 1 for b in batches):
        raise argparse.ArgumentTypeError("expected a positive integer or a comma-separated list of them, got %r" % text)
    return batches


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True, help="MaeConfig JSON (maejs names)")
    ap.add_argument("--batch", type=batch_list, required=True, help="batch size, or a list: 64,256,1024")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu", help="cpu or cuda (cuda:N)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--mode", choices=["train", "encoder"], default="train")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=1.5e-4)
    ap.add_argument("--no-probe", action="store_true", help="skip the 512^3 matmul probe")
    args = ap.parse_args()

    cfg = dict(DEFAULTS)
    cfg.update(json.loads(args.config))
    try:
        device = torch.device(args.device)
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        ap.error("--device: expected cpu or cuda[:N], got %s" % args.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            ap.error("--device %s: torch %s has no usable CUDA device here (torch.version.cuda %s)" % (args.device, torch.__version__, torch.version.cuda))
        # fp32 throughout, as maejs computes: no TF32 in matmuls (torch's default) nor in cuDNN convolutions
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    blas = blas_report()
    set_openblas_threads(blas, args.threads)

    model = TorchMae(cfg).to(device)
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    gpu = device_report(device)
    blas.pop("_lib", None)
    for i, batch in enumerate(args.batch):
        result = measure(model, cfg, device, batch, args)
        probe = matmul_probe(device) if i == 0 and not args.no_probe else None
        result.update({
            "impl": "torch",
            "backend": "torch-cuda" if device.type == "cuda" else "torch-cpu-%dt" % args.threads,
            "device": str(device),
            "mode": args.mode,
            "batch": batch,
            "config": cfg,
            "params": n_params,
            "threads": args.threads,
            "torchThreads": torch.get_num_threads(),
            "warmup": args.warmup,
            "repeats": args.repeats,
            "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "matmulProbe": probe,
            "gpu": gpu,
            "versions": {
                "torch": torch.__version__,
                "python": platform.python_version(),
                "cuda": torch.version.cuda,
                "blas": blas,
            },
        })
        print("BENCH_JSON " + json.dumps(result), flush=True)


def measure(model, cfg, device, batch, args):
    """Warm-up and timed steps at one batch size; a fresh AdamW for each batch size."""
    imgs = torch.randn(batch, cfg["inChans"], cfg["imgSize"], cfg["imgSize"], device=device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    if args.mode == "train":
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.05)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = model(imgs)
            loss.backward()
            opt.step()
            return loss.item()
    else:
        model.eval()

        def step():
            with torch.inference_mode():
                out = model.encode_all(imgs)
            return float(out[0, 0, 0])

    first = None
    for _ in range(args.warmup):
        v = step()
        if first is None:
            first = v
    times = []
    value = None
    for _ in range(args.repeats):
        synchronize(device)
        t0 = time.perf_counter()
        value = step()
        synchronize(device)
        times.append((time.perf_counter() - t0) * 1000.0)
        if first is None:
            first = value

    med = statistics.median(times) if times else float("nan")
    return {
        "stepMs": times,
        "medianMs": med,
        "minMs": min(times) if times else None,
        "maxMs": max(times) if times else None,
        "imagesPerSec": batch / (med / 1000.0) if times else None,
        "firstValue": first,
        "lastValue": value,
        "gpuPeakBytes": torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None,
    }


if __name__ == "__main__":
    main()
