"""Checks that labels agree with the pictures the model sees.

For every clip of a shard file (frames extracted from the real video files)
and every sampled frame, each object that is not covered by a later-drawn
object is looked up at the centre its label predicts for that frame's
presentation time: the mean colour of a 3x3 patch there must be the object's
colour.  For moving objects the same patch at the position predicted for the
mirrored time (D - t), when that is more than a size away, must NOT match
(direction check).  A background pixel far from every object must be the
background gray.  Prints statistics; exits non-zero when a check fails too
often.

Usage: python verify.py <shard.npz> <labels.jsonl> [--tol 45]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import world  # noqa: E402


def _patch(img: np.ndarray, x: float, y: float) -> np.ndarray:
    R = img.shape[0]
    i, j = int(np.floor(y)), int(np.floor(x))
    i0, i1, j0, j1 = max(0, i - 1), min(R, i + 2), max(0, j - 1), min(R, j + 2)
    return img[i0:i1, j0:j1].reshape(-1, 3).astype(np.float32).mean(0)


def _covered(o: world.Obj, later, t: float, D: float, pad: float) -> bool:
    cx, cy = o.center(t, D)
    for p in later:
        px, py = p.center(t, D)
        if abs(px - cx) <= p.size / 2 + pad and abs(py - cy) <= p.size / 2 + pad:
            return True
    return False


def verify(npz_path: str, labels_path: str, tol: float = 45.0, verbose: bool = False) -> dict:
    z = np.load(npz_path)
    labels = {}
    with open(labels_path) as f:
        for line in f:
            d = json.loads(line)
            labels[d["id"]] = d
    prefix = "eval" if "eval" in os.path.basename(npz_path) else "train"
    ids = [f"{prefix}_{i:06d}" if prefix == "train" else f"{prefix}_{i:04d}" for i in z["index"]]
    R = z["frames"].shape[2]
    stats = {"clips": 0, "obj_checks": 0, "obj_fail": 0, "dir_checks": 0, "dir_fail": 0, "bg_checks": 0,
             "bg_fail": 0, "count_fail": 0, "errors": []}
    for r, cid in enumerate(ids):
        lab = labels[cid]
        sc = world.scene_from_label(lab)
        D, S = sc.duration, sc.S
        k = int(z["n_frames"][r])
        stats["clips"] += 1
        if k != len(sc.timing.sample_times()):
            stats["count_fail"] += 1
        sx = R / S
        for f in range(k):
            img = z["frames"][r, f]
            t = float(z["times"][r, f])
            for n, o in enumerate(sc.objects):
                if _covered(o, sc.objects[n + 1:], t, D, pad=2 / sx):
                    continue
                cx, cy = o.center(t, D)
                c = _patch(img, cx * sx, cy * sx)
                err = float(np.abs(c - np.asarray(o.rgb)).max())
                stats["obj_checks"] += 1
                stats.setdefault("obj_err", []).append(err)
                if err > tol:
                    stats["obj_fail"] += 1
                    stats["errors"].append((cid, f, o.color, o.shape, round(err, 1)))
                if o.motion != "still":
                    mx, my = o.center(D - t, D)
                    if abs(mx - cx) + abs(my - cy) > 1.2 * o.size and not any(
                            abs(mx - p.center(t, D)[0]) <= p.size / 2 + 2 / sx and
                            abs(my - p.center(t, D)[1]) <= p.size / 2 + 2 / sx for p in sc.objects):
                        stats["dir_checks"] += 1
                        e2 = float(np.abs(_patch(img, mx * sx, my * sx) - np.asarray(o.rgb)).max())
                        if e2 <= tol:
                            stats["dir_fail"] += 1
            # background: the grid point farthest from every object box
            best, bx, by = -1.0, 0, 0
            for gy in np.linspace(3, S - 3, 9):
                for gx in np.linspace(3, S - 3, 9):
                    dmin = min(max(abs(gx - o.center(t, D)[0]) - o.size / 2,
                                   abs(gy - o.center(t, D)[1]) - o.size / 2) for o in sc.objects)
                    if dmin > best:
                        best, bx, by = dmin, gx, gy
            if best > 4 / sx:
                c = _patch(img, bx * sx, by * sx)
                stats["bg_checks"] += 1
                e = float(np.abs(c - sc.background).max())
                stats.setdefault("bg_err", []).append(e)
                if e > 12 + 2 * lab["noise_sigma"]:
                    stats["bg_fail"] += 1
    for key in ("obj_err", "bg_err"):
        v = np.asarray(stats.pop(key, [0.0]))
        stats[key + "_p50_p99_max"] = [round(float(np.percentile(v, 50)), 1), round(float(np.percentile(v, 99)), 1),
                                       round(float(v.max()), 1)]
    if not verbose:
        stats["errors"] = stats["errors"][:10]
    return stats


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("npz", nargs="+")
    ap.add_argument("--labels", required=True)
    ap.add_argument("--tol", type=float, default=45.0)
    a = ap.parse_args()
    bad = False
    for p in a.npz:
        st = verify(p, a.labels, a.tol)
        print(os.path.basename(p), json.dumps(st))
        if (st["obj_fail"] > 0.01 * max(1, st["obj_checks"]) or st["dir_fail"] > 0.01 * max(1, st["dir_checks"])
                or st["bg_fail"] > 0.01 * max(1, st["bg_checks"]) or st["count_fail"]):
            bad = True
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
