"""Generates the Shapes World training corpus (renderer A) and the evaluation
set (renderer B), deterministic given --seed, in parallel worker processes.

Outputs (see Training/README.md, "Data format"):

  <data>/train/shards/train-NNNNN.npz   frames the model sees + per-clip arrays
  <data>/train/labels.jsonl             one JSON label per clip, in clip order
  <data>/train/videos/                  the encoded clips (only with --keep-videos)
  <data>/eval/eval-00000.npz            the same arrays for the eval clips
  <data>/manifest.json                  seed, counts, sizes, timings
  <eval-dir>/clips/eval_NNNN.<ext>      the eval clips (renderer B)
  <eval-dir>/labels.jsonl               their labels
  <eval-dir>/fewshot.jsonl              few-shot episodes over the eval clips

Clip i of a split is generated from SeedSequence([seed, split, i]) alone, so
the corpus does not depend on the number of workers or on the shard size.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from typing import Dict, List, Tuple

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import encoding  # noqa: E402
import frames as framesmod  # noqa: E402
import render_eval  # noqa: E402
import render_train  # noqa: E402
import world  # noqa: E402

SPLIT_ID = {"train": 0, "eval": 1}
SHAPE_ID = {s: i for i, s in enumerate(world.SHAPES)}
COLOR_ID = {c: i for i, c in enumerate(world.COLOR_NAMES)}
MOTION_ID = {m: i for i, m in enumerate(world.MOTIONS)}
SHM = "/dev/shm" if os.path.isdir("/dev/shm") else None


# --------------------------------------------------------------------------
# renderer A, batched: many clips per ffmpeg process (its start-up costs ~0.1 s)
# --------------------------------------------------------------------------


def _encode_batch_a(jobs: List[Tuple[world.Scene, Dict, str, str]]):
    """jobs: (scene, enc, raw_path, out_path).  One ffmpeg, one input and one output per job."""
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    for scene, enc, raw, out in jobs:
        W, H = scene.frame_size()
        tm = scene.timing
        rate = str(max(r for _, r in tm.segments)) if tm.vfr else f"{tm.fps_num}/{tm.fps_den}"
        cmd += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-framerate", rate, "-i", raw]
    for i, (scene, enc, raw, out) in enumerate(jobs):
        tm = scene.timing
        cmd += ["-map", f"{i}:v:0"]
        if tm.vfr:
            cmd += ["-vf", f"settb=1/1000,setpts={tm.setpts_expr()}", "-fps_mode", "passthrough",
                    "-enc_time_base", "1:1000"]
        else:
            cmd += ["-fps_mode", "passthrough"]
        cmd += encoding.output_args(enc) + [out]
    p = subprocess.run(cmd, capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("ffmpeg batch encode failed: " + p.stderr.decode(errors="replace")[-3000:])


def render_batch_a(indices: List[int], seed: int, video_dir: str, tmp: str, max_batch: int = 8,
                   max_bytes: int = 512 << 20) -> List[Dict]:
    labels: List[Dict] = []
    pending: List[Tuple[world.Scene, Dict, str, str]] = []
    pending_bytes = 0

    def flush():
        nonlocal pending, pending_bytes
        if pending:
            _encode_batch_a(pending)
            for _, _, raw, _ in pending:
                os.remove(raw)
        pending, pending_bytes = [], 0

    for i in indices:
        rng = np.random.default_rng(np.random.SeedSequence([seed, SPLIT_ID["train"], i]))
        scene = world.sample_scene(rng, dist="train")
        enc = encoding.sample_encoding(rng, scene.timing.vfr, "train")
        style = render_train.sample_style(rng)
        name = f"train_{i:06d}"
        out = os.path.join(video_dir, name + "." + encoding.extension(enc))
        raw = os.path.join(tmp, name + ".rgb")
        with open(raw, "wb") as f:
            for fr in render_train.render_frames(scene, style, rng):
                f.write(fr.tobytes())
        W, H = scene.frame_size()
        pending.append((scene, enc, raw, out))
        pending_bytes += W * H * 3 * scene.timing.n_frames
        label = world.scene_label(scene)
        label.update(id=name, renderer="A", encoding=enc, style=style, file=out)
        labels.append(label)
        if len(pending) >= max_batch or pending_bytes >= max_bytes:
            flush()
    flush()
    return labels


# --------------------------------------------------------------------------
# extraction, batched
# --------------------------------------------------------------------------

_TB_RE = re.compile(r"\[showinfo@c(\d+) @ [^\]]*\] config in time_base: (\d+)/(\d+)")
_PTS_RE = re.compile(r"\[showinfo@c(\d+) @ [^\]]*\] n:\s*(\d+) pts:\s*(-?\d+) ")


def decode_batch(paths: List[str], R: int, tmp: str) -> List[Tuple[np.ndarray, List[Fraction]]]:
    """Like frames.decode_all for many files in one ffmpeg process (named showinfo per file)."""
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "info", "-y"]
    for p in paths:
        cmd += ["-threads", "1", "-i", p]
    graph = []
    for i in range(len(paths)):
        graph.append(f"[{i}:v:0]crop=w=min(iw\\,ih):h=min(iw\\,ih):exact=1,"
                     f"scale={R}:{R}:flags=bicubic+accurate_rnd+full_chroma_int,format=rgb24,showinfo@c{i}[o{i}]")
    cmd += ["-filter_complex", ";".join(graph)]
    outs = []
    for i in range(len(paths)):
        o = os.path.join(tmp, f"dec{i}.rgb")
        outs.append(o)
        cmd += ["-map", f"[o{i}]", "-fps_mode", "passthrough", "-enc_time_base", "-1", "-f", "rawvideo", o]
    p = subprocess.run(cmd, capture_output=True)
    err = p.stderr.decode(errors="replace")
    if p.returncode != 0:
        raise RuntimeError("ffmpeg batch decode failed: " + err[-3000:])
    tbs = {int(m.group(1)): Fraction(int(m.group(2)), int(m.group(3))) for m in _TB_RE.finditer(err)}
    pts: Dict[int, List[Fraction]] = {i: [] for i in range(len(paths))}
    for m in _PTS_RE.finditer(err):
        i = int(m.group(1))
        pts[i].append(int(m.group(3)) * tbs[i])
    res = []
    for i, o in enumerate(outs):
        a = np.fromfile(o, dtype=np.uint8)
        os.remove(o)
        n = a.size // (R * R * 3)
        if n != len(pts[i]):
            raise RuntimeError(f"{paths[i]}: {n} frames but {len(pts[i])} timestamps")
        res.append((a.reshape(n, R, R, 3), pts[i]))
    return res


def extract_and_pack(labels: List[Dict], R: int, F: int, tmp: str, batch: int = 16) -> Dict[str, np.ndarray]:
    """Decodes the clips, picks the 1-fps frames, checks timing, returns the shard arrays
    (and adds 'sample_frame_times' / 'timing_ok' to each label)."""
    n = len(labels)
    out = {
        "frames": np.zeros((n, F, R, R, 3), np.uint8),
        "n_frames": np.zeros((n,), np.int16),
        "times": np.full((n, F), -1.0, np.float32),
        "n_objects": np.zeros((n,), np.int8),
        "obj_shape": np.full((n, 3), -1, np.int8),
        "obj_color": np.full((n, 3), -1, np.int8),
        "obj_motion": np.full((n, 3), -1, np.int8),
        "obj_size": np.full((n, 3), np.nan, np.float32),
        "obj_pos": np.full((n, F, 3, 2), np.nan, np.float32),
        "index": np.zeros((n,), np.int32),
    }
    for b0 in range(0, n, batch):
        chunk = labels[b0:b0 + batch]
        decoded = decode_batch([l["file"] for l in chunk], R, tmp)
        for j, (lab, (frs, pts)) in enumerate(zip(chunk, decoded)):
            r = b0 + j
            scene = world.scene_from_label(lab)
            idx, times = framesmod.sample_indices(pts, scene.duration)
            expected = scene.timing.frame_times()
            first = min(pts)
            got = sorted(float(p - first) for p in pts)
            ok = len(got) == len(expected) and max(abs(a - b) for a, b in zip(got, expected)) <= 1.5e-3
            lab["timing_ok"] = bool(ok)
            k = min(len(idx), F)
            out["frames"][r, :k] = frs[idx[:k]]
            out["n_frames"][r] = k
            out["times"][r, :k] = times[:k]
            lab["sample_frame_times"] = [round(t, 6) for t in times[:k]]
            objs = world.caption_order(scene.objects)
            out["n_objects"][r] = len(objs)
            out["index"][r] = int(lab["id"].split("_")[1])
            for q, o in enumerate(objs):
                out["obj_shape"][r, q] = SHAPE_ID[o.shape]
                out["obj_color"][r, q] = COLOR_ID[o.color]
                out["obj_motion"][r, q] = MOTION_ID[o.motion]
                out["obj_size"][r, q] = o.size / scene.S
                for f, t in enumerate(times[:k]):
                    cx, cy = o.center(t, scene.duration)
                    out["obj_pos"][r, f, q] = (cx / scene.S, cy / scene.S)
    return out


# --------------------------------------------------------------------------
# shard workers
# --------------------------------------------------------------------------


def _cpu() -> float:
    """CPU seconds (user + sys) of this process and its waited-for children (ffmpeg)."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def train_shard(args) -> Tuple[int, List[Dict], Dict[str, float]]:
    shard, indices, cfg = args
    t0 = _cpu()
    tmp = tempfile.mkdtemp(prefix="shapes_", dir=SHM)
    vdir = os.path.join(cfg["data"], "train", "videos")
    try:
        labels = render_batch_a(indices, cfg["seed"], vdir, tmp)
        t1 = _cpu()
        arrays = extract_and_pack(labels, cfg["R"], cfg["F"], tmp)
        t2 = _cpu()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    path = os.path.join(cfg["data"], "train", "shards", f"train-{shard:05d}.npz")
    np.savez(path + ".tmp.npz", **arrays)
    os.replace(path + ".tmp.npz", path)
    vbytes = 0
    for r, lab in enumerate(labels):
        lab["shard"], lab["row"] = os.path.basename(path), r
        vbytes += os.path.getsize(lab["file"])
        if cfg["keep_videos"]:
            lab["file"] = os.path.relpath(lab["file"], os.path.join(cfg["data"], "train"))
        else:
            os.remove(lab["file"])
            lab["file"] = None
    return shard, labels, {"render_encode_s": t1 - t0, "extract_s": t2 - t1, "video_bytes": vbytes}


def eval_shard(args) -> Tuple[int, List[Dict], Dict[str, float]]:
    shard, indices, cfg = args
    t0 = _cpu()
    labels = []
    for i in indices:
        name = f"eval_{i:04d}"
        lab = render_eval.render_clip(np.random.SeedSequence([cfg["seed"], SPLIT_ID["eval"], i]),
                                      os.path.join(cfg["eval_dir"], "clips", name))
        lab = {"id": name, **lab}
        labels.append(lab)
    t1 = _cpu()
    tmp = tempfile.mkdtemp(prefix="shapes_", dir=SHM)
    try:
        arrays = extract_and_pack(labels, cfg["R"], cfg["F"], tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t2 = _cpu()
    # the Swift sampler's duration rule on the real files must give the same sample count
    for lab in labels:
        d = framesmod.file_duration(lab["file"])
        k = len([k for k in range(20) if k < d])
        lab["file_duration"] = round(d, 6)
        lab["samples_ok"] = bool(k == len(lab["sample_frame_times"]))
    vbytes = 0
    for lab in labels:
        vbytes += os.path.getsize(lab["file"])
        lab["file"] = os.path.relpath(lab["file"], cfg["eval_dir"])
    return shard, labels, {"arrays": arrays, "render_encode_s": t1 - t0, "extract_s": t2 - t1,
                           "video_bytes": vbytes}


# --------------------------------------------------------------------------
# few-shot episodes
# --------------------------------------------------------------------------


def make_fewshot(labels: List[Dict], seed: int, queries_per_task: int = 30, ks=(0, 1, 2, 4, 8),
                 n_question_episodes: int = 60) -> List[Dict]:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    scenes = {l["id"]: world.scene_from_label(l) for l in labels}
    ids = [l["id"] for l in labels]
    eps: List[Dict] = []
    for task in world.FEWSHOT_TASKS:
        pool = [i for i in ids if world.fewshot_answer(scenes[i].objects, task) is not None]
        queries = [str(x) for x in rng.choice(pool, size=min(queries_per_task, len(pool)), replace=False)]
        for qn, q in enumerate(queries):
            others = [i for i in pool if i != q]
            # 8 supports, nested for smaller k; at least two different answers among the first two
            for _ in range(100):
                sup = [str(x) for x in rng.choice(others, size=min(max(ks), len(others)), replace=False)]
                ans = [world.fewshot_answer(scenes[s].objects, task) for s in sup]
                if len(set(ans[:2])) == 2:
                    break
            qa = world.fewshot_answer(scenes[q].objects, task)
            for k in ks:
                if k > len(sup):
                    continue
                s_ans = ans[:k]
                eps.append({
                    "id": f"fs-{task}-q{qn:02d}-k{k}", "form": "answer", "task": task, "k": k,
                    "support": [{"clip": s, "answer": a} for s, a in zip(sup[:k], s_ans)],
                    "query": {"clip": q, "answer": qa},
                    "prompt": world.fewshot_prompt(s_ans),
                })
    # support items of the Question form before a question query (must not hurt accuracy)
    for e in range(n_question_episodes):
        k = [2, 4][e % 2]
        picks = [str(x) for x in rng.choice(ids, size=k + 1, replace=False)]
        items = []
        for cid in picks:
            lab = labels[ids.index(cid)]
            qas = [q for q in lab["qa"] if q["question"] in set(lab["qa_balanced"])]
            types = sorted({q["type"] for q in qas}, key=world.QUESTION_TYPES.index)
            ty = types[int(rng.integers(len(types)))]
            of_type = [q for q in qas if q["type"] == ty]
            qa = of_type[int(rng.integers(len(of_type)))]
            items.append({"clip": cid, "question": qa["question"], "answer": qa["answer"], "type": qa["type"]})
        sup, query = items[:k], items[k]
        eps.append({
            "id": f"fsq-{e:03d}-k{k}", "form": "question", "task": query["type"], "k": k,
            "support": sup, "query": query,
            "prompt": world.question_fewshot_prompt([(s["question"], s["answer"]) for s in sup], query["question"]),
        })
    return eps


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------


def _extract_only(args):
    labels, cfg = args
    tmp = tempfile.mkdtemp(prefix="shapes_", dir=SHM)
    try:
        return labels, extract_and_pack(labels, cfg["R"], cfg["F"], tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def extract_committed_eval(cfg: Dict, pool) -> Dict:
    """Frames of the committed eval clips (<eval-dir>/labels.jsonl) into <data>/eval/, without re-rendering."""
    ed = cfg["eval_dir"]
    with open(os.path.join(ed, "labels.jsonl")) as f:
        labels = [json.loads(l) for l in f]
    for lab in labels:
        lab["file"] = os.path.join(ed, lab["file"])
    per = max(1, math.ceil(len(labels) / (cfg["workers"] * 4)))
    tasks = [(labels[a:a + per], cfg) for a in range(0, len(labels), per)]
    out_labels, arrays = [], []
    for labs, arr in pool.imap(_extract_only, tasks):
        out_labels += labs
        arrays.append(arr)
    merged = {k: np.concatenate([a[k] for a in arrays]) for k in arrays[0]}
    os.makedirs(os.path.join(cfg["data"], "eval"), exist_ok=True)
    np.savez(os.path.join(cfg["data"], "eval", "eval-00000.npz"), **merged)
    shutil.copy(os.path.join(ed, "labels.jsonl"), os.path.join(cfg["data"], "eval", "labels.jsonl"))
    return {"clips": len(out_labels), "timing_ok": sum(l["timing_ok"] for l in out_labels)}


def _dir_bytes(d: str) -> int:
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)


def run(cfg: Dict) -> Dict:
    data = cfg["data"]
    os.makedirs(data, exist_ok=True)
    man: Dict = {"seed": cfg["seed"], "R": cfg["R"], "max_frames": cfg["F"], "workers": cfg["workers"]}
    ctx = mp.get_context("fork")
    with ctx.Pool(cfg["workers"]) as pool:
        if cfg["eval"] > 0:
            ed = cfg["eval_dir"]
            if os.path.isdir(os.path.join(ed, "clips")):
                shutil.rmtree(os.path.join(ed, "clips"))
            os.makedirs(os.path.join(ed, "clips"), exist_ok=True)
            os.makedirs(os.path.join(data, "eval"), exist_ok=True)
            t0 = time.time()
            per = max(1, math.ceil(cfg["eval"] / (cfg["workers"] * 4)))
            tasks = [(s, list(range(a, min(a + per, cfg["eval"]))), cfg)
                     for s, a in enumerate(range(0, cfg["eval"], per))]
            labels, arrays, st = [], [], {"render_encode_s": 0.0, "extract_s": 0.0, "video_bytes": 0}
            for _, labs, info in pool.imap(eval_shard, tasks):
                labels += labs
                arrays.append(info.pop("arrays"))
                for k in st:
                    st[k] += info[k]
            merged = {k: np.concatenate([a[k] for a in arrays]) for k in arrays[0]}
            np.savez(os.path.join(data, "eval", "eval-00000.npz"), **merged)
            with open(os.path.join(ed, "labels.jsonl"), "w") as f:
                for lab in labels:
                    lab = dict(lab)
                    f.write(json.dumps(lab, separators=(",", ":")) + "\n")
            eps = make_fewshot(labels, cfg["seed"])
            with open(os.path.join(ed, "fewshot.jsonl"), "w") as f:
                for e in eps:
                    f.write(json.dumps(e, separators=(",", ":")) + "\n")
            shutil.copy(os.path.join(ed, "labels.jsonl"), os.path.join(data, "eval", "labels.jsonl"))
            wall = time.time() - t0
            man["eval"] = {
                "clips": len(labels), "wall_s": round(wall, 2), "clips_per_s": round(len(labels) / wall, 3),
                "cpu_render_encode_s": round(st["render_encode_s"], 2), "cpu_extract_s": round(st["extract_s"], 2),
                "video_MB": round(st["video_bytes"] / 1e6, 3), "fewshot_episodes": len(eps),
                "timing_ok": sum(l["timing_ok"] for l in labels), "samples_ok": sum(l["samples_ok"] for l in labels),
                "cpu_s_per_clip": round((st["render_encode_s"] + st["extract_s"]) / len(labels), 4),
            }
            print("eval:", json.dumps(man["eval"]), flush=True)
        if cfg["eval"] == 0 and cfg["eval_frames"]:
            t0 = time.time()
            man["eval_frames"] = extract_committed_eval(cfg, pool)
            man["eval_frames"]["wall_s"] = round(time.time() - t0, 2)
            print("eval frames:", json.dumps(man["eval_frames"]), flush=True)
        if cfg["train"] > 0:
            os.makedirs(os.path.join(data, "train", "shards"), exist_ok=True)
            os.makedirs(os.path.join(data, "train", "videos"), exist_ok=True)
            t0 = time.time()
            ss = cfg["shard_size"]
            tasks = [(s, list(range(a, min(a + ss, cfg["train"]))), cfg)
                     for s, a in enumerate(range(0, cfg["train"], ss))]
            st = {"render_encode_s": 0.0, "extract_s": 0.0, "video_bytes": 0}
            nbad = 0
            with open(os.path.join(data, "train", "labels.jsonl"), "w") as f:
                for shard, labs, info in pool.imap(train_shard, tasks):
                    for lab in labs:
                        nbad += not lab["timing_ok"]
                        f.write(json.dumps(lab, separators=(",", ":")) + "\n")
                    for k in st:
                        st[k] += info[k]
                    done = min((shard + 1) * ss, cfg["train"])
                    el = time.time() - t0
                    print(f"train: {done}/{cfg['train']} clips, {el:.0f} s, {done / el:.2f} clips/s", flush=True)
            if not cfg["keep_videos"]:
                shutil.rmtree(os.path.join(data, "train", "videos"), ignore_errors=True)
            wall = time.time() - t0
            man["train"] = {
                "clips": cfg["train"], "shards": len(tasks), "wall_s": round(wall, 2),
                "clips_per_s": round(cfg["train"] / wall, 3),
                "cpu_render_encode_s": round(st["render_encode_s"], 2), "cpu_extract_s": round(st["extract_s"], 2),
                "video_MB": round(st["video_bytes"] / 1e6, 2),
                "shards_MB": round(_dir_bytes(os.path.join(data, "train", "shards")) / 1e6, 2),
                "timing_mismatches": nbad,
                "cpu_s_per_clip": round((st["render_encode_s"] + st["extract_s"]) / cfg["train"], 4),
            }
            man["train"]["idle_clips_per_s_est"] = round(cfg["workers"] / man["train"]["cpu_s_per_clip"], 2)
            print("train:", json.dumps(man["train"]), flush=True)
    old = {}
    mp_path = os.path.join(data, "manifest.json")
    if os.path.exists(mp_path):
        old = json.load(open(mp_path))
    old.update(man)
    with open(mp_path, "w") as f:
        json.dump(old, f, indent=1)
    return old


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--train", type=int, default=300, help="number of training clips (renderer A)")
    ap.add_argument("--eval", type=int, default=0, help="number of eval clips (renderer B); 0 = keep existing")
    ap.add_argument("--data", default=os.path.join(HERE, "data", "default"))
    ap.add_argument("--eval-dir", default=os.path.join(os.path.dirname(HERE), "Models", "eval"))
    ap.add_argument("--R", type=int, default=64, help="side of the square frames the model sees")
    ap.add_argument("--max-frames", type=int, default=10)
    ap.add_argument("--shard-size", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep-videos", action="store_true", help="keep the encoded training clips")
    ap.add_argument("--no-eval-frames", action="store_true",
                    help="with --eval 0: do not extract the committed eval clips' frames into <data>/eval")
    a = ap.parse_args()
    cfg = {"seed": a.seed, "train": a.train, "eval": a.eval, "data": os.path.abspath(a.data),
           "eval_dir": os.path.abspath(a.eval_dir), "R": a.R, "F": a.max_frames, "shard_size": a.shard_size,
           "workers": a.workers, "keep_videos": a.keep_videos, "eval_frames": not a.no_eval_frames}
    run(cfg)


if __name__ == "__main__":
    main()
