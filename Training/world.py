"""Shapes World v1: the scene model and the language, as pure functions.

This module is the executable form of Training/README.md (which follows
docs/WORLD.md).  Both clip renderers (render_train.py, the
numpy rasteriser used for training, and render_eval.py, the ffmpeg filter
graph used for evaluation) share exactly this: scene sampling, frame timing
and the language.  Nothing here draws pixels or runs ffmpeg.

Coordinates: pixel (row i, column j) covers [j, j+1) x [i, i+1); object
positions are the centre of the object's bounding box in these continuous
coordinates, y grows downwards.  Time t is presentation time in seconds
measured from the first frame; an object's centre is start + (end - start) * t / D.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, asdict
from fractions import Fraction
from typing import Dict, List, Optional, Sequence, Tuple

# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------

SHAPES: Tuple[str, ...] = ("circle", "square", "triangle")
COLORS: Dict[str, Tuple[int, int, int]] = {
    "red": (230, 40, 40),
    "green": (40, 200, 60),
    "blue": (50, 90, 235),
    "yellow": (240, 220, 40),
    "white": (240, 240, 240),
}
COLOR_NAMES: Tuple[str, ...] = tuple(COLORS)
MOTIONS: Tuple[str, ...] = ("left", "right", "up", "down", "still")
MOTION_PHRASE: Dict[str, str] = {
    "left": "moving left",
    "right": "moving right",
    "up": "moving up",
    "down": "moving down",
    "still": "standing still",
}
MOTION_ANSWER: Dict[str, str] = {
    "left": "left",
    "right": "right",
    "up": "up",
    "down": "down",
    "still": "not moving",
}
# unit direction of each motion in image coordinates (y down)
MOTION_DIR: Dict[str, Tuple[int, int]] = {
    "left": (-1, 0),
    "right": (1, 0),
    "up": (0, -1),
    "down": (0, 1),
    "still": (0, 0),
}
NUMBER_WORDS: Dict[int, str] = {1: "one", 2: "two", 3: "three"}

# spec limits
S_MIN, S_MAX = 64, 512
SIZE_FRAC = (0.18, 0.28)
TRAVEL_FRAC = (0.35, 0.60)
COLOR_JITTER = 20
BG_GRAY = (0, 60)
NOISE_SIGMA_MAX = 6.0
DURATION = (3.0, 10.0)
FPS_RANGE = (8, 30)
STILL_DRIFT_MAX = 1.0  # px over the whole clip

# special tokens, in tokenizer id order
EOS = "<|endoftext|>"
EOC = "<|endofchunk|>"
IMAGE = "<image>"
PAD = "<PAD>"
SPECIAL_TOKENS = (EOS, EOC, IMAGE, PAD)

QUESTION_TYPES = ("count", "color", "shape", "motion", "exists", "anymoving")
FEWSHOT_TASKS = ("color", "shape", "motion", "count")


# --------------------------------------------------------------------------
# Data classes (all JSON-serialisable through asdict)
# --------------------------------------------------------------------------


@dataclass
class Obj:
    shape: str
    color: str
    rgb: Tuple[int, int, int]
    size: float  # bounding-box side in px
    motion: str
    start: Tuple[float, float]  # centre (x, y) at t = 0, px
    end: Tuple[float, float]  # centre (x, y) at t = duration, px

    def center(self, t: float, duration: float) -> Tuple[float, float]:
        a = t / duration
        return (self.start[0] + (self.end[0] - self.start[0]) * a,
                self.start[1] + (self.end[1] - self.start[1]) * a)

    def velocity(self, duration: float) -> Tuple[float, float]:
        return ((self.end[0] - self.start[0]) / duration, (self.end[1] - self.start[1]) / duration)


@dataclass
class Timing:
    """Frame timing of a clip.

    duration: nominal duration D in seconds (positions are linear over [0, D]).
    CFR: fps_num/fps_den, frame n at n * fps_den / fps_num.
    VFR: piecewise constant rates (segments: list of [first frame index, rate])
    plus a sinusoidal jitter jitter_amp * (sin(jitter_freq * n + jitter_phase) - sin(jitter_phase))
    seconds; times are rounded to whole milliseconds (the stream time base is 1/1000).
    """

    duration: float
    vfr: bool
    fps_num: int = 0
    fps_den: int = 1
    segments: List[Tuple[int, int]] = field(default_factory=list)
    jitter_amp: float = 0.0
    jitter_freq: float = 0.0
    jitter_phase: float = 0.0
    n_frames: int = 0

    # -- frame times -------------------------------------------------------
    def _seg_starts(self) -> List[float]:
        """T_j: time of the first frame of segment j (before jitter)."""
        starts = [0.0]
        for j in range(1, len(self.segments)):
            n_prev, r_prev = self.segments[j - 1]
            n_j = self.segments[j][0]
            starts.append(starts[-1] + (n_j - n_prev) / r_prev)
        return starts

    def _vfr_time(self, n: int) -> float:
        # Same floating-point operations, in the same order, as setpts_expr().
        starts = self._seg_starts()
        j = 0
        for k in range(len(self.segments)):
            if n >= self.segments[k][0]:
                j = k
        n_j, r_j = self.segments[j]
        base = n / r_j if j == 0 else starts[j] + (n - n_j) / r_j
        jit = self.jitter_amp * (math.sin(self.jitter_freq * n + self.jitter_phase) - math.sin(self.jitter_phase))
        return math.floor((base + jit) * 1000 + 0.5) / 1000

    def frame_time(self, n: int) -> float:
        if self.vfr:
            return self._vfr_time(n)
        return n * self.fps_den / self.fps_num

    def frame_times(self) -> List[float]:
        return [self.frame_time(n) for n in range(self.n_frames)]

    def average_fps(self) -> float:
        if not self.vfr:
            return self.fps_num / self.fps_den
        return self.n_frames / self.duration

    def setpts_expr(self) -> str:
        """ffmpeg setpts expression (to be used after settb=1/1000) giving
        frame N the time frame_time(N) in milliseconds."""
        assert self.vfr
        starts = self._seg_starts()
        expr = None
        for j in reversed(range(len(self.segments))):
            n_j, r_j = self.segments[j]
            piece = f"N/{r_j!r}" if j == 0 else f"({starts[j]!r}+(N-{n_j})/{r_j!r})"
            expr = piece if expr is None else f"if(lt(N\\,{self.segments[j + 1][0]})\\,{piece}\\,{expr})"
        jit = (f"{self.jitter_amp!r}*(sin({self.jitter_freq!r}*N+{self.jitter_phase!r})"
               f"-sin({self.jitter_phase!r}))")
        return f"floor(({expr}+{jit})*1000+0.5)/(1000*TB)"

    def sample_times(self, rate: float = 1.0) -> List[float]:
        """The 1-fps sample times t_k = k / rate, k = 0, 1, ... while t_k < D."""
        out, k = [], 0
        while k / rate < self.duration:
            out.append(k / rate)
            k += 1
        return out

    def sample_frame_indices(self, rate: float = 1.0) -> List[int]:
        """For each sample time, the index of the last frame whose time <= t_k."""
        times = self.frame_times()
        idx, cur = [], 0
        for t in self.sample_times(rate):
            while cur + 1 < len(times) and times[cur + 1] <= t + 1e-9:
                cur += 1
            idx.append(cur)
        return idx


@dataclass
class Scene:
    S: int
    background: int  # gray level 0..60
    noise_sigma: float  # 0 = no noise
    objects: List[Obj]
    timing: Timing
    pillarbox: bool

    @property
    def duration(self) -> float:
        return self.timing.duration

    def frame_size(self) -> Tuple[int, int]:
        """(width, height) of the video frame."""
        if not self.pillarbox:
            return self.S, self.S
        return self.S + 2 * pillar_bar(self.S), self.S


def pillar_bar(S: int) -> int:
    """Width of one black bar of a 16:9 pillarboxed frame of height S
    (even, so that the scene starts on a chroma sample)."""
    return 2 * int(round(S * 7 / 18 / 2))


# --------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------

COMMON_CFR = ((24000, 1001), (30000, 1001), (25, 2), (15000, 1001), (25, 1), (24, 1), (30, 1), (12, 1), (8, 1))


def sample_timing(rng, p_vfr: float = 0.25) -> Timing:
    """Duration and frame timing.

    The number of 1-fps samples K is uniform in 3..10.  K = 3 needs D = 3 s
    exactly; then the last frame starts before 2.85 s so that no reader can
    count a 4th sample at t = 3.  Otherwise D = K - 1 + u with u in [0.3, 0.8]:
    whatever frame duration a reader assigns to the last frame, the samples are
    t = 0 .. K - 1.
    """
    K = int(rng.integers(3, 11))
    if K == 3:
        D = 3.0
    else:
        D = round(K - 1 + float(rng.uniform(0.3, 0.8)), 2)
    limit = D - 0.15 if K == 3 else D
    if rng.random() < p_vfr:
        nseg = int(rng.integers(1, 4))
        rates = [int(rng.integers(10, 23)) for _ in range(nseg)]
        amp_frac = float(rng.uniform(0.10, 0.15)) if nseg == 1 else float(rng.uniform(0.0, 0.15))
        tm = Timing(duration=D, vfr=True, jitter_amp=round(amp_frac / max(rates), 6),
                    jitter_freq=round(float(rng.uniform(0.5, 2.8)), 4),
                    jitter_phase=round(float(rng.uniform(0, 2 * math.pi)), 4))
        # segment boundaries as frame indices; approximate frames per segment
        avg = sum(rates) / nseg
        n_est = int(limit * avg)
        cuts = sorted(set(int(c) for c in rng.integers(2, max(3, n_est - 2), size=nseg - 1))) if nseg > 1 else []
        segs, prev = [(0, rates[0])], 0
        for c, r in zip(cuts, rates[1:]):
            if c > prev:
                segs.append((c, r))
                prev = c
        tm.segments = segs
        n = 0
        while tm._vfr_time(n) < limit:
            n += 1
        tm.n_frames = n
        # monotonic, intervals within [1/40, 1/7] s
        ts = tm.frame_times()
        d = [b - a for a, b in zip(ts, ts[1:])]
        assert min(d) > 0.02 and max(d) < 0.15, (tm, min(d), max(d))
        return tm
    if rng.random() < 0.5:
        num, den = COMMON_CFR[int(rng.integers(len(COMMON_CFR)))]
    else:
        num, den = int(rng.integers(FPS_RANGE[0], FPS_RANGE[1] + 1)), 1
    tm = Timing(duration=D, vfr=False, fps_num=num, fps_den=den)
    # n frames with n * den / num < limit (exact rational arithmetic)
    lim = Fraction(limit).limit_denominator(1000)
    n = int(math.ceil(lim * num / den))
    tm.n_frames = n
    return tm


def _boxes_disjoint(c1, s1, c2, s2, gap: float) -> bool:
    return (abs(c1[0] - c2[0]) >= (s1 + s2) / 2 + gap) or (abs(c1[1] - c2[1]) >= (s1 + s2) / 2 + gap)


def sample_objects(rng, S: int, duration: float, n_objects: Optional[int] = None,
                   p_all_still: float = 0.12, p_tie: float = 0.05, min_dx_frac: float = 0.05,
                   p_still_drift: float = 0.5) -> List[Obj]:
    """1-3 objects placed per spec.

    Extra choices of this sampler (all within the spec): bounding boxes at
    t = 0 are at least max(1, 0.02 S) px apart; centres at t = 0 differ in x by
    at least 0.05 S unless they are exactly equal (a deliberate tie, 5% of the
    multi-object scenes, ordered by y); a 1 px margin from the canvas edge; some
    scenes have every object still so that 'is anything moving?' gets 'no'
    often enough; half of the still objects drift by up to 0.9 px.
    """
    if n_objects is None:
        n_objects = int(rng.integers(1, 4))
    all_still = rng.random() < p_all_still
    gap = max(1.0, 0.02 * S)
    margin = 1.0
    for _attempt in range(1000):
        combos = [(sh, co) for sh in SHAPES for co in COLOR_NAMES]
        pick = rng.choice(len(combos), size=n_objects, replace=False)
        objs: List[Obj] = []
        ok = True
        for i, ci in enumerate(pick):
            shape, color = combos[int(ci)]
            base = COLORS[color]
            rgb = tuple(int(min(255, max(0, c + int(rng.integers(-COLOR_JITTER, COLOR_JITTER + 1))))) for c in base)
            size = float(rng.uniform(*SIZE_FRAC)) * S
            motion = "still" if all_still else MOTIONS[int(rng.integers(len(MOTIONS)))]
            placed = False
            for _ in range(200):
                lo, hi = size / 2 + margin, S - size / 2 - margin
                dx, dy = MOTION_DIR[motion]
                if motion == "still":
                    cx, cy = float(rng.uniform(lo, hi)), float(rng.uniform(lo, hi))
                    if rng.random() < p_still_drift:
                        ang = float(rng.uniform(0, 2 * math.pi))
                        mag = float(rng.uniform(0, 0.9))
                        ex, ey = cx + mag * math.cos(ang), cy + mag * math.sin(ang)
                        ex, ey = min(max(ex, lo), hi), min(max(ey, lo), hi)
                    else:
                        ex, ey = cx, cy
                else:
                    L = float(rng.uniform(*TRAVEL_FRAC)) * S
                    # along-axis start such that start and end are inside
                    a0 = float(rng.uniform(lo, hi - L))
                    if dx + dy < 0:
                        a0 += L
                    p = float(rng.uniform(lo, hi))
                    if dx != 0:
                        cx, cy = a0, p
                    else:
                        cx, cy = p, a0
                    ex, ey = cx + dx * L, cy + dy * L
                # deliberate exact tie in x with an earlier object
                if objs and rng.random() < p_tie:
                    tx = objs[0].start[0]
                    nex = ex + (tx - cx)
                    if lo <= min(tx, nex) and max(tx, nex) <= hi:
                        cx, ex = tx, nex
                good = True
                for o in objs:
                    if not _boxes_disjoint((cx, cy), size, o.start, o.size, gap):
                        good = False
                        break
                    ddx = abs(cx - o.start[0])
                    if ddx != 0.0 and ddx < min_dx_frac * S:
                        good = False
                        break
                if good:
                    objs.append(Obj(shape, color, rgb, round(size, 4), motion,
                                    (cx, cy), (ex, ey)))
                    placed = True
                    break
            if not placed:
                ok = False
                break
        if ok:
            # round positions for JSON; keep exact ties exact
            for o in objs:
                o.start = (round(o.start[0], 4), round(o.start[1], 4))
                o.end = (round(o.end[0], 4), round(o.end[1], 4))
            return objs
    raise RuntimeError("could not place objects")


def sample_canvas(rng, dist: str = "train") -> int:
    """Canvas side S.  'train': log-uniform over 64..512 with more mass on small
    sizes (what the model sees is 64x64 anyway); 'eval': mostly 64..160."""
    if dist == "train":
        u = rng.random()
        if u < 0.6:
            S = int(round(math.exp(rng.uniform(math.log(64), math.log(160)))))
        elif u < 0.9:
            S = int(rng.integers(160, 321))
        else:
            S = int(rng.integers(320, 513))
    elif dist == "eval":
        u = rng.random()
        if u < 0.85:
            S = int(rng.integers(64, 161))
        elif u < 0.97:
            S = int(rng.integers(160, 257))
        else:
            S = int(rng.integers(256, 513))
    else:
        raise ValueError(dist)
    return max(S_MIN, min(S_MAX, S))


def sample_scene(rng, S: Optional[int] = None, dist: str = "train", p_vfr: float = 0.25,
                 p_pillarbox: float = 0.15, p_noise: float = 0.5, n_objects: Optional[int] = None,
                 even: bool = True) -> Scene:
    if S is None:
        S = sample_canvas(rng, dist)
    if even and S % 2:
        S += 1 if S < S_MAX else -1
    timing = sample_timing(rng, p_vfr=p_vfr)
    background = int(rng.integers(BG_GRAY[0], BG_GRAY[1] + 1))
    noise = round(float(rng.uniform(0.5, NOISE_SIGMA_MAX)), 3) if rng.random() < p_noise else 0.0
    pillarbox = bool(rng.random() < p_pillarbox)
    objs = sample_objects(rng, S, timing.duration, n_objects=n_objects)
    return Scene(S=S, background=background, noise_sigma=noise, objects=objs, timing=timing, pillarbox=pillarbox)


# --------------------------------------------------------------------------
# Language
# --------------------------------------------------------------------------


def object_phrase(o: Obj) -> str:
    return f"a {o.color} {o.shape} {MOTION_PHRASE[o.motion]}"


def caption_order(objects: Sequence[Obj]) -> List[Obj]:
    """Objects ordered by the x of their centre at t = 0, ties: smaller y first."""
    return sorted(objects, key=lambda o: (o.start[0], o.start[1]))


def caption(objects: Sequence[Obj]) -> str:
    ph = [object_phrase(o) for o in caption_order(objects)]
    if len(ph) == 1:
        body = ph[0]
    elif len(ph) == 2:
        body = f"{ph[0]} and {ph[1]}"
    else:
        body = ", ".join(ph[:-1]) + f" and {ph[-1]}"
    return body + "."


def questions(objects: Sequence[Obj]) -> List[Dict[str, str]]:
    """Every applicable question with its answer and type, in a fixed order:
    count; color (per shape held by exactly one object); shape (per color held
    by exactly one object); motion (per object, caption order); exists (all 15
    color/shape pairs); anymoving."""
    qs: List[Dict[str, str]] = []
    qs.append({"question": "how many shapes are there?", "answer": NUMBER_WORDS[len(objects)], "type": "count"})
    for sh in SHAPES:
        having = [o for o in objects if o.shape == sh]
        if len(having) == 1:
            qs.append({"question": f"what color is the {sh}?", "answer": having[0].color, "type": "color"})
    for co in COLOR_NAMES:
        having = [o for o in objects if o.color == co]
        if len(having) == 1:
            qs.append({"question": f"what shape is the {co} object?", "answer": having[0].shape, "type": "shape"})
    for o in caption_order(objects):
        qs.append({"question": f"which way is the {o.color} {o.shape} moving?",
                   "answer": MOTION_ANSWER[o.motion], "type": "motion"})
    present = {(o.color, o.shape) for o in objects}
    for co in COLOR_NAMES:
        for sh in SHAPES:
            qs.append({"question": f"is there a {co} {sh}?", "answer": "yes" if (co, sh) in present else "no",
                       "type": "exists"})
    qs.append({"question": "is anything moving?",
               "answer": "yes" if any(o.motion != "still" for o in objects) else "no", "type": "anymoving"})
    return qs


def hard_negatives(objects: Sequence[Obj]) -> List[Tuple[str, str]]:
    """One absent (color, shape) pair per object, deterministic: the same color
    with the next shape (cyclic order circle, square, triangle) that is absent,
    else the same shape with the next absent color."""
    present = {(o.color, o.shape) for o in objects}
    out: List[Tuple[str, str]] = []
    for o in caption_order(objects):
        cands = [(o.color, SHAPES[(SHAPES.index(o.shape) + i) % 3]) for i in (1, 2)]
        cands += [(COLOR_NAMES[(COLOR_NAMES.index(o.color) + i) % 5], o.shape) for i in (1, 2, 3, 4)]
        for c in cands:
            if c not in present and c not in out:
                out.append(c)
                break
    return out


def balanced_questions(objects: Sequence[Obj]) -> List[Dict[str, str]]:
    """The questions used for the headline QA accuracy: every question except
    the 'is there' ones, plus 'is there' for each object (yes) and for one hard
    negative per object (no), so that yes and no are balanced."""
    neg = {f"is there a {c} {s}?" for c, s in hard_negatives(objects)}
    out = []
    for q in questions(objects):
        if q["type"] != "exists" or q["answer"] == "yes" or q["question"] in neg:
            out.append(q)
    return out


def fewshot_answer(objects: Sequence[Obj], task: str) -> Optional[str]:
    """Answer of a hidden few-shot task, None when the task does not apply
    (color/shape/motion need a single-object clip)."""
    if task == "count":
        return NUMBER_WORDS[len(objects)]
    if len(objects) != 1:
        return None
    o = objects[0]
    if task == "color":
        return o.color
    if task == "shape":
        return o.shape
    if task == "motion":
        return MOTION_ANSWER[o.motion]
    raise ValueError(task)


def normalize_answer(s: str) -> str:
    """Scoring normaliser: lower-case, trim white space, drop one final period."""
    s = s.strip().lower()
    if s.endswith("."):
        s = s[:-1].rstrip()
    return s


def score(prediction: str, answer: str) -> bool:
    return normalize_answer(prediction) == normalize_answer(answer)


# prompts ------------------------------------------------------------------

CAPTION_PROMPT = f"{IMAGE}Caption:"
ANSWER_PROMPT = f"{IMAGE}Answer:"


def caption_target(cap: str) -> str:
    return f" {cap}{EOC}"


def question_prompt(q: str) -> str:
    return f"{IMAGE}Question: {q} Short answer:"


def answer_target(a: str) -> str:
    return f" {a}{EOC}"


def fewshot_prompt(support_answers: Sequence[str]) -> str:
    """k support items then the query, concatenated without separators."""
    return "".join(f"{ANSWER_PROMPT} {a}{EOC}" for a in support_answers) + ANSWER_PROMPT


def question_fewshot_prompt(support: Sequence[Tuple[str, str]], query_question: str) -> str:
    """Support items of the Question form, then the query question."""
    return "".join(question_prompt(q) + answer_target(a) for q, a in support) + question_prompt(query_question)


# --------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------


def scene_label(scene: Scene) -> Dict:
    """JSON-ready description of a scene (objects, timing, caption, questions)."""
    D = scene.duration
    objs = []
    for o in scene.objects:
        d = asdict(o)
        d["rgb"] = list(o.rgb)
        d["start"] = list(o.start)
        d["end"] = list(o.end)
        d["size_frac"] = round(o.size / scene.S, 5)
        d["start_norm"] = [round(o.start[0] / scene.S, 5), round(o.start[1] / scene.S, 5)]
        d["end_norm"] = [round(o.end[0] / scene.S, 5), round(o.end[1] / scene.S, 5)]
        v = o.velocity(D)
        d["velocity"] = [round(v[0], 5), round(v[1], 5)]
        objs.append(d)
    tm = scene.timing
    w, h = scene.frame_size()
    timing = {"vfr": tm.vfr, "n_frames": tm.n_frames, "fps": round(tm.average_fps(), 5)}
    if tm.vfr:
        timing.update(segments=[list(s) for s in tm.segments], jitter_amp=tm.jitter_amp,
                      jitter_freq=tm.jitter_freq, jitter_phase=tm.jitter_phase)
    else:
        timing.update(fps_num=tm.fps_num, fps_den=tm.fps_den)
    return {
        "S": scene.S,
        "width": w,
        "height": h,
        "pillarbox": scene.pillarbox,
        "background": scene.background,
        "noise_sigma": scene.noise_sigma,
        "duration": D,
        "timing": timing,
        "objects": objs,
        "caption": caption(scene.objects),
        "qa": questions(scene.objects),
        "qa_balanced": [q["question"] for q in balanced_questions(scene.objects)],
    }


def scene_from_label(label: Dict) -> Scene:
    """Inverse of scene_label (enough for rendering and language)."""
    objs = [Obj(o["shape"], o["color"], tuple(o["rgb"]), o["size"], o["motion"], tuple(o["start"]), tuple(o["end"]))
            for o in label["objects"]]
    t = label["timing"]
    if t["vfr"]:
        tm = Timing(duration=label["duration"], vfr=True, segments=[tuple(s) for s in t["segments"]],
                    jitter_amp=t["jitter_amp"], jitter_freq=t["jitter_freq"], jitter_phase=t["jitter_phase"],
                    n_frames=t["n_frames"])
    else:
        tm = Timing(duration=label["duration"], vfr=False, fps_num=t["fps_num"], fps_den=t["fps_den"],
                    n_frames=t["n_frames"])
    return Scene(S=label["S"], background=label["background"], noise_sigma=label["noise_sigma"], objects=objs,
                 timing=tm, pillarbox=label["pillarbox"])


def world_text_corpus(rng, n_scenes: int = 4000) -> List[str]:
    """Texts of the world (for the tokenizer and LM pre-training): the full
    prompt + target strings of captions, questions and few-shot items."""
    out: List[str] = []
    for _ in range(n_scenes):
        S = 128
        objs = sample_objects(rng, S, 5.0)
        out.append(CAPTION_PROMPT + caption_target(caption(objs)))
        for qa in questions(objs):
            out.append(question_prompt(qa["question"]) + answer_target(qa["answer"]))
        for task in FEWSHOT_TASKS:
            a = fewshot_answer(objs, task)
            if a is not None:
                out.append(f"{ANSWER_PROMPT} {a}{EOC}")
    return out
