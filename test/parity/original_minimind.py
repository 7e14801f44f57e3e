"""MiniMind's own model code (../shared/reference/minimind2/model_minimind.py),
imported in place, never copied: for the loss-parity run (parity.py
--reference original) and the benchmark rows (bench/bench.py orig-*)."""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import sys

import minimind_ref as ref

torch = ref.torch


def load_original(directory: str):
    """Imports model_minimind.py from `directory`. Returns (module, None), or
    (None, why) when it cannot."""
    path = os.path.join(directory, "model_minimind.py")
    if not os.path.isfile(path):
        return None, f"{path} not found"
    spec = importlib.util.spec_from_file_location("model_minimind", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    try:
        spec.loader.exec_module(mod)
    except Exception as e:  # e.g. transformers not installed
        del sys.modules[spec.name]
        return None, f"importing {path} failed: {type(e).__name__}: {e}"
    return mod, None


def build_original(mod, cfg_path: str, device: str, seed: int = 42):
    """MiniMindForCausalLM(MiniMindConfig(**config JSON)): the original reads
    the same key names as our configs."""
    with open(cfg_path) as f:
        kw = {k: v for k, v in json.load(f).items() if k not in ref._IGNORED_CONFIG_KEYS}
    named = inspect.signature(mod.MiniMindConfig.__init__).parameters
    unknown = sorted(k for k in kw if k not in named)
    if unknown:
        raise RuntimeError(f"MiniMind's MiniMindConfig has no {', '.join(unknown)}")
    torch.manual_seed(seed)
    return mod.MiniMindForCausalLM(mod.MiniMindConfig(**kw)).to(device)


class LogitsAndAux(torch.nn.Module):
    """The original model as minimind_ref's trainer calls a model: X ->
    (logits, aux_loss)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, X):
        out = self.model(X)
        aux = out.aux_loss  # the int 0 for a dense model
        if not torch.is_tensor(aux):
            aux = out.logits.new_tensor(float(aux), dtype=torch.float32)
        return out.logits, aux
