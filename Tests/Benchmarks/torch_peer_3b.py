"""PyTorch peer for `flamingo bench caption` (run by it, in the same run).

Builds, from OpenFlamingo's own classes (Tests/Fixtures/make_reference.py's build_model), a model with the
shapes of OpenFlamingo-3B (CLIP ViT-L/14 at 224, Perceiver depth 6 / 64 latents / 8x64 heads, MPT-1B =
MosaicGPT 24 x 2048 with a gated cross-attention block before every layer, vocab 50280) and random
weights, writes it twice in the Swift engine's format (OUTDIR/f32 and OUTDIR/f16, the latter being what
`flamingo convert --dtype f16` gives a user), then times one caption in PyTorch in its fastest setting here
(fp32, torch threads 1 with OpenBLAS's own 2 threads; docs/LIMITS.md §PyTorch peer): 8 frames through the
ViT and the resampler as one media item, the prompt `<image>Caption:` (3 tokens), then 20 greedy tokens
with the KV cache. Prints one JSON object (seconds, median of --runs, after one warm-up).

The weights are random: this measures speed at real size, not quality. The files take 10 GB (f32) and
5 GB (f16); the model in memory takes 10 GB, so nothing else large should run alongside.
Usage: /work/main/.venv-reference/bin/python Tests/Benchmarks/torch_peer_3b.py OUTDIR [--runs 1]
"""
import argparse
import json
import os
import statistics
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures"))
import make_reference as ref  # noqa: E402
import torch  # noqa: E402


PROMPT_TEXT_IDS = [34, 5313, 25]  # three ordinary ids standing for "Caption:"


def median_time(fn, runs):
    """One warm-up call, then the median wall time of `runs` calls, in seconds."""
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def set_3b_sizes():
    ref.VISION = dict(image_size=224, patch_size=14, width=1024, layers=24, heads=16, mlp_ratio=4.0)
    ref.RESAMPLER = dict(depth=6, heads=8, dim_head=64, num_latents=64, ff_mult=4)
    ref.XATTN = dict(heads=8, dim_head=64, ff_mult=4)
    ref.LM = dict(d_model=2048, n_heads=16, mlp_ratio=4, max_seq_len=2048)
    # MPT-1B's tokenizer has 50277 entries; OpenFlamingo appends <|endofchunk|>, <image>, <PAD>.
    ref.BASE_VOCAB, ref.VOCAB = 50277, 50280
    ref.EOC_ID, ref.MEDIA_ID, ref.PAD_ID, ref.EOS_ID = 50277, 50278, 50279, 0


def set_smoke_sizes():
    """`--smoke`: the same model classes and workload at toy widths (a few MB), so CI checks the
    benchmark still runs end to end (make bench-smoke); its timings mean nothing."""
    set_3b_sizes()
    ref.VISION = dict(image_size=224, patch_size=14, width=64, layers=2, heads=4, mlp_ratio=4.0)
    ref.RESAMPLER = dict(depth=1, heads=2, dim_head=32, num_latents=8, ff_mult=2)
    ref.XATTN = dict(heads=2, dim_head=32, ff_mult=2)
    ref.LM = dict(d_model=64, n_heads=4, mlp_ratio=4, max_seq_len=128)
    VARIANT["n_layers"] = 2


VARIANT = dict(seed=0, quick_gelu=True, max_num_frames=None, max_num_media=None, cross_attn_every_n_layers=1,
               n_layers=24)


def canonical_tensors(model):
    """canonical_state_dict's names without its float32 copies (the model alone is 10 GB)."""
    params = dict(model.named_parameters())
    out = []
    for name in sorted(model.state_dict()):
        if name.startswith(("lang_encoder.old_decoder_blocks.", "lang_encoder.gated_cross_attn_layers.")):
            continue
        if name in params:
            out.append((name, params[name].detach()))
    covered = {id(params[n]) for n, _ in out}
    assert covered == {id(p) for p in model.parameters()}, "canonical names miss parameters"
    return out


def write_safetensors(path, tensors, dtype):
    """Streamed writer (header, then one tensor at a time) so a 10 GB file needs no second copy in memory."""
    tag = {torch.float32: "F32", torch.float16: "F16"}[dtype]
    size = 2 if dtype == torch.float16 else 4
    header, offset = {}, 0
    for name, t in tensors:
        n = t.numel() * size
        header[name] = {"dtype": tag, "shape": list(t.shape), "data_offsets": [offset, offset + n]}
        offset += n
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for _, t in tensors:
            f.write(t.to(dtype).contiguous().numpy().tobytes())


def write_model(out_dir, model, dtype):
    os.makedirs(out_dir, exist_ok=True)
    ref.write_json(os.path.join(out_dir, "config.json"), ref.engine_config(VARIANT))
    write_safetensors(os.path.join(out_dir, "model.safetensors"), canonical_tensors(model), dtype)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=20)
    ap.add_argument("--smoke", action="store_true", help="toy widths: checks the benchmark runs, times nothing real")
    args = ap.parse_args()
    torch.set_num_threads(1)  # OpenBLAS keeps its own 2 threads: the fastest setting here
    torch.manual_seed(0)
    set_smoke_sizes() if args.smoke else set_3b_sizes()

    t0 = time.perf_counter()
    model = ref.build_model(VARIANT)
    with torch.no_grad():
        for layer in model.lang_encoder.gated_cross_attn_layers:
            layer.attn_gate.fill_(0.5)  # OpenFlamingo starts them at 0; open, so the blocks matter
            layer.ff_gate.fill_(0.5)
    n_params = sum(p.numel() for p in model.parameters())
    build_s = time.perf_counter() - t0
    for name, dtype in (("f32", torch.float32), ("f16", torch.float16)):
        write_model(os.path.join(args.out, name), model, dtype)
    write_s = time.perf_counter() - t0 - build_s

    pixels = torch.randn(1, args.frames, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    ids = torch.tensor([[ref.MEDIA_ID] + PROMPT_TEXT_IDS])
    lm = model.lang_encoder

    def caption(tokens, frames):
        _, vis = ref.encode_media(model, pixels[:, :frames])
        ref.condition_vis_x(model, vis)
        model._condition_media_locations(input_ids=ids)
        lm._use_cached_vision_x = True
        mask = torch.ones(1, ids.shape[1] + tokens, dtype=torch.bool)
        out = lm(input_ids=ids, attention_mask=mask[:, :ids.shape[1]], use_cache=True)
        past, token = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True)
        for i in range(tokens - 1):
            out = lm(input_ids=token, attention_mask=mask[:, :ids.shape[1] + 1 + i], past_key_values=past,
                     use_cache=True)
            past, token = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True)
        lm.clear_conditioned_layers()
        lm._use_cached_vision_x = False

    with torch.inference_mode():
        caption_s = median_time(lambda: caption(args.tokens, args.frames), args.runs)
        vision_s = median_time(lambda: ref.encode_media(model, pixels), args.runs)
        prefill_s = median_time(lambda: caption(1, 1), args.runs)

    # PyTorch's own int8 on the same weights: dynamic quantization of every nn.Linear (int8 weights per
    # output channel, activations quantized per call), oneDNN backend, in place (a copy would need 10 GB
    # more), at the faster of 1 thread and all cores (its int8 kernels use PyTorch's own pool).
    torch.backends.quantized.engine = "onednn"
    torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
    with torch.inference_mode():
        trials = []
        for threads in sorted({1, os.cpu_count() or 1}):
            torch.set_num_threads(threads)
            trials.append((median_time(lambda: caption(2, 1), 1), threads))
        int8_threads = min(trials)[1]
        torch.set_num_threads(int8_threads)
        caption_int8_s = median_time(lambda: caption(args.tokens, args.frames), args.runs)
    print(json.dumps({"caption_s": caption_s, "caption_int8_s": caption_int8_s, "int8_threads": int8_threads, "vision_resampler_s": vision_s, "caption_1_token_1_frame_s": prefill_s,
                      "parameters": n_params, "build_s": build_s, "write_s": write_s, "frames": args.frames,
                      "tokens": args.tokens, "torch": torch.__version__, "torch_threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
