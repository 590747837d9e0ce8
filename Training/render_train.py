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


def _coverage(shape: str, xs: np.ndarray, ys: np.ndarray, cx: float, cy: float, s: float, style: Dict) -> np.ndarray:
    """Coverage in [0, 1] of the pixels with centres (xs[None, :], ys[:, None])."""
    edges = style["edges"]
    if edges == "ss":
        k = style["ss"]
        offs = (np.arange(k, dtype=np.float32) + 0.5) / k - 0.5
        acc = None
        for oy in offs:
            for ox in offs:
                c = _coverage(shape, xs + ox, ys + oy, cx, cy, s, {"edges": "hard"})
                acc = c if acc is None else acc + c
        return acc / (k * k)
    X = xs[None, :] - cx
    Y = ys[:, None] - cy
    h = s / 2
    if shape == "circle":
        d = h - np.sqrt(X * X + Y * Y)
    elif shape == "square":
        d = np.minimum(h - np.abs(X), h - np.abs(Y))
    elif shape == "triangle":
        # apex (0, -h), base y = +h from x = -h to +h; half-width at y is (y + h) / 2
        d_base = h - Y
        d_side = ((Y + h) / 2 - np.abs(X)) / math.sqrt(1.25)
        d = np.minimum(d_base, d_side)
    else:
        raise ValueError(shape)
    if edges == "hard":
        return (d >= 0).astype(np.float32)
    w = style["ramp"]
    return np.clip(d / w + 0.5, 0.0, 1.0).astype(np.float32)


def draw_frame(scene: world.Scene, t: float, bg: np.ndarray, style: Dict) -> np.ndarray:
    """One S x S x 3 float32 frame at presentation time t on a copy of background bg."""
    S = scene.S
    img = bg.copy()
    for o in scene.objects:
        cx, cy = o.center(t, scene.duration)
        h = o.size / 2
        x0, x1 = max(0, int(math.floor(cx - h)) - 2), min(S, int(math.ceil(cx + h)) + 2)
        y0, y1 = max(0, int(math.floor(cy - h)) - 2), min(S, int(math.ceil(cy + h)) + 2)
        xs = np.arange(x0, x1, dtype=np.float32) + 0.5
        ys = np.arange(y0, y1, dtype=np.float32) + 0.5
        a = _coverage(o.shape, xs, ys, cx, cy, o.size, style)[:, :, None]
        patch = img[y0:y1, x0:x1]
        patch += a * (np.asarray(o.rgb, dtype=np.float32) - patch)
    return img


class _Noise:
    def __init__(self, scene: world.Scene, style: Dict, rng):
        self.sigma = scene.noise_sigma
        self.S = scene.S
        self.gray = style["noise_gray"]
        self.temporal = style["noise_mode"] == "temporal"
        self.rng = rng
        self.base = np.full((self.S, self.S, 3), float(scene.background), dtype=np.float32)
        self.static = None if self.temporal or self.sigma == 0 else self._draw()

    def _draw(self) -> np.ndarray:
        shape = (self.S, self.S, 1) if self.gray else (self.S, self.S, 3)
        n = self.rng.standard_normal(shape, dtype=np.float32) * np.float32(self.sigma)
        return np.clip(self.base + n, 0, 255)

    def background(self) -> np.ndarray:
        if self.sigma == 0:
            return self.base
        if self.static is not None:
            return self.static
        return self._draw()


def render_frames(scene: world.Scene, style: Dict, rng):
    """Yields the uint8 video frames (height, width, 3), pillarbox included."""
    noise = _Noise(scene, style, rng)
    W, H = scene.frame_size()
    bar = (W - scene.S) // 2
    canvas = np.zeros((H, W, 3), dtype=np.uint8)
    for t in scene.timing.frame_times():
        img = draw_frame(scene, t, noise.background(), style)
        frame = np.rint(img).clip(0, 255).astype(np.uint8)
        if bar:
            canvas[:, bar:bar + scene.S] = frame
            yield canvas
        else:
            yield frame


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
