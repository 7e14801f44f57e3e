#!/usr/bin/env python3
"""A PyTorch MiniMind written from docs MINIMIND-SPEC.md (../shared/docs).

This is the reference the compiled trainer is checked and measured against
(test/parity/parity.py, bench/bench.py). It is written from the spec alone:

  * MiniMindConfig: the spec's fields and defaults (intermediate_size rule);
  * MiniMindForCausalLM: RMSNorm with fp32 statistics, rotate-half RoPE with
    the tables as (non-persistent) buffers and YaRN when enabled, GQA
    attention through F.scaled_dot_product_attention(is_causal=True), SwiGLU
    FFN, MoE (softmax gate, top-k, norm_topk_prob, routed + shared experts,
    seq_aux / token aux loss), embedding tied to lm_head, PyTorch default init;
  * state_dict names exactly as spec §2 (export_weights() leaves out the tied
    lm_head.weight);
  * train(): MiniMind's loop (LR set every micro-step, (masked CE + aux) /
    accumulation_steps, autocast, accumulation, clip_grad_norm_, AdamW with
    torch defaults + weight_decay 0.01, zero_grad(set_to_none=True)),
    optional fused AdamW and torch.compile;
  * safetensors read/write without numpy or the safetensors package.

Self-check against the golden files (fp32, CPU):

    python3 test/parity/minimind_ref.py --self-check ../shared/data/golden

The pure-Python parts (config, parameter shapes, LR schedule, safetensors
headers) import and run without PyTorch.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import dataclasses
import json
import math
import os
import struct
import sys
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:  # the pure-Python helpers still work without torch
    torch = None
    F = None

    class _NoTorchNN:
        Module = object

    nn = _NoTorchNN()


def _require_torch():
    if torch is None:
        sys.exit("minimind_ref: PyTorch is required for this (pip install torch)")


# ----------------------------------------------------------------------------
# Config (MINIMIND-SPEC §1)
# ----------------------------------------------------------------------------

# Hugging Face bookkeeping keys a config.json may carry; they do not change
# the model.
_IGNORED_CONFIG_KEYS = {
    "model_type", "architectures", "torch_dtype", "transformers_version",
    "auto_map", "_name_or_path", "pad_token_id", "tie_word_embeddings",
}


@dataclass
class MiniMindConfig:
    hidden_size: int = 512
    num_hidden_layers: int = 8
    num_attention_heads: int = 8
    num_key_value_heads: int = 2
    vocab_size: int = 6400
    intermediate_size: Optional[int] = None
    hidden_act: str = "silu"
    rms_norm_eps: float = 1e-5
    rope_theta: float = 1e6
    max_position_embeddings: int = 32768
    inference_rope_scaling: bool = False
    dropout: float = 0.0
    flash_attn: bool = True
    bos_token_id: int = 1
    eos_token_id: int = 2
    use_moe: bool = False
    n_routed_experts: int = 4
    num_experts_per_tok: int = 2
    n_shared_experts: int = 1
    scoring_func: str = "softmax"
    aux_loss_alpha: float = 0.01
    seq_aux: bool = True
    norm_topk_prob: bool = True
    # YaRN parameters used when inference_rope_scaling is true (spec §1);
    # a config's "rope_scaling" object overrides them.
    rope_scaling: Optional[dict] = None

    def __post_init__(self):
        H = self.hidden_size
        if self.intermediate_size is None:
            # 64 * ceil(int(H * 8 / 3) / 64): 512 -> 1408, 768 -> 2048
            self.intermediate_size = 64 * ((int(H * 8 / 3) + 63) // 64)
        self.validate()

    def validate(self):
        def bad(field, msg):
            raise ValueError(f"config field '{field}': {msg}")

        for f in ("hidden_size", "num_hidden_layers", "num_attention_heads",
                  "num_key_value_heads", "vocab_size", "intermediate_size",
                  "max_position_embeddings"):
            v = getattr(self, f)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                bad(f, f"must be a positive integer, got {v!r}")
        if self.hidden_size % self.num_attention_heads:
            bad("num_attention_heads",
                f"hidden_size {self.hidden_size} is not divisible by "
                f"{self.num_attention_heads} heads")
        if self.num_attention_heads % self.num_key_value_heads:
            bad("num_key_value_heads",
                f"{self.num_attention_heads} attention heads are not divisible "
                f"by {self.num_key_value_heads} KV heads")
        if self.head_dim % 2:
            bad("num_attention_heads", f"head_dim {self.head_dim} must be even (RoPE)")
        if self.hidden_act not in _ACTIVATIONS:
            bad("hidden_act", f"unsupported activation {self.hidden_act!r}")
        if not (0.0 <= self.dropout < 1.0):
            bad("dropout", f"must be in [0, 1), got {self.dropout}")
        if not (self.rope_theta > 1.0):
            bad("rope_theta", f"must be > 1, got {self.rope_theta}")
        if self.use_moe:
            if self.scoring_func != "softmax":
                bad("scoring_func", f"only 'softmax' is defined, got {self.scoring_func!r}")
            if self.n_routed_experts < 1:
                bad("n_routed_experts", "must be positive")
            if not (1 <= self.num_experts_per_tok <= self.n_routed_experts):
                bad("num_experts_per_tok",
                    f"top-k {self.num_experts_per_tok} must be in "
                    f"[1, n_routed_experts={self.n_routed_experts}]")
            if self.n_shared_experts < 0:
                bad("n_shared_experts", "must be >= 0")

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def yarn(self) -> Optional[dict]:
        """YaRN parameters when enabled, else None (spec §1 defaults)."""
        if not self.inference_rope_scaling:
            return None
        y = {"factor": 16.0, "original_max_position_embeddings": 2048,
             "beta_fast": 32.0, "beta_slow": 1.0, "attention_factor": 1.0}
        for k, v in (self.rope_scaling or {}).items():
            if k in y:
                y[k] = v
        return y

    @classmethod
    def from_dict(cls, d: dict) -> "MiniMindConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {}
        for k, v in d.items():
            if k in names:
                kwargs[k] = v
            elif k not in _IGNORED_CONFIG_KEYS:
                raise ValueError(f"config field '{k}': unknown field")
        return cls(**kwargs)

    @classmethod
    def from_json(cls, path: str) -> "MiniMindConfig":
        with open(path) as f:
            return cls.from_dict(json.load(f))


def param_shapes(cfg: MiniMindConfig) -> List[Tuple[str, Tuple[int, ...]]]:
    """The model's parameters, spec §2 names, in state_dict order (the tied
    lm_head.weight is the embedding and is not listed)."""
    H, D, I = cfg.hidden_size, cfg.head_dim, cfg.intermediate_size
    q, kv = cfg.num_attention_heads * D, cfg.num_key_value_heads * D
    out = [("model.embed_tokens.weight", (cfg.vocab_size, H))]

    def ffn(p):
        out.extend([(p + "gate_proj.weight", (I, H)), (p + "up_proj.weight", (I, H)),
                    (p + "down_proj.weight", (H, I))])

    for i in range(cfg.num_hidden_layers):
        p = f"model.layers.{i}."
        out += [(p + "self_attn.q_proj.weight", (q, H)), (p + "self_attn.k_proj.weight", (kv, H)),
                (p + "self_attn.v_proj.weight", (kv, H)), (p + "self_attn.o_proj.weight", (H, q)),
                (p + "input_layernorm.weight", (H,)), (p + "post_attention_layernorm.weight", (H,))]
        if not cfg.use_moe:
            ffn(p + "mlp.")
        else:
            out.append((p + "mlp.gate.weight", (cfg.n_routed_experts, H)))
            for e in range(cfg.n_routed_experts):
                ffn(p + f"mlp.experts.{e}.")
            for s in range(cfg.n_shared_experts):
                ffn(p + f"mlp.shared_experts.{s}.")
    out.append(("model.norm.weight", (H,)))
    return out


def param_count(cfg: MiniMindConfig) -> int:
    return sum(math.prod(s) for _, s in param_shapes(cfg))


# ----------------------------------------------------------------------------
# LR schedule (spec §5)
# ----------------------------------------------------------------------------

def get_lr(step: int, total_steps: int, base_lr: float) -> float:
    """lr = base*(0.1 + 0.45*(1 + cos(pi * step / total))), every micro-step:
    starts at base, ends at base/10 (MiniMind's get_lr since 2025-12-31)."""
    return base_lr * (0.1 + 0.45 * (1 + math.cos(math.pi * step / total_steps)))


# ----------------------------------------------------------------------------
# safetensors without numpy: headers in pure Python, data through ctypes /
# torch.frombuffer
# ----------------------------------------------------------------------------

_ST_ITEMSIZE = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
                "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}


def safetensors_bytes(entries: Sequence[Tuple[str, str, Sequence[int], bytes]],
                      metadata: Optional[dict] = None) -> List[bytes]:
    """The chunks of a safetensors file for (name, dtype, shape, raw bytes)
    entries: header (padded to 8 bytes) then the data, tensors sorted by name."""
    header, off, chunks = {}, 0, []
    for name, dtype, shape, raw in sorted(entries, key=lambda e: e[0]):
        if dtype not in _ST_ITEMSIZE:
            raise ValueError(f"{name}: unsupported safetensors dtype {dtype}")
        n = math.prod(shape) * _ST_ITEMSIZE[dtype]
        if n != len(raw):
            raise ValueError(f"{name}: {len(raw)} bytes for shape {list(shape)} {dtype}")
        header[name] = {"dtype": dtype, "shape": [int(d) for d in shape],
                        "data_offsets": [off, off + n]}
        off += n
        chunks.append(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((-len(text)) % 8)
    return [struct.pack("<Q", len(text)), text] + chunks


def write_safetensors_raw(path: str, entries, metadata: Optional[dict] = None):
    """Writes atomically (path.tmp, then rename)."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        for chunk in safetensors_bytes(entries, metadata):
            f.write(chunk)
    os.replace(tmp, path)


def read_safetensors_raw(path: str) -> Tuple[Dict[str, Tuple[str, List[int], bytes]], dict]:
    """{name: (dtype, shape, raw bytes)}, metadata."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + n
    out = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        out[name] = (info["dtype"], list(info["shape"]), data[base + a:base + b])
    return out, meta


def _torch_dtypes():
    return {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
            "F64": torch.float64, "I64": torch.int64, "I32": torch.int32,
            "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}


def tensor_bytes(t) -> bytes:
    t = t.detach().to("cpu").contiguous()
    n = t.numel() * t.element_size()
    return ctypes.string_at(t.data_ptr(), n) if n else b""


def write_safetensors(path: str, tensors: Dict[str, "torch.Tensor"], metadata: Optional[dict] = None):
    names = {v: k for k, v in _torch_dtypes().items()}
    entries = []
    for name, t in tensors.items():
        if t.dtype not in names:
            raise ValueError(f"{name}: dtype {t.dtype} has no safetensors name here")
        entries.append((name, names[t.dtype], tuple(t.shape), tensor_bytes(t)))
    write_safetensors_raw(path, entries, metadata)


def read_safetensors(path: str) -> Dict[str, "torch.Tensor"]:
    _require_torch()
    raw, _ = read_safetensors_raw(path)
    dts = _torch_dtypes()
    out = {}
    for name, (dtype, shape, data) in raw.items():
        if dtype not in dts:
            raise ValueError(f"{path}: {name}: unsupported dtype {dtype}")
        if len(data) == 0:
            out[name] = torch.empty(shape, dtype=dts[dtype])
        else:  # bytearray: a writable, freshly allocated (aligned) buffer
            out[name] = torch.frombuffer(bytearray(data), dtype=dts[dtype]).reshape(shape)
    return out


# ----------------------------------------------------------------------------
# The model (spec §2, §3)
# ----------------------------------------------------------------------------

_ACTIVATIONS = {
    "silu": lambda x: F.silu(x),
    "gelu": lambda x: F.gelu(x),
    "relu": lambda x: F.relu(x),
}


def _compile_disable(fn):
    """Runs `fn` eagerly even inside torch.compile (data-dependent shapes)."""
    if torch is not None and hasattr(torch, "compiler") and hasattr(torch.compiler, "disable"):
        return torch.compiler.disable(fn)
    return fn


def rope_tables(cfg: MiniMindConfig, end: Optional[int] = None):
    """cos, sin [end, head_dim] fp32, rotate-half layout (both halves repeat)."""
    D = cfg.head_dim
    end = cfg.max_position_embeddings if end is None else end
    inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, D, 2, dtype=torch.float32)[: D // 2] / D))
    attn_factor = 1.0
    y = cfg.yarn()
    if y is not None:
        orig_max, factor = y["original_max_position_embeddings"], y["factor"]
        attn_factor = y["attention_factor"]
        if end / orig_max > 1.0:
            # Dimension index at which a frequency completes `b` rotations
            # over orig_max positions; between the beta_fast and beta_slow
            # dimensions a linear ramp blends kept and 1/factor frequencies.
            def corr_dim(b):
                return (D * math.log(orig_max / (b * 2 * math.pi))) / (2 * math.log(cfg.rope_theta))

            low = max(math.floor(corr_dim(y["beta_fast"])), 0)
            high = min(math.ceil(corr_dim(y["beta_slow"])), D // 2 - 1)
            ramp = ((torch.arange(D // 2, dtype=torch.float32) - low)
                    / max(high - low, 0.001)).clamp(0, 1)
            inv_freq = inv_freq * ((1 - ramp) + ramp / factor)
    t = torch.arange(end, dtype=torch.float32)
    freqs = torch.outer(t, inv_freq)
    cos = torch.cat([freqs.cos(), freqs.cos()], dim=-1) * attn_factor
    sin = torch.cat([freqs.sin(), freqs.sin()], dim=-1) * attn_factor
    return cos, sin


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rope(x, cos, sin):
    """x [B, S, heads, D]; cos/sin [S, D] fp32. Computed in fp32."""
    xf = x.float()
    c, s = cos[None, :, None, :], sin[None, :, None, :]
    return (xf * c + rotate_half(xf) * s).to(x.dtype)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        xf = x.float()
        normed = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * normed.type_as(x)


class Attention(nn.Module):
    def __init__(self, cfg: MiniMindConfig):
        super().__init__()
        self.n_heads, self.n_kv = cfg.num_attention_heads, cfg.num_key_value_heads
        self.head_dim = cfg.head_dim
        H, D = cfg.hidden_size, cfg.head_dim
        self.q_proj = nn.Linear(H, self.n_heads * D, bias=False)
        self.k_proj = nn.Linear(H, self.n_kv * D, bias=False)
        self.v_proj = nn.Linear(H, self.n_kv * D, bias=False)
        self.o_proj = nn.Linear(self.n_heads * D, H, bias=False)
        self.dropout_p = cfg.dropout
        self.attn_dropout = nn.Dropout(cfg.dropout)
        self.resid_dropout = nn.Dropout(cfg.dropout)
        self.flash = cfg.flash_attn and hasattr(F, "scaled_dot_product_attention")

    def forward(self, x, cos, sin):
        B, S, _ = x.shape
        D, nh, nkv = self.head_dim, self.n_heads, self.n_kv
        q = self.q_proj(x).view(B, S, nh, D)
        k = self.k_proj(x).view(B, S, nkv, D)
        v = self.v_proj(x).view(B, S, nkv, D)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        rep = nh // nkv
        if rep > 1:  # query head h reads KV head h // rep
            k = k[:, :, None].expand(B, nkv, rep, S, D).reshape(B, nh, S, D)
            v = v[:, :, None].expand(B, nkv, rep, S, D).reshape(B, nh, S, D)
        if self.flash:
            out = F.scaled_dot_product_attention(
                q, k, v, dropout_p=self.dropout_p if self.training else 0.0, is_causal=True)
        else:
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(D)
            causal = torch.full((S, S), float("-inf"), device=x.device).triu(1)
            probs = F.softmax(scores.float() + causal, dim=-1).type_as(q)
            out = self.attn_dropout(probs) @ v
        out = out.transpose(1, 2).reshape(B, S, nh * D)
        return self.resid_dropout(self.o_proj(out))


class FeedForward(nn.Module):
    """SwiGLU: down(act(gate(x)) * up(x))."""

    def __init__(self, cfg: MiniMindConfig):
        super().__init__()
        H, I = cfg.hidden_size, cfg.intermediate_size
        self.gate_proj = nn.Linear(H, I, bias=False)
        self.up_proj = nn.Linear(H, I, bias=False)
        self.down_proj = nn.Linear(I, H, bias=False)
        self.act = _ACTIVATIONS[cfg.hidden_act]
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x):
        return self.dropout(self.down_proj(self.act(self.gate_proj(x)) * self.up_proj(x)))


class MoEGate(nn.Module):
    def __init__(self, cfg: MiniMindConfig):
        super().__init__()
        self.top_k = cfg.num_experts_per_tok
        self.n_experts = cfg.n_routed_experts
        self.alpha = cfg.aux_loss_alpha
        self.seq_aux = cfg.seq_aux
        self.norm_topk_prob = cfg.norm_topk_prob
        self.weight = nn.Parameter(torch.empty(cfg.n_routed_experts, cfg.hidden_size))
        bound = 1.0 / math.sqrt(cfg.hidden_size)
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(self, x):
        """x [B, S, H] -> topk_idx [T, k], topk_weight [T, k] fp32, aux scalar."""
        B, S, H = x.shape
        E, k = self.n_experts, self.top_k
        logits = F.linear(x.reshape(-1, H), self.weight)
        scores = logits.float().softmax(dim=-1)  # [T, E] fp32
        topk_weight, topk_idx = torch.topk(scores, k=k, dim=-1, sorted=False)
        if k > 1 and self.norm_topk_prob:
            topk_weight = topk_weight / (topk_weight.sum(dim=-1, keepdim=True) + 1e-20)
        if self.training and self.alpha > 0.0:
            if self.seq_aux:
                # ce[b, e] = picks of e in sequence b / (S*k/E);
                # aux = alpha * mean_b sum_e ce[b, e] * mean_s scores[b, s, e]
                idx_b = topk_idx.view(B, S * k)
                ce = torch.zeros(B, E, device=x.device, dtype=torch.float32)
                ce.scatter_add_(1, idx_b, torch.ones(B, S * k, device=x.device, dtype=torch.float32))
                ce = ce / (S * k / E)
                aux = (ce * scores.view(B, S, E).mean(dim=1)).sum(dim=1).mean() * self.alpha
            else:
                # fi = E * mean over the T*k picks of one_hot(idx); Pi = mean scores
                fi = F.one_hot(topk_idx.reshape(-1), num_classes=E).float().mean(0) * E
                pi = scores.mean(0)
                aux = (pi * fi).sum() * self.alpha
        else:
            aux = scores.new_zeros(())
        return topk_idx, topk_weight, aux


@_compile_disable
def _routed_experts(flat, topk_idx, topk_weight, experts):
    """sum_k w_k * expert_{idx_k}(x) for every token of flat [T, H].

    Tokens are grouped by expert with one sort (a stable argsort of the T*k
    picks) and one host read of the per-expert counts, each expert runs on
    its rows, and the weighted outputs are added back per token (fp32)."""
    T, H = flat.shape
    k = topk_idx.shape[1]
    picks = topk_idx.reshape(-1)                      # pick p = t*k + j
    order = torch.argsort(picks, stable=True)
    counts = torch.bincount(picks, minlength=len(experts)).tolist()
    token_of = order // k
    rows = flat.index_select(0, token_of)
    outs = [expert(chunk) for expert, chunk in zip(experts, rows.split(counts))]
    out = torch.cat(outs, dim=0)
    weighted = out.float() * topk_weight.reshape(-1).index_select(0, order).unsqueeze(-1)
    y = torch.zeros(T, H, device=flat.device, dtype=torch.float32)
    return y.index_add(0, token_of, weighted)


class MoEFeedForward(nn.Module):
    def __init__(self, cfg: MiniMindConfig):
        super().__init__()
        self.gate = MoEGate(cfg)
        self.experts = nn.ModuleList([FeedForward(cfg) for _ in range(cfg.n_routed_experts)])
        self.shared_experts = nn.ModuleList([FeedForward(cfg) for _ in range(cfg.n_shared_experts)])

    def forward(self, x):
        B, S, H = x.shape
        topk_idx, topk_weight, aux = self.gate(x)
        flat = x.reshape(-1, H)
        y = _routed_experts(flat, topk_idx, topk_weight, self.experts)  # fp32
        for expert in self.shared_experts:
            y = y + expert(flat)
        return y.view(B, S, H), aux


class MiniMindBlock(nn.Module):
    def __init__(self, cfg: MiniMindConfig):
        super().__init__()
        self.self_attn = Attention(cfg)
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.use_moe = cfg.use_moe
        self.mlp = MoEFeedForward(cfg) if cfg.use_moe else FeedForward(cfg)

    def forward(self, h, cos, sin):
        h = h + self.self_attn(self.input_layernorm(h), cos, sin)
        if self.use_moe:
            m, aux = self.mlp(self.post_attention_layernorm(h))
        else:
            m, aux = self.mlp(self.post_attention_layernorm(h)), None
        return h + m, aux


class MiniMindModel(nn.Module):
    def __init__(self, cfg: MiniMindConfig):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.dropout = nn.Dropout(cfg.dropout)
        self.layers = nn.ModuleList([MiniMindBlock(cfg) for _ in range(cfg.num_hidden_layers)])
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        cos, sin = rope_tables(cfg)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)

    def forward(self, ids):
        S = ids.shape[1]
        h = self.dropout(self.embed_tokens(ids))
        cos, sin = self.rope_cos[:S], self.rope_sin[:S]
        aux_total = None
        for layer in self.layers:
            h, aux = layer(h, cos, sin)
            if aux is not None:
                aux_total = aux if aux_total is None else aux_total + aux
        if aux_total is None:
            aux_total = torch.zeros((), device=ids.device, dtype=torch.float32)
        return self.norm(h), aux_total


class MiniMindForCausalLM(nn.Module):
    def __init__(self, cfg: MiniMindConfig):
        super().__init__()
        self.cfg = cfg
        self.model = MiniMindModel(cfg)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        self.model.embed_tokens.weight = self.lm_head.weight  # tied: one tensor
        self.reset_parameters()

    @torch.no_grad() if torch is not None else (lambda f: f)
    def reset_parameters(self):
        """PyTorch default init (spec §2): every Linear weight and the MoE gate
        U(-1/sqrt(fan_in), 1/sqrt(fan_in)), RMSNorm weights 1; the tied
        embedding is lm_head's weight, so it takes lm_head's init."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                bound = 1.0 / math.sqrt(m.in_features)
                m.weight.uniform_(-bound, bound)
            elif isinstance(m, MoEGate):
                bound = 1.0 / math.sqrt(m.weight.shape[1])
                m.weight.uniform_(-bound, bound)
            elif isinstance(m, RMSNorm):
                m.weight.fill_(1.0)

    def forward(self, ids):
        h, aux = self.model(ids)
        return self.lm_head(h), aux


def build_model(cfg: MiniMindConfig, seed: int = 42, device="cpu") -> "MiniMindForCausalLM":
    _require_torch()
    torch.manual_seed(seed)
    model = MiniMindForCausalLM(cfg)
    return model.to(device)


def export_weights(model: "MiniMindForCausalLM") -> Dict[str, "torch.Tensor"]:
    """fp32 CPU tensors with the spec §2 names (lm_head.weight is the tied
    embedding and is left out)."""
    sd = model.state_dict()
    return {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in sd.items()
            if k != "lm_head.weight"}


def load_weights(model: "MiniMindForCausalLM", tensors: Dict[str, "torch.Tensor"], prefix: str = ""):
    """Copies spec-named tensors (optionally `prefix`ed) into the model;
    every parameter must be present with its shape."""
    with torch.no_grad():
        params = dict(model.named_parameters())  # the tied weight once
        for name, p in params.items():
            key = prefix + ("model.embed_tokens.weight" if name == "lm_head.weight" else name)
            if key not in tensors:
                raise KeyError(f"no tensor named '{key}'")
            t = tensors[key]
            if tuple(t.shape) != tuple(p.shape):
                raise ValueError(f"'{key}' has shape {list(t.shape)}, the model needs {list(p.shape)}")
            p.copy_(t.to(p.dtype))


def save_weights(model, path: str, cfg: Optional[MiniMindConfig] = None):
    meta = {"format": "pt"}
    if cfg is not None:
        meta["mind.config"] = json.dumps(dataclasses.asdict(cfg), sort_keys=True)
    write_safetensors(path, export_weights(model), meta)


# ----------------------------------------------------------------------------
# Loss and trainer (spec §3.8, §5)
# ----------------------------------------------------------------------------

class LossModule(nn.Module):
    """(masked mean CE, aux loss) of one micro-step; what torch.compile wraps."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, X, Y, mask):
        logits, aux = self.model(X)
        V = logits.shape[-1]
        ce = F.cross_entropy(logits.float().reshape(-1, V), Y.reshape(-1), reduction="none")
        m = mask.reshape(-1).to(ce.dtype)
        return (ce * m).sum() / m.sum(), aux


@dataclass
class TrainOptions:
    batch_size: int = 32
    accumulation_steps: int = 8
    learning_rate: float = 5e-4
    grad_clip: float = 1.0
    dtype: str = "bfloat16"        # float32 | bfloat16 | float16 (GradScaler)
    epochs: int = 1
    weight_decay: float = 0.01
    fused_adamw: bool = False
    compile: bool = False
    compile_mode: Optional[str] = None
    log_interval: int = 0          # 0: no log lines (no host syncs)
    max_steps: int = 0             # micro-steps; 0: all


_DTYPES = {"float32": None, "bfloat16": "bfloat16", "float16": "float16"}


class _NoScaler:
    """GradScaler's interface without scaling (fp32 / bf16)."""

    def scale(self, loss):
        return loss

    def unscale_(self, optimizer):
        pass

    def step(self, optimizer):
        optimizer.step()

    def update(self):
        pass


def _make_scaler(device, enabled: bool):
    """float16: dynamic loss scaling (unscale before clipping, skip the step
    on inf/nan), as MiniMind's GradScaler."""
    if not enabled:
        return _NoScaler()
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler(device.type)
    return torch.cuda.amp.GradScaler()


@dataclass
class TrainResult:
    ce: List[float]                # per micro-step
    aux: List[float]
    lr: List[float]
    grad_norm: List[float]         # per optimizer step (pre-clip)
    seconds: float


def train(model, get_batch: Callable[[int, int], Tuple], iters: int, opts: TrainOptions,
          on_optimizer_step: Optional[Callable[[int], None]] = None) -> TrainResult:
    """MiniMind's pretraining loop over `iters` micro-steps per epoch.

    get_batch(epoch, it) -> (X, Y, mask) on the model's device, [B, S].
    on_optimizer_step(n) is called after the n-th optimizer step (1-based)."""
    _require_torch()
    if opts.dtype not in _DTYPES:
        raise ValueError(f"dtype {opts.dtype!r}: expected one of {sorted(_DTYPES)}")
    device = next(model.parameters()).device
    loss_fn = LossModule(model)
    if opts.compile:
        loss_fn = torch.compile(loss_fn, mode=opts.compile_mode)
    adamw_kwargs = dict(lr=opts.learning_rate, betas=(0.9, 0.999), eps=1e-8,
                        weight_decay=opts.weight_decay)
    if opts.fused_adamw:
        adamw_kwargs["fused"] = True
    optimizer = torch.optim.AdamW(model.parameters(), **adamw_kwargs)
    amp_dtype = getattr(torch, opts.dtype)
    use_amp = opts.dtype != "float32"
    scaler = _make_scaler(device, opts.dtype == "float16")
    autocast = (lambda: torch.autocast(device_type=device.type, dtype=amp_dtype)) if use_amp \
        else contextlib.nullcontext

    total = opts.epochs * iters
    limit = min(total, opts.max_steps) if opts.max_steps > 0 else total
    ce_hist, aux_hist, lr_hist, gn_hist = [], [], [], []
    model.train()
    optimizer.zero_grad(set_to_none=True)
    start = time.perf_counter()
    done, opt_steps, in_window = 0, 0, 0
    for epoch in range(opts.epochs):
        for it in range(iters):
            if done >= limit:
                break
            lr = get_lr(epoch * iters + it, total, opts.learning_rate)
            for g in optimizer.param_groups:
                g["lr"] = lr
            X, Y, mask = get_batch(epoch, it)
            with autocast():
                ce, aux = loss_fn(X, Y, mask)
            loss = (ce + aux) / opts.accumulation_steps
            scaler.scale(loss).backward()
            ce_hist.append(ce.detach())
            aux_hist.append(aux.detach())
            lr_hist.append(lr)
            in_window += 1
            if in_window == opts.accumulation_steps:  # every accumulation_steps micro-steps
                in_window = 0
                scaler.unscale_(optimizer)
                gn = torch.nn.utils.clip_grad_norm_(model.parameters(), opts.grad_clip)
                scaler.step(optimizer)
                scaler.update()
                optimizer.zero_grad(set_to_none=True)
                gn_hist.append(gn.detach())
                opt_steps += 1
                if on_optimizer_step is not None:
                    on_optimizer_step(opt_steps)
            if opts.log_interval > 0 and (it % opts.log_interval == 0 or it == iters - 1):
                spent = time.perf_counter() - start
                eta = spent / (done + 1) * (limit - done - 1) / 60
                print(f"Epoch:[{epoch + 1}/{opts.epochs}]({it + 1}/{iters}) "
                      f"loss:{(ce + aux).item():.6f} lr:{lr:.8f} epoch_Time:{eta:.1f}min",
                      flush=True)
            done += 1
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start

    def floats(xs):
        return torch.stack(xs).float().cpu().tolist() if xs else []

    return TrainResult(floats(ce_hist), floats(aux_hist), lr_hist, floats(gn_hist), seconds)


def batches_from_samples(samples, batch_size: int, order: Optional[Sequence[int]] = None):
    """get_batch for train(): samples [N, L] int64 (on the target device);
    micro-step `it` takes samples order[it*B:(it+1)*B] (file order when
    order is None); X = s[:, :-1], Y = s[:, 1:], mask = (Y != 0)."""
    def get(epoch, it):
        if order is None:
            s = samples[it * batch_size:(it + 1) * batch_size]
        else:
            idx = torch.as_tensor(order[it * batch_size:(it + 1) * batch_size], device=samples.device)
            s = samples.index_select(0, idx)
        Y = s[:, 1:].contiguous()
        return s[:, :-1].contiguous(), Y, (Y != 0).long()
    return get


# ----------------------------------------------------------------------------
# Self-check against the golden files
# ----------------------------------------------------------------------------

def _rel_err(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


def _max_rel(a, b) -> float:
    """max |a - b| / max |b| (0 when both are zero)."""
    denom = b.abs().max().item()
    diff = (a - b).abs().max().item()
    return diff / denom if denom > 0 else diff


def self_check_one(golden_dir: str, name: str, loss_tol: float = 1e-5) -> bool:
    torch.manual_seed(0)
    with open(os.path.join(golden_dir, f"golden_tiny_{name}.json")) as f:
        meta = json.load(f)
    g = read_safetensors(os.path.join(golden_dir, f"golden_tiny_{name}.safetensors"))
    cfg = MiniMindConfig.from_dict(meta["config"])
    model = build_model(cfg, seed=0, device="cpu").float()
    ok = True

    def report(what, good, detail):
        nonlocal ok
        ok &= good
        print(f"  [{'ok' if good else 'FAIL'}] {what}: {detail}")

    print(f"golden_tiny_{name}: {json.dumps(meta['config'])}")
    # Names and shapes: the model's export == the spec's list == the golden's.
    exported = export_weights(model)
    spec = dict(param_shapes(cfg))
    golden_init = {k[len("init."):]: v for k, v in g.items() if k.startswith("init.")}
    same_names = set(exported) == set(spec) == set(golden_init)
    same_shapes = same_names and all(tuple(exported[k].shape) == spec[k] == tuple(golden_init[k].shape)
                                     for k in spec)
    report("parameter names/shapes (export, spec §2, golden)", same_shapes,
           f"{len(spec)} tensors" if same_shapes else
           f"only in export: {sorted(set(exported) - set(golden_init))[:5]}, "
           f"only in golden: {sorted(set(golden_init) - set(exported))[:5]}")
    count = param_count(cfg)
    report("parameter count", count == meta.get("param_count", count), f"{count}")
    if not same_shapes:
        return False
    load_weights(model, g, prefix="init.")

    ids, targets, mask = g["input.ids"].long(), g["input.targets"].long(), g["input.mask"].long()
    micro_steps = meta["micro_steps"]
    accum = meta["accumulation_steps"]
    base_lr = meta["learning_rate"]

    # Micro-step 0: logits, CE, aux, gradients.
    model.train()
    lm = LossModule(model)
    logits, _ = model(ids[0])
    report("logits (micro-step 0)", _max_rel(logits.detach(), g["output.logits"]) < 1e-4,
           f"max rel err {_max_rel(logits.detach(), g['output.logits']):.2e}")
    ce, aux = lm(ids[0], targets[0], mask[0])
    step0 = meta["steps"][0]
    report("CE loss (micro-step 0)", _rel_err(ce.item(), step0["ce_loss"]) <= loss_tol,
           f"{ce.item():.7f} vs golden {step0['ce_loss']:.7f} (rel {_rel_err(ce.item(), step0['ce_loss']):.1e})")
    aux_err = abs(aux.item() - step0["aux_loss"]) / max(abs(step0["aux_loss"]), 1e-3)
    report("aux loss (micro-step 0)", aux_err <= loss_tol,
           f"{aux.item():.8f} vs golden {step0['aux_loss']:.8f}")
    ((ce + aux) / accum).backward()
    worst, worst_name = 0.0, ""
    for pname, p in model.named_parameters():
        key = "model.embed_tokens.weight" if pname == "lm_head.weight" else pname
        grad = p.grad if p.grad is not None else torch.zeros_like(p)
        e = _max_rel(grad, g["grad." + key])
        if e > worst:
            worst, worst_name = e, key
    report("gradients (micro-step 0)", worst < 1e-3,
           f"max rel err {worst:.2e} ({worst_name})" + (" [above 1e-4]" if worst >= 1e-4 else ""))

    # The whole run: schedule, accumulation, clipping, AdamW.
    model2 = build_model(cfg, seed=0, device="cpu").float()
    load_weights(model2, g, prefix="init.")
    opts = TrainOptions(batch_size=meta["batch"], accumulation_steps=accum, learning_rate=base_lr,
                        grad_clip=meta["grad_clip"], dtype="float32", epochs=1)
    res = train(model2, lambda e, it: (ids[it], targets[it], mask[it]), micro_steps, opts)
    worst_loss = 0.0
    for s, rec in enumerate(meta["steps"]):
        worst_loss = max(worst_loss, _rel_err(res.ce[s], rec["ce_loss"]),
                         abs(res.aux[s] - rec["aux_loss"]) / max(abs(rec["aux_loss"]), 1e-3),
                         _rel_err(res.lr[s], rec["lr"]))
    report(f"CE/aux/lr of all {micro_steps} micro-steps", worst_loss < 1e-4,
           f"max rel err {worst_loss:.1e}")
    golden_norms = [rec["grad_norm"] for rec in meta["steps"] if "grad_norm" in rec]
    gn_err = max((_rel_err(a, b) for a, b in zip(res.grad_norm, golden_norms)), default=0.0)
    report("pre-clip gradient norms", len(res.grad_norm) == len(golden_norms) and gn_err < 1e-4,
           f"{['%.6f' % x for x in res.grad_norm]} vs {['%.6f' % x for x in golden_norms]}")
    worst, worst_name = 0.0, ""
    final = export_weights(model2)
    for key, w in final.items():
        e = _max_rel(w, g["final." + key])
        if e > worst:
            worst, worst_name = e, key
    report("final weights", worst < 1e-3,
           f"max rel err {worst:.2e} ({worst_name})" + (" [above 1e-4]" if worst >= 1e-4 else ""))
    return ok


def self_check(golden_dir: str) -> bool:
    _require_torch()
    torch.set_num_threads(max(1, min(8, os.cpu_count() or 1)))
    ok = True
    for cfg_file, expected in (("minimind-26m", 25_829_888), ("minimind-104m", 104_030_976)):
        cfg = (MiniMindConfig() if cfg_file == "minimind-26m"
               else MiniMindConfig(hidden_size=768, num_hidden_layers=16))
        n = param_count(cfg)
        good = n == expected
        ok &= good
        print(f"  [{'ok' if good else 'FAIL'}] {cfg_file} parameter count {n:,} (spec: {expected:,})")
    # The model's own parameters agree with param_shapes.
    cfg = MiniMindConfig()
    model = MiniMindForCausalLM(cfg)
    n_model = sum(p.numel() for p in model.parameters())
    good = n_model == param_count(cfg)
    ok &= good
    print(f"  [{'ok' if good else 'FAIL'}] MiniMindForCausalLM(26M) has {n_model:,} parameters")
    for name in ("dense", "moe"):
        ok &= self_check_one(golden_dir, name)
    print("self-check:", "PASS" if ok else "FAIL")
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--self-check", metavar="GOLDEN_DIR",
                    help="check against golden_tiny_{dense,moe}.{json,safetensors} in GOLDEN_DIR")
    ap.add_argument("--param-count", metavar="CONFIG_JSON", help="print the parameter count of a config")
    args = ap.parse_args(argv)
    if args.param_count:
        cfg = MiniMindConfig.from_json(args.param_count)
        print(f"{args.param_count}: {param_count(cfg):,} parameters")
        return 0
    if args.self_check:
        return 0 if self_check(args.self_check) else 1
    ap.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
