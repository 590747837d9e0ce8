"""Trains the project's byte-level BPE tokenizer on the text of Shapes World.

GPT-2 style, with Hugging Face `tokenizers` (0.13.3): NFC normalizer,
ByteLevel pre-tokenizer (add_prefix_space=false), ByteLevel decoder and
post-processor, BPE without unk token.  Special tokens first, so that their
ids are fixed: <|endoftext|> = 0 (eos), <|endofchunk|> = 1, <image> = 2,
<PAD> = 3; then the 256 byte symbols, then the merges.

The corpus is every prompt and target string of the world (captions,
questions and answers, few-shot items) from world.world_text_corpus, which
covers the whole vocabulary; with vocab 512 every caption and question is a
handful of tokens.  Deterministic (a fixed corpus; training is single-
threaded).

Usage: python tokenizer.py [--vocab 512] [--out Training/out/tokenizer.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAYON_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import world  # noqa: E402


def corpus(seed: int = 0, n_scenes: int = 3000):
    rng = np.random.default_rng(np.random.SeedSequence([seed, 11]))
    texts = world.world_text_corpus(rng, n_scenes)
    # every question/answer form, so that rare combinations are present too
    for sh in world.SHAPES:
        texts.append(world.question_prompt(f"what color is the {sh}?"))
    for co in world.COLOR_NAMES:
        texts.append(world.question_prompt(f"what shape is the {co} object?"))
        for sh in world.SHAPES:
            texts.append(world.question_prompt(f"which way is the {co} {sh} moving?"))
            texts.append(world.question_prompt(f"is there a {co} {sh}?"))
    for a in list(world.MOTION_ANSWER.values()) + list(world.NUMBER_WORDS.values()) + ["yes", "no"]:
        texts.append(world.answer_target(a))
    texts += ["Caption:", "Question:", "Short answer:", "Answer:"]
    return texts


def build(vocab_size: int = 512, seed: int = 0) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)  # as GPT-2's tokenizer.json
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        show_progress=False,
        special_tokens=list(world.SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    # The special tokens never occur inside the training text: train on the
    # plain text pieces between them.
    texts = []
    for t in corpus(seed):
        for sp in world.SPECIAL_TOKENS:
            t = t.replace(sp, "\n")
        texts += [p for p in t.split("\n") if p]
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def check(tok: Tokenizer) -> None:
    for i, sp in enumerate(world.SPECIAL_TOKENS):
        assert tok.token_to_id(sp) == i, (sp, tok.token_to_id(sp))
    s = world.question_prompt("which way is the red circle moving?") + world.answer_target("not moving")
    enc = tok.encode(s)
    assert tok.decode(enc.ids, skip_special_tokens=False) == s, tok.decode(enc.ids, skip_special_tokens=False)
    assert enc.ids[0] == 2 and enc.ids[-1] == 1, enc.ids


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vocab", type=int, default=512)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(HERE, "out", "tokenizer.json"))
    a = ap.parse_args()
    tok = build(a.vocab, a.seed)
    check(tok)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tok.save(a.out)
    h = hashlib.sha256(open(a.out, "rb").read()).hexdigest()[:16]
    caps = [world.CAPTION_PROMPT + world.caption_target("a red circle moving left, a blue square standing still "
                                                        "and a white triangle moving up."),
            world.question_prompt("how many shapes are there?") + world.answer_target("three"),
            world.fewshot_prompt(["red", "not moving"])]
    for c in caps:
        e = tok.encode(c)
        print(len(e.ids), e.tokens)
    print(json.dumps({"vocab": tok.get_vocab_size(), "out": a.out, "sha256_16": h}))


if __name__ == "__main__":
    main()
