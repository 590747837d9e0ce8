#!/usr/bin/env python3
"""Tiny "released" OpenFlamingo downloads for the converter tests (Tests/Fixtures/released/).

    .venv-reference/bin/python Tests/Fixtures/make_released.py

Takes the reference model of make_reference.py's `no_frame_embs` variant (MosaicGPT, cross-attention
every 2nd layer, no temporal embeddings: the shape of a released OpenFlamingo-3B) and writes it in the
layouts users download:

  checkpoint.pt        OpenFlamingo's checkpoint: factory.py's requires_grad settings, then the rule of
                       train_utils.filter_state_dict_to_trainable (frozen parameters dropped except names
                       containing "embed"; old_decoder_blocks, gated_cross_attn_layers and vision_encoder
                       dropped), as a plain state dict
  checkpoint_ddp.pt    the same as a training checkpoint: {"epoch", "model_state_dict"} with "module."
  open_clip.pt         an open_clip CLIP state dict: visual.* plus a text tower that must be ignored
  hf_clip_vision/      a Hugging Face CLIPVisionModel directory (config.json, model.safetensors; q/k/v
                       split, HF names, visual_projection)
  mosaic_lm/           the Hugging Face LM directory: config.json (model_type mosaic_gpt, vocab padded to
                       100 rows like MPT-1B's 50432), pytorch_model.bin, tokenizer.json (93 byte-level
                       tokens; the converter adds <|endofchunk|>=93, <image>=94, <PAD>=95)

The converter must turn each combination back into exactly reference/no_frame_embs/model.safetensors.
"""
import json
import os
import sys
from collections import OrderedDict

import importlib.util
import torch
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "released")
_spec = importlib.util.spec_from_file_location("make_reference", os.path.join(HERE, "make_reference.py"))
MR = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(MR)


def filter_to_trainable(model, sd):
    """OpenFlamingo train_utils.filter_state_dict_to_trainable, re-stated (the module imports FSDP/wandb)."""
    for name, p in model.named_parameters():
        if "embed" in name or isinstance(p, torch.nn.Embedding):
            continue
        if not p.requires_grad and name in sd:
            del sd[name]
    for n in [n for n in sd if "lang_encoder.old_decoder_blocks" in n or "lang_encoder.gated_cross_attn_layers" in n
              or "vision_encoder" in n]:
        del sd[n]
    return sd


def main():
    os.makedirs(OUT, exist_ok=True)
    v = MR.VARIANTS["no_frame_embs"]
    canonical = load_file(os.path.join(HERE, "reference", "no_frame_embs", "model.safetensors"))
    torch.manual_seed(0)
    model = MR.build_model(v)
    missing, unexpected = model.load_state_dict(canonical, strict=False)
    assert not unexpected, unexpected
    assert all(m.startswith(("lang_encoder.old_decoder_blocks.", "lang_encoder.gated_cross_attn_layers.")) for m in missing)
    # factory.create_model_and_transforms: freeze all, then train perceiver, xattn and input embeddings.
    model.requires_grad_(False)
    model.perceiver.requires_grad_(True)
    model.lang_encoder.gated_cross_attn_layers.requires_grad_(True)
    model.lang_encoder.get_input_embeddings().requires_grad_(True)
    ck = filter_to_trainable(model, OrderedDict((k, t.clone()) for k, t in model.state_dict().items()))
    assert any(k.startswith("perceiver.") for k in ck) and "lang_encoder.transformer.wte.weight" in ck
    assert not any(".decoder_layer." in k for k in ck), "frozen LM weights must not be in checkpoint.pt"
    torch.save(ck, os.path.join(OUT, "checkpoint.pt"))
    torch.save({"epoch": 2, "model_state_dict": OrderedDict(("module." + k, t) for k, t in ck.items())},
               os.path.join(OUT, "checkpoint_ddp.pt"))

    # open_clip CLIP state dict: the visual tower under visual.*, and a text tower to ignore.
    visual = OrderedDict(("visual." + k[len("vision_encoder."):], t) for k, t in canonical.items()
                         if k.startswith("vision_encoder."))
    g = torch.Generator().manual_seed(5)
    visual.update([("token_embedding.weight", torch.randn(16, 16, generator=g)),
                   ("positional_embedding", torch.randn(8, 16, generator=g)),
                   ("transformer.resblocks.0.attn.in_proj_weight", torch.randn(48, 16, generator=g)),
                   ("ln_final.weight", torch.ones(16)), ("text_projection", torch.randn(16, 32, generator=g)),
                   ("logit_scale", torch.tensor(4.6))])
    torch.save(visual, os.path.join(OUT, "open_clip.pt"))

    # Hugging Face CLIPVisionModel layout (the converter maps it back and packs q/k/v).
    vc = MR.VISION
    hf = OrderedDict()
    src = {k[len("vision_encoder."):]: t for k, t in canonical.items() if k.startswith("vision_encoder.")}
    p = "vision_model."
    hf[p + "embeddings.patch_embedding.weight"] = src["conv1.weight"]
    hf[p + "embeddings.class_embedding"] = src["class_embedding"]
    hf[p + "embeddings.position_embedding.weight"] = src["positional_embedding"]
    for ours, theirs in (("ln_pre", "pre_layrnorm"), ("ln_post", "post_layernorm")):
        hf[p + theirs + ".weight"] = src[ours + ".weight"]
        hf[p + theirs + ".bias"] = src[ours + ".bias"]
    for i in range(vc["layers"]):
        oc, h = "transformer.resblocks.%d." % i, p + "encoder.layers.%d." % i
        w, b = src[oc + "attn.in_proj_weight"], src[oc + "attn.in_proj_bias"]
        for j, name in enumerate("qkv"):
            hf[h + "self_attn.%s_proj.weight" % name] = w.chunk(3)[j].clone()
            hf[h + "self_attn.%s_proj.bias" % name] = b.chunk(3)[j].clone()
        for ours, theirs in (("ln_1", "layer_norm1"), ("ln_2", "layer_norm2"), ("attn.out_proj", "self_attn.out_proj"),
                             ("mlp.c_fc", "mlp.fc1"), ("mlp.c_proj", "mlp.fc2")):
            hf[h + theirs + ".weight"] = src[oc + ours + ".weight"]
            hf[h + theirs + ".bias"] = src[oc + ours + ".bias"]
    hf["visual_projection.weight"] = src["proj"].t().contiguous()
    d = os.path.join(OUT, "hf_clip_vision")
    os.makedirs(d, exist_ok=True)
    save_file({k: t.contiguous() for k, t in hf.items()}, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    MR.write_json(os.path.join(d, "config.json"), OrderedDict([
        ("model_type", "clip_vision_model"), ("hidden_size", vc["width"]),
        ("intermediate_size", int(vc["width"] * vc["mlp_ratio"])), ("num_attention_heads", vc["heads"]),
        ("num_hidden_layers", vc["layers"]), ("patch_size", vc["patch_size"]), ("image_size", vc["image_size"]),
        ("hidden_act", "quick_gelu" if v["quick_gelu"] else "gelu"), ("layer_norm_eps", 1e-5)]))

    # The Hugging Face LM directory (frozen weights; embeddings padded to 100 rows, superseded by checkpoint.pt).
    lm = OrderedDict()
    for k, t in canonical.items():
        if k.startswith("lang_encoder.transformer.blocks.") and ".decoder_layer." in k:
            lm[k[len("lang_encoder."):].replace(".decoder_layer.", ".")] = t
        elif k == "lang_encoder.transformer.ln_f.weight":
            lm["transformer.ln_f.weight"] = t
    lm["transformer.wte.weight"] = torch.randn(100, MR.LM["d_model"], generator=g)
    d = os.path.join(OUT, "mosaic_lm")
    os.makedirs(d, exist_ok=True)
    torch.save(lm, os.path.join(d, "pytorch_model.bin"))
    MR.write_json(os.path.join(d, "config.json"), OrderedDict([
        ("architectures", ["MosaicGPT"]), ("model_type", "mosaic_gpt"), ("d_model", MR.LM["d_model"]),
        ("n_heads", MR.LM["n_heads"]), ("n_layers", v["n_layers"]), ("mlp_ratio", MR.LM["mlp_ratio"]),
        ("max_seq_len", MR.LM["max_seq_len"]), ("vocab_size", 100), ("alibi", True), ("alibi_bias_max", 8),
        ("attn_qk_ln", True), ("no_bias", True), ("low_precision_layernorm", True)]))
    vocab = {chr(33 + i): i for i in range(MR.BASE_VOCAB)}
    tok = OrderedDict([
        ("version", "1.0"), ("truncation", None), ("padding", None), ("added_tokens", []), ("normalizer", None),
        ("pre_tokenizer", {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}),
        ("post_processor", None),
        ("decoder", {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}),
        ("model", OrderedDict([("type", "BPE"), ("dropout", None), ("unk_token", None),
                               ("continuing_subword_prefix", None), ("end_of_word_suffix", None), ("fuse_unk", False),
                               ("vocab", vocab), ("merges", [])]))])
    with open(os.path.join(d, "tokenizer.json"), "w") as f:
        json.dump(tok, f)
    print("wrote", sorted(os.listdir(OUT)), file=sys.stderr)


if __name__ == "__main__":
    main()
