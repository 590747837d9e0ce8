"""Timing runs behind Training/PLAN.md: forward+backward step times, on this
CPU, of stand-ins with the planned sizes of the three training stages
(torch, 2 threads).  Stand-ins only: the real modules are written in the
training phase; what matters here is the arithmetic per step.

Usage: python bench_plan.py [--threads 2] [--steps 3]
"""

from __future__ import annotations

import argparse
import json
import time

import cpu_env  # noqa: F401  (sets OPENBLAS_CORETYPE before torch loads OpenBLAS)
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    """Pre-LN transformer block (open_clip ResidualAttentionBlock layout)."""

    def __init__(self, d, heads, causal=False):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        self.causal = causal

    def forward(self, x):
        h = self.ln_1(x)
        mask = None
        if self.causal:
            n = x.shape[1]
            mask = torch.triu(torch.full((n, n), float("-inf")), 1)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class ViT(nn.Module):
    def __init__(self, R=64, patch=8, d=256, layers=6, heads=4, out=256):
        super().__init__()
        self.conv1 = nn.Conv2d(3, d, patch, patch, bias=False)
        n = (R // patch) ** 2
        self.class_embedding = nn.Parameter(torch.zeros(d))
        self.positional_embedding = nn.Parameter(torch.zeros(n + 1, d))
        self.ln_pre = nn.LayerNorm(d)
        self.blocks = nn.ModuleList([Block(d, heads) for _ in range(layers)])
        self.ln_post = nn.LayerNorm(d)
        self.proj = nn.Parameter(torch.zeros(d, out))

    def forward(self, x):
        x = self.conv1(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_embedding.expand(x.shape[0], 1, -1), x], 1) + self.positional_embedding
        x = self.ln_pre(x)
        for b in self.blocks:
            x = b(x)
        return self.ln_post(x[:, 0]) @ self.proj, x[:, 1:]


class TextTower(nn.Module):
    def __init__(self, vocab=390, d=256, layers=4, heads=4, n=32):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.zeros(n, d))
        self.blocks = nn.ModuleList([Block(d, heads, causal=True) for _ in range(layers)])
        self.ln = nn.LayerNorm(d)

    def forward(self, ids):
        x = self.emb(ids) + self.pos[: ids.shape[1]]
        for b in self.blocks:
            x = b(x)
        return self.ln(x)


class Perceiver(nn.Module):
    def __init__(self, d=256, depth=2, latents=32, heads=4, frames=10):
        super().__init__()
        self.latents = nn.Parameter(torch.randn(latents, d))
        self.frame_embs = nn.Parameter(torch.zeros(frames, 1, d))
        self.layers = nn.ModuleList([nn.ModuleList([nn.LayerNorm(d), nn.LayerNorm(d),
                                                    nn.MultiheadAttention(d, heads, batch_first=True),
                                                    nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 4 * d), nn.GELU(),
                                                                  nn.Linear(4 * d, d))]) for _ in range(depth)])
        self.norm = nn.LayerNorm(d)

    def forward(self, x):  # (b, F, v, d)
        b, f, v, d = x.shape
        x = (x + self.frame_embs[:f]).reshape(b, f * v, d)
        lat = self.latents.expand(b, -1, -1)
        for ln_m, ln_l, attn, ff in self.layers:
            xm, lt = ln_m(x), ln_l(lat)
            kv = torch.cat([xm, lt], 1)
            lat = lat + attn(lt, kv, kv, need_weights=False)[0]
            lat = lat + ff(lat)
        return self.norm(lat)


class XAttnLM(nn.Module):
    """Frozen-LM stand-in with a gated cross-attention block before every layer."""

    def __init__(self, vocab=390, d=256, layers=4, heads=4, dv=256):
        super().__init__()
        self.lm = TextTower(vocab, d, layers, heads, n=96)
        for p in self.lm.parameters():
            p.requires_grad_(False)
        self.x = nn.ModuleList([nn.MultiheadAttention(d, heads, kdim=dv, vdim=dv, batch_first=True)
                                for _ in range(layers)])
        self.xln = nn.ModuleList([nn.LayerNorm(d) for _ in range(layers)])
        self.gates = nn.Parameter(torch.zeros(layers))
        self.head = nn.Linear(d, vocab, bias=False)

    def forward(self, ids, media):
        x = self.lm.emb(ids) + self.lm.pos[: ids.shape[1]]
        for i, b in enumerate(self.lm.blocks):
            h = self.xln[i](x)
            x = x + torch.tanh(self.gates[i]) * self.x[i](h, media, media, need_weights=False)[0]
            x = b(x)
        return self.head(self.lm.ln(x))


def timeit(fn, steps):
    fn()
    t = time.time()
    for _ in range(steps):
        fn()
    return (time.time() - t) / steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    steps = a.steps
    res = {}
    x = torch.randn(1024, 1024)
    res["sgemm_1024_GFLOPs"] = round(2 * 1024 ** 3 / timeit(lambda: x @ x, 10) / 1e9, 1)

    # stage 1: CLIP-style contrastive pre-training of the vision tower
    for d, L in ((128, 4), (160, 4), (192, 6)):
        vit = ViT(d=d, layers=L, heads=4, out=d)
        txt = TextTower(d=d, layers=2, heads=4)
        opt = torch.optim.AdamW(list(vit.parameters()) + list(txt.parameters()), 1e-3)
        B = 256
        img = torch.randn(B, 3, 64, 64)
        ids = torch.randint(0, 390, (B, 24))

        def clip_step():
            pooled, _ = vit(img)
            t = txt(ids)[:, -1]
            logits = F.normalize(pooled, dim=-1) @ F.normalize(t, dim=-1).T * 20
            loss = F.cross_entropy(logits, torch.arange(B)) + F.cross_entropy(logits.T, torch.arange(B))
            opt.zero_grad()
            loss.backward()
            opt.step()

        res[f"stage1_vit{d}x{L}+txt{d}x2: train frames/s"] = round(B / timeit(clip_step, steps), 1)
        with torch.no_grad():
            res[f"vit{d}x{L}: encode frames/s (no grad)"] = round(B / timeit(lambda: vit(img), steps), 1)
        res[f"vit{d}x{L}: params M"] = round(sum(p.numel() for p in vit.parameters()) / 1e6, 2)

    # stage 2: LM pre-training on the world's text
    for d, L in ((192, 4), (256, 4)):
        lm = TextTower(d=d, layers=L, heads=4, n=96)
        head = nn.Linear(d, 390, bias=False)
        opt = torch.optim.AdamW(list(lm.parameters()) + list(head.parameters()), 1e-3)
        ids = torch.randint(0, 390, (64, 64))

        def lm_step():
            loss = F.cross_entropy(head(lm(ids)).reshape(-1, 390), ids.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()

        res[f"stage2_lm{d}x{L}: train sequences(64 tok)/s"] = round(64 / timeit(lm_step, steps), 1)

    # stage 3: Flamingo (frozen ViT tokens cached; perceiver + gated xattn trained, LM frozen)
    for dv, dl, lat in ((128, 192, 16), (160, 256, 32)):
        per = Perceiver(d=dv, depth=2, latents=lat, heads=4)
        xlm = XAttnLM(d=dl, layers=4, dv=dv)
        opt = torch.optim.AdamW([p for p in list(per.parameters()) + list(xlm.parameters()) if p.requires_grad],
                                1e-3)
        B, Fr = 32, 7
        feats = torch.randn(B, Fr, 64, dv)
        ids = torch.randint(0, 390, (B, 48))

        def fl_step():
            media = per(feats)
            loss = F.cross_entropy(xlm(ids, media).reshape(-1, 390), ids.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()

        res[f"stage3_perc{dv}x2_lat{lat}_lm{dl}x4_xattn4: clips(F=7,48 tok)/s"] = round(B / timeit(fl_step, steps), 1)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
