"""Renderer A (training clips): a numpy rasteriser piped into the ffmpeg CLI.

Per clip it draws every frame at its presentation time (positions are linear
in presentation time, VFR included), then encodes a real video file with a
random encoding of the spec (encoding.py).  Drawing choices, random per clip:

  edges       hard (pixel-centre test), ramp (analytic signed distance with a
              linear ramp 0.6-1.6 px wide) or supersampled (2x2 .. 4x4)
  noise       none / static / temporal, gray (one value for R, G, B) or
              per-channel, Gaussian with sigma from the scene (<= 6), on the
              background only
This renderer is only ever used for the training corpus; the evaluation set
comes from render_eval.py, an unrelated drawing path.

Usage: python render_train.py --seed 1 --out /tmp/a.mkv  (one clip, for testing)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from typing import Dict, Tuple

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import encoding  # noqa: E402
import world  # noqa: E402


def sample_style(rng) -> Dict:
    u = rng.random()
    if u < 0.3:
        style = {"edges": "hard"}
    elif u < 0.7:
        style = {"edges": "ramp", "ramp": round(float(rng.uniform(0.6, 1.6)), 3)}
    else:
        style = {"edges": "ss", "ss": int(rng.integers(2, 5))}
    style["noise_mode"] = "temporal" if rng.random() < 0.6 else "static"
    style["noise_gray"] = bool(rng.random() < 0.6)
    return style


def _signed_distance(shape: str, X: np.ndarray, Y: np.ndarray, h: float) -> np.ndarray:
    """Signed distance (px, positive inside) of points (X, Y) relative to the centre; h = half size."""
    if shape == "circle":
        return h - np.sqrt(X * X + Y * Y)
    if shape == "square":
        return np.minimum(h - np.abs(X), h - np.abs(Y))
    if shape == "triangle":
        # apex (0, -h), base y = +h from x = -h to +h; half-width at y is (y + h) / 2
        return np.minimum(h - Y, ((Y + h) / 2 - np.abs(X)) * np.float32(1 / math.sqrt(1.25)))
    raise ValueError(shape)


def _coverage(shape: str, xs: np.ndarray, ys: np.ndarray, cx: float, cy: float, s: float, style: Dict) -> np.ndarray:
    """Coverage in [0, 1] of the pixels with centres (xs[None, :], ys[:, None])."""
    edges = style["edges"]
    h = np.float32(s / 2)
    if edges == "ss":
        k = style["ss"]
        offs = ((np.arange(k, dtype=np.float32) + 0.5) / k - 0.5)
        X = (xs[:, None] + offs[None, :]).reshape(-1) - np.float32(cx)
        Y = (ys[:, None] + offs[None, :]).reshape(-1) - np.float32(cy)
        inside = (_signed_distance(shape, X[None, :], Y[:, None], h) >= 0).astype(np.float32)
        return inside.reshape(len(ys), k, len(xs), k).mean(axis=(1, 3))
    X = xs[None, :] - np.float32(cx)
    Y = ys[:, None] - np.float32(cy)
    d = _signed_distance(shape, X, Y, h)
    if edges == "hard":
        return (d >= 0).astype(np.float32)
    return np.clip(d * np.float32(1 / style["ramp"]) + np.float32(0.5), 0.0, 1.0)


def draw_frame(scene: world.Scene, t: float, bg: np.ndarray, style: Dict, out: np.ndarray) -> None:
    """Draws the frame at presentation time t into out (S x S x 3 uint8) over background bg (uint8)."""
    S = scene.S
    out[...] = bg
    for o in scene.objects:
        cx, cy = o.center(t, scene.duration)
        h = o.size / 2
        x0, x1 = max(0, int(math.floor(cx - h)) - 2), min(S, int(math.ceil(cx + h)) + 2)
        y0, y1 = max(0, int(math.floor(cy - h)) - 2), min(S, int(math.ceil(cy + h)) + 2)
        xs = np.arange(x0, x1, dtype=np.float32) + np.float32(0.5)
        ys = np.arange(y0, y1, dtype=np.float32) + np.float32(0.5)
        a = _coverage(o.shape, xs, ys, cx, cy, o.size, style)[:, :, None]
        patch = out[y0:y1, x0:x1].astype(np.float32)
        patch += a * (np.asarray(o.rgb, dtype=np.float32) - patch)
        out[y0:y1, x0:x1] = np.rint(patch).astype(np.uint8)


class _Noise:
    """Background: gray level plus Gaussian noise (static, or a fresh-looking
    field per frame taken as a random window of a larger pre-drawn field)."""

    PAD = 48

    def __init__(self, scene: world.Scene, style: Dict, rng):
        self.S = scene.S
        self.rng = rng
        self.temporal = style["noise_mode"] == "temporal" and scene.noise_sigma > 0
        size = self.S + (self.PAD if self.temporal else 0)
        if scene.noise_sigma == 0:
            self.field = np.full((self.S, self.S, 3), scene.background, dtype=np.uint8)
        else:
            ch = 1 if style["noise_gray"] else 3
            n = rng.standard_normal((size, size, ch), dtype=np.float32) * np.float32(scene.noise_sigma)
            f = np.rint(np.float32(scene.background) + n).clip(0, 255).astype(np.uint8)
            self.field = np.ascontiguousarray(np.broadcast_to(f, (size, size, 3)))

    def background(self) -> np.ndarray:
        if not self.temporal:
            return self.field
        # a random window, flipped at random: a different pattern every frame
        oy, ox = self.rng.integers(0, self.PAD + 1, size=2)
        w = self.field[oy:oy + self.S, ox:ox + self.S]
        f = int(self.rng.integers(4))
        if f & 1:
            w = w[:, ::-1]
        if f & 2:
            w = w[::-1]
        return w


def render_frames(scene: world.Scene, style: Dict, rng):
    """Yields the uint8 video frames (height, width, 3), pillarbox included.
    The yielded array is reused: consume it before asking for the next."""
    noise = _Noise(scene, style, rng)
    W, H = scene.frame_size()
    bar = (W - scene.S) // 2
    canvas = np.zeros((H, W, 3), dtype=np.uint8)
    view = canvas[:, bar:bar + scene.S]
    for t in scene.timing.frame_times():
        draw_frame(scene, t, noise.background(), style, view)
        yield canvas


def encode_command(scene: world.Scene, enc: Dict, path: str):
    W, H = scene.frame_size()
    tm = scene.timing
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}"]
    if tm.vfr:
        # nominal input rate ~ the fastest segment; real times come from setpts
        cmd += ["-framerate", str(max(r for _, r in tm.segments)), "-i", "pipe:0",
                "-vf", f"settb=1/1000,setpts={tm.setpts_expr()}",
                "-fps_mode", "passthrough", "-enc_time_base", "1:1000"]
    else:
        cmd += ["-framerate", f"{tm.fps_num}/{tm.fps_den}", "-i", "pipe:0", "-fps_mode", "passthrough"]
    cmd += encoding.output_args(enc) + [path]
    return cmd


def render_clip(seed_seq, out_path_noext: str, dist: str = "train", profile: str = "train",
                scene_kwargs: Dict = None) -> Dict:
    """Samples a scene and encoding from seed_seq, renders and encodes it.
    Returns the label dict (with 'file' set to the written path)."""
    rng = np.random.default_rng(seed_seq)
    scene = world.sample_scene(rng, dist=dist, **(scene_kwargs or {}))
    enc = encoding.sample_encoding(rng, scene.timing.vfr, profile)
    style = sample_style(rng)
    path = out_path_noext + "." + encoding.extension(enc)
    cmd = encode_command(scene, enc, path)
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for fr in render_frames(scene, style, rng):
            proc.stdin.write(fr.tobytes())
        proc.stdin.close()
    except BrokenPipeError:
        pass
    err = proc.stderr.read().decode(errors="replace")
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg failed for {path}: {err[-2000:]}\n{cmd}")
    label = world.scene_label(scene)
    label.update(renderer="A", encoding=enc, style=style, file=path)
    return label


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="/tmp/clip_a")
    a = ap.parse_args()
    lab = render_clip(np.random.SeedSequence(a.seed), os.path.splitext(a.out)[0])
    print(json.dumps(lab))


if __name__ == "__main__":
    main()
