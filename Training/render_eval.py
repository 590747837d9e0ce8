"""Renderer B (evaluation clips): one ffmpeg lavfi filter graph per clip.

An independent code path from render_train.py: it shares only world.py
(scene sampling, timing, language) and encoding.py (the spec's encodings).
No pixel is computed in Python.  The picture is made by ffmpeg itself:

  background  `color` source (gray level), optional `noise` filter (ffmpeg's
              own generator: per-channel on gbrp, or luma-only on yuv444p),
              VFR timestamps by settb/setpts on the background stream;
  objects     one sprite per object: a `color` source turned into an alpha
              mask by `geq` (hard edges), or drawn 3x/4x larger with `geq` and
              reduced with `scale` (area averaging or bicubic: a different
              anti-aliasing from renderer A); the sub-pixel position at t = 0
              is baked into the sprite;
  motion      `overlay` with x/y expressions in t (eval=frame), so positions
              follow presentation time, rounded to whole pixels;
  pillarbox   `pad`.

The model must never be trained on this renderer's output.

Usage: python render_eval.py --seed 1 --out /tmp/b  (one clip, for testing)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from typing import Dict, List

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import encoding  # noqa: E402
import world  # noqa: E402

NOISE_SIGMA_PER_STRENGTH = 0.55  # measured: vf_noise Gaussian, stdev per unit of strength


def sample_style(rng) -> Dict:
    u = rng.random()
    if u < 0.35:
        st = {"edges": "hard"}
    elif u < 0.75:
        st = {"edges": "area", "factor": int(rng.choice([3, 4]))}
    else:
        st = {"edges": "bicubic", "factor": 3}
    st["noise"] = "rgb" if rng.random() < 0.5 else "luma"
    st["noise_temporal"] = bool(rng.random() < 0.6)
    st["noise_seed"] = int(rng.integers(1, 2**31 - 1))
    return st


def _f(x: float) -> str:
    return repr(float(x))


def _alpha_expr(shape: str, cx: float, cy: float, s: float, k: int) -> str:
    """Hard-edged 0/255 mask at k x resolution; (cx, cy, s) in sprite pixels (1x)."""
    X = f"((X+0.5)/{k})"
    Y = f"((Y+0.5)/{k})"
    h = s / 2
    if shape == "circle":
        return f"255*lte(hypot({X}-{_f(cx)}\\,{Y}-{_f(cy)})\\,{_f(h)})"
    if shape == "square":
        return f"255*lte(abs({X}-{_f(cx)})\\,{_f(h)})*lte(abs({Y}-{_f(cy)})\\,{_f(h)})"
    if shape == "triangle":
        top, bot = cy - h, cy + h
        return (f"255*gte({Y}\\,{_f(top)})*lte({Y}\\,{_f(bot)})"
                f"*lte(abs({X}-{_f(cx)})\\,({Y}-{_f(top)})/2)")
    raise ValueError(shape)


def filter_graph(scene: world.Scene, style: Dict) -> (str, float):
    """The filter_complex text (output label [out]) and the effective noise sigma."""
    S = scene.S
    tm = scene.timing
    g = f"0x{scene.background:02X}{scene.background:02X}{scene.background:02X}"
    if tm.vfr:
        rate = max(r for _, r in tm.segments)
        src_d = tm.n_frames / rate + 1
        timing = f",settb=1/1000,setpts={tm.setpts_expr()}"
        rate_s = str(rate)
    else:
        rate_s = f"{tm.fps_num}/{tm.fps_den}"
        src_d = tm.n_frames * tm.fps_den / tm.fps_num + 1
        timing = ""
    parts: List[str] = []
    bg = f"color=c={g}:s={S}x{S}:r={rate_s}:d={src_d:.3f}"
    sigma_eff = 0.0
    if scene.noise_sigma > 0:
        strength = max(1, min(10, int(round(scene.noise_sigma / NOISE_SIGMA_PER_STRENGTH))))
        flags = ":allf=t" if style["noise_temporal"] else ""
        if style["noise"] == "rgb":
            bg += f",format=gbrp,noise=alls={strength}{flags}:all_seed={style['noise_seed']}"
            sigma_eff = strength * NOISE_SIGMA_PER_STRENGTH
        else:
            # luma noise: gray in RGB, about 255/219 larger than in Y
            strength_y = max(1, int(round(strength * 219 / 255)))
            flags = ":c0f=t" if style["noise_temporal"] else ""
            bg += f",format=yuv444p,noise=c0s={strength_y}{flags}:c0_seed={style['noise_seed']}"
            sigma_eff = strength_y * NOISE_SIGMA_PER_STRENGTH * 255 / 219
    bg += f",format=gbrp{timing}[bg0]"
    parts.append(bg)
    last = "bg0"
    D = tm.duration
    for i, o in enumerate(scene.objects):
        s = o.size
        left0, top0 = o.start[0] - s / 2, o.start[1] - s / 2
        ix, iy = math.floor(left0) - 1, math.floor(top0) - 1
        ox, oy = left0 - ix, top0 - iy  # in [1, 2)
        P = int(math.ceil(max(ox, oy) + s)) + 2
        cx, cy = ox + s / 2, oy + s / 2
        r, gg, b = o.rgb
        if style["edges"] == "hard":
            k = 1
        else:
            k = style["factor"]
        alpha = _alpha_expr(o.shape, cx, cy, s, k)
        spr = (f"color=c=black:s={P * k}x{P * k}:r=1:d=1,format=gbrap,"
               f"geq=r={r}:g={gg}:b={b}:a={alpha}")
        if k > 1:
            flags = "area" if style["edges"] == "area" else "bicubic"
            spr += f",scale={P}:{P}:flags={flags}"
        parts.append(spr + f"[s{i}]")
        vx, vy = o.velocity(D)
        xe = f"{ix}+floor({_f(vx)}*t+0.5)"
        ye = f"{iy}+floor({_f(vy)}*t+0.5)"
        parts.append(f"[{last}][s{i}]overlay=x={xe}:y={ye}:eval=frame:format=gbrp[v{i}]")
        last = f"v{i}"
    tail = f"[{last}]"
    if scene.pillarbox:
        W, H = scene.frame_size()
        tail += f"pad={W}:{H}:{(W - S) // 2}:0:color=black,"
    tail += "null[out]"
    parts.append(tail)
    return ";".join(parts), sigma_eff


def encode_command(scene: world.Scene, style: Dict, enc: Dict, path: str) -> List[str]:
    graph, _ = filter_graph(scene, style)
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-filter_complex", graph,
           "-map", "[out]", "-frames:v", str(scene.timing.n_frames), "-fps_mode", "passthrough"]
    if scene.timing.vfr:
        cmd += ["-enc_time_base", "1:1000"]
    return cmd + encoding.output_args(enc) + [path]


def render_clip(seed_seq, out_path_noext: str, dist: str = "eval", profile: str = "eval",
                scene_kwargs: Dict = None) -> Dict:
    rng = np.random.default_rng(seed_seq)
    scene = world.sample_scene(rng, dist=dist, **(scene_kwargs or {}))
    enc = encoding.sample_encoding(rng, scene.timing.vfr, profile)
    style = sample_style(rng)
    path = out_path_noext + "." + encoding.extension(enc)
    _, sigma_eff = filter_graph(scene, style)
    cmd = encode_command(scene, style, enc, path)
    p = subprocess.run(cmd, capture_output=True)
    if p.returncode != 0:
        raise RuntimeError(f"ffmpeg failed for {path}: {p.stderr.decode(errors='replace')[-2000:]}")
    label = world.scene_label(scene)
    label["noise_sigma"] = round(sigma_eff, 3)
    label.update(renderer="B", encoding=enc, style=style, file=path)
    return label


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="/tmp/clip_b")
    ap.add_argument("--print-graph", action="store_true")
    a = ap.parse_args()
    lab = render_clip(np.random.SeedSequence(a.seed), os.path.splitext(a.out)[0])
    if a.print_graph:
        sc = world.scene_from_label(lab)
        print(filter_graph(sc, lab["style"])[0])
    print(json.dumps(lab))


if __name__ == "__main__":
    main()
