#!/usr/bin/env python3
"""Small torch.save files for TorchCheckpointTests (Tests/Fixtures/torch/).

    .venv-reference/bin/python Tests/Fixtures/make_torch_checkpoints.py

state_dict.pt   an OrderedDict state dict: F32, F16, BF16, F64, I64, a Parameter, a transposed
                (non-contiguous) view, two views sharing one storage (one with an offset), a
                scalar and an empty tensor
wrapped.pt      an OpenFlamingo training checkpoint: {"epoch", "model_state_dict" with "module."
                prefixes, "optimizer_state_dict", "lr_scheduler_state_dict"}
evil.pt         a state dict whose pickle also holds an object that calls os.system on load
legacy.pt       the pre-1.6 (non-zip) format, which the reader refuses
expected.safetensors  every floating tensor above, contiguous float32, under "<file>/<key>"
"""
import os
import sys
from collections import OrderedDict

import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch")


class Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/flamingo-pickle-was-executed",))


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(7)
    base = torch.randn(6, 5, generator=g)
    sd = OrderedDict()
    sd["f32"] = torch.randn(3, 4, generator=g)
    sd["f16"] = torch.randn(5, generator=g).half()
    sd["bf16"] = torch.randn(2, 3, generator=g).to(torch.bfloat16)
    sd["f64"] = torch.randn(2, 2, generator=g).double()
    sd["param"] = torch.nn.Parameter(torch.randn(4, 2, generator=g))
    sd["transposed"] = torch.randn(4, 3, generator=g).t()
    sd["shared_rows"] = base[2:5]
    sd["shared_column"] = base[:, 1]
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 3)
    sd["ids"] = torch.arange(6, dtype=torch.int64).view(2, 3)
    torch.save(sd, os.path.join(OUT, "state_dict.pt"))

    model = OrderedDict([("module.perceiver.latents", torch.randn(4, 8, generator=g)),
                         ("module.lang_encoder.transformer.wte.weight", torch.randn(10, 8, generator=g))])
    opt = {"state": {0: {"step": torch.tensor(12.0), "exp_avg": torch.zeros(4, 8)}},
           "param_groups": [{"lr": 1e-4, "betas": (0.9, 0.999), "weight_decay": 0.1, "amsgrad": False,
                             "maximize": False, "foreach": None, "params": [0, 1]}]}
    torch.save({"epoch": 3, "model_state_dict": model, "optimizer_state_dict": opt,
                "lr_scheduler_state_dict": {"base_lrs": [1e-4], "last_epoch": 12, "lr_lambdas": [None],
                                            "_step_count": 13, "verbose": False}},
               os.path.join(OUT, "wrapped.pt"))
    torch.save(OrderedDict([("w", torch.ones(2, 2)), ("payload", Evil())]), os.path.join(OUT, "evil.pt"))
    torch.save(OrderedDict([("w", torch.ones(2))]), os.path.join(OUT, "legacy.pt"), _use_new_zipfile_serialization=False)

    expected = {}
    for k, v in sd.items():
        if v.is_floating_point():
            expected["state_dict.pt/" + k] = v.detach().float().contiguous().clone()
    for k, v in model.items():
        expected["wrapped.pt/" + k] = v.contiguous().clone()
    save_file(expected, os.path.join(OUT, "expected.safetensors"))
    print("wrote", sorted(os.listdir(OUT)), file=sys.stderr)


if __name__ == "__main__":
    main()
