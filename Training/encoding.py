"""Video encodings of Shapes World (codecs, containers, quality) and the ffmpeg
CLI arguments that produce them.  Shared by both renderers: the encodings are
part of the spec, not of a drawing code path.

Valid codec/container pairs used here (all checked with ffmpeg 5.1):
  h264  (libx264, yuv420p)             mp4 mkv mov
  vp9   (libvpx-vp9, yuv420p)          webm mkv mp4
  mpeg4 (MPEG-4 Part 2, yuv420p)       avi mp4 mkv mov
  mjpeg (yuvj420p / yuvj422p / yuvj444p) avi mkv mov
VFR clips are never put in AVI (AVI has no per-frame timestamps).
"""

from __future__ import annotations

from typing import Dict, List

CODECS = ("h264", "vp9", "mpeg4", "mjpeg")
CONTAINERS = {
    "h264": ("mp4", "mkv", "mov"),
    "vp9": ("webm", "mkv", "mp4"),
    "mpeg4": ("avi", "mp4", "mkv", "mov"),
    "mjpeg": ("avi", "mkv", "mov"),
}
EXT = {"mp4": "mp4", "mkv": "mkv", "webm": "webm", "avi": "avi", "mov": "mov"}
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium")

PROFILES = {
    # codec weights and quality ranges
    "train": dict(weights=(0.4, 0.2, 0.2, 0.2), h264_crf=(18, 35), vp9_crf=(15, 50), mpeg4_q=(2, 14),
                  mjpeg_q=(2, 16)),
    # the committed eval set: same spread of quality, a little smaller files
    "eval": dict(weights=(0.35, 0.25, 0.2, 0.2), h264_crf=(18, 35), vp9_crf=(18, 50), mpeg4_q=(3, 14),
                 mjpeg_q=(6, 18)),
}


def sample_encoding(rng, vfr: bool, profile: str = "train") -> Dict:
    p = PROFILES[profile]
    w = p["weights"]
    codec = CODECS[int(rng.choice(len(CODECS), p=[x / sum(w) for x in w]))]
    containers = [c for c in CONTAINERS[codec] if not (vfr and c == "avi")]
    container = containers[int(rng.integers(len(containers)))]
    gop = int(rng.choice([1, 12, 30, 60, 125, 250])) if codec != "mjpeg" else 1
    enc: Dict = {"codec": codec, "container": container, "gop": gop}
    if codec == "h264":
        enc.update(pix_fmt="yuv420p", crf=int(rng.integers(p["h264_crf"][0], p["h264_crf"][1] + 1)),
                   preset=X264_PRESETS[int(rng.integers(len(X264_PRESETS)))],
                   bframes=int(rng.choice([0, 2, 3])))
    elif codec == "vp9":
        enc.update(pix_fmt="yuv420p", crf=int(rng.integers(p["vp9_crf"][0], p["vp9_crf"][1] + 1)),
                   cpu_used=int(rng.integers(5, 9)))
    elif codec == "mpeg4":
        enc.update(pix_fmt="yuv420p", q=int(rng.integers(p["mpeg4_q"][0], p["mpeg4_q"][1] + 1)),
                   bframes=0 if container == "avi" else int(rng.choice([0, 0, 1, 2])))
    else:
        enc.update(pix_fmt=["yuvj420p", "yuvj422p", "yuvj444p"][int(rng.integers(3))],
                   q=int(rng.integers(p["mjpeg_q"][0], p["mjpeg_q"][1] + 1)))
    return enc


def output_args(enc: Dict) -> List[str]:
    """ffmpeg output options (after -i / filters, before the file name).
    Single-threaded encoders so that files are identical across machines."""
    c = enc["codec"]
    a: List[str] = []
    if c == "h264":
        a += ["-c:v", "libx264", "-preset", enc["preset"], "-crf", str(enc["crf"]), "-g", str(enc["gop"]),
              "-bf", str(enc["bframes"]), "-pix_fmt", "yuv420p", "-threads", "1"]
    elif c == "vp9":
        a += ["-c:v", "libvpx-vp9", "-crf", str(enc["crf"]), "-b:v", "0", "-deadline", "realtime",
              "-cpu-used", str(enc["cpu_used"]), "-g", str(enc["gop"]), "-row-mt", "0", "-pix_fmt", "yuv420p",
              "-threads", "1"]
    elif c == "mpeg4":
        a += ["-c:v", "mpeg4", "-q:v", str(enc["q"]), "-g", str(enc["gop"]), "-bf", str(enc["bframes"]),
              "-pix_fmt", "yuv420p", "-threads", "1"]
    elif c == "mjpeg":
        a += ["-c:v", "mjpeg", "-q:v", str(enc["q"]), "-pix_fmt", enc["pix_fmt"], "-threads", "1"]
    else:
        raise ValueError(c)
    if enc["container"] in ("mp4", "mov"):
        a += ["-movflags", "+faststart"]
    # reproducible files: no encoder/version strings, no creation time
    a += ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact"]
    return a


def extension(enc: Dict) -> str:
    return EXT[enc["container"]]
