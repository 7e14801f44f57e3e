#!/usr/bin/env python3
"""Loss parity: the compiled trainer against the PyTorch reference (bf16).

For each config (minimind-26m, minimind-moe):
  1. write a deterministic token file (safetensors, 1-D int32 `tokens`):
     learnable synthetic text-like data, or the first tokens of --tokens;
     exactly steps * accumulation * batch samples of max_seq_len tokens, so
     both trainers see the same LR schedule length;
  2. build the PyTorch MiniMind (seed 42) and save its fp32 weights with the
     spec §2 names (the compiled trainer's --from_weight);
  3. run the compiled trainer on them in file order (--shuffle 0), metrics
     as JSONL, then the PyTorch trainer on the same samples in the same order
     (bf16 autocast, MiniMind's loop);
  4. compare the loss (CE + aux, as MiniMind logs it) at every logged
     micro-step: |ours - torch| / torch <= --tol (2%). Exit 1 on failure.

    python3 test/parity/parity.py                      # 200 optimizer steps
    python3 test/parity/parity.py --quick              # 25 optimizer steps
    python3 test/parity/parity.py --only moe --m26-trainer X --moe-trainer Y

Needs a CUDA GPU and PyTorch; see test/parity/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import traceback
from typing import Dict, List, Optional, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import minimind_ref as ref  # noqa: E402
import original_minimind as original  # noqa: E402

torch = ref.torch

CONFIGS = {
    "26m": "configs/minimind-26m.json",
    "moe": "configs/minimind-moe.json",
}
DEFAULT_TRAINERS = {
    "26m": ".device/m26-bf16-trainer",
    "moe": ".device/moe-bf16-trainer",
}


# ----------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------

def synthetic_samples(num_samples: int, seq_len: int, vocab: int, seed: int = 1234):
    """[num_samples, seq_len] int64 of learnable, text-like token ids.

    Every sample is a document: <bos>=1, then a first-order Markov chain over
    the word ids [3, vocab) (Zipf-distributed unigrams; each token has 8
    likely successors with weights 1/(j+1); 10% of the tokens are drawn from
    the unigram distribution instead). 70% of the documents fill the sample;
    30% end early with <eos>=2 and are padded with 0 (masked out).
    Deterministic for a given (num_samples, seq_len, vocab, seed)."""
    ref._require_torch()
    g = torch.Generator().manual_seed(seed)
    first, K = 3, 8
    n_words = vocab - first
    unigram = 1.0 / torch.arange(1, n_words + 1, dtype=torch.float64) ** 1.1
    unigram = (unigram / unigram.sum()).float()
    word_of_rank = first + torch.randperm(n_words, generator=g)

    def draw_words(n):
        return word_of_rank[torch.multinomial(unigram, n, replacement=True, generator=g)]

    succ = draw_words(vocab * K).view(vocab, K)
    slot_w = 1.0 / torch.arange(1, K + 1, dtype=torch.float32)
    N = num_samples
    out = torch.empty(N, seq_len, dtype=torch.int64)
    out[:, 0] = 1
    cur = draw_words(N)
    out[:, 1] = cur
    for t in range(2, seq_len):
        nxt = succ[cur, torch.multinomial(slot_w, N, replacement=True, generator=g)]
        noise = torch.rand(N, generator=g) < 0.1
        nxt = torch.where(noise, draw_words(N), nxt)
        out[:, t] = nxt
        cur = nxt
    short = torch.rand(N, generator=g) < 0.3
    length = torch.randint(seq_len // 8, seq_len - 1, (N,), generator=g)  # eos position
    pos = torch.arange(seq_len)[None, :]
    ends = short[:, None] & (pos == length[:, None])
    pads = short[:, None] & (pos > length[:, None])
    out[ends] = 2
    out[pads] = 0
    return out


def read_token_file(path: str) -> "torch.Tensor":
    """1-D int64 ids from a safetensors file (`tokens`) or whitespace-separated text."""
    if path.endswith(".safetensors"):
        t = ref.read_safetensors(path)
        if "tokens" not in t or t["tokens"].dim() != 1:
            sys.exit(f"{path}: needs a 1-D integer tensor named 'tokens'")
        return t["tokens"].long()
    with open(path) as f:
        return torch.tensor([int(w) for w in f.read().split()], dtype=torch.int64)


def make_token_file(path: str, num_samples: int, seq_len: int, vocab: int,
                    corpus: Optional[str] = None, seed: int = 1234) -> "torch.Tensor":
    """Writes exactly num_samples * seq_len tokens (int32) to `path` and
    returns the samples [num_samples, seq_len] int64 as the trainers cut them."""
    if corpus:
        ids = read_token_file(corpus)
        need = num_samples * seq_len
        if ids.numel() < need:
            sys.exit(f"{corpus}: {ids.numel()} tokens, need {need} "
                     f"({num_samples} samples of {seq_len}); use fewer --steps")
        ids = ids[:need]
        if int(ids.min()) < 0 or int(ids.max()) >= vocab:
            sys.exit(f"{corpus}: token ids outside [0, {vocab})")
        samples = ids.view(num_samples, seq_len)
    else:
        samples = synthetic_samples(num_samples, seq_len, vocab, seed)
    ref.write_safetensors(path, {"tokens": samples.reshape(-1).to(torch.int32)},
                          {"format": "pt", "source": corpus or f"synthetic seed {seed}"})
    return samples


# ----------------------------------------------------------------------------
# The compiled trainer
# ----------------------------------------------------------------------------

def read_metrics(path: str) -> List[dict]:
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def run_trainer(trainer: str, flags: Sequence[str], log_path: str) -> float:
    """Runs the trainer, output to log_path; exits with its tail on failure.
    Returns the wall time in seconds."""
    cmd = [trainer] + list(flags)
    print("  $ " + " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    with open(log_path, "w") as log:
        rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - t0
    with open(log_path) as f:
        lines = f.read().splitlines()
    if rc != 0:
        print("\n".join(lines[-30:]))
        raise RuntimeError(f"{trainer} exited with status {rc} (log: {log_path})")
    for line in lines[:1] + [l for l in lines if "peak device memory" in l] + lines[-2:-1]:
        print("    " + line)
    return wall


# ----------------------------------------------------------------------------
# Comparison (pure Python)
# ----------------------------------------------------------------------------

def compare(metrics: List[dict], torch_ce: Sequence[float], torch_aux: Sequence[float],
            torch_lr: Sequence[float], tol: float, expected_steps: Sequence[int]) -> dict:
    """Row per logged micro-step of the compiled trainer (metrics `step` is
    1-based: micro-step index step-1). Loss = CE + aux, as MiniMind logs."""
    rows, problems = [], []
    seen = set()
    for m in metrics:
        s = int(m["step"])
        i = s - 1
        seen.add(s)
        if i >= len(torch_ce):
            problems.append(f"step {s}: the PyTorch run has only {len(torch_ce)} micro-steps")
            continue
        ours = float(m["loss"]) + float(m.get("aux_loss", 0.0))
        theirs = torch_ce[i] + torch_aux[i]
        dev = abs(ours - theirs) / abs(theirs) if theirs != 0 else float("inf")
        lr_dev = abs(float(m["lr"]) - torch_lr[i]) / torch_lr[i]
        rows.append({"step": s, "lr": float(m["lr"]), "ours": ours, "torch": theirs,
                     "ours_aux": float(m.get("aux_loss", 0.0)), "torch_aux": torch_aux[i],
                     "dev": dev, "lr_dev": lr_dev, "ok": dev <= tol})
        if not math.isfinite(ours):
            problems.append(f"step {s}: our loss is {ours}")
    missing = [s for s in expected_steps if s not in seen]
    if missing:
        problems.append(f"logged steps missing from the metrics: {missing[:10]}")
    bad_lr = [r["step"] for r in rows if r["lr_dev"] > 1e-5]
    if bad_lr:
        problems.append(f"LR differs at steps {bad_lr[:10]} (schedule length mismatch?)")
    worst = max(rows, key=lambda r: r["dev"]) if rows else None
    failed = [r["step"] for r in rows if not r["ok"]]
    if failed:
        problems.append(f"{len(failed)} logged steps beyond {tol:.1%}: {failed[:10]}")
    return {"rows": rows, "max_dev": worst["dev"] if worst else float("nan"),
            "max_dev_step": worst["step"] if worst else None,
            "problems": problems, "ok": not problems and bool(rows)}


def format_table(rows: List[dict], moe: bool, every: int = 1) -> str:
    """Every `every`-th row, plus the first, the last, the worst and every
    row beyond tolerance."""
    worst = max(range(len(rows)), key=lambda i: rows[i]["dev"]) if rows else -1
    head = f"{'step':>6} {'lr':>11} {'ours':>10} {'torch':>10} {'dev':>8}"
    if moe:
        head += f" {'aux ours':>10} {'aux torch':>10}"
    out = [head]
    for i, r in enumerate(rows):
        if not (i % every == 0 or i == len(rows) - 1 or i == worst or not r["ok"]):
            continue
        line = (f"{r['step']:>6} {r['lr']:>11.4e} {r['ours']:>10.5f} {r['torch']:>10.5f} "
                f"{r['dev'] * 100:>7.3f}%")
        if moe:
            line += f" {r['ours_aux']:>10.6f} {r['torch_aux']:>10.6f}"
        if not r["ok"]:
            line += "  <-- beyond tolerance"
        elif i == worst:
            line += "  <-- max"
        out.append(line)
    return "\n".join(out)


def expected_logged_steps(micro_steps: int, log_interval: int) -> List[int]:
    """mind-trainer logs micro-step `it` when (it+1) % log_interval == 0, it == 0
    or it is the last one; `step` = it + 1."""
    return sorted({1, micro_steps} | {s for s in range(1, micro_steps + 1) if s % log_interval == 0})


# ----------------------------------------------------------------------------
# One config
# ----------------------------------------------------------------------------

def run_config(name: str, args) -> dict:
    cfg_path = os.path.join(args.repo, CONFIGS[name])
    trainer = getattr(args, f"{'m26' if name == '26m' else 'moe'}_trainer")
    cfg = ref.MiniMindConfig.from_json(cfg_path)
    work = os.path.join(args.workdir, name)
    os.makedirs(work, exist_ok=True)
    B, L, A = args.batch_size, args.max_seq_len, args.accumulation_steps
    micro = args.steps * A
    num_samples = micro * B
    print(f"\n=== {name}: {cfg_path}, {ref.param_count(cfg):,} parameters, {args.steps} optimizer "
          f"steps ({micro} micro-steps of {B} x {L - 1} tokens) ===", flush=True)

    t0 = time.perf_counter()
    tokens_path = os.path.join(work, "tokens.safetensors")
    samples = make_token_file(tokens_path, num_samples, L, cfg.vocab_size, args.tokens, args.data_seed)
    masked = float((samples[:, 1:] == 0).float().mean())
    print(f"  data: {tokens_path} ({samples.numel():,} tokens, {masked:.1%} of targets masked, "
          f"{time.perf_counter() - t0:.1f}s)", flush=True)

    model = ref.build_model(cfg, seed=args.seed, device="cpu")
    init_path = os.path.join(work, "init.safetensors")
    ref.save_weights(model, init_path, cfg)
    if args.reference == "original":  # MiniMind's own code, same weights
        model = original.LogitsAndAux(original.build_original(args.original_module, cfg_path, "cpu"))
    ref.load_weights(model.model if args.reference == "original" else model,
                     ref.read_safetensors(init_path))  # train what the file holds
    print(f"  init: {init_path} (fp32, seed {args.seed})", flush=True)

    metrics_path = os.path.join(work, "ours.metrics.jsonl")
    if os.path.exists(metrics_path):
        os.remove(metrics_path)
    flags = ["--from_weight", init_path, "--data_path", tokens_path,
             "--batch_size", str(B), "--max_seq_len", str(L), "--accumulation_steps", str(A),
             "--learning_rate", repr(args.learning_rate), "--grad_clip", "1.0",
             "--log_interval", str(args.log_interval), "--metrics", metrics_path,
             "--max_steps", str(micro), "--shuffle", "0",
             "--save_dir", os.path.join(work, "out"), "--save_interval", "0"]
    ours_wall = run_trainer(trainer, flags, os.path.join(work, "ours.log"))
    metrics = read_metrics(metrics_path)

    device = torch.device(args.device)
    model = model.to(device)
    gpu_samples = samples.to(device)
    opts = ref.TrainOptions(batch_size=B, accumulation_steps=A, learning_rate=args.learning_rate,
                            grad_clip=1.0, dtype=args.torch_dtype, fused_adamw=device.type == "cuda",
                            compile=args.compile, max_steps=micro)
    print(f"  PyTorch {torch.__version__} on {device}, "
          f"{'MiniMind original code' if args.reference == 'original' else 'minimind_ref.py'}: "
          f"{args.torch_dtype}"
          f"{' autocast' if args.torch_dtype != 'float32' else ''}, "
          f"{'fused ' if opts.fused_adamw else ''}AdamW, {'torch.compile' if args.compile else 'eager'}",
          flush=True)
    res = ref.train(model, ref.batches_from_samples(gpu_samples, B), num_samples // B, opts)
    print(f"  PyTorch: {res.seconds:.1f}s ({micro * B * (L - 1) / res.seconds:,.0f} tokens/s); "
          f"ours: {ours_wall:.1f}s wall", flush=True)
    del model, gpu_samples
    if device.type == "cuda":
        torch.cuda.empty_cache()

    cmp_ = compare(metrics, res.ce, res.aux, res.lr, args.tol,
                   expected_logged_steps(micro, args.log_interval))
    every = args.table_every or (1 if len(cmp_["rows"]) <= 60 else 5)
    table = format_table(cmp_["rows"], cfg.use_moe)
    with open(os.path.join(work, "table.txt"), "w") as f:
        f.write(table + "\n")
    if every > 1:
        print(f"  (every {every}th of {len(cmp_['rows'])} logged steps shown, all compared; "
              f"full table: {os.path.join(work, 'table.txt')})")
    print(format_table(cmp_["rows"], cfg.use_moe, every))
    verdict = "PASS" if cmp_["ok"] else "FAIL"
    print(f"  {name}: {len(cmp_['rows'])} logged steps, max |ours - torch| / torch = "
          f"{cmp_['max_dev'] * 100:.3f}% at step {cmp_['max_dev_step']} "
          f"(tolerance {args.tol:.1%}): {verdict}")
    for p in cmp_["problems"]:
        print(f"  problem: {p}")
    return {"config": cfg_path, "trainer": trainer, "steps": args.steps, "micro_steps": micro,
            "max_dev": cmp_["max_dev"], "max_dev_step": cmp_["max_dev_step"], "ok": cmp_["ok"],
            "problems": cmp_["problems"], "rows": cmp_["rows"], "torch_seconds": res.seconds,
            "ours_wall_seconds": ours_wall, "grad_norms_torch": res.grad_norm}


def main(argv=None):
    ap = argparse.ArgumentParser(description="Loss parity of the compiled trainer and the PyTorch "
                                             "reference (bf16).")
    ap.add_argument("--repo", default=os.path.normpath(os.path.join(HERE, "..", "..")),
                    help="repository root (for configs/)")
    ap.add_argument("--m26-trainer", default=DEFAULT_TRAINERS["26m"],
                    help="trainer compiled from configs/minimind-26m.json (bf16, batch 32, seq 512)")
    ap.add_argument("--moe-trainer", default=DEFAULT_TRAINERS["moe"],
                    help="trainer compiled from configs/minimind-moe.json")
    ap.add_argument("--only", choices=sorted(CONFIGS), action="append",
                    help="run only this config (repeatable)")
    ap.add_argument("--steps", type=int, default=None, help="optimizer steps (default 200; --quick 25)")
    ap.add_argument("--quick", action="store_true", help="25 optimizer steps")
    ap.add_argument("--tokens", default=None,
                    help="tokenized corpus (safetensors `tokens` or text ids) instead of synthetic data")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-seq-len", type=int, default=512)
    ap.add_argument("--accumulation-steps", type=int, default=8)
    ap.add_argument("--learning-rate", type=float, default=5e-4)
    ap.add_argument("--log-interval", type=int, default=8)
    ap.add_argument("--tol", type=float, default=0.02)
    ap.add_argument("--table-every", type=int, default=0,
                    help="print every Nth logged step (default: all up to 60 rows, else every 5th)")
    ap.add_argument("--seed", type=int, default=42, help="init seed")
    ap.add_argument("--data-seed", type=int, default=1234)
    ap.add_argument("--torch-dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    ap.add_argument("--compile", action="store_true", help="torch.compile the PyTorch side")
    ap.add_argument("--reference", choices=["spec", "original"], default="spec",
                    help="the PyTorch side: minimind_ref.py (written from the spec) or MiniMind's "
                         "own model_minimind.py from --minimind-dir")
    ap.add_argument("--minimind-dir", default=os.path.normpath(
                        os.path.join(HERE, "..", "..", "..", "shared", "reference", "minimind2")),
                    help="directory of MiniMind's model_minimind.py (default: %(default)s)")
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "mind-parity"),
                    help="scratch directory: token files, init weights, logs (default: %(default)s)")
    ap.add_argument("--device", default="cuda", help="device of the PyTorch side (cpu: harness tests)")
    ap.add_argument("--json", default=None, help="summary file (default WORKDIR/parity.json)")
    args = ap.parse_args(argv)
    if args.steps is None:
        args.steps = 25 if args.quick else 200
    ref._require_torch()
    if args.reference == "original":
        args.original_module, why = original.load_original(args.minimind_dir)
        if args.original_module is None:
            sys.exit(f"parity: --reference original: {why}")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("parity: needs a CUDA GPU")
    for name in args.only or sorted(CONFIGS):
        t = getattr(args, f"{'m26' if name == '26m' else 'moe'}_trainer")
        if not os.access(t, os.X_OK):
            sys.exit(f"parity: trainer {t} for {name} is missing or not executable "
                     f"(build it with mindc compile {CONFIGS[name]} -o {t})")
    gpu = torch.cuda.get_device_name() if args.device.startswith("cuda") else args.device
    print(f"GPU: {gpu}, PyTorch {torch.__version__}")
    results, ok = {}, True
    for name in args.only or ["26m", "moe"]:
        try:
            results[name] = run_config(name, args)
        except Exception as e:  # keep going with the other config
            traceback.print_exc()
            print(f"  {name}: ERROR: {e}")
            results[name] = {"ok": False, "error": str(e)}
        ok &= results[name]["ok"]
    summary = {"gpu": gpu, "torch": torch.__version__, "reference": args.reference,
               "tolerance": args.tol, "results": results, "ok": ok}
    path = args.json or os.path.join(args.workdir, "parity.json")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(summary, f, indent=1)
    print("\nsummary:")
    for name, r in results.items():
        if "error" in r:
            print(f"  {name}: ERROR {r['error']}")
        else:
            print(f"  {name}: max deviation {r['max_dev'] * 100:.3f}% over {len(r['rows'])} logged "
                  f"steps: {'PASS' if r['ok'] else 'FAIL'}")
    print(f"parity: {'PASS' if ok else 'FAIL'} (details: {path})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
