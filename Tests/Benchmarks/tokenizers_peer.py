#!/usr/bin/env python3
"""The Hugging Face `tokenizers` side of `flamingo bench tokenizer`.

    tokenizers_peer.py TOKENIZER_JSON TEXT_FILE... --runs N

For each text file: loads the tokenizer afresh (an empty word cache, as ours), encodes the whole text
once (Tokenizer.encode, one thread), and prints one JSON object as its last line: per file the median
seconds of N runs and the token ids' count and a hash of the ids (so the benchmark also checks that
both sides produce the same ids), plus the loading time.
"""
import argparse
import hashlib
import json
import statistics
import time

from tokenizers import Tokenizer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tokenizer")
    ap.add_argument("texts", nargs="+")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    out = {}
    t0 = time.perf_counter()
    Tokenizer.from_file(args.tokenizer)
    out["load_s"] = time.perf_counter() - t0
    for i, path in enumerate(args.texts):
        text = open(path, encoding="utf-8").read()
        times, ids = [], []
        for _ in range(max(1, args.runs)):
            tok = Tokenizer.from_file(args.tokenizer)
            t0 = time.perf_counter()
            ids = tok.encode(text, add_special_tokens=False).ids
            times.append(time.perf_counter() - t0)
        out[f"text{i}_s"] = statistics.median(times)
        out[f"text{i}_count"] = len(ids)
        out[f"text{i}_hash"] = int(hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:12], 16)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
