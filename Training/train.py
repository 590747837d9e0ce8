#!/usr/bin/env python3
"""Shapes World v1: the whole training recipe in one command (phase 2).

    python Training/train.py --seed 0 --out Training/out/shapes-v1 [--scale smoke|full] [--resume]

Stages (each writes <out>/stages/<name>.pt and <name>.log.json; --resume skips
stages whose checkpoint exists):
  data      make_dataset.py (or reuse existing shards) + tokenizer.json
  vision    open_clip ViT (64x64, patch 8) pre-trained with a CLIP objective on
            single frames against per-frame text (small text encoder, this stage only)
  lm        MosaicGPT (make_reference.py's port: ALiBi, QK-LN, no bias, tied head)
            pre-trained on the world's text
  flamingo  OpenFlamingo PerceiverResampler (+frame_embs) and GatedCrossAttentionBlocks
            on cached (frozen) ViT tokens; ViT and LM frozen
  export    <out>/model/{config.json, tokenizer.json, model.safetensors} in the engine's
            format + <out>/eval_report.json (Python-side eval on <data>/eval)

Use the reference venv: /work/main/.venv-reference/bin/python Training/train.py ...
Deterministic given --seed (single process, fixed thread count, deterministic algorithms).
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import cpu_env  # noqa: E402,F401  (before numpy / torch)

import argparse  # noqa: E402
import glob  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections import OrderedDict, defaultdict  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import render_train  # noqa: E402  (its shape geometry, for the dense patch targets)
import world  # noqa: E402

# make_reference.py: OpenFlamingo/open_clip imports (with the FSDP stand-in), the MosaicGPT port,
# build_model, canonical_state_dict, engine_config. Its size globals are overridden below.
_spec = importlib.util.spec_from_file_location("make_reference", os.path.join(ROOT, "Tests", "Fixtures",
                                                                                  "make_reference.py"))
MR = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(MR)

# ---------------------------------------------------------------------------
# Sizes (PLAN.md section 3) and per-scale step counts (PLAN.md section 2)
# ---------------------------------------------------------------------------
MEAN = torch.tensor(MR.MEAN).view(1, 3, 1, 1)
STD = torch.tensor(MR.STD).view(1, 3, 1, 1)
EOS_ID, EOC_ID, MEDIA_ID, PAD_ID = 0, 1, 2, 3
MAX_FRAMES = 10
ARCH = dict(
    vision=dict(image_size=64, patch_size=8, width=128, layers=4, heads=4, mlp_ratio=4.0),
    quick_gelu=True,
    resampler=dict(depth=2, heads=4, dim_head=32, num_latents=16, ff_mult=4),
    xattn=dict(heads=4, dim_head=32, ff_mult=4),
    lm=dict(d_model=192, n_heads=4, mlp_ratio=4, max_seq_len=256),
    n_layers=4,
    text=dict(width=128, layers=2, heads=4),  # CLIP text tower, stage 1 only
)
SCALES = {
    # full, measured in run v8 on 2 otherwise idle cores (Training/README.md section 8): data 13 min, vision
    # 2000 x 32 frames 14 min, LM 700 x 32 10 min, token cache 1.5, perceiver 500 x 64 clips 6, Flamingo
    # 900 x 32 sequences 39 (2.3-2.7 s per step with its probes), export and eval 1: about 85 min.
    "full": dict(data="default", train_clips=5000, vision_steps=2000, vision_batch=32, vision_lr=2e-3, vision_dense_weight=1.0,
                 vision_bg_weight=0.1,
                 lm_steps=700, lm_batch=32, lm_lr=2e-3, lm_scenes=6000, lm_grounded_p=0.8, lm_subject_weight=1.0,
                 pr_steps=500, pr_batch=64, pr_lr=2e-3, pr_q_init_scale=4.0, scene_head="slots",
                 fl_steps=900, fl_batch=32, fl_lr=2e-3, fl_gate_lr_mult=10.0, fl_resampler_lr_mult=0.5, fl_zero_temporal_p=0.1, fl_buckets=4, fl_scene_weight=0.5, fl_caption_share=0.35, export_dtype="f16", eval_max=None, eval_every=0),
    "smoke": dict(data="smoke", train_clips=300, vision_steps=60, vision_batch=32, vision_lr=2e-3, vision_dense_weight=1.0,
                  vision_bg_weight=0.1,
                  lm_steps=150, lm_batch=32, lm_lr=2e-3, lm_scenes=600, lm_grounded_p=0.8, lm_subject_weight=1.0,
                  pr_steps=60, pr_batch=32, pr_lr=2e-3, pr_q_init_scale=4.0, scene_head="slots",
                  fl_steps=120, fl_batch=16, fl_lr=1e-3, fl_gate_lr_mult=10.0, fl_resampler_lr_mult=0.5, fl_zero_temporal_p=0.1, fl_buckets=4, fl_scene_weight=0.5, fl_caption_share=0.20, export_dtype="f16", eval_max=120, eval_every=0),
}
# Sequence kinds. "questions": 1-3 clips, each followed by 2-4 of its questions, every question with its own
# <image> of that clip (text attends only to the media just before it), so one sequence carries many answers
# for the price of one resampler pass per distinct clip.
MIX = (("caption", 0.20), ("questions", 0.40), ("fewshot_answer", 0.25), ("fewshot_question", 0.15))


def set_sizes():
    MR.VISION = dict(ARCH["vision"])
    MR.RESAMPLER = dict(ARCH["resampler"])
    MR.XATTN = dict(ARCH["xattn"])
    MR.LM = dict(ARCH["lm"])
    MR.MEDIA_ID, MR.EOC_ID, MR.PAD_ID, MR.EOS_ID = MEDIA_ID, EOC_ID, PAD_ID, EOS_ID


def variant():
    return dict(seed=0, quick_gelu=ARCH["quick_gelu"], max_num_frames=MAX_FRAMES, max_num_media=None,
                cross_attn_every_n_layers=1, n_layers=ARCH["n_layers"])


def log(state, msg):
    line = "[%7.1fs] %s" % (time.time() - state["t0"], msg)
    print(line, flush=True)
    state.setdefault("lines", []).append(line)


def set_lr(opt, base, step, steps):
    """Linear warm-up over the first 5% of the steps, then cosine decay to 0; a param group's "mult" scales it."""
    lr = base * min(1.0, (step + 1) / max(1, steps // 20)) * 0.5 * (1 + math.cos(math.pi * step / steps))
    for g in opt.param_groups:
        g["lr"] = lr * g.get("mult", 1.0)


def seeded(seed, stage):
    torch.manual_seed(int(np.random.SeedSequence([seed, stage]).generate_state(1)[0]))
    return np.random.default_rng(np.random.SeedSequence([seed, stage, 1]))


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

def load_split(shard_paths, labels_path):
    arrs = [np.load(p) for p in shard_paths]
    cat = {k: np.concatenate([a[k] for a in arrs]) for k in ("frames", "n_frames", "n_objects", "obj_shape",
                                                             "obj_color", "obj_motion", "obj_pos", "obj_size", "index")}
    labels = [json.loads(l) for l in open(labels_path)]
    by_id = {l["id"]: l for l in labels}
    pre = "eval_%04d" if "eval" in os.path.basename(shard_paths[0]) else "train_%06d"
    cat["labels"] = [by_id[pre % i] for i in cat["index"]]
    return cat


def stage_data(args, sc, state):
    data = args.data or os.path.join(HERE, "data", sc["data"])
    shards = sorted(glob.glob(os.path.join(data, "train", "shards", "*.npz")))
    if not shards:
        cmd = [sys.executable, os.path.join(HERE, "make_dataset.py"), "--seed", str(args.data_seed),
               "--train", str(sc["train_clips"]), "--data", data]
        log(state, "running " + " ".join(cmd))
        subprocess.run(cmd, check=True)
        shards = sorted(glob.glob(os.path.join(data, "train", "shards", "*.npz")))
    else:
        log(state, "reusing %d shards in %s" % (len(shards), data))
    ev = os.path.join(data, "eval", "eval-00000.npz")
    assert os.path.exists(ev), "no eval frames at %s" % ev
    tok = os.path.join(args.out, "tokenizer.json")
    shared = os.path.join(HERE, "out", "tokenizer.json")
    if not os.path.exists(shared):
        subprocess.run([sys.executable, os.path.join(HERE, "tokenizer.py"), "--out", shared], check=True)
    shutil.copyfile(shared, tok)
    return dict(data=data, shards=shards, eval=ev, tokenizer=tok)


class Tok:
    def __init__(self, path):
        from tokenizers import Tokenizer
        self.t = Tokenizer.from_file(path)
        self.vocab = self.t.get_vocab_size()
        assert self.t.token_to_id(world.EOC) == EOC_ID and self.t.token_to_id(world.IMAGE) == MEDIA_ID
        self.cache = {}

    def enc(self, s):
        if s not in self.cache:
            self.cache[s] = self.t.encode(s).ids
        return self.cache[s]

    def dec(self, ids):
        return self.t.decode(ids)


# ---------------------------------------------------------------------------
# Stage 1: vision (CLIP objective)
# ---------------------------------------------------------------------------
GRID_Y = ("top", "middle", "bottom")
GRID_X = ("left", "center", "right")
WORDS = ["<pad>", "."] + list(world.COLOR_NAMES) + list(world.SHAPES) + list(GRID_Y) + list(GRID_X)
WID = {w: i for i, w in enumerate(WORDS)}
TEXT_LEN = 3 * 5


def frame_text(d, c, f):
    """Word ids for frame f of clip c: '{color} {shape} {row} {col} .' per object, caption order."""
    ids = []
    for j in range(int(d["n_objects"][c])):
        x, y = d["obj_pos"][c, f, j]
        ids += [WID[world.COLOR_NAMES[d["obj_color"][c, j]]], WID[world.SHAPES[d["obj_shape"][c, j]]],
                WID[GRID_Y[min(2, int(y * 3))]], WID[GRID_X[min(2, int(x * 3))]], WID["."]]
    return ids + [0] * (TEXT_LEN - len(ids))


class TextEncoder(nn.Module):
    def __init__(self, width, layers, heads, out_dim):
        super().__init__()
        self.emb = nn.Embedding(len(WORDS), width)
        self.pos = nn.Parameter(0.01 * torch.randn(TEXT_LEN, width))
        layer = nn.TransformerEncoderLayer(width, heads, 4 * width, dropout=0.0, batch_first=True,
                                           norm_first=True)
        self.tr = nn.TransformerEncoder(layer, layers)
        self.ln = nn.LayerNorm(width)
        self.proj = nn.Linear(width, out_dim, bias=False)

    def forward(self, ids):
        pad = ids == 0
        x = self.tr(self.emb(ids) + self.pos, src_key_padding_mask=pad)
        x = self.ln(x).masked_fill(pad.unsqueeze(-1), 0).sum(1) / (~pad).sum(1, keepdim=True)
        return self.proj(x)


def build_visual():
    oc = MR.LIB.open_clip
    v = ARCH["vision"]
    cfg = oc.model.CLIPVisionCfg(layers=v["layers"], width=v["width"], head_width=v["width"] // v["heads"],
                                 mlp_ratio=v["mlp_ratio"], patch_size=v["patch_size"], image_size=v["image_size"])
    tcfg = oc.model.CLIPTextCfg(context_length=8, vocab_size=16, width=16, heads=2, layers=1)
    clip = oc.model.CLIP(embed_dim=v["width"], vision_cfg=cfg, text_cfg=tcfg, quick_gelu=ARCH["quick_gelu"])
    return clip.visual


def preprocess(u8):
    """uint8 (n, R, R, 3) -> normalised float (n, 3, R, R)."""
    x = torch.from_numpy(np.ascontiguousarray(u8)).permute(0, 3, 1, 2).float() / 255.0
    return (x - MEAN) / STD


def augment(u8, rng):
    """Colour gain +-5%, Gaussian noise sigma <= 3, translation up to 2 px (edge-replicated).
    Returns the frames and each frame's content shift (dx, dy) in px."""
    x = u8.astype(np.float32)
    n = x.shape[0]
    x *= rng.uniform(0.95, 1.05, size=(n, 1, 1, 3)).astype(np.float32)
    x += rng.normal(size=x.shape).astype(np.float32) * rng.uniform(0, 3, size=(n, 1, 1, 1)).astype(np.float32)
    R = x.shape[1]
    p = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="edge")
    out = np.empty_like(x)
    sh = rng.integers(-2, 3, size=(n, 2))
    for i in range(n):
        out[i] = p[i, 2 + sh[i, 0]:2 + sh[i, 0] + R, 2 + sh[i, 1]:2 + sh[i, 1] + R]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8), -sh[:, ::-1].astype(np.float32)


def patch_targets(d, clips, frames, grid, shift, sub=4):
    """Per patch (n, grid*grid): colour and shape class of the object covering most of it (at least a quarter of
    its sub x sub sample points; index len(COLOR_NAMES) / len(SHAPES) is background), and that object's centre
    (x, y) in frame units (NaN for background), so that every object patch carries its object's position.
    Sizes come from obj_size, in caption order like obj_pos (the labels' "objects" are in draw order).
    shift: (n, 2) content shift of the augmented frames, in frame units."""
    n = len(clips)
    P = grid * grid
    color = np.full((n, P), len(world.COLOR_NAMES), dtype=np.int64)
    shape = np.full((n, P), len(world.SHAPES), dtype=np.int64)
    centre = np.full((n, P, 2), np.nan, dtype=np.float32)
    pts = (np.arange(grid * sub) + 0.5) / (grid * sub)
    py, px = np.meshgrid(pts, pts, indexing="ij")  # (grid*sub, grid*sub), frame units
    for i, (c, f) in enumerate(zip(clips, frames)):
        best = np.full(P, 0.25)
        for j in range(int(d["n_objects"][c])):
            x, y = d["obj_pos"][c, f, j] + shift[i]
            # renderer A's own inside test (hard edges: signed distance at the point >= 0)
            cover = render_train._signed_distance(world.SHAPES[int(d["obj_shape"][c, j])], px - x, py - y,
                                                  d["obj_size"][c, j] / 2) >= 0
            frac = cover.reshape(grid, sub, grid, sub).mean(axis=(1, 3)).reshape(-1)
            win = frac >= best
            best = np.where(win, frac, best)
            color[i, win] = d["obj_color"][c, j]
            shape[i, win] = d["obj_shape"][c, j]
            centre[i, win] = (x, y)
    return torch.from_numpy(color), torch.from_numpy(shape), torch.from_numpy(centre)


def stage_vision(args, sc, state, train):
    rng = seeded(args.seed, 1)
    visual = build_visual()
    dense = sc["vision_dense_weight"] > 0
    visual.output_tokens = dense
    text = TextEncoder(ARCH["text"]["width"], ARCH["text"]["layers"], ARCH["text"]["heads"], ARCH["vision"]["width"])
    logit_scale = nn.Parameter(torch.tensor(math.log(10.0)))
    # Dense auxiliary heads on the patch tokens Flamingo reads (the CLIP loss reaches only the class token,
    # so without them the last block's patch outputs are never trained): colour and shape under each patch.
    W = ARCH["vision"]["width"]
    grid = ARCH["vision"]["image_size"] // ARCH["vision"]["patch_size"]
    heads = nn.ModuleList([nn.Linear(W, len(world.COLOR_NAMES) + 1), nn.Linear(W, len(world.SHAPES) + 1),
                           nn.Linear(W, 2)])
    params = list(visual.parameters()) + list(text.parameters()) + [logit_scale] + (list(heads.parameters()) if dense else [])
    opt = torch.optim.AdamW(params, lr=sc["vision_lr"], weight_decay=0.05)
    pairs = [(c, f) for c in range(len(train["n_frames"])) for f in range(int(train["n_frames"][c]))]
    pairs = np.array(pairs)
    texts = np.array([frame_text(train, c, f) for c, f in pairs], dtype=np.int64)
    steps, B = sc["vision_steps"], sc["vision_batch"]
    perm, pos = rng.permutation(len(pairs)), 0
    visual.train(); text.train()
    for step in range(steps):
        if pos + B > len(perm):
            perm, pos = rng.permutation(len(pairs)), 0
        idx = perm[pos:pos + B]; pos += B
        frames, shift = augment(train["frames"][pairs[idx, 0], pairs[idx, 1]], rng)
        px = preprocess(frames)
        t = torch.from_numpy(texts[idx])
        set_lr(opt, sc["vision_lr"], step, steps)
        out = visual(px)
        pooled, tokens = out if dense else (out, None)
        iv = F.normalize(pooled, dim=-1)
        tv = F.normalize(text(t), dim=-1)
        logits = logit_scale.clamp(max=math.log(100)).exp() * iv @ tv.t()
        same = (t.unsqueeze(1) == t.unsqueeze(0)).all(-1).float()  # identical texts are positives
        tgt = same / same.sum(1, keepdim=True)
        loss = 0.5 * (torch.sum(-tgt * F.log_softmax(logits, 1), 1).mean()
                      + torch.sum(-tgt * F.log_softmax(logits.t(), 1), 1).mean())
        if dense:
            tc, ts, tp = patch_targets(train, pairs[idx, 0], pairs[idx, 1], grid,
                                       shift / train["frames"].shape[2])
            lc, ls, lp = heads[0](tokens), heads[1](tokens), heads[2](tokens)  # (B, grid*grid, classes | 2)
            # Background patches (most of them, and easy) weigh vision_bg_weight, so the object patches,
            # shape above all, drive the gradient.
            wc, ws = torch.ones(lc.shape[-1]), torch.ones(ls.shape[-1])
            wc[-1] = ws[-1] = sc["vision_bg_weight"]
            dense_loss = F.cross_entropy(lc.reshape(-1, lc.shape[-1]), tc.reshape(-1), weight=wc) + \
                F.cross_entropy(ls.reshape(-1, ls.shape[-1]), ts.reshape(-1), weight=ws)
            on = ~torch.isnan(tp[..., 0])
            # object centre from every patch of the object, in units of a quarter frame (~unit variance)
            dense_loss = dense_loss + F.mse_loss(4 * lp[on], 4 * (tp[on] - 0.5))
            loss = loss + sc["vision_dense_weight"] * dense_loss
            fg = tc.reshape(-1) < len(world.COLOR_NAMES)
            dense_acc = ((lc.reshape(-1, lc.shape[-1]).argmax(1) == tc.reshape(-1))[fg].float().mean().item(),
                         (ls.reshape(-1, ls.shape[-1]).argmax(1) == ts.reshape(-1))[fg].float().mean().item(),
                         (lp[on] + 0.5 - tp[on]).abs().mean().item())
        acc = (logits.argmax(1) == torch.arange(B)).float().mean().item()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % max(1, steps // 10) == 0 or step == steps - 1:
            log(state, "vision step %d/%d loss %.4f i2t-acc %.3f%s" % (
                step, steps, loss.item(), acc,
                " patch colour/shape acc (objects) %.3f/%.3f, centre MAE %.3f" % dense_acc if dense else ""))
    state["final_loss"] = loss.item()
    return {"visual": visual.state_dict()}


@torch.no_grad()
def encode_frames(visual, d, batch=256):
    """Frozen ViT patch tokens (raw last block output, CLS dropped, no ln_post) for every real frame.
    Returns tokens fp16 (n_frames_total, 64, width) and per-clip offsets."""
    visual.eval()
    visual.output_tokens = True
    nf = d["n_frames"].astype(np.int64)
    off = np.concatenate([[0], np.cumsum(nf)])
    flat = np.concatenate([d["frames"][c, :nf[c]] for c in range(len(nf))])
    out = []
    for i in range(0, len(flat), batch):
        out.append(visual(preprocess(flat[i:i + batch]))[1].half())
    return torch.cat(out), off


# ---------------------------------------------------------------------------
# Stage 2: language model
# ---------------------------------------------------------------------------

def lm_config(vocab):
    lm = ARCH["lm"]
    return MR.MosaicGPTConfig(d_model=lm["d_model"], n_heads=lm["n_heads"], n_layers=ARCH["n_layers"],
                              mlp_ratio=lm["mlp_ratio"], max_seq_len=lm["max_seq_len"], vocab_size=vocab,
                              attn_qk_ln=True, alibi=True, alibi_bias_max=8, no_bias=True, use_cache=False)


def lm_texts(rng, n_scenes):
    """(plain, grounded): world text (world.world_text_corpus) + multi-item sequences (captions/questions/
    few-shot); and grounded sequences (a caption, then questions about that scene)."""
    out = list(world.world_text_corpus(rng, n_scenes))
    scenes = [world.sample_objects(rng, 128, 5.0) for _ in range(n_scenes)]
    for _ in range(n_scenes):
        task = world.FEWSHOT_TASKS[rng.integers(4)]
        pool = [s for s in (scenes[i] for i in rng.integers(len(scenes), size=40))
                if world.fewshot_answer(s, task) is not None]
        k = int(rng.integers(0, 9))
        out.append(world.fewshot_prompt([world.fewshot_answer(s, task) for s in pool[:k]]))
        out[-1] += world.answer_target(world.fewshot_answer(pool[k], task)) if len(pool) > k else ""
        items = []
        for s in (scenes[i] for i in rng.integers(len(scenes), size=int(rng.integers(1, 5)))):
            qs = world.balanced_questions(s)
            q = qs[rng.integers(len(qs))]
            items.append(world.question_prompt(q["question"]) + world.answer_target(q["answer"]))
        out.append("".join(items))
        s = scenes[rng.integers(len(scenes))]
        out.append(world.CAPTION_PROMPT + world.caption_target(world.caption(s)))
    # Grounded text: a caption, then questions about that same scene. Everywhere else in this corpus an answer
    # cannot be predicted from the text before it, so the LM only learns to carry a question's *type* to the
    # answer position (v1-v4: count and "anything moving" right, every question about a named colour or shape
    # near chance). Here it must carry the asked colour and shape there and look them up: the reading that
    # the Flamingo stage needs, with the clip in place of the caption.
    grounded = []
    for _ in range(3 * n_scenes):
        s = world.sample_objects(rng, 128, 5.0)
        qs = world.balanced_questions(s)
        pick = rng.permutation(len(qs))[:int(rng.integers(3, 7))]
        grounded.append("".join(text for text, _ in grounded_pieces(s, qs, pick)))
    return out, grounded


def grounded_pieces(scene, qs, pick):
    """A grounded sequence as (text, question type of an answer or None) pieces: the scene's caption, then its
    questions qs[i] for i in pick, each prompt followed by its answer."""
    pieces = [(world.CAPTION_PROMPT + world.caption_target(world.caption(scene)), None)]
    for i in pick:
        pieces += [(world.question_prompt(qs[i]["question"]), None), (world.answer_target(qs[i]["answer"]), qs[i]["type"])]
    return pieces


@torch.no_grad()
def lm_reading_probe(model, tok, n=60):
    """Share of answers the LM gets right (every answer token, teacher-forced) from a caption and then 5 of
    that scene's questions, by question type, on scenes of its own generator (diagnostic only)."""
    rng = np.random.default_rng(12345)
    hits = defaultdict(list)
    model.eval()
    for _ in range(n):
        s = world.sample_objects(rng, 128, 5.0)
        qs = world.balanced_questions(s)
        ids, spans = [], []
        for text, qtype in grounded_pieces(s, qs, rng.permutation(len(qs))[:5]):
            e = tok.enc(text)
            if qtype is not None:
                spans.append((len(ids), len(ids) + len(e), qtype))
            ids += e
        pred = model(input_ids=torch.tensor([ids]), return_dict=True, use_cache=False).logits[0].argmax(-1)
        for a, b, t in spans:
            hits[t].append(bool((pred[a - 1:b - 1] == torch.tensor(ids[a:b])).all()))
    model.train()
    return " ".join("%s %.2f" % (t, np.mean(hits[t])) for t in sorted(hits))


def subject_targets(tok, ids):
    """What a cross-attention query needs to know, at the positions of a token list where it is made:
    questions: (position, colour, shape) at the ':' that ends each 'Short answer:', the index in
    world.COLOR_NAMES / world.SHAPES of the question's colour and shape words, or len(...) when it names none;
    captions: (position, phrase, colour, shape) at every position from the ':' of 'Caption:' to the token
    before the caption's <|endofchunk|>: the ordinal of the object phrase being written (the number of ' a'
    tokens so far minus one, 3 = none yet) and that phrase's colour and shape words so far (len(...) = none)."""
    # Tok.enc memoises every string, so these lookups cost a few dictionary hits per sequence.
    qp = list(tok.enc(world.question_prompt("is there a red circle?")))
    start, end = qp[1], qp[-3:]  # 'Question', ' Short answer:'
    cp = list(tok.enc(world.CAPTION_PROMPT))[-2:]  # 'Caption', ':'
    article = tok.enc(" a")[0]
    colour = {tok.enc(" " + c)[0]: i for i, c in enumerate(world.COLOR_NAMES)}
    shape = {tok.enc(" " + s)[0]: i for i, s in enumerate(world.SHAPES)}
    nC, nS = len(colour), len(shape)
    questions, captions, q0, phrase = [], [], None, None
    for p, t in enumerate(ids):
        if phrase is not None:  # inside a caption
            if t == EOC_ID or t == MEDIA_ID:
                phrase = None
            else:
                if t == article:
                    phrase, c, sh = (0 if phrase == 3 else phrase + 1), nC, nS
                c = colour.get(t, c)
                sh = shape.get(t, sh)
                captions.append((p, phrase, c, sh))  # phrase <= 2: captions name at most three objects
                continue
        if t == start:
            q0 = p
        elif q0 is not None and p >= 2 and list(ids[p - 2:p + 1]) == end:
            words = ids[q0:p]
            questions.append((p, next((colour[w] for w in words if w in colour), nC),
                              next((shape[w] for w in words if w in shape), nS)))
            q0 = None
        elif p >= 1 and list(ids[p - 1:p + 1]) == cp:
            phrase, c, sh = 3, nC, nS
            captions.append((p, 3, c, sh))
    return questions, captions


class SubjectProbe(nn.Module):
    """Training-only auxiliary heads of stage "lm" (not exported): from LN(hidden state) at the input of every
    block after the first (what cross-attention layers 1.. read), at each question's answer position, name the
    question's colour and shape words; at each caption position, the ordinal of the object phrase being
    written and its colour and shape so far (subject_targets). Rows are unit vectors, so the loss is only low
    when these take a real share of the hidden state, not a direction a free linear probe can amplify."""

    def __init__(self, layers, dim):
        super().__init__()
        nC, nS = len(world.COLOR_NAMES) + 1, len(world.SHAPES) + 1
        self.heads = nn.ParameterDict({name: nn.Parameter(torch.randn(layers, n, dim)) for name, n in
                                       [("q_colour", nC), ("q_shape", nS), ("c_phrase", 4), ("c_colour", nC),
                                        ("c_shape", nS)]})

    def loss(self, hidden, targets):
        """hidden: the block inputs 1.. (each (B, L, d)); targets: per row a subject_targets pair."""
        total = torch.zeros(())
        for kind, names in ((0, ("q_colour", "q_shape")), (1, ("c_phrase", "c_colour", "c_shape"))):
            rows = [(r,) + t for r, tg in enumerate(targets) for t in tg[kind]]
            if not rows:
                continue
            cols = [torch.tensor(v) for v in zip(*rows)]
            r, p, labels = cols[0], cols[1], cols[2:]
            for i, h in enumerate(hidden):
                x = F.layer_norm(h[r, p], h.shape[-1:])
                for name, y in zip(names, labels):
                    total = total + F.cross_entropy(x @ F.normalize(self.heads[name][i], dim=-1).T, y) / len(hidden)
        return total


def stage_lm(args, sc, state, tok):
    rng = seeded(args.seed, 2)
    plain, grounded = lm_texts(rng, sc["lm_scenes"])
    plain, grounded = [tok.enc(t) for t in plain], [tok.enc(t) for t in grounded]
    log(state, "lm corpus: %d plain + %d grounded sequences, max len %d" % (
        len(plain), len(grounded), max(map(len, plain + grounded))))
    model = MR.MosaicGPT(lm_config(tok.vocab))
    init_lm(model)
    # Subject probe (lm_subject_weight > 0): a tiny templated corpus never makes the answer position carry the
    # question's subject (measured: < 0.1% of LN(hidden) varies with it, with or without a caption in
    # context), nor a caption position the object it is writing, yet that is what a cross-attention query
    # must be made of; a real LM does carry them.
    probe_heads = SubjectProbe(ARCH["n_layers"] - 1, ARCH["lm"]["d_model"])
    subj = {}
    params = list(model.parameters()) + (list(probe_heads.parameters()) if sc["lm_subject_weight"] > 0 else [])
    opt = torch.optim.AdamW(params, lr=sc["lm_lr"], weight_decay=0.01)
    steps, B = sc["lm_steps"], sc["lm_batch"]
    model.train()
    for step in range(steps):
        # each sequence is grounded with probability lm_grounded_p
        seqs = [grounded[rng.integers(len(grounded))] if rng.random() < sc["lm_grounded_p"]
                else plain[rng.integers(len(plain))] for _ in range(B)]
        ids = torch.full((B, max(map(len, seqs))), PAD_ID, dtype=torch.long)
        for r, seq in enumerate(seqs):
            ids[r, :len(seq)] = torch.tensor(seq)
        set_lr(opt, sc["lm_lr"], step, steps)
        out = model(input_ids=ids, return_dict=True, use_cache=False, output_hidden_states=True)
        logits = out.logits
        tgt = ids[:, 1:].masked_fill(ids[:, 1:] == PAD_ID, -100)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=-100)
        s_loss = torch.zeros(())
        if sc["lm_subject_weight"] > 0:
            targets = []
            for seq in seqs:
                if id(seq) not in subj:
                    subj[id(seq)] = subject_targets(tok, seq)
                targets.append(subj[id(seq)])
            s_loss = probe_heads.loss(out.hidden_states[1:], targets)
        opt.zero_grad(set_to_none=True)
        (loss + sc["lm_subject_weight"] * s_loss).backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % max(1, steps // 10) == 0 or step == steps - 1:
            log(state, "lm step %d/%d loss %.4f subject probe %.4f; reading a caption: %s" % (
                step, steps, loss.item(), s_loss.item(), lm_reading_probe(model, tok)))
    state["final_loss"] = loss.item()
    return {"lm": model.state_dict()}


def init_lm(model):
    with torch.no_grad():
        for n, p in model.named_parameters():
            if n.endswith("wte.weight"):
                p.normal_(0, 0.02)
            elif p.ndim >= 2:
                p.normal_(0, 0.02 if "out_proj" not in n and "mlp_down" not in n else 0.02 / math.sqrt(
                    2 * ARCH["n_layers"]))


# ---------------------------------------------------------------------------
# Stage 3: Flamingo
# ---------------------------------------------------------------------------

def build_flamingo(vocab, ck_vision, ck_lm):
    set_sizes()
    MR.BASE_VOCAB = MR.VOCAB = vocab
    model = MR.build_model(variant())
    visual = build_visual()  # make_reference's build_model hard-codes embed_dim 32; use ours (proj 128x128)
    visual.load_state_dict(ck_vision["visual"])
    visual.output_tokens = True
    model.vision_encoder = visual
    sd = OrderedDict()
    for k, v in ck_lm["lm"].items():
        parts = k.split(".")
        if parts[:2] == ["transformer", "blocks"]:
            k = ".".join(parts[:3] + ["decoder_layer"] + parts[3:])
        sd[k] = v
    missing, unexpected = model.lang_encoder.load_state_dict(sd, strict=False)
    assert not unexpected, unexpected
    bad = [m for m in missing if "gated_cross_attn" not in m and "old_decoder_blocks" not in m]
    assert not bad, bad
    return model


def balanced_questions(label):
    """The question dicts of a clip's scoring subset (`qa_balanced`), in that order."""
    qmap = {q["question"]: q for q in label["qa"]}
    return [qmap[q] for q in label["qa_balanced"]]


def example_index(d):
    """Single-object clips and each clip's balanced questions by type, built once per split."""
    if "_example_index" not in d:
        qa_by_type = []
        for lab in d["labels"]:
            bt = defaultdict(list)
            for q in balanced_questions(lab):
                bt[q["type"]].append((q["question"], q["answer"]))
            qa_by_type.append(bt)
        d["_example_index"] = ([i for i in range(len(d["labels"])) if d["n_objects"][i] == 1], qa_by_type)
    return d["_example_index"]


def build_examples(d, rng, n, tok, caption_share):
    """Training sequences: list of (clip ids, token ids, loss mask). Weighted mixture (MIX), with the caption
    share set to `caption_share` and the question sequences' share changed by the difference."""
    labels = d["labels"]
    N = len(labels)
    single, qa_by_type = example_index(d)
    kinds = [m[0] for m in MIX]
    probs = np.array([m[1] for m in MIX])
    probs[kinds.index("questions")] += probs[kinds.index("caption")] - caption_share
    probs[kinds.index("caption")] = caption_share

    def question_item(c):
        bt = qa_by_type[c]
        types = sorted(bt)
        t = types[rng.integers(len(types))]
        q, a = bt[t][rng.integers(len(bt[t]))]
        return world.question_prompt(q), world.answer_target(a)

    out = []
    for _ in range(n):
        kind = kinds[rng.choice(len(kinds), p=probs)]
        pieces = []  # (text, is_target)
        clips = []
        if kind == "caption":
            c = int(rng.integers(N)); clips = [c]
            pieces = [(world.CAPTION_PROMPT, False), (world.caption_target(labels[c]["caption"]), True)]
        elif kind == "questions":
            for c in rng.integers(N, size=int(rng.integers(1, 4))):
                c = int(c)
                bt = qa_by_type[c]
                types = sorted(bt)
                for t in rng.permutation(types)[:int(rng.integers(2, 5))]:
                    q, a = bt[t][rng.integers(len(bt[t]))]
                    clips.append(c)
                    pieces += [(world.question_prompt(q), False), (world.answer_target(a), True)]
        elif kind == "fewshot_answer":
            task = world.FEWSHOT_TASKS[rng.integers(4)]
            pool = single if task != "count" else list(range(N))
            k = int(rng.integers(0, 9))
            clips = [int(pool[i]) for i in rng.integers(len(pool), size=k + 1)]
            for j, c in enumerate(clips):
                objs = world.scene_from_label(labels[c]).objects
                a = world.fewshot_answer(objs, task)
                pieces += [(world.ANSWER_PROMPT, False), (world.answer_target(a), j >= 1)]
        else:
            k = int(rng.integers(1, 5))
            clips = [int(i) for i in rng.integers(N, size=k + 1)]
            for c in clips:
                p, a = question_item(c)
                pieces += [(p, False), (a, True)]
        ids, mask = [], []
        for s, tgt in pieces:
            e = tok.enc(s)
            ids += e; mask += [tgt] * len(e)
        out.append((clips, ids, mask))
    return out


def perceive(model, cache, off, clip_lists, latents=None, without_frame_embs=False):
    """vis_x (B, T_max, n_latents, D): each clip's frames (K real frames, grouped by K) through the perceiver;
    missing media are zeros (never attended: media_locations). A dict passed as `latents` receives each
    distinct clip's latents (n_latents, D). `without_frame_embs` runs the resampler without its temporal
    embeddings (the training-time dropout of them)."""
    B = len(clip_lists)
    T = max(1, max(len(c) for c in clip_lists))
    nl, D = ARCH["resampler"]["num_latents"], ARCH["vision"]["width"]
    # Each distinct clip goes through the resampler once (grouped by its frame count K).
    unique = sorted({int(c) for cl in clip_lists for c in cl})
    groups = defaultdict(list)
    for c in unique:
        groups[int(off[c + 1] - off[c])].append(c)
    latents = {} if latents is None else latents
    frame_embs = model.perceiver.frame_embs
    if without_frame_embs:
        model.perceiver.frame_embs = None
    try:
        for K in sorted(groups):
            g = groups[K]
            x = torch.stack([cache[off[c]:off[c] + K] for c in g]).float()  # (n, K, v, d)
            y = model.perceiver(x.unsqueeze(1))[:, 0]  # (n, nl, D)
            for i, c in enumerate(g):
                latents[c] = y[i]
    finally:
        model.perceiver.frame_embs = frame_embs
    pad = torch.zeros(nl, D)
    return torch.stack([torch.stack([latents[int(c)] for c in cl] + [pad] * (T - len(cl))) for cl in clip_lists])


class SceneHead(nn.Module):
    """Training-only readout of the resampler's latents (stages "perceiver" and "flamingo"; not exported). For
    each of the 15 (colour, shape) pairs it predicts presence (1 logit), motion (5) and place in the caption
    order (3), and the object count (3): what the language model will ask, so that the latents bind colour,
    shape, motion and position per object before the cross-attention exists.
    kind "linear": one linear map of all latents (flattened).
    kind "slots": latent k is the slot of pair k and one linear map, shared by all slots, reads each slot's
    presence, motion, rank and also its own colour and shape (5 + 3 more outputs, asked when present); the
    16th latent gives the count. Shared weights mean one code for "red" or "circle" in every slot, which a
    cross-attention query can match whatever slot holds the object."""

    def __init__(self, n_latents, dim, kind="linear"):
        super().__init__()
        self.kind = kind
        self.n_pairs = len(world.COLOR_NAMES) * len(world.SHAPES)
        self.norm = nn.LayerNorm(dim)
        if kind == "linear":
            self.out = nn.Linear(n_latents * dim, self.n_pairs * 9 + 3)
        else:
            assert n_latents > self.n_pairs, "slots need a latent per pair plus one"
            self.slot = nn.Linear(dim, 9 + len(world.COLOR_NAMES) + len(world.SHAPES))
            self.count = nn.Linear(dim, 3)

    def forward(self, latents):
        """latents (n, n_latents, D) -> presence+motion (n, pairs, 6), rank (n, pairs, 3), count (n, 3),
        and for "slots" the slots' colour+shape logits (n, pairs, 8) (None for "linear")."""
        x = self.norm(latents)
        if self.kind == "linear":
            y = self.out(x.flatten(1))
            pairs = y[:, :-3].view(len(y), self.n_pairs, 9)
            return pairs[..., :6], pairs[..., 6:], y[:, -3:], None
        y = self.slot(x[:, :self.n_pairs])
        return y[..., :6], y[..., 6:9], self.count(x[:, self.n_pairs]), y[..., 9:]


def scene_targets(d, clips):
    """Per clip: (pairs,) 0 = absent or 1 + motion index, (pairs,) caption rank or -100, count - 1."""
    nS = len(world.SHAPES)
    pair = torch.zeros(len(clips), len(world.COLOR_NAMES) * nS, dtype=torch.long)
    rank = torch.full(pair.shape, -100, dtype=torch.long)
    for i, c in enumerate(clips):
        for j in range(int(d["n_objects"][c])):
            k = int(d["obj_color"][c, j]) * nS + int(d["obj_shape"][c, j])
            pair[i, k] = 1 + int(d["obj_motion"][c, j])
            rank[i, k] = j
    return pair, rank, torch.from_numpy(d["n_objects"][clips].astype(np.int64) - 1)


def scene_loss(head, d, latents, drop):
    """SceneHead loss on a dict clip -> latents (n_latents, D); with `drop` (no frame_embs) motion is not asked,
    since without frame order the direction is unknowable. Returns the loss and, for the
    log, the share of clips read exactly and of present objects whose motion is right."""
    clips = sorted(latents)
    lp, lr_, lc, ident = head(torch.stack([latents[c] for c in clips]))
    pair, rank, count = scene_targets(d, clips)
    present = pair > 0
    if ident is not None:  # each present slot names its own colour and shape
        nC = len(world.COLOR_NAMES)
        k = torch.arange(head.n_pairs).expand_as(pair)
        loss_ident = F.cross_entropy(ident[..., :nC][present], (k // len(world.SHAPES))[present]) + \
            F.cross_entropy(ident[..., nC:][present], (k % len(world.SHAPES))[present])
    else:
        loss_ident = 0.0
    # presence of every (colour, shape) pair, then the motion of the present ones (1 + motion index)
    loss = F.binary_cross_entropy_with_logits(lp[..., 0], present.float())
    if not drop:
        loss = loss + F.cross_entropy(lp[..., 1:][present], pair[present] - 1)
    loss = loss + F.cross_entropy(lr_.reshape(-1, 3), rank.reshape(-1), ignore_index=-100) + \
        F.cross_entropy(lc, count) + loss_ident
    with torch.no_grad():
        pred = torch.where(lp[..., 0] > 0, 1 + lp[..., 1:].argmax(-1), torch.zeros_like(pair))
        hit = pred == pair
        acc = (hit.all(-1).float().mean().item(), hit[present].float().mean().item())
    return loss, acc


def stage_perceiver(args, sc, state, model, train, train_cache):
    """Warm start of the Perceiver Resampler (and its frame_embs) on the scene readout (SceneHead) from cached
    ViT tokens, before the cross-attention and the language-model loss of stage "flamingo" take over."""
    rng = seeded(args.seed, 6)
    cache, off = train_cache
    per = model.perceiver
    # OpenFlamingo's init gives nearly uniform attention over the K x 64 patch tokens, so every clip's latents
    # start out alike and to_q gets almost no gradient; a larger to_q init makes the attention depend on
    # content from the first step (measured: faster start of the scene readout).
    with torch.no_grad():
        for n, p in per.named_parameters():
            if n.endswith("to_q.weight"):
                p.mul_(sc["pr_q_init_scale"])
    head = SceneHead(ARCH["resampler"]["num_latents"], ARCH["vision"]["width"], sc["scene_head"])
    params = list(per.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=sc["pr_lr"], weight_decay=0.01)
    steps, B = sc["pr_steps"], sc["pr_batch"]
    N = len(train["n_frames"])
    per.train()
    for step in range(steps):
        clips = rng.integers(N, size=B)
        set_lr(opt, sc["pr_lr"], step, steps)
        drop = rng.random() < sc["fl_zero_temporal_p"]
        lat = {}
        perceive(model, cache, off, [[int(c)] for c in clips], lat, without_frame_embs=drop)
        loss, (acc_pair, acc_motion) = scene_loss(head, train, lat, drop)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % max(1, steps // 20) == 0 or step == steps - 1:
            log(state, "perceiver step %d/%d loss %.4f scene exact %.3f object motion %.3f%s" % (
                step, steps, loss.item(), acc_pair, acc_motion, " (no frame_embs)" if drop else ""))
    state["final_loss"] = loss.item()
    return {"perceiver": per.state_dict(), "head": head.state_dict()}


def flamingo_logits(model, vis, ids):
    MR.condition_vis_x(model, vis)
    model._condition_media_locations(input_ids=ids)
    model.lang_encoder._use_cached_vision_x = False
    out = model.lang_encoder(input_ids=ids, attention_mask=None, past_key_values=None, use_cache=False,
                             return_dict=True).logits
    model.lang_encoder.clear_conditioned_layers()
    return out


def stage_flamingo(args, sc, state, tok, model, train_cache, head_state):
    rng = seeded(args.seed, 3)
    cache, off = train_cache
    for p in model.parameters():
        p.requires_grad_(False)
    xattn = [m for m in model.lang_encoder.gated_cross_attn_layers if m is not None]
    # The scene readout of stage "perceiver" keeps training alongside (weight fl_scene_weight), so the
    # language-model loss, noisy while the cross-attention is young, does not undo the latents' binding.
    head = SceneHead(ARCH["resampler"]["num_latents"], ARCH["vision"]["width"], sc["scene_head"])
    head.load_state_dict(head_state)
    tparams = [p for m in [model.perceiver] + xattn + [head] for p in m.parameters()]
    for p in tparams:
        p.requires_grad_(True)
    # The resampler arrives warm-started (stage "perceiver"); a smaller step keeps the young cross-attention's
    # noisy gradient from undoing its scene readout (v2: scene loss 0.26 -> 0.83 in the first 90 steps at 1x).
    resampler_ids = {id(p) for p in model.perceiver.parameters()}
    # The tanh gates start at 0 (OpenFlamingo); at this scale's few hundred steps they get a larger step size
    # (sc["fl_gate_lr_mult"]) and no weight decay, or they stay near 0 and vision barely reaches the LM.
    gate_ids = {id(m.attn_gate) for m in xattn} | {id(m.ff_gate) for m in xattn}
    gates = [p for p in tparams if id(p) in gate_ids]
    others = [p for p in tparams if id(p) not in gate_ids and id(p) not in resampler_ids]
    resampler = [p for p in tparams if id(p) in resampler_ids]
    wte = model.lang_encoder.transformer.wte.weight
    wte.requires_grad_(True)
    row_mask = torch.zeros(wte.shape[0], 1)
    row_mask[[MEDIA_ID, EOC_ID]] = 1.0
    wte.register_hook(lambda g: g * row_mask)  # only <image> and <|endofchunk|> rows train (OpenFlamingo)
    opt = torch.optim.AdamW([{"params": others, "weight_decay": 0.1, "mult": 1.0},
                             {"params": resampler, "weight_decay": 0.1, "mult": sc["fl_resampler_lr_mult"]},
                             {"params": gates, "weight_decay": 0.0, "mult": sc["fl_gate_lr_mult"]},
                             {"params": [wte], "weight_decay": 0.0, "mult": 1.0}], lr=sc["fl_lr"])
    steps, B = sc["fl_steps"], sc["fl_batch"]
    model.vision_encoder.eval(); model.lang_encoder.eval(); model.perceiver.train()
    # Mid-stage checkpoints (every 10% of the steps) so that an interrupted run resumes exactly where it was:
    # weights, optimizer, and both random generators.
    partial = os.path.join(args.out, "stages", "flamingo.partial.pt")
    first = 0
    if args.resume and os.path.exists(partial):
        ck = torch.load(partial)
        model.perceiver.load_state_dict(ck["perceiver"])
        model.lang_encoder.gated_cross_attn_layers.load_state_dict(ck["xattn"])
        head.load_state_dict(ck["head"])
        with torch.no_grad():
            wte.copy_(ck["wte"])
        opt.load_state_dict(ck["opt"])
        rng.bit_generator.state = ck["numpy_rng"]
        torch.set_rng_state(ck["torch_rng"])
        first = ck["step"]
        log(state, "resumed the Flamingo stage at step %d from %s" % (first, partial))
    for step in range(first, steps):
        if step > first and step % max(1, steps // 10) == 0:
            torch.save({"step": step, "perceiver": model.perceiver.state_dict(),
                        "xattn": model.lang_encoder.gated_cross_attn_layers.state_dict(), "wte": wte.detach().clone(),
                        "head": head.state_dict(), "opt": opt.state_dict(), "numpy_rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state()},
                       partial + ".tmp")
            os.replace(partial + ".tmp", partial)
        ex = build_examples(state["train"], rng, B, tok, sc["fl_caption_share"])
        # Length buckets: the batch is sorted by length and run as `fl_buckets` micro-batches, each padded to
        # its own longest sequence (one long question sequence no longer pads 31 short ones); the loss is the
        # mean over all target tokens of the batch, as with one padded batch.
        order = sorted(range(B), key=lambda r: len(ex[r][1]))
        buckets = [order[j * B // sc["fl_buckets"]:(j + 1) * B // sc["fl_buckets"]]
                   for j in range(sc["fl_buckets"])]
        batches = []
        for rows in buckets:
            L = max(len(ex[r][1]) for r in rows)
            ids = torch.full((len(rows), L), PAD_ID, dtype=torch.long)
            tgt = torch.full((len(rows), L), -100, dtype=torch.long)
            for i, r in enumerate(rows):
                _, s, m = ex[r]
                ids[i, :len(s)] = torch.tensor(s)
                tgt[i, :len(s)] = torch.where(torch.tensor(m), torch.tensor(s), torch.tensor(-100))
            batches.append((rows, ids, tgt))
        set_lr(opt, sc["fl_lr"], step, steps)
        # Temporal-embedding dropout: on a fraction of steps the resampler runs without frame_embs, so that
        # everything except frame order (colour, shape, count) does not depend on them (the ablation bar).
        drop = rng.random() < sc["fl_zero_temporal_p"]
        lat = {}
        # (B, T_max, n_latents, D), each clip once
        vis = perceive(model, cache, off, [e[0] for e in ex], lat, without_frame_embs=drop)
        n_tgt = sum(int((t[:, 1:] >= 0).sum()) for _, _, t in batches)
        loss = 0.0
        for rows, ids, tgt in batches:
            T = max(len(ex[r][0]) for r in rows)
            logits = flamingo_logits(model, vis[rows, :T], ids)
            loss = loss + F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), tgt[:, 1:].reshape(-1),
                                          ignore_index=-100, reduction="sum") / n_tgt
        lm_loss, s_loss, s_acc = loss, torch.zeros(()), (0.0, 0.0)
        if sc["fl_scene_weight"] > 0:
            s_loss, s_acc = scene_loss(head, state["train"], lat, drop)
            loss = loss + sc["fl_scene_weight"] * s_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(tparams + [wte], 1.0)
        opt.step()
        if step % max(1, steps // 10) == 0 or step == steps - 1:
            gates = [round(math.tanh(m.attn_gate.item()), 3) for m in model.lang_encoder.gated_cross_attn_layers
                     if m is not None]
            log(state, "flamingo step %d/%d lm loss %.4f scene loss %.4f (exact %.3f) tanh(attn_gate) %s" % (
                step, steps, lm_loss.item(), s_loss.item(), s_acc[0], gates))
        if "probe" in state and (step + 1) % max(1, steps // 5) == 0:
            log(state, "probe (diagnostic only, not used for selection): %s" % probe(model, tok, *state["probe"]))
            model.perceiver.train()
    state["final_loss"] = lm_loss.item()
    if os.path.exists(partial):
        os.remove(partial)  # the stage checkpoint supersedes it
    return {"perceiver": model.perceiver.state_dict(),
            "xattn": model.lang_encoder.gated_cross_attn_layers.state_dict(),
            "wte": wte.detach().clone()}


# ---------------------------------------------------------------------------
# Eval (Python side, renderer-B frames) and export
# ---------------------------------------------------------------------------

@torch.no_grad()
def greedy(model, tok, cache, off, jobs, max_new, batch=64):
    """jobs: (clip list, prompt string). Greedy, bad words <image>/<PAD>, stop at <|endofchunk|>.
    Returns decoded completions (without the eoc)."""
    outs = []
    for i in range(0, len(jobs), batch):
        chunk = jobs[i:i + batch]
        vis = perceive(model, cache, off, [c for c, _ in chunk])
        seqs = [list(tok.enc(p)) for _, p in chunk]
        gen = [[] for _ in chunk]
        done = [False] * len(chunk)
        for _ in range(max_new):
            L = max(len(s) for s in seqs)
            ids = torch.full((len(chunk), L), PAD_ID, dtype=torch.long)
            for r, s in enumerate(seqs):
                ids[r, :len(s)] = torch.tensor(s)
            lg = flamingo_logits(model, vis, ids)
            last = lg[torch.arange(len(chunk)), torch.tensor([len(s) - 1 for s in seqs])]
            last[:, [MEDIA_ID, PAD_ID]] = -float("inf")
            nxt = last.argmax(-1).tolist()
            for r, t in enumerate(nxt):
                if done[r]:
                    continue
                seqs[r].append(t)
                if t == EOC_ID:
                    done[r] = True
                else:
                    gen[r].append(t)
            if all(done):
                break
        outs += [tok.dec(g) for g in gen]
    return outs


@torch.no_grad()
def probe(model, tok, ev, ev_cache, n=48):
    """Greedy accuracy on the first n eval clips' balanced questions and captions, to watch training."""
    model.eval()
    cache, off = ev_cache
    labels = ev["labels"][:n]
    jobs, qs = [], []
    for c, lab in enumerate(labels):
        for q in balanced_questions(lab):
            jobs.append(([c], world.question_prompt(q["question"]))); qs.append(q)
    per = defaultdict(list)
    for p, q in zip(greedy(model, tok, cache, off, jobs, 4), qs):
        per[q["type"]].append(world.score(p, q["answer"]))
    qa = np.mean([x for v in per.values() for x in v])
    caps = greedy(model, tok, cache, off, [([c], world.CAPTION_PROMPT) for c in range(len(labels))], 24)
    cap = np.mean([world.score(p, lab["caption"]) for p, lab in zip(caps, labels)])
    return "qa %.3f (n=%d; %s), captions %.3f (n=%d)" % (
        qa, len(jobs), " ".join("%s %.2f" % (t, np.mean(v)) for t, v in sorted(per.items())), cap, len(labels))


def evaluate(model, tok, ev, ev_cache, fewshot, eval_max, rng):
    cache, off = ev_cache
    idx_of = {"eval_%04d" % int(i): j for j, i in enumerate(ev["index"])}
    labels = ev["labels"]
    clips = list(range(len(labels)))
    if eval_max:
        clips = sorted(rng.choice(len(labels), size=min(eval_max, len(labels)), replace=False).tolist())
    rep = OrderedDict()
    # QA on the balanced subset
    jobs, meta = [], []
    for c in clips:
        for q in balanced_questions(labels[c]):
            jobs.append(([c], world.question_prompt(q["question"])))
            meta.append(q)
    preds = greedy(model, tok, cache, off, jobs, 4)
    per = defaultdict(list)
    for p, q in zip(preds, meta):
        per[q["type"]].append(world.score(p, q["answer"]))
    rep["qa_overall"] = float(np.mean([x for v in per.values() for x in v]))
    rep["qa_per_type"] = {t: round(float(np.mean(v)), 4) for t, v in sorted(per.items())}
    rep["qa_n"] = len(jobs)
    # captions
    preds = greedy(model, tok, cache, off, [([c], world.CAPTION_PROMPT) for c in clips], 32)
    rep["caption_exact"] = float(np.mean([world.score(p, labels[c]["caption"]) for p, c in zip(preds, clips)]))
    rep["caption_examples"] = [[labels[c]["caption"], p] for p, c in list(zip(preds, clips))[:3]]
    # few-shot
    fs = defaultdict(list)
    fsq = []
    eps = fewshot if not eval_max else [e for i, e in enumerate(fewshot) if (i // 5) % 4 == 0 or
                                        e["form"] == "question"]
    jobs, meta = [], []
    for e in eps:
        cl = [idx_of[s["clip"]] for s in e["support"]] + [idx_of[e["query"]["clip"]]]
        if e["form"] == "answer":
            prompt = e["prompt"]
        else:
            prompt = world.question_fewshot_prompt([(s["question"], s["answer"]) for s in e["support"]],
                                                   e["query"]["question"])
        jobs.append((cl, prompt)); meta.append(e)
    preds = greedy(model, tok, cache, off, jobs, 4)
    for p, e in zip(preds, meta):
        ok = world.score(p, e["query"]["answer"])
        (fs[e["k"]] if e["form"] == "answer" else fsq).append(ok)
    rep["fewshot_answer_by_k"] = {str(k): round(float(np.mean(v)), 4) for k, v in sorted(fs.items())}
    rep["fewshot_question"] = round(float(np.mean(fsq)), 4) if fsq else None
    # frame_embs ablation: direction accuracy on moving objects, colour accuracy
    saved = model.perceiver.frame_embs.detach().clone()
    for name, zero in (("with_frame_embs", False), ("zeroed_frame_embs", True)):
        if zero:
            model.perceiver.frame_embs.data.zero_()
        jobs, ans, kinds = [], [], []
        for c in clips:
            for q in labels[c]["qa"]:
                if (q["type"] == "motion" and q["answer"] != "not moving") or q["type"] == "color":
                    jobs.append(([c], world.question_prompt(q["question"])))
                    ans.append(q["answer"]); kinds.append(q["type"])
        preds = greedy(model, tok, cache, off, jobs, 4)
        r = defaultdict(list)
        for p, a, k in zip(preds, ans, kinds):
            r[k].append(world.score(p, a))
        rep[name] = {"direction_moving": round(float(np.mean(r["motion"])), 4),
                     "color": round(float(np.mean(r["color"])), 4)}
    model.perceiver.frame_embs.data.copy_(saved)
    rep["eval_clips"] = len(clips)
    return rep


def export(model, tok_path, out_dir, dtype):
    """The engine's model directory; weights stored as `dtype` ("f16" halves the file; the engine widens
    them to float32 on load). <out>/model-f32 keeps the float32 export for comparison."""
    from safetensors.torch import save_file
    os.makedirs(out_dir, exist_ok=True)
    MR.write_json(os.path.join(out_dir, "config.json"), MR.engine_config(variant()))
    shutil.copyfile(tok_path, os.path.join(out_dir, "tokenizer.json"))
    sd = MR.canonical_state_dict(model)
    if dtype == "f16":
        f32 = out_dir.rstrip("/") + "-f32"
        os.makedirs(f32, exist_ok=True)
        for name in ("config.json", "tokenizer.json"):
            shutil.copyfile(os.path.join(out_dir, name), os.path.join(f32, name))
        save_file(sd, os.path.join(f32, "model.safetensors"), metadata={"format": "pt"})
        sd = OrderedDict((k, v.half() if v.is_floating_point() else v) for k, v in sd.items())
    save_file(sd, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(out_dir, "keys.txt"), "w") as f:
        for k, t in sd.items():
            f.write("%s %s\n" % (k, list(t.shape)))
    return sum(t.numel() for t in sd.values())


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(HERE, "out", "shapes-v1"))
    ap.add_argument("--scale", choices=sorted(SCALES), default="full")
    ap.add_argument("--data", default=None, help="data dir (default Training/data/<smoke|default>)")
    ap.add_argument("--data-seed", type=int, default=1, help="seed for make_dataset.py if shards are missing")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--resume", action="store_true", help="skip stages whose checkpoint exists")
    ap.add_argument("--until", choices=["data", "vision", "lm", "perceiver", "flamingo"], default=None,
                    help="stop after this stage (its checkpoint is written)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override one of the scale's settings (for experiments; recorded in the report)")
    args = ap.parse_args()
    sc = dict(SCALES[args.scale])
    for kv in args.set:
        k, v = kv.split("=", 1)
        if k not in sc:
            ap.error("--set: unknown setting %r (known: %s)" % (k, ", ".join(sorted(sc))))
        sc[k] = type(sc[k])(v) if sc[k] is not None else int(v)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    MR.LIB.transformers.logging.set_verbosity_error()
    set_sizes()
    os.makedirs(os.path.join(args.out, "stages"), exist_ok=True)
    timings = OrderedDict()

    def run_stage(name, fn, *a):
        ck = os.path.join(args.out, "stages", name + ".pt")
        if args.resume and os.path.exists(ck):
            print("[resume] %s: loading %s" % (name, ck), flush=True)
            return torch.load(ck)
        st = {"t0": time.time()}
        t0 = time.time()
        res = fn(*a, st) if name == "data" else fn(args, sc, st, *a)
        timings[name] = round(time.time() - t0, 1)
        torch.save(res, ck)
        with open(os.path.join(args.out, "stages", name + ".log.json"), "w") as f:
            json.dump({"stage": name, "seconds": timings[name], "seed": args.seed, "scale": args.scale,
                       "final_loss": st.get("final_loss"), "log": st.get("lines", [])}, f, indent=1)
        return res

    t_all = time.time()
    paths = run_stage("data", lambda st: stage_data(args, sc, st))
    tok = Tok(paths["tokenizer"])
    t0 = time.time()
    train = load_split(paths["shards"], os.path.join(paths["data"], "train", "labels.jsonl"))
    ev = load_split([paths["eval"]], os.path.join(paths["data"], "eval", "labels.jsonl"))
    print("loaded %d train clips, %d eval clips (%.1fs)" % (len(train["index"]), len(ev["index"]),
                                                            time.time() - t0), flush=True)

    if args.until == "data":
        return
    ck_v = run_stage("vision", lambda a, s, st: stage_vision(a, s, st, train))
    if args.until == "vision":
        return
    ck_lm = run_stage("lm", lambda a, s, st: stage_lm(a, s, st, tok))
    if args.until == "lm":
        return
    # The resampler and cross-attention initialisation draws from torch's global generator: seed it here, so
    # the stage is the same whether the earlier stages ran in this process or were resumed (importing
    # open_clip/open_flamingo leaves that generator randomly seeded).
    seeded(args.seed, 4)
    model = build_flamingo(tok.vocab, ck_v, ck_lm)
    t0 = time.time()
    train_cache = encode_frames(model.vision_encoder, train)
    ev_cache = encode_frames(model.vision_encoder, ev)
    timings["cache"] = round(time.time() - t0, 1)
    print("cached ViT tokens: train %s, eval %s (%.1fs)" % (tuple(train_cache[0].shape), tuple(ev_cache[0].shape),
                                                            timings["cache"]), flush=True)

    ck_p = run_stage("perceiver", lambda a, s, st: stage_perceiver(a, s, st, model, train, train_cache))
    model.perceiver.load_state_dict(ck_p["perceiver"])
    if args.until == "perceiver":
        return

    def fl(a, s, st):
        st["train"] = train
        st["probe"] = (ev, ev_cache)
        return stage_flamingo(a, s, st, tok, model, train_cache, ck_p["head"])
    ck_f = run_stage("flamingo", fl)
    if args.until == "flamingo":
        return
    model.perceiver.load_state_dict(ck_f["perceiver"])
    model.lang_encoder.gated_cross_attn_layers.load_state_dict(ck_f["xattn"])
    with torch.no_grad():
        model.lang_encoder.transformer.wte.weight.copy_(ck_f["wte"])
    model.eval()

    t0 = time.time()
    model_dir = os.path.join(args.out, "model")
    n_params = export(model, paths["tokenizer"], model_dir, sc["export_dtype"])
    fewshot = [json.loads(l) for l in open(os.path.join(ROOT, "Models", "eval", "fewshot.jsonl"))]
    rep = evaluate(model, tok, ev, ev_cache, fewshot, sc["eval_max"], seeded(args.seed, 5))
    timings["export_eval"] = round(time.time() - t0, 1)
    rep = OrderedDict([("seed", args.seed), ("scale", args.scale), ("settings", sc), ("params", n_params),
                       ("timings_s", timings), ("total_s", round(time.time() - t_all, 1))] + list(rep.items()))
    with open(os.path.join(args.out, "eval_report.json"), "w") as f:
        json.dump(rep, f, indent=1)
    print(json.dumps(rep, indent=1), flush=True)


if __name__ == "__main__":
    main()
