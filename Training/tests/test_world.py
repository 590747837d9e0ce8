"""Unit tests of the world model and language (python3 -m unittest discover -s Training/tests)."""

import math
import os
import subprocess
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import world  # noqa: E402
from world import Obj  # noqa: E402


def obj(shape, color, motion, x, y, size=20.0):
    return Obj(shape, color, world.COLORS[color], size, motion, (x, y), (x, y))


class Language(unittest.TestCase):
    def test_caption_joining(self):
        a = obj("circle", "red", "left", 10, 50)
        b = obj("square", "blue", "still", 40, 50)
        c = obj("triangle", "white", "up", 80, 50)
        self.assertEqual(world.caption([a]), "a red circle moving left.")
        self.assertEqual(world.caption([b, a]), "a red circle moving left and a blue square standing still.")
        self.assertEqual(world.caption([c, a, b]),
                         "a red circle moving left, a blue square standing still and a white triangle moving up.")

    def test_caption_tie_smaller_y_first(self):
        a = obj("circle", "red", "down", 30, 80)
        b = obj("square", "green", "right", 30, 20)
        self.assertEqual(world.caption([a, b]), "a green square moving right and a red circle moving down.")

    def test_questions_applicability(self):
        objs = [obj("circle", "red", "left", 10, 10), obj("circle", "blue", "still", 50, 10),
                obj("square", "red", "up", 90, 10)]
        qs = {q["question"]: (q["answer"], q["type"]) for q in world.questions(objs)}
        self.assertEqual(qs["how many shapes are there?"], ("three", "count"))
        self.assertNotIn("what color is the circle?", qs)  # two circles
        self.assertEqual(qs["what color is the square?"], ("red", "color"))
        self.assertNotIn("what color is the triangle?", qs)  # none
        self.assertNotIn("what shape is the red object?", qs)  # two red objects
        self.assertEqual(qs["what shape is the blue object?"], ("circle", "shape"))
        self.assertEqual(qs["which way is the blue circle moving?"], ("not moving", "motion"))
        self.assertEqual(qs["which way is the red square moving?"], ("up", "motion"))
        self.assertEqual(qs["is there a red square?"], ("yes", "exists"))
        self.assertEqual(qs["is there a green square?"], ("no", "exists"))
        self.assertEqual(sum(1 for q in qs if q.startswith("is there")), 15)
        self.assertEqual(qs["is anything moving?"], ("yes", "anymoving"))
        still = [obj("triangle", "yellow", "still", 10, 10)]
        qs = {q["question"]: q["answer"] for q in world.questions(still)}
        self.assertEqual(qs["is anything moving?"], "no")
        self.assertEqual(qs["how many shapes are there?"], "one")

    def test_balanced_questions(self):
        objs = [obj("circle", "red", "left", 10, 10), obj("square", "blue", "still", 50, 10)]
        qs = world.balanced_questions(objs)
        ex = [q for q in qs if q["type"] == "exists"]
        self.assertEqual(sorted(q["answer"] for q in ex), ["no", "no", "yes", "yes"])
        self.assertIn("is there a red square?", [q["question"] for q in ex])
        self.assertEqual(len([q for q in qs if q["type"] != "exists"]),
                         len([q for q in world.questions(objs) if q["type"] != "exists"]))

    def test_normalizer(self):
        self.assertEqual(world.normalize_answer("  Not Moving. "), "not moving")
        self.assertEqual(world.normalize_answer("A red circle moving left."), "a red circle moving left")
        self.assertTrue(world.score("Yes.", "yes"))
        self.assertFalse(world.score("yes yes", "yes"))

    def test_prompts(self):
        self.assertEqual(world.CAPTION_PROMPT, "<image>Caption:")
        self.assertEqual(world.question_prompt("is anything moving?"),
                         "<image>Question: is anything moving? Short answer:")
        self.assertEqual(world.answer_target("yes"), " yes<|endofchunk|>")
        self.assertEqual(world.fewshot_prompt(["red", "blue"]),
                         "<image>Answer: red<|endofchunk|><image>Answer: blue<|endofchunk|><image>Answer:")
        self.assertEqual(world.fewshot_prompt([]), "<image>Answer:")

    def test_fewshot_answers(self):
        one = [obj("square", "green", "right", 10, 10)]
        two = one + [obj("circle", "red", "still", 60, 10)]
        self.assertEqual(world.fewshot_answer(one, "color"), "green")
        self.assertEqual(world.fewshot_answer(one, "shape"), "square")
        self.assertEqual(world.fewshot_answer(one, "motion"), "right")
        self.assertEqual(world.fewshot_answer(two, "count"), "two")
        self.assertIsNone(world.fewshot_answer(two, "color"))


class Sampling(unittest.TestCase):
    def test_scenes_follow_spec(self):
        rng = np.random.default_rng(123)
        for _ in range(400):
            sc = world.sample_scene(rng, dist="train")
            S, D = sc.S, sc.duration
            self.assertTrue(64 <= S <= 512)
            self.assertTrue(3.0 <= D <= 10.0)
            self.assertTrue(1 <= len(sc.objects) <= 3)
            self.assertTrue(0 <= sc.background <= 60 and 0 <= sc.noise_sigma <= 6)
            combos = {(o.shape, o.color) for o in sc.objects}
            self.assertEqual(len(combos), len(sc.objects))
            for o in sc.objects:
                self.assertTrue(0.18 * S - 1e-3 <= o.size <= 0.28 * S + 1e-3)
                self.assertTrue(all(abs(c - b) <= 20 for c, b in zip(o.rgb, world.COLORS[o.color])))
                dx, dy = o.end[0] - o.start[0], o.end[1] - o.start[1]
                dist = math.hypot(dx, dy)
                if o.motion == "still":
                    self.assertLessEqual(dist, 1.0)
                else:
                    ux, uy = world.MOTION_DIR[o.motion]
                    self.assertTrue(0.35 * S - 1e-2 <= dist <= 0.60 * S + 1e-2)
                    self.assertAlmostEqual(dx * ux + dy * uy, dist, places=3)
                for p in (o.start, o.end):  # linear motion: inside at both ends => inside throughout
                    self.assertTrue(o.size / 2 <= p[0] <= S - o.size / 2)
                    self.assertTrue(o.size / 2 <= p[1] <= S - o.size / 2)
            for i, a in enumerate(sc.objects):
                for b in sc.objects[i + 1:]:
                    sep_x = abs(a.start[0] - b.start[0]) >= (a.size + b.size) / 2
                    sep_y = abs(a.start[1] - b.start[1]) >= (a.size + b.size) / 2
                    self.assertTrue(sep_x or sep_y, "boxes overlap at t=0")

    def test_sample_counts_and_frame_choice(self):
        rng = np.random.default_rng(5)
        seen = set()
        for _ in range(300):
            tm = world.sample_timing(rng)
            K = len(tm.sample_times())
            seen.add(K)
            times = tm.frame_times()
            self.assertTrue(all(b > a for a, b in zip(times, times[1:])))
            self.assertEqual(times[0], 0.0)
            self.assertLess(times[-1], tm.duration)
            # the last sample time is covered by a frame, the next integer is past the end
            self.assertLessEqual(K - 1, times[-1] + 0.2)
            self.assertGreaterEqual(K, times[-1] + 1 / 8 - 1e-9 if K > 3 else 3)
            for k, i in enumerate(tm.sample_frame_indices()):
                self.assertLessEqual(times[i], k + 1e-9)
                if i + 1 < len(times):
                    self.assertGreater(times[i + 1], k)
        self.assertEqual(seen, set(range(3, 11)))

    def test_label_roundtrip(self):
        rng = np.random.default_rng(9)
        for _ in range(50):
            sc = world.sample_scene(rng)
            lab = world.scene_label(sc)
            sc2 = world.scene_from_label(lab)
            self.assertEqual(sc2.timing.frame_times(), sc.timing.frame_times())
            self.assertEqual(world.caption(sc2.objects), lab["caption"])


@unittest.skipUnless(subprocess.run(["which", "ffmpeg"], capture_output=True).returncode == 0, "no ffmpeg")
class SetptsMatchesPython(unittest.TestCase):
    def test_vfr_expression(self):
        rng = np.random.default_rng(77)
        tm = None
        while tm is None or len(tm.segments) < 2:
            tm = world.sample_timing(rng, p_vfr=1.0)
        cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "info", "-f", "lavfi", "-i",
               f"color=c=gray:s=16x16:r=30:d={tm.n_frames / 30 + 1}", "-vf",
               f"settb=1/1000,setpts={tm.setpts_expr()},showinfo", "-frames:v", str(tm.n_frames),
               "-fps_mode", "passthrough", "-f", "null", "-"]
        p = subprocess.run(cmd, capture_output=True, text=True)
        pts = [int(line.split(" pts:")[1].split()[0]) / 1000 for line in p.stderr.splitlines() if " pts:" in line]
        self.assertEqual(pts, tm.frame_times())


if __name__ == "__main__":
    unittest.main()
