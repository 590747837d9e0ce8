#!/usr/bin/env python3
"""Builds the tokenizer fixtures used by TokenizerTests.

Run with the pinned Hugging Face `tokenizers` package (0.13.3):

    python3 -m venv .venv && .venv/bin/pip install tokenizers==0.13.3
    TOKENIZERS_PARALLELISM=false RAYON_NUM_THREADS=1 \
        .venv/bin/python Tests/TokenizerTests/Fixtures/make_tokenizer_fixtures.py

It writes, next to this script:
  gpt2style.tokenizer.json   byte-level BPE, GPT-2/GPT-NeoX style (NFC, ByteLevel pre-tokenizer,
                             ByteLevel decoder and post-processor) plus Flamingo special tokens
  variant.tokenizer.json     same kind of model with other stages: NFKC+Lowercase, a Split regex +
                             Digits + ByteLevel(use_regex=false) pre-tokenizer, TemplateProcessing (BOS),
                             added tokens with lstrip/rstrip/single_word/normalized flags, and a
                             ByteLevel+Strip decoder sequence
  charlevel.tokenizer.json   a BPE without ByteLevel: Whitespace-style splitting, byte_fallback
                             tokens, an unk token and a ByteFallback+Fuse decoder sequence
  <name>.expected.json       for each test string: ids of tokenizer.encode(s).ids and
                             tokenizer.decode(ids, skip_special_tokens=False); plus decode-only
                             cases of random id lists (both skip_special_tokens values)
  pre_tokenizer_cases.json   words of a few strings under Split (every behavior, inverted or not,
                             regex and literal), Whitespace, WhitespaceSplit and Digits
  unicode_normalization.json for NFC, NFD, NFKC, NFKD and Lowercase: every code point that the
                             Rust normalizer changes, with its output (Hangul syllables, which
                             are algorithmic, left out)
  unicode_classes.json       the character classes that the Rust library's regex engines see
                             (onig \\p{L}, \\p{N}, \\s; Rust char::is_whitespace / is_numeric and
                             the regex crate's \\w), as code-point ranges

Everything is seeded, so rerunning gives the same files.
"""

import json
import os
import random
import sys

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAYON_NUM_THREADS", "1")

import tokenizers  # noqa: E402
from tokenizers import (  # noqa: E402
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
    trainers,
)

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20240611

COLORS = ["red", "green", "blue", "yellow", "purple", "orange", "black", "white", "gray", "pink", "cyan", "brown"]
SHAPES = ["circle", "square", "triangle", "star", "hexagon", "rectangle", "oval", "diamond", "cube", "sphere", "cone"]
VERBS = ["moves", "rotates", "bounces", "slides", "spins", "grows", "shrinks", "jumps", "falls", "floats", "stops"]
DIRS = ["left", "right", "up", "down", "forward", "backward", "around", "away", "closer", "slowly", "quickly"]
PLACES = ["the table", "the floor", "the box", "the screen", "the corner", "the center", "a wall", "the sky"]
SIZES = ["small", "large", "tiny", "huge", "big", "little", "medium"]
NAMES = ["Alice", "Bob", "Carol", "Dave", "Eve", "Mallory", "Trent", "Peggy"]


def sentence(rng):
    c, s, v, d = rng.choice(COLORS), rng.choice(SHAPES), rng.choice(VERBS), rng.choice(DIRS)
    kind = rng.randrange(12)
    if kind == 0:
        return f"a {c} {s} {v} {d}"
    if kind == 1:
        return f"What color is the {s}?"
    if kind == 2:
        return f"The {s} is {c}."
    if kind == 3:
        return f"How many {s}s are there? There are {rng.randrange(0, 100)} {s}s."
    if kind == 4:
        return f"Question: where does the {rng.choice(SIZES)} {c} {s} go? Answer: it {v} {d}."
    if kind == 5:
        return f"{rng.choice(NAMES)} said: \"the {c} {s} {v} {d}!\""
    if kind == 6:
        return f"It's {c}, isn't it? We're sure they'll say the {s}'s {d}."
    if kind == 7:
        return f"At {rng.randrange(0, 24)}:{rng.randrange(0, 60):02d} the {s} was {rng.randrange(1, 1000)}.{rng.randrange(0, 100)} cm from {rng.choice(PLACES)}."
    if kind == 8:
        return f"Output: a {rng.choice(SIZES)} {c} {s} on {rng.choice(PLACES)}; then it {v} {d} ({rng.randrange(1, 10)}x)."
    if kind == 9:
        return f"There is no {s} here - only {rng.randrange(2, 9)} {c} {rng.choice(SHAPES)}s and a {rng.choice(COLORS)} one..."
    if kind == 10:
        return f"Is the {c} {s} moving {d}? Yes. No! Maybe; I'd say {rng.randrange(0, 101)}%."
    return f"{c.upper()} {s.capitalize()} #{rng.randrange(1, 5000)} {v} {d} @ {rng.randrange(1, 360)} deg"


def corpus(rng, n):
    lines = []
    for _ in range(n):
        k = rng.randrange(1, 4)
        lines.append(" ".join(sentence(rng) for _ in range(k)))
    return lines


# ---------------------------------------------------------------------------------------------
# Tokenizers

def build_gpt2style(lines):
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=2000,
        min_frequency=2,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(lines, trainer=trainer)
    # Flamingo's extra tokens, added as the Python side of the project does it.
    tok.add_special_tokens(["<|endofchunk|>", "<image>"])
    tok.add_special_tokens([AddedToken("<PAD>", normalized=False)])
    return tok


def build_variant(lines):
    split_regex = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(split_regex), behavior="isolated", invert=False),
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=False),
    ])
    tok.decoder = decoders.Sequence([decoders.ByteLevel(), decoders.Strip(content=" ", left=1, right=0)])
    trainer = trainers.BpeTrainer(
        vocab_size=1500,
        min_frequency=2,
        special_tokens=["<unk>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(lines, trainer=trainer)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A </s> $B:1", special_tokens=[("<s>", bos), ("</s>", tok.token_to_id("</s>"))]
    )
    tok.add_special_tokens([
        AddedToken("<image>", lstrip=True, normalized=False),
        AddedToken("<|endofchunk|>", rstrip=True, normalized=False),
        AddedToken("<PAD>", lstrip=True, rstrip=True, normalized=False),
    ])
    tok.add_tokens([
        AddedToken("zorblax", single_word=True),          # normalized, only as a whole word
        AddedToken("Red Square", normalized=True),        # matched after lowercasing: "red square"
        AddedToken("   ", normalized=True),               # GPT-NeoX style whitespace-run token
        AddedToken("[[MASK]]", normalized=False, single_word=True, lstrip=True),
    ])
    return tok


def build_charlevel(lines):
    """A character-level BPE (no ByteLevel) with byte_fallback and an unk token."""
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.normalizer = normalizers.NFD()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(),
        pre_tokenizers.Split(Regex(r"\p{P}+"), behavior="merged_with_next"),
        pre_tokenizers.Digits(individual_digits=False),
    ])
    trainer = trainers.BpeTrainer(vocab_size=600, min_frequency=2, special_tokens=["<unk>", "<bos>"], show_progress=False)
    tok.train_from_iterator(lines, trainer=trainer)
    # Rebuild the model with <0xXX> byte tokens and byte_fallback on. <0xF0> is left out, so
    # characters encoded with that lead byte (most emoji) cannot fall back and become <unk>.
    state = json.loads(tok.to_str())
    vocab = state["model"]["vocab"]
    next_id = max(vocab.values()) + 1
    for b in range(256):
        if b == 0xF0:
            continue
        name = "<0x%02X>" % b
        if name not in vocab:
            vocab[name] = next_id
            next_id += 1
    state["model"]["byte_fallback"] = True
    state["decoder"] = {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"},
                                                         {"type": "Replace", "pattern": {"String": "_"}, "content": " "}]}
    tok = Tokenizer.from_str(json.dumps(state))
    tok.add_special_tokens(["<image>"])
    tok.add_tokens([AddedToken("e\u0301", normalized=True)])  # NFD-normalized pattern
    return tok


# ---------------------------------------------------------------------------------------------
# Test strings

UNICODE_SAMPLES = [
    "café", "cafe\u0301", "naïve façade", "Ångström", "A\u030angstro\u0308m", "résumé", "Ελληνικά ΣΑΣ σας",
    "Русский текст", "你好世界", "日本語のテキスト", "한국어 텍스트", "\u1100\u1161\u11a8", "😀", "👩‍👩‍👧‍👦",
    "🇯🇵🇫🇷", "👍🏽", "❤️", "مرحبا بالعالم", "שלום עולם", "हिन्दी", "ภาษาไทย", "ﬁnancial ﬂow", "x²+y³=z⁴",
    "Ⅻ Ⅳ ⅷ", "½ ¾ ⅓", "①②③", "ｆｕｌｌｗｉｄｔｈ　ＡＢＣ１２３", "İstanbul", "straße STRASSE", "ǅemal",
    "\u00a0nbsp\u00a0", "zero\u200bwidth", "joiner\u200d\u200c", "\ufeffbom", "tab\there", "vt\x0bff\x0c",
    "nel\x85next", "line\u2028para\u2029", "ideo\u3000space", "ctrl\x00\x01\x1f\x7f", "\ue000private",
    "math ∑∫√∞≠≤", "arrows ←↑→↓", "box ┌─┐", "currency $€£¥₹", "°C ±5", "e\u0301\u0301\u0301",
    "\u0301leading mark", "Ö\u0332", "a\u20dd", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𝟙𝟚𝟛", "١٢٣ ۴۵۶", "߀߁", "᠐᠑", "〇",
    "ｶﾀｶﾅ", "㍻", "™ ℠ ℃", "…", "“quotes” ‘single’", "«guillemets»", "—dash–", "¿Qué? ¡Sí!",
]

SPECIALS = ["<image>", "<|endofchunk|>", "<PAD>", "<|endoftext|>", "<s>", "</s>", "zorblax", "[[MASK]]", "Red Square"]

CONTRACTIONS = ["it's", "we're", "they'll", "I'd", "you've", "I'm", "can't", "don't", "IT'S", "We'RE", "''s",
                "rock'n'roll", "'s", "'t", "'re'", "o'clock", "' s", "dogs'", "'ll'll", "'d'"]

WS = [" ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n", "\t\t ", "        ", "\u00a0", "\u3000", "\x0b", "\x0c"]

PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + ["...", "?!", "--", "->", "=>", "<<", ">>", "::", "!!!"]


def random_piece(rng, words):
    k = rng.randrange(10)
    if k < 3:
        return rng.choice(words)
    if k == 3:
        return rng.choice(UNICODE_SAMPLES)
    if k == 4:
        return rng.choice(WS)
    if k == 5:
        return rng.choice(PUNCT)
    if k == 6:
        return str(rng.randrange(0, 10 ** rng.randrange(1, 12)))
    if k == 7:
        return rng.choice(CONTRACTIONS)
    if k == 8:
        return rng.choice(SPECIALS)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(rng.randrange(1, 12)))


def random_codepoint_string(rng):
    blocks = [(0x20, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x6FF),
              (0x900, 0x97F), (0xE00, 0xE7F), (0x1100, 0x11FF), (0x2000, 0x206F), (0x2070, 0x218F),
              (0x2190, 0x23FF), (0x2460, 0x24FF), (0x2500, 0x27BF), (0x3000, 0x30FF), (0x4E00, 0x4FFF),
              (0xAC00, 0xAD00), (0xFB00, 0xFB4F), (0xFE00, 0xFE0F), (0xFF00, 0xFFEF), (0x1D400, 0x1D7FF),
              (0x1F300, 0x1F64F), (0x1F900, 0x1F9FF)]
    out = []
    for _ in range(rng.randrange(1, 25)):
        lo, hi = rng.choice(blocks)
        out.append(chr(rng.randint(lo, hi)))
        if rng.random() < 0.2:
            out.append(rng.choice(WS))
    return "".join(out)


def test_strings(rng, n):
    words = sorted({w for line in corpus(random.Random(SEED + 1), 300) for w in line.split()})
    fixed = [
        "", " ", "  ", "\n", "a", "A", "<image>", " <image> x", "<image>Output: a red square<|endofchunk|>",
        "<image>Output: a red square<|endofchunk|><|endoftext|>", "<image><image><image>", "<PAD><PAD> <PAD>",
        "x<image>y", "x <image> y", "x  <image>  y", "<|endofchunk|>  next", "text<|endofchunk|>\n\n<image>",
        "<imag", "<image", "image>", "< image>", "<IMAGE>", "<|endofchunk", "<|endoftext|>", "hello world",
        "Hello World", "What color is the square?", "a red circle moves left", "trailing spaces   ",
        "   leading spaces", "mixed \t tabs \t\t and\nnewlines\n\n\n", "1234567890", "3.14159", "1,000,000",
        "a1b2c3", "٣٤٥", "it's we're they'll I'd", "zorblax", "a zorblax b", "azorblax", "zorblaxes", "zorblax_",
        "[[MASK]]", "x[[MASK]]", "x [[MASK]] y", "Red Square", "a RED SQUARE!", "redsquare", "e\u0301", "é",
        "a" * 600, "supercalifragilisticexpialidocious" * 12, "ab" * 300 + "!", "9" * 400, "😀" * 50,
        " " * 100, "\n" * 40, "x" + " " * 30 + "y", "<unk>", "<bos>", "<s>", "</s>", "\u2028", "\u0085",
        # Marks the Rust normalization tables (Unicode 9.0) do not know, between known ones:
        # U+11D42 (ccc 7, Unicode 10.0), U+1AC1 (Unicode 14.0), U+11938 (decomposes since 13.0).
        "a\u0301\U00011D42b", "e\U00011D42\u0301\u0323x", "\u0323\u0301a\u1ac1\u0301", "A\u030a\U00011938\u0301",
        "\u32ff \ua7f2 \U00010781 x\u0338\u0323", "\U0001F10D\U0001FBF5 \u1e9b\u0323",
    ]
    out = list(fixed)
    while len(out) < n:
        r = rng.random()
        if r < 0.25:
            s = sentence(rng)
        elif r < 0.7:
            s = "".join(random_piece(rng, words) for _ in range(rng.randrange(1, 14)))
        elif r < 0.85:
            s = random_codepoint_string(rng)
        elif r < 0.95:
            s = rng.choice(SPECIALS) + sentence(rng) + rng.choice(SPECIALS + [""]) + rng.choice(WS + [""])
        else:
            s = "".join(rng.choice(WS) for _ in range(rng.randrange(1, 8))) + rng.choice(words)
        out.append(s)
    return out


def decode_cases(rng, tok, n):
    size = tok.get_vocab_size(with_added_tokens=True)
    cases = []
    for i in range(n):
        ids = [rng.randrange(size) for _ in range(rng.randrange(0, 12))]
        skip = bool(i % 2)
        cases.append({"ids": ids, "skip_special_tokens": skip, "text": tok.decode(ids, skip_special_tokens=skip)})
    return cases


def write_expected(name, tok, strings, rng):
    path = os.path.join(HERE, f"{name}.tokenizer.json")
    tok.save(path, pretty=False)
    # Reload from disk so that the expectations come from exactly what the Swift side reads.
    tok = Tokenizer.from_file(path)
    cases = []
    for s in strings:
        ids = tok.encode(s).ids
        cases.append({"text": s, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False)})
    doc = {
        "tokenizer": f"{name}.tokenizer.json",
        "tokenizers_version": tokenizers.__version__,
        "cases": cases,
        "decode_cases": decode_cases(rng, tok, 150),
    }
    with open(os.path.join(HERE, f"{name}.expected.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"{name}: {len(cases)} strings, vocab {tok.get_vocab_size(with_added_tokens=True)}")


# ---------------------------------------------------------------------------------------------
# Character classes as the Rust library sees them (onig for ByteLevel/Split, std/regex elsewhere)

def all_scalars():
    return [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]


def ranges(codes):
    out = []
    for c in codes:
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


def matched_by_split(regex, text_codes):
    """Code points of `text_codes` that `regex` (one char at a time) matches, via a Split pre-tokenizer."""
    text = "".join(map(chr, text_codes))
    pieces = pre_tokenizers.Split(Regex(regex), behavior="removed").pre_tokenize_str(text)
    kept = set()
    for _, (start, end) in pieces:
        kept.update(range(start, end))
    return [c for i, c in enumerate(text_codes) if i not in kept]


def unicode_classes():
    codes = all_scalars()
    classes = {
        "onig_letter": matched_by_split(r"\p{L}", codes),
        "onig_number": matched_by_split(r"\p{N}", codes),
        "onig_space": matched_by_split(r"\s", codes),
    }
    # char::is_whitespace: WhitespaceSplit removes exactly those characters.
    text = "".join(map(chr, codes))
    kept = set()
    for _, (s, e) in pre_tokenizers.WhitespaceSplit().pre_tokenize_str(text):
        kept.update(range(s, e))
    classes["rust_whitespace"] = [c for i, c in enumerate(codes) if i not in kept]
    # char::is_numeric: Digits isolates each numeric char; separate them with 'a' so that a
    # non-numeric char joins the 'a' run.
    numeric = []
    for chunk_start in range(0, len(codes), 50000):
        chunk = codes[chunk_start:chunk_start + 50000]
        text = "a" + "a".join(map(chr, chunk)) + "a"
        for piece, _ in pre_tokenizers.Digits(individual_digits=True).pre_tokenize_str(text):
            if len(piece) == 1 and piece != "a":
                numeric.append(ord(piece))
    classes["rust_numeric"] = sorted(set(numeric))
    # regex crate \w: the Whitespace pre-tokenizer keeps \w+ runs and [^\w\s]+ runs; separate each
    # char with '!' (not \w, not \s): a word char becomes its own piece.
    word = []
    for chunk_start in range(0, len(codes), 50000):
        chunk = codes[chunk_start:chunk_start + 50000]
        text = "!" + "!".join(map(chr, chunk)) + "!"
        for piece, _ in pre_tokenizers.Whitespace().pre_tokenize_str(text):
            if "!" not in piece:
                word.extend(ord(ch) for ch in piece)
    classes["regex_word"] = sorted(set(word))
    doc = {"tokenizers_version": tokenizers.__version__}
    doc.update({name: ranges(values) for name, values in classes.items()})
    with open(os.path.join(HERE, "unicode_classes.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print("unicode classes:", {k: len(v) for k, v in classes.items()})


def pre_tokenizer_cases():
    texts = ["Hello, world!  How's it_going? 42x", "a--b---c", "--ab--", "naïve café\u00a0x\u2003y",
             "e\u0301t\u00e9 1\u00b2\u2163", "line one\nline two\n\u000b x\u0085y"]
    behaviors = {"removed": "Removed", "isolated": "Isolated", "merged_with_previous": "MergedWithPrevious",
                 "merged_with_next": "MergedWithNext", "contiguous": "Contiguous"}
    configs = []
    for behavior, name in behaviors.items():
        for invert in (False, True):
            configs.append(({"type": "Split", "pattern": {"Regex": r"-+|\s"}, "behavior": name, "invert": invert},
                            pre_tokenizers.Split(Regex(r"-+|\s"), behavior=behavior, invert=invert)))
    configs += [
        ({"type": "Split", "pattern": {"String": "--"}, "behavior": "Isolated", "invert": False},
         pre_tokenizers.Split("--", behavior="isolated")),
        ({"type": "Split", "pattern": {"Regex": r"\w+"}, "behavior": "Removed", "invert": True},
         pre_tokenizers.Split(Regex(r"\w+"), behavior="removed", invert=True)),
        ({"type": "Split", "pattern": {"Regex": r"^\s*\S"}, "behavior": "Isolated", "invert": False},
         pre_tokenizers.Split(Regex(r"^\s*\S"), behavior="isolated")),
        ({"type": "Whitespace"}, pre_tokenizers.Whitespace()),
        ({"type": "WhitespaceSplit"}, pre_tokenizers.WhitespaceSplit()),
        ({"type": "Digits", "individual_digits": False}, pre_tokenizers.Digits(individual_digits=False)),
        ({"type": "Digits", "individual_digits": True}, pre_tokenizers.Digits(individual_digits=True)),
    ]
    cases = [{"pre_tokenizer": config, "text": text, "words": [w for w, _ in pre_tokenizer.pre_tokenize_str(text)]}
             for config, pre_tokenizer in configs for text in texts]
    with open(os.path.join(HERE, "pre_tokenizer_cases.json"), "w", encoding="utf-8") as f:
        json.dump({"tokenizers_version": tokenizers.__version__, "cases": cases}, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print("pre-tokenizer cases:", len(cases))


def unicode_normalization():
    # Each code point on its own line ("\n" itself is left out: it would shift the lines).
    codes = [c for c in all_scalars() if c != 0x0A and not 0xAC00 <= c <= 0xD7A3]
    text = "\n".join(map(chr, codes))
    doc = {"tokenizers_version": tokenizers.__version__}
    for name, normalizer in [("NFC", normalizers.NFC()), ("NFD", normalizers.NFD()), ("NFKC", normalizers.NFKC()),
                             ("NFKD", normalizers.NFKD()), ("Lowercase", normalizers.Lowercase())]:
        lines = normalizer.normalize_str(text).split("\n")
        assert len(lines) == len(codes), name
        doc[name] = [[c, out] for c, out in zip(codes, lines) if out != chr(c)]
    with open(os.path.join(HERE, "unicode_normalization.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print("unicode normalization:", {k: len(v) for k, v in doc.items() if k != "tokenizers_version"})


def main():
    if tokenizers.__version__ != "0.13.3":
        print(f"warning: expected tokenizers 0.13.3, found {tokenizers.__version__}", file=sys.stderr)
    lines = corpus(random.Random(SEED), 20000)
    write_expected("gpt2style", build_gpt2style(lines), test_strings(random.Random(SEED + 2), 2500), random.Random(SEED + 3))
    write_expected("variant", build_variant(lines), test_strings(random.Random(SEED + 4), 1500), random.Random(SEED + 5))
    write_expected("charlevel", build_charlevel(lines), test_strings(random.Random(SEED + 6), 1000), random.Random(SEED + 7))
    pre_tokenizer_cases()
    unicode_classes()
    unicode_normalization()


if __name__ == "__main__":
    main()
