#!/usr/bin/env python3
"""Benchmark: compiled MiniMind trainers against the PyTorch reference.

On one GPU, in one run, for minimind-26m, minimind-104m and minimind-moe at
batch 32, max_seq_len 512 (511 trained tokens), accumulation 8:

  ours     the trainer built by `mindc compile CONFIG -o TRAINER`; tokens/s
           from its --metrics JSONL over the measured window, peak device
           memory from its `peak device memory` report (cudaMemGetInfo);
  eager    test/parity/minimind_ref.py in eager mode, bf16 autocast, fused
           AdamW;
  compile  the same under torch.compile (model + loss compiled; MoE routing
           runs eagerly between compiled graphs);
  orig-eager, orig-compile
           MiniMind's original model_minimind.py, imported in place from
           --minimind-dir, trained as its train_pretrain.py does: eager with
           AdamW's default (unfused) implementation, or torch.compile(model)
           with fused AdamW. Skipped, with a message, when it cannot be
           imported.

Ours is quoted against the fastest PyTorch row of each config.

Each run does --warmup optimizer steps, then --measure optimizer steps are
timed (8 micro-steps each). Step time is per optimizer step. Compile time:
for torch.compile the first optimizer step minus a measured one; for ours
the `mindc compile` time passed with --mindc-time (the trainer's own startup
is reported separately). Prints a markdown table and writes JSON.

    python3 bench/bench.py --mindc-time 26m=SEC --mindc-time 104m=SEC --mindc-time moe=SEC

Needs a CUDA GPU and PyTorch; see bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(REPO, "test", "parity"))
import minimind_ref as ref  # noqa: E402
import parity  # noqa: E402
from original_minimind import build_original, load_original  # noqa: E402

torch = ref.torch

CONFIGS = {
    "26m": ("minimind-26m", "configs/minimind-26m.json", ".device/m26-bf16-trainer"),
    "104m": ("minimind-104m", "configs/minimind-104m.json", ".device/m104-bf16-trainer"),
    "moe": ("minimind-moe", "configs/minimind-moe.json", ".device/moe-bf16-trainer"),
}
MODES = ("ours", "eager", "compile", "orig-eager", "orig-compile")
TORCH_MODES = MODES[1:]
MODE_LABEL = {"ours": "mindc (ours)", "eager": "PyTorch eager (ref)", "compile": "PyTorch compile (ref)",
              "orig-eager": "PyTorch eager (MiniMind)", "orig-compile": "PyTorch compile (MiniMind)"}
DEFAULT_MINIMIND_DIR = os.path.normpath(os.path.join(REPO, "..", "shared", "reference", "minimind2"))
LEARNING_RATE = 5e-4


def parse_kv(items: Optional[List[str]], what: str) -> Dict[str, str]:
    out = {}
    for item in items or []:
        if "=" not in item:
            sys.exit(f"bench: --{what} expects NAME=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        if k not in CONFIGS:
            sys.exit(f"bench: --{what} {item!r}: unknown config {k!r} (one of {', '.join(CONFIGS)})")
        out[k] = v
    return out


# ----------------------------------------------------------------------------
# Ours: the compiled trainer
# ----------------------------------------------------------------------------

def window_from_metrics(rows: List[dict], start_step: int, end_step: int, batch: int, seq: int,
                        accumulation: int = 8) -> dict:
    """mind-trainer's tokens_per_s is cumulative since its loop started:
    elapsed(step) = step * batch * seq / tokens_per_s. The window's rate is
    (end - start) micro-steps over elapsed(end) - elapsed(start)."""
    by_step = {int(r["step"]): r for r in rows}
    for s in (start_step, end_step):
        if s not in by_step:
            raise RuntimeError(f"metrics lack step {s} (have {sorted(by_step)[:12]}...)")

    def elapsed(s):
        return s * batch * seq / float(by_step[s]["tokens_per_s"])

    t0, t1 = elapsed(start_step), elapsed(end_step)
    first_opt = min((s for s in by_step if s >= accumulation), default=None)
    first = min(by_step)
    return {"window_s": t1 - t0, "tokens_per_s": (end_step - start_step) * batch * seq / (t1 - t0),
            "loop_s": t1, "first_logged_step_s": elapsed(first_opt) if first_opt else None,
            "first_step": first, "first_step_s": elapsed(first),
            "last_loss": float(by_step[end_step]["loss"]) + float(by_step[end_step].get("aux_loss", 0.0)),
            "peak_mib": by_step[end_step].get("peak_device_memory_mib")}


def run_ours(trainer: str, tokens: str, work: str, args) -> dict:
    A, B, L = args.accumulation_steps, args.batch_size, args.max_seq_len
    micro = (args.warmup + args.measure) * A
    metrics = os.path.join(work, "ours.metrics.jsonl")
    if os.path.exists(metrics):
        os.remove(metrics)
    cmd = [trainer, "--data_path", tokens, "--batch_size", str(B), "--max_seq_len", str(L),
           "--accumulation_steps", str(A), "--log_interval", str(A), "--metrics", metrics,
           "--max_steps", str(micro), "--save_dir", os.path.join(work, "out"), "--save_interval", "0"]
    print("  $ " + " ".join(cmd), flush=True)
    log_path = os.path.join(work, "ours.log")
    t_spawn = time.perf_counter()
    t_first_log = None
    lines = []
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        for line in proc.stdout:
            now = time.perf_counter()
            log.write(line)
            lines.append(line.rstrip("\n"))
            if t_first_log is None and line.startswith("Epoch:"):
                t_first_log = now  # flushed right after the first micro-step
        rc = proc.wait()
    wall = time.perf_counter() - t_spawn
    if rc != 0:
        print("\n".join(lines[-30:]))
        raise RuntimeError(f"{trainer} exited with status {rc} (log: {log_path})")
    rows = parity.read_metrics(metrics)
    w = window_from_metrics(rows, args.warmup * A, micro, B, L - 1, A)
    # Startup (process start to the training loop: bundle, modules, weights,
    # data) = time of the first log line minus the loop time it reports.
    startup = (t_first_log - t_spawn - w["first_step_s"]) if t_first_log else None
    peak = w["peak_mib"]
    for line in lines:
        m = re.search(r"peak device memory: ([0-9.]+) MiB", line)
        if m:
            peak = float(m.group(1))
    for line in lines[:1]:
        print("    " + line)
    return {"tokens_per_s": w["tokens_per_s"], "step_time_ms": w["window_s"] / args.measure * 1e3,
            "peak_memory_mib": peak, "peak_memory_kind": "cudaMemGetInfo delta (all device allocations)",
            "startup_s": startup,
            "first_optimizer_step_s": w["first_logged_step_s"], "wall_s": wall,
            "last_loss": w["last_loss"]}


# ----------------------------------------------------------------------------
# PyTorch reference
# ----------------------------------------------------------------------------

def _cuda(device: str) -> bool:
    return device.startswith("cuda")


def train_original(model, get_batch, iters: int, micro_steps: int, compile_: bool, fused: bool,
                   args, on_step) -> float:
    """train_pretrain.py's step: LR set every micro-step, autocast, masked-mean
    CE over r.logits + r.aux_loss, / accumulation, clip 1.0, AdamW (torch
    defaults, as MiniMind). Returns the last micro-step's loss."""
    A = args.accumulation_steps
    device = next(model.parameters()).device
    opt = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, **({"fused": True} if fused else {}))
    fwd = torch.compile(model, mode=args.compile_mode) if compile_ else model
    ce_fn = torch.nn.CrossEntropyLoss(reduction="none")
    scaler = ref._make_scaler(device, args.dtype == "float16")
    autocast = contextlib.nullcontext() if args.dtype == "float32" else \
        torch.autocast(device.type, dtype=getattr(torch, args.dtype))
    model.train()
    for i in range(micro_steps):
        for g in opt.param_groups:
            g["lr"] = ref.get_lr(i, iters, LEARNING_RATE)
        X, Y, mask = get_batch(0, i)
        with autocast:
            r = fwd(X)
            ce = ce_fn(r.logits.view(-1, r.logits.size(-1)), Y.view(-1)).view(Y.size())
            loss = ((ce * mask).sum() / mask.sum() + r.aux_loss) / A
        scaler.scale(loss).backward()
        if (i + 1) % A == 0:
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(opt)
            scaler.update()
            opt.zero_grad(set_to_none=True)
            on_step((i + 1) // A)
    return float(loss) * A


def run_torch(cfg, cfg_path: str, samples_gpu, mode: str, args, orig=None) -> dict:
    """One PyTorch row: `eager`/`compile` train minimind_ref, `orig-*` the
    original module `orig`. Same batches, timing and memory measure."""
    A, B, L = args.accumulation_steps, args.batch_size, args.max_seq_len
    steps = args.warmup + args.measure
    cuda = _cuda(args.device)
    compile_ = mode.endswith("compile")
    if compile_:  # a fresh compile per run: no cached graphs, no recompile limits
        if hasattr(torch, "compiler") and hasattr(torch.compiler, "reset"):
            torch.compiler.reset()
        else:  # older PyTorch: a local `import torch._dynamo` would shadow `torch`
            importlib.import_module("torch._dynamo").reset()
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    get_batch = ref.batches_from_samples(samples_gpu, B)
    iters = samples_gpu.shape[0] // B
    if mode.startswith("orig-"):
        model = build_original(orig, cfg_path, args.device)
        fused = cuda and compile_  # MiniMind's eager AdamW is torch's default, unfused

        def train(on_step):
            return train_original(model, get_batch, iters, steps * A, compile_, fused, args, on_step)
    else:
        model = ref.build_model(cfg, seed=42, device=args.device)
        fused = cuda
        opts = ref.TrainOptions(batch_size=B, accumulation_steps=A, learning_rate=LEARNING_RATE,
                                grad_clip=1.0, dtype=args.dtype, fused_adamw=fused, compile=compile_,
                                compile_mode=args.compile_mode, max_steps=steps * A)

        def train(on_step):
            res = ref.train(model, get_batch, iters, opts, on_optimizer_step=on_step)
            return res.ce[-1] + res.aux[-1]
    params = sum(p.numel() for p in model.parameters())
    stamps = []

    def sync():
        if cuda:
            torch.cuda.synchronize()

    def on_step(n):
        sync()
        stamps.append(time.perf_counter())

    sync()
    t0 = time.perf_counter()
    last_loss = train(on_step)
    times = [b - a for a, b in zip([t0] + stamps[:-1], stamps)]
    measured = times[args.warmup:]
    window = sum(measured)
    out = {"tokens_per_s": args.measure * A * B * (L - 1) / window,
           "step_time_ms": window / args.measure * 1e3,
           "peak_memory_mib": torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
           "peak_reserved_mib": torch.cuda.max_memory_reserved() / 2**20 if cuda else None,
           "peak_memory_kind": "torch.cuda.max_memory_allocated",
           "fused_adamw": fused, "parameters": params,
           "first_optimizer_step_s": times[0], "step_times_s": times, "last_loss": last_loss}
    if compile_:
        out["compile_s"] = times[0] - statistics.median(measured)
    del model, train
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()
    return out


def fastest_torch(r: dict) -> None:
    """Records the config's fastest PyTorch row and ours ÷ that row."""
    rates = {m: r[m]["tokens_per_s"] for m in TORCH_MODES if r.get(m, {}).get("tokens_per_s")}
    if not rates:
        return
    best = max(rates, key=rates.get)
    r["fastest_torch"] = best
    ours = r.get("ours", {}).get("tokens_per_s")
    if ours:
        r["ours_over_fastest_torch"] = ours / rates[best]


# ----------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------

def fmt(v, spec):
    return "–" if v is None else format(v, spec)


def markdown(report: dict) -> str:
    s = report["settings"]
    out = [f"GPU: **{report['gpu']}** · PyTorch {report['torch']} (CUDA {report['cuda']}) · "
           f"batch {s['batch_size']} × {s['max_seq_len'] - 1} tokens, accumulation {s['accumulation_steps']} "
           f"· {s['dtype']} · {s['warmup']} warm-up + {s['measure']} measured optimizer steps",
           "",
           "| config | trainer | tokens/s | step time (ms) | peak memory (MiB) | compile time (s) "
           "| ours ÷ fastest PyTorch |",
           "|---|---|---:|---:|---:|---:|---|"]
    for name, r in report["results"].items():
        best = r.get("fastest_torch")
        for mode in MODES:
            m = r.get(mode)
            if m is None:
                continue
            if "error" in m:
                out.append(f"| {r['label']} | {MODE_LABEL[mode]} | error: {m['error'][:60]} | | | | |")
                continue
            if mode == "ours":
                ct = r.get("mindc_compile_s")
                comp = (f"{ct:.1f} (mindc)" if ct is not None else "–") + \
                    (f"; startup {m['startup_s']:.1f}" if m.get("startup_s") is not None else "")
            else:
                comp = fmt(m.get("compile_s"), ".1f")
            if mode == "ours":
                ratio = r.get("ours_over_fastest_torch")
                vs = f"**{ratio:.2f}** vs {MODE_LABEL[best]}" if ratio is not None else "–"
            else:
                vs = "fastest PyTorch" if mode == best else ""
            out.append(f"| {r['label']} | {MODE_LABEL[mode]} | {m['tokens_per_s']:,.0f} | "
                       f"{m['step_time_ms']:.1f} | {fmt(m.get('peak_memory_mib'), ',.0f')} | {comp} | {vs} |")
    reserved = ", ".join(f"{r['label']} {MODE_LABEL[m]} {r[m]['peak_reserved_mib']:,.0f} MiB"
                         for r in report["results"].values() for m in TORCH_MODES
                         if r.get(m, {}).get("peak_reserved_mib") is not None)
    out += ["",
            "Peak memory: ours = growth of used device memory (cudaMemGetInfo) from before the bundle "
            "was loaded, everything included; PyTorch = torch.cuda.max_memory_allocated (tensors only"
            + (f"; max reserved by the caching allocator: {reserved}" if reserved else "") + ").",
            "Compile time: ours = `mindc compile` (given with --mindc-time) and the trainer's startup "
            "(bundle load to first step); torch.compile = first optimizer step minus a measured one.",
            "PyTorch rows: (ref) = test/parity/minimind_ref.py, fused AdamW; (MiniMind) = MiniMind's "
            "original model_minimind.py, eager with torch's default AdamW, compile = torch.compile(model) "
            "with fused AdamW. Ours ÷ fastest PyTorch = ours' tokens/s over the fastest PyTorch row "
            "of the config."]
    if report.get("orig_skipped"):
        out.append(f"MiniMind rows skipped: {report['orig_skipped']}")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Compiled MiniMind trainers vs PyTorch eager/compile "
                                 "(our reference and MiniMind's original code).")
    ap.add_argument("--trainer", action="append", metavar="NAME=PATH",
                    help="trainer per config (26m, 104m, moe); defaults: " +
                    ", ".join(f"{k}={v[2]}" for k, v in CONFIGS.items()))
    ap.add_argument("--mindc-time", action="append", metavar="NAME=SECONDS",
                    help="measured `mindc compile` time for a config")
    ap.add_argument("--configs", default="26m,104m,moe")
    ap.add_argument("--modes", default=",".join(MODES), help="default: %(default)s")
    ap.add_argument("--minimind-dir", default=DEFAULT_MINIMIND_DIR,
                    help="MiniMind's original code (model_minimind.py) for the orig-* modes; "
                    "default: <repo>/../shared/reference/minimind2")
    ap.add_argument("--warmup", type=int, default=3, help="warm-up optimizer steps")
    ap.add_argument("--measure", type=int, default=5, help="measured optimizer steps")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-seq-len", type=int, default=512)
    ap.add_argument("--accumulation-steps", type=int, default=8)
    ap.add_argument("--compile-mode", default=None, help="torch.compile mode (default: default)")
    ap.add_argument("--workdir", default=None, help="scratch directory (default: a temp dir)")
    ap.add_argument("--json", default="bench-results.json")
    ap.add_argument("--markdown", default=None, help="also write the table here")
    ap.add_argument("--device", default="cuda", help=argparse.SUPPRESS)  # cpu: harness tests only
    ap.add_argument("--dtype", default="bfloat16", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    ref._require_torch()
    if _cuda(args.device) and not torch.cuda.is_available():
        sys.exit("bench: needs a CUDA GPU")
    trainers = {k: v[2] for k, v in CONFIGS.items()}
    trainers.update(parse_kv(args.trainer, "trainer"))
    mindc_times = {k: float(v) for k, v in parse_kv(args.mindc_time, "mindc-time").items()}
    names = [c.strip() for c in args.configs.split(",") if c.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for n in names:
        if n not in CONFIGS:
            sys.exit(f"bench: unknown config {n!r}")
    for m in modes:
        if m not in MODES:
            sys.exit(f"bench: unknown mode {m!r}")
    if "ours" in modes:
        for n in names:
            if not os.access(trainers[n], os.X_OK):
                sys.exit(f"bench: trainer {trainers[n]} for {n} is missing or not executable")
    orig, orig_skipped = None, None
    if any(m.startswith("orig-") for m in modes):
        orig, orig_skipped = load_original(args.minimind_dir)
        if orig is None:
            print(f"bench: skipping orig-eager/orig-compile: {orig_skipped}", flush=True)
            modes = [m for m in modes if not m.startswith("orig-")]
        else:
            print(f"bench: MiniMind's original code: {orig.__file__}")
    work = args.workdir or tempfile.mkdtemp(prefix="mind-bench-")
    gpu = torch.cuda.get_device_name() if _cuda(args.device) else args.device
    print(f"GPU: {gpu}, PyTorch {torch.__version__}, scratch {work}", flush=True)
    t_all = time.perf_counter()
    A, B, L = args.accumulation_steps, args.batch_size, args.max_seq_len
    report = {"gpu": gpu, "torch": torch.__version__, "cuda": torch.version.cuda,
              "settings": {"batch_size": B, "max_seq_len": L, "accumulation_steps": A,
                           "warmup": args.warmup, "measure": args.measure, "dtype": args.dtype,
                           "compile_mode": args.compile_mode or "default", "modes": modes,
                           "minimind_dir": args.minimind_dir},
              "orig_skipped": orig_skipped, "results": {}}
    for name in names:
        label, cfg_rel, _ = CONFIGS[name]
        cfg_path = os.path.join(REPO, cfg_rel)
        cfg = ref.MiniMindConfig.from_json(cfg_path)
        cw = os.path.join(work, name)
        os.makedirs(cw, exist_ok=True)
        num_samples = (args.warmup + args.measure) * A * B
        tokens = os.path.join(cw, "tokens.safetensors")
        samples = parity.make_token_file(tokens, num_samples, L, cfg.vocab_size)
        r = {"label": label, "config": cfg_rel, "parameters": ref.param_count(cfg),
             "mindc_compile_s": mindc_times.get(name)}
        report["results"][name] = r
        for mode in modes:
            t = time.perf_counter()
            print(f"\n=== {label}: {MODE_LABEL[mode]} ===", flush=True)
            try:
                if mode == "ours":
                    gc.collect()
                    if _cuda(args.device):
                        torch.cuda.empty_cache()
                    r[mode] = run_ours(trainers[name], tokens, cw, args)
                else:
                    samples_gpu = samples.to(args.device)
                    r[mode] = run_torch(cfg, cfg_path, samples_gpu, mode, args, orig)
                    del samples_gpu
            except Exception as e:  # report and go on with the other runs
                import traceback
                traceback.print_exc()
                r[mode] = {"error": f"{type(e).__name__}: {e}"}
            m = r[mode]
            if "error" not in m:
                print(f"  {m['tokens_per_s']:,.0f} tokens/s, {m['step_time_ms']:.1f} ms/step, peak "
                      f"{fmt(m.get('peak_memory_mib'), ',.0f')} MiB, last loss {m['last_loss']:.4f} "
                      f"({time.perf_counter() - t:.1f}s)", flush=True)
        fastest_torch(r)
        with open(args.json, "w") as f:  # partial results survive a later crash
            json.dump(report, f, indent=1)
    report["total_s"] = time.perf_counter() - t_all
    table = markdown(report)
    print("\n" + table + f"\n\n(total {report['total_s']:.0f}s)")
    report["markdown"] = table
    with open(args.json, "w") as f:
        json.dump(report, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table + "\n")
    print(f"bench: wrote {args.json}" + (f" and {args.markdown}" if args.markdown else ""))
    failed = [f"{n}/{m}" for n, r in report["results"].items() for m in modes
              if "error" in r.get(m, {})]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
