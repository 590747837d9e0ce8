"""The frames the model sees, extracted from a video file with the ffmpeg CLI.

Semantics (the same as the Swift sampler, Sources/VideoIO/SamplingPlan.swift):
  * times are presentation times measured from the first shown frame;
  * duration = max over frames of (pts + frame duration) - first pts;
  * sample times t_k = k / rate for k = 0, 1, ... while t_k < duration;
  * the frame for t_k is the last frame whose time is <= t_k;
  * each picked frame: centre square of the picture (its shorter side), scaled
    to R x R with bicubic swscale (accurate rounding, full chroma
    interpolation, colour matrix from the stream), RGB24.
  (Scaling the shorter side to R and then centre-cropping R x R gives the same
  square region; cropping first is what the Swift side does.)

One ffmpeg process decodes every frame, crops and scales it (cheap at R = 64)
and prints the exact pts through the showinfo filter; the picking is done here.
"""

from __future__ import annotations

import re
import subprocess
from fractions import Fraction
from typing import Dict, List, Optional, Tuple

import numpy as np

_TB_RE = re.compile(r"config in time_base: (\d+)/(\d+)")
_PTS_RE = re.compile(r"\] n:\s*(\d+) pts:\s*(-?\d+) ")


def decode_all(path: str, R: int = 64, threads: int = 1) -> Tuple[np.ndarray, List[Fraction]]:
    """All frames of the first video stream as (n, R, R, 3) uint8 and their pts in seconds (exact)."""
    vf = (f"crop=w='min(iw,ih)':h='min(iw,ih)':exact=1,"
          f"scale={R}:{R}:flags=bicubic+accurate_rnd+full_chroma_int,format=rgb24,showinfo")
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "info", "-threads", str(threads), "-i", path,
           "-map", "0:v:0", "-vf", vf, "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    p = subprocess.run(cmd, capture_output=True)
    if p.returncode != 0:
        raise RuntimeError(f"ffmpeg failed on {path}: {p.stderr.decode(errors='replace')[-2000:]}")
    err = p.stderr.decode(errors="replace")
    m = _TB_RE.search(err)
    if not m:
        raise RuntimeError(f"no showinfo time base for {path}")
    tb = Fraction(int(m.group(1)), int(m.group(2)))
    pts = [int(x.group(2)) * tb for x in _PTS_RE.finditer(err)]
    frames = np.frombuffer(p.stdout, dtype=np.uint8)
    n = frames.size // (R * R * 3)
    if n != len(pts):
        raise RuntimeError(f"{path}: {n} frames but {len(pts)} timestamps")
    return frames.reshape(n, R, R, 3), pts


def probe_packets(path: str) -> List[Tuple[Fraction, Fraction]]:
    """(pts, duration) in seconds of every video packet, via ffprobe (exact, from integer ticks)."""
    cmd = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
           "stream=time_base:packet=pts,duration", "-of", "compact=p=0:nk=1", path]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split("\n")
    tb = None
    rows = []
    for line in out:
        if not line:
            continue
        f = line.split("|")
        if len(f) == 1 and "/" in f[0]:
            a, b = f[0].split("/")
            tb = Fraction(int(a), int(b))
        elif len(f) == 2:
            rows.append(f)
    assert tb is not None
    res = []
    for pts, dur in rows:
        if pts in ("N/A", ""):
            continue
        res.append((int(pts) * tb, (int(dur) * tb) if dur not in ("N/A", "") else Fraction(0)))
    return res


def sample_indices(pts: List[Fraction], duration: float, rate: float = 1.0) -> Tuple[List[int], List[float]]:
    """Indices (into presentation-ordered frames) of the frames for t_k = k/rate < duration,
    and the picked frames' times relative to the first frame."""
    order = sorted(range(len(pts)), key=lambda i: (pts[i], i))
    first = pts[order[0]]
    rel = [float(pts[i] - first) for i in order]
    picked, times = [], []
    cur, k = 0, 0
    while k / rate < duration:
        t = k / rate
        while cur + 1 < len(rel) and rel[cur + 1] <= t:
            cur += 1
        picked.append(order[cur])
        times.append(rel[cur])
        k += 1
    return picked, times


def file_duration(path: str, nominal_frame: Optional[float] = None) -> float:
    """Duration as the Swift sampler measures it: max(pts + duration) - first pts
    (a packet without a duration counts the nominal frame duration, else the median step)."""
    pk = probe_packets(path)
    pts = sorted(p for p, _ in pk)
    steps = sorted(b - a for a, b in zip(pts, pts[1:]))
    med = steps[len(steps) // 2] if steps else Fraction(0)
    fd = Fraction(nominal_frame).limit_denominator(100000) if nominal_frame else med
    end = max(p + (d if d > 0 else fd) for p, d in pk)
    return float(end - pts[0])


def extract(path: str, duration: float, R: int = 64, rate: float = 1.0,
            max_frames: int = 10) -> Dict:
    """Frames the model sees for one clip: {'frames': (K, R, R, 3) uint8, 'times': [K], 'pts': all frame times}."""
    frames, pts = decode_all(path, R)
    idx, times = sample_indices(pts, duration, rate)
    idx, times = idx[:max_frames], times[:max_frames]
    first = min(pts)
    return {"frames": frames[idx], "times": times, "all_times": sorted(float(p - first) for p in pts)}
