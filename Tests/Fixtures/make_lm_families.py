#!/usr/bin/env python3
"""Released-layout downloads and reference outputs for the MPT (MPT-7B) and GPT-NeoX (RedPajama-INCITE)
language models (Tests/Fixtures/families/<family>/).

    .venv-reference/bin/python Tests/Fixtures/make_lm_families.py

For each family a tiny OpenFlamingo model is built the way factory.create_model_and_transforms does it:
transformers' own MptForCausalLM / GPTNeoXForCausalLM, extended with OpenFlamingo's FlamingoLMMixin
(decoder layers "transformer.blocks" / "gpt_neox.layers"), embeddings resized for <|endofchunk|>, <image>
and <PAD>, the tiny vision encoder, perceiver and gated cross-attention of make_reference.py, random
weights (make_reference.init_parameters). Written per family:

  checkpoint.pt, open_clip.pt, lm/ (save_pretrained: config.json + model.safetensors, tokenizer.json)
  io.safetensors   pixels_image (1,3,32,32), pixels_video (3,3,32,32), input_ids, logits (S, vocab) of
                   Flamingo's forward on the two media, greedy ids (8 new tokens, <image>/<PAD> banned)
"""
import json
import os
import sys
from collections import OrderedDict

import importlib.util
import torch
import torch.nn as nn
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("make_reference", os.path.join(HERE, "make_reference.py"))
MR = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(MR)
_spec = importlib.util.spec_from_file_location("make_released", os.path.join(HERE, "make_released.py"))
REL = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(REL)
T = MR.LIB.transformers

FAMILIES = OrderedDict([
    # MPT-7B's recipe: ALiBi, no QK-LN, no biases (transformers 4.33 cannot build ALiBi for a head count
    # that is not a power of 2, so 4 heads).
    ("mpt", dict(seed=11, every=2, n_layers=4)),
    # RedPajama-INCITE-3B's recipe: rotary on 50% of each head here, sequential residual, biases, untied head.
    ("gpt_neox", dict(seed=12, every=1, n_layers=2)),
])


def build(family, v):
    oc = MR.LIB.open_clip
    vc = MR.VISION
    vision_cfg = oc.model.CLIPVisionCfg(layers=vc["layers"], width=vc["width"], head_width=vc["width"] // vc["heads"],
                                        mlp_ratio=vc["mlp_ratio"], patch_size=vc["patch_size"], image_size=vc["image_size"])
    text_cfg = oc.model.CLIPTextCfg(context_length=8, vocab_size=16, width=16, heads=2, layers=1)
    clip = oc.model.CLIP(embed_dim=32, vision_cfg=vision_cfg, text_cfg=text_cfg, quick_gelu=True)
    clip.visual.output_tokens = True
    if family == "mpt":
        cfg = T.MptConfig(d_model=48, n_heads=4, n_layers=v["n_layers"], expansion_ratio=4, max_seq_len=64,
                          vocab_size=MR.BASE_VOCAB, no_bias=True, layer_norm_epsilon=1e-5,
                          attn_config=dict(alibi=True, alibi_bias_max=8, qk_ln=False, clip_qkv=None, softmax_scale=None))
        lm = T.MptForCausalLM(cfg)
        layers = "transformer.blocks"
    else:
        cfg = T.GPTNeoXConfig(hidden_size=32, num_attention_heads=4, num_hidden_layers=v["n_layers"],
                              intermediate_size=128, max_position_embeddings=64, rotary_pct=0.5, rotary_emb_base=10000,
                              use_parallel_residual=False, layer_norm_eps=1e-5, vocab_size=MR.BASE_VOCAB,
                              tie_word_embeddings=False, hidden_act="gelu")
        lm = T.GPTNeoXForCausalLM(cfg)
        layers = "gpt_neox.layers"
    lm.eval()
    MR.LIB.extend_instance(lm, MR.LIB.FlamingoLMMixin)
    lm.set_decoder_layers_attr_name(layers)
    lm.resize_token_embeddings(MR.VOCAB)
    d = lm.config.hidden_size if family == "gpt_neox" else lm.config.d_model
    model = MR.LIB.Flamingo(clip, lm, MR.EOC_ID, MR.MEDIA_ID, vis_dim=vc["width"], cross_attn_every_n_layers=v["every"])
    rs, xa = MR.RESAMPLER, MR.XATTN
    model.perceiver = MR.LIB.PerceiverResampler(dim=vc["width"], depth=rs["depth"], dim_head=rs["dim_head"], heads=rs["heads"],
                                                num_latents=rs["num_latents"], max_num_media=None, max_num_frames=None,
                                                ff_mult=rs["ff_mult"])
    model.perceiver._use_gradient_checkpointing = False
    model.lang_encoder.gated_cross_attn_layers = nn.ModuleList([
        MR.LIB.GatedCrossAttentionBlock(dim=d, dim_visual=vc["width"], dim_head=xa["dim_head"], heads=xa["heads"],
                                        ff_mult=xa["ff_mult"]) if (i + 1) % v["every"] == 0 else None
        for i in range(v["n_layers"])])
    model.lang_encoder.init_flamingo_layers(False)
    model.eval()
    return model, lm


def make(family, v, out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(v["seed"])
    model, lm = build(family, v)
    MR.init_parameters(model, v["seed"])
    model.requires_grad_(False)
    model.perceiver.requires_grad_(True)
    model.lang_encoder.gated_cross_attn_layers.requires_grad_(True)
    model.lang_encoder.get_input_embeddings().requires_grad_(True)
    ck = REL.filter_to_trainable(model, OrderedDict((k, t.clone()) for k, t in model.state_dict().items()))
    torch.save(ck, os.path.join(out, "checkpoint.pt"))
    sd = model.state_dict()
    visual = OrderedDict(("visual." + k[len("vision_encoder."):], t.clone()) for k, t in sd.items()
                         if k.startswith("vision_encoder."))
    visual["logit_scale"] = torch.tensor(4.6)
    torch.save(visual, os.path.join(out, "open_clip.pt"))

    # The HF LM directory as downloaded: the plain decoder (no Flamingo layers), its original vocabulary
    # padded to 100 rows (the checkpoint's resized embeddings supersede them), safetensors.
    plain = OrderedDict()
    for k, t in sd.items():
        if not k.startswith("lang_encoder.") or "gated_cross_attn" in k or "old_decoder_blocks" in k:
            continue
        k = k[len("lang_encoder."):].replace(".decoder_layer.", ".")
        plain[k] = t.clone()
    g = torch.Generator().manual_seed(v["seed"] + 1)
    for k in ("transformer.wte.weight", "lm_head.weight", "gpt_neox.embed_in.weight", "embed_out.weight"):
        if k in plain:
            plain[k] = torch.randn(100, plain[k].shape[1], generator=g)
    if family == "mpt":
        plain["lm_head.weight"] = plain["transformer.wte.weight"]
    lmdir = os.path.join(out, "lm")
    os.makedirs(lmdir, exist_ok=True)
    config = lm.config.to_dict()
    config["vocab_size"] = 100
    for k in [k for k in config if k.startswith("_") or k in ("transformers_version",)]:
        config.pop(k)
    with open(os.path.join(lmdir, "config.json"), "w") as f:
        json.dump(config, f, indent=1, sort_keys=True)
    save_file({k: t.contiguous().clone() for k, t in plain.items() if not k.endswith((".attention.bias", ".masked_bias"))},
              os.path.join(lmdir, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(HERE, "released", "mosaic_lm", "tokenizer.json")) as f:
        tok = f.read()
    with open(os.path.join(lmdir, "tokenizer.json"), "w") as f:
        f.write(tok)

    gen = torch.Generator().manual_seed(v["seed"] + 7)
    pixels_image = torch.randn(1, 3, 32, 32, generator=gen)
    pixels_video = torch.randn(3, 3, 32, 32, generator=gen)
    ids = torch.tensor([MR.PROMPT], dtype=torch.int64)
    with torch.no_grad():
        _, _, _, _, vis_x = MR.encode_all(model, pixels_image, pixels_video)
        logits = MR.lm_forward(model, vis_x, ids)[0]
        seq = MR.flamingo_generate(model, pixels_image, pixels_video, ids, max_new_tokens=MR.MAX_NEW_TOKENS,
                                   bad_words_ids=MR.BAD_WORDS, do_sample=False, use_cache=True)
    greedy = seq[0, ids.shape[1]:]
    save_file({"pixels_image": pixels_image.contiguous(), "pixels_video": pixels_video.contiguous(), "input_ids": ids,
               "logits": logits.float().contiguous(), "greedy": greedy.contiguous()},
              os.path.join(out, "io.safetensors"))
    return dict(family=family, checkpoint_keys=len(ck), greedy=greedy.tolist(), logit_scale=float(logits.abs().max()))


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    T.logging.set_verbosity_error()
    for family, v in FAMILIES.items():
        print(json.dumps(make(family, v, os.path.join(HERE, "families", family))), file=sys.stderr)


if __name__ == "__main__":
    main()
