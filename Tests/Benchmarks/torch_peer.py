"""PyTorch peer for `flamingo bench engine` (run by it, in the same run).

Builds, with a fixed seed, the two benchmark models of issue 3 and writes
them as model directories in the Swift engine's format, then times them in
PyTorch in its fastest setting on this machine (torch threads 1, OpenBLAS's
own 2 threads; docs/LIMITS.md §PyTorch peer):
  vit/  ViT-B/16 at 224 (open_clip 2.20 VisionTransformer, QuickGELU), tokens
        for 8 frames; the rest of the Flamingo is tiny.
  lm/   a GPT-2-small-sized MosaicGPT (12 layers, d 768, 12 heads, vocab 50432,
        ALiBi, QK-LayerNorm, no biases, tied head; the module from
        Tests/Fixtures/make_reference.py): 64-token prompt, then 32 greedy tokens
        with a KV cache; the vision side is tiny.
It times one call per request, so that the caller can interleave PyTorch's
runs with its own (the VM's speed drifts by tens of percent within minutes):
it prints `ready` once the models are written and warmed up, then for each
line `vit`, `generate` or `prefill` on stdin prints
`seconds <wall seconds of one call>`.
Usage: /work/main/.venv-reference/bin/python Tests/Benchmarks/torch_peer.py OUTDIR
"""
import argparse
import copy
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures"))
import make_reference as ref  # noqa: E402  (MosaicGPT, canonical names, config writer)
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402


def tiny_vision():
    return dict(image_size=32, patch_size=16, width=32, layers=1, heads=2, mlp_ratio=4.0,
                activation="quick_gelu", layer_norm_eps=1e-5, tokens_after_ln_post=False)


def write_model(out_dir, vision, lm, state):
    os.makedirs(out_dir, exist_ok=True)
    config = {
        "format": "flamingo-swift", "format_version": 1, "vision": vision,
        "resampler": {"depth": 1, "heads": 1, "dim_head": 8, "num_latents": 2, "ff_mult": 1,
                      "max_num_frames": None, "max_num_media": None},
        # every_n_layers above the layer count: no cross-attention blocks at all.
        "cross_attention": {"every_n_layers": lm["n_layers"] + 1, "heads": 1, "dim_head": 8, "ff_mult": 1,
                            "only_attend_immediate_media": True},
        "language_model": lm,
        "special_tokens": {"media": lm["vocab_size"] - 2, "end_of_chunk": lm["vocab_size"] - 3,
                           "pad": lm["vocab_size"] - 1, "eos": 0},
        "preprocessing": {"image_size": vision["image_size"], "mean": [0.48145466, 0.4578275, 0.40821073],
                          "std": [0.26862954, 0.26130258, 0.27577711]},
    }
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(out_dir, "model.safetensors"))


def random_state(shapes, seed):
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, shape in shapes.items():
        if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or "ln_" in name and name.endswith(".weight") \
                or name.endswith("norm.weight") or "q_ln" in name or "k_ln" in name or ".0.weight" in name and len(shape) == 1:
            out[name] = 1 + 0.02 * torch.randn(shape, generator=g)
        else:
            out[name] = 0.02 * torch.randn(shape, generator=g)
    return out


def vision_shapes(v):
    w, g, p = v["width"], v["image_size"] // v["patch_size"], v["patch_size"]
    m = int(w * v["mlp_ratio"])
    s = {"vision_encoder.conv1.weight": (w, 3, p, p), "vision_encoder.class_embedding": (w,),
         "vision_encoder.positional_embedding": (g * g + 1, w),
         "vision_encoder.ln_pre.weight": (w,), "vision_encoder.ln_pre.bias": (w,),
         "vision_encoder.ln_post.weight": (w,), "vision_encoder.ln_post.bias": (w,)}
    for i in range(v["layers"]):
        b = f"vision_encoder.transformer.resblocks.{i}"
        s.update({f"{b}.ln_1.weight": (w,), f"{b}.ln_1.bias": (w,), f"{b}.attn.in_proj_weight": (3 * w, w),
                  f"{b}.attn.in_proj_bias": (3 * w,), f"{b}.attn.out_proj.weight": (w, w), f"{b}.attn.out_proj.bias": (w,),
                  f"{b}.ln_2.weight": (w,), f"{b}.ln_2.bias": (w,), f"{b}.mlp.c_fc.weight": (m, w), f"{b}.mlp.c_fc.bias": (m,),
                  f"{b}.mlp.c_proj.weight": (w, m), f"{b}.mlp.c_proj.bias": (w,)})
    return s


def resampler_shapes(d):
    return {"perceiver.latents": (2, d), "perceiver.layers.0.0.norm_media.weight": (d,),
            "perceiver.layers.0.0.norm_media.bias": (d,), "perceiver.layers.0.0.norm_latents.weight": (d,),
            "perceiver.layers.0.0.norm_latents.bias": (d,), "perceiver.layers.0.0.to_q.weight": (8, d),
            "perceiver.layers.0.0.to_kv.weight": (16, d), "perceiver.layers.0.0.to_out.weight": (d, 8),
            "perceiver.layers.0.1.0.weight": (d,), "perceiver.layers.0.1.0.bias": (d,),
            "perceiver.layers.0.1.1.weight": (d, d), "perceiver.layers.0.1.3.weight": (d, d),
            "perceiver.norm.weight": (d,), "perceiver.norm.bias": (d,)}


def lm_shapes(lm):
    d, e = lm["d_model"], lm["expansion_ratio"]
    s = {"lang_encoder.transformer.wte.weight": (lm["vocab_size"], d), "lang_encoder.transformer.ln_f.weight": (d,)}
    for i in range(lm["n_layers"]):
        b = f"lang_encoder.transformer.blocks.{i}.decoder_layer"
        s.update({f"{b}.ln_1.weight": (d,), f"{b}.attn.Wqkv.weight": (3 * d, d), f"{b}.attn.q_ln.weight": (d,),
                  f"{b}.attn.k_ln.weight": (d,), f"{b}.attn.out_proj.weight": (d, d), f"{b}.ln_2.weight": (d,),
                  f"{b}.mlp.mlp_up.weight": (e * d, d), f"{b}.mlp.mlp_down.weight": (d, e * d)})
    return s


def lm_config(d, layers, heads, vocab):
    return dict(architecture="mosaic_gpt", vocab_size=vocab, d_model=d, n_heads=heads, n_layers=layers,
                expansion_ratio=4, max_seq_len=128, alibi=True, alibi_bias_max=8, attn_qk_ln=True, no_bias=True,
                layer_norm_eps=1e-5, tie_word_embeddings=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--frames", type=int, default=8)
    args = ap.parse_args()
    torch.set_num_threads(1)  # OpenBLAS keeps its own 2 threads: the fastest setting here
    torch.manual_seed(0)

    # --- ViT-B/16 at 224 ---
    vit = dict(image_size=224, patch_size=16, width=768, layers=12, heads=12, mlp_ratio=4.0,
               activation="quick_gelu", layer_norm_eps=1e-5, tokens_after_ln_post=False)
    tiny_lm = lm_config(32, 1, 4, 96)
    state = random_state({**vision_shapes(vit), **resampler_shapes(768), **lm_shapes(tiny_lm)}, seed=1)
    write_model(os.path.join(args.out, "vit"), vit, tiny_lm, state)
    visual = ref.LIB.open_clip.transformer.VisionTransformer(
        image_size=224, patch_size=16, width=768, layers=12, heads=12, mlp_ratio=4.0,
        output_dim=512, act_layer=ref.LIB.open_clip.transformer.QuickGELU, output_tokens=True)
    visual.load_state_dict({k[len("vision_encoder."):]: v for k, v in state.items() if k.startswith("vision_encoder.")},
                           strict=False)
    visual.eval()
    pixels = torch.randn(args.frames, 3, 224, 224)
    # PyTorch's own int8: dynamic quantization (int8 weights per output channel, activations quantized
    # per call) of every nn.Linear, on its oneDNN backend. open_clip's attention keeps its in_proj and
    # out_proj in float32 there (nn.MultiheadAttention's are not nn.Linear modules quantize_dynamic
    # replaces); the MLPs are quantized.
    torch.backends.quantized.engine = "onednn"
    visual_int8 = torch.ao.quantization.quantize_dynamic(copy.deepcopy(visual), {torch.nn.Linear},
                                                        dtype=torch.qint8)
    int8_threads = fastest_threads(lambda: visual_int8(pixels))

    # --- GPT-2-small-sized MosaicGPT: 64-token prompt + 32 greedy tokens ---
    lm = lm_config(768, 12, 12, 50432)
    state = random_state({**vision_shapes(tiny_vision()), **resampler_shapes(32), **lm_shapes(lm)}, seed=2)
    write_model(os.path.join(args.out, "lm"), tiny_vision(), lm, state)
    # the same decoder with F16 weights at rest (ours only: the fused half-precision matrix-vector kernel)
    write_model(os.path.join(args.out, "lm-f16"), tiny_vision(), lm,
                {k: v.half() if v.is_floating_point() else v for k, v in state.items()})
    cfg = ref.MosaicGPTConfig(d_model=768, n_heads=12, n_layers=12, mlp_ratio=4, max_seq_len=128, vocab_size=50432,
                              attn_qk_ln=True, alibi=True, alibi_bias_max=8, no_bias=True, use_cache=True)
    model = ref.MosaicGPT(cfg).eval()
    prefix = "lang_encoder."
    sd = {k[len(prefix):].replace(".decoder_layer", ""): v for k, v in state.items() if k.startswith(prefix)}
    model.load_state_dict(sd, strict=True)
    prompt = torch.randint(0, 50000, (1, 64), generator=torch.Generator().manual_seed(3))

    def generate():
        mask = torch.ones(1, 64 + 32, dtype=torch.bool)
        out = model(prompt, attention_mask=mask[:, :64], use_cache=True)
        past, token = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True)
        for i in range(31):
            out = model(token, past_key_values=past, attention_mask=mask[:, :65 + i], use_cache=True)
            past, token = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True)

    def prefill():
        model(prompt, attention_mask=torch.ones(1, 64, dtype=torch.bool), use_cache=True)

    def vit_int8():
        torch.set_num_threads(int8_threads)
        visual_int8(pixels)
        torch.set_num_threads(1)

    workloads = {"vit": lambda: visual(pixels), "vit-int8": vit_int8, "generate": generate, "prefill": prefill}
    with torch.inference_mode():
        serve(workloads)


def fastest_threads(fn):
    """PyTorch's intra-op thread count (1 or the machine's cores) at which `fn` runs faster: its int8
    kernels use PyTorch's own pool, unlike its float32 products here (OpenBLAS's)."""
    best = None
    with torch.inference_mode():
        for threads in sorted({1, os.cpu_count() or 1}):
            torch.set_num_threads(threads)
            fn()
            t0 = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - t0
            if best is None or elapsed < best[1]:
                best = (threads, elapsed)
    torch.set_num_threads(1)
    return best[0]


def serve(workloads):
    for fn in workloads.values():
        fn()  # warm-up
    print("ready", flush=True)
    for line in sys.stdin:
        name = line.strip()
        if name not in workloads:
            print(f"error unknown workload {name!r}", flush=True)
            continue
        t0 = time.perf_counter()
        workloads[name]()
        print(f"seconds {time.perf_counter() - t0:.6f}", flush=True)


if __name__ == "__main__":
    main()
