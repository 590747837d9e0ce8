#!/usr/bin/env python3
"""PyTorch's own int8 on the reference models: the yardstick of the int8 parity tests.

For a reference model (OpenFlamingo's classes, random weights, built exactly as make_reference.py
builds it), this script runs the fixture prompt through the float32 model and through
`torch.ao.quantization.quantize_dynamic` of it (every nn.Linear: int8 weights per output channel,
activations quantized per call; engine `onednn`), and writes how far the int8 next-token
log-probabilities are from the float32 ones: max and mean absolute error over every position and
vocabulary entry, top-1 agreement, and the mean over positions of KL(float32 || int8) in nats. Tests/ModelTests/QuantizedModelTests.swift computes the same
figures for `flamingo quantize` and requires ours to be no less accurate.

  make_int8_reference.py                 the committed fixture: reference/frame_embs/torch_int8.json
  make_int8_reference.py --wide DIR      a 768-wide model (vision, resampler, cross-attention and
                                         language model) written to DIR with its io.safetensors (a
                                         64-token prompt: the fixture's 12, then seeded tokens) and
                                         torch_int8.json (tests build it at test time: 250 MB)

Run with the reference environment: .venv-reference/bin/python (Tests/Fixtures/setup_reference_env.sh).
"""
import argparse
import copy
import json
import os
import sys
from collections import OrderedDict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_reference as ref  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

WIDE = dict(
    VISION=dict(image_size=32, patch_size=8, width=768, layers=2, heads=12, mlp_ratio=4.0),
    RESAMPLER=dict(depth=2, heads=12, dim_head=64, num_latents=8, ff_mult=4),
    XATTN=dict(heads=12, dim_head=64, ff_mult=4),
    LM=dict(d_model=768, n_heads=12, mlp_ratio=4, max_seq_len=64),
)


def build(v, prompt_length=None):
    """make_reference.make_variant's model, pixels and prompt for variant v; with `prompt_length`, the
    prompt continues with seeded ordinary tokens (ids 1-89) to that many positions."""
    torch.manual_seed(v["seed"])
    model = ref.build_model(v)
    ref.init_parameters(model, v["seed"])
    gen = torch.Generator().manual_seed(v["seed"] + 7)
    pixels_image = torch.randn(1, 3, 32, 32, generator=gen)
    pixels_video = torch.randn(3, 3, 32, 32, generator=gen)
    prompt = list(ref.PROMPT)
    if prompt_length:
        more = torch.randint(1, 90, (prompt_length - len(prompt),), generator=torch.Generator().manual_seed(v["seed"] + 8))
        prompt += more.tolist()
    return model, pixels_image, pixels_video, torch.tensor([prompt], dtype=torch.int64)


def logits_of(model, pixels_image, pixels_video, input_ids):
    with torch.no_grad():
        _, _, _, _, vis_x = ref.encode_all(model, pixels_image, pixels_video)
        return ref.lm_forward(model, vis_x, input_ids)[0]


def figures(float_logits, int8_logits):
    a = torch.log_softmax(float_logits.double(), dim=-1)
    b = torch.log_softmax(int8_logits.double(), dim=-1)
    err = (a - b).abs()
    return OrderedDict([
        ("positions", a.shape[0]),
        ("max_abs_logprob_error", round(err.max().item(), 6)),
        ("mean_abs_logprob_error", round(err.mean().item(), 6)),
        ("top1_agreement", int((a.argmax(-1) == b.argmax(-1)).sum().item())),
        ("mean_kl_divergence", round((a.exp() * (a - b)).sum(-1).mean().item(), 8)),
    ])


def quantized(model):
    torch.backends.quantized.engine = "onednn"
    q = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)
    count = sum(1 for m in q.modules() if type(m).__name__ == "Linear" and "quantized" in type(m).__module__)
    return q, count


def report(model, pixels_image, pixels_video, input_ids, float_logits):
    q, count = quantized(model)
    out = figures(float_logits, logits_of(q, pixels_image, pixels_video, input_ids))
    out["quantized_linear_modules"] = count
    out["method"] = "torch.ao.quantization.quantize_dynamic({nn.Linear}, qint8), engine onednn"
    out["torch"] = torch.__version__
    out["reference"] = "log_softmax of the float32 model's logits (io.safetensors 'logits')"
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wide", help="write the 768-wide model, its io.safetensors and torch_int8.json here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    ref.LIB.transformers.logging.set_verbosity_error()
    v = ref.VARIANTS["frame_embs"]

    if not args.wide:
        out_dir = os.path.join(ref.OUT_ROOT, "frame_embs")
        model, pi, pv, ids = build(v)
        float_logits = logits_of(model, pi, pv, ids)
        from safetensors.torch import load_file
        committed = load_file(os.path.join(out_dir, "io.safetensors"))["logits"]
        assert torch.allclose(float_logits, committed, atol=1e-5), "rebuilt model differs from the fixture"
        result = report(model, pi, pv, ids, committed)
        ref.write_json(os.path.join(out_dir, "torch_int8.json"), result)
        print(json.dumps(result))
        return

    for name, sizes in WIDE.items():
        getattr(ref, name).clear()
        getattr(ref, name).update(sizes)
    os.makedirs(args.wide, exist_ok=True)
    model, pi, pv, ids = build(v, prompt_length=ref.LM["max_seq_len"])
    float_logits = logits_of(model, pi, pv, ids)
    ref.write_json(os.path.join(args.wide, "config.json"), ref.engine_config(v))
    save_file(ref.canonical_state_dict(model), os.path.join(args.wide, "model.safetensors"), metadata={"format": "pt"})
    io = OrderedDict([("pixels_image", pi), ("pixels_video", pv), ("input_ids", ids[0]),
                      ("logits", float_logits.detach().contiguous().clone())])
    save_file(io, os.path.join(args.wide, "io.safetensors"), metadata={"format": "pt"})
    result = report(model, pi, pv, ids, float_logits)
    ref.write_json(os.path.join(args.wide, "torch_int8.json"), result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
