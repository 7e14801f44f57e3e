#!/usr/bin/env python3
"""Checks mindc's tokenizer against the reference implementation (Hugging Face
`tokenizers`) and measures encoding speed of both. Needs `pip install
tokenizers`; runs on any machine that has it (the GPU machine), not in CI.

Checks, each a hard failure when it does not hold:
  1. HF loads every given tokenizer.json (the MiniMind one and one written by
     `mind-data train-tokenizer`) and finds specials 0, 1, 2.
  2. For every text of --texts, HF's ids (no special tokens added) equal the
     ids `mind-data tokenize` printed for that tokenizer (one JSON array per
     line, given as a file with --pair, or produced here with --mind-data),
     and HF decodes them back to the text.
  3. With --golden: HF reproduces the golden file (sanity of the HF version).
Speed (--bench CORPUS.jsonl, needs --mind-data): encode MB/s of HF
(`encode` in a loop on one thread, `encode_batch` on N threads) and of ours
(`mind-data bench`, the same texts, a cold cache per pass, best of 3).
Informational (--train-reference CORPUS --vocab-size N): trains HF's
BpeTrainer with MiniMind's settings and reports how many merges agree with
the given trained tokenizer (the two trainers need not be identical).

Example (from the repository root, after `bash scripts/build.sh mind-data`):
  D=build/data; mkdir -p $D
  bash scripts/make-sample-corpus.sh $D/sample.jsonl
  build/bin/mind-data train-tokenizer --vocab-size 6400 -o $D/trained.json $D/sample.jsonl
  python3 test/data/check_tokenizer_reference.py --mind-data build/bin/mind-data \\
      --texts $D/sample.jsonl --texts-golden ../shared/data/golden/tokenizer_golden_public.json \\
      --tokenizer ../shared/data/minimind_tokenizer.json --tokenizer $D/trained.json \\
      --golden ../shared/data/golden/tokenizer_golden_public.json \\
      --bench $D/sample.jsonl --threads 1,8 \\
      --train-reference $D/sample.jsonl --vocab-size 6400 --json-out $D/tokenizer-check.json
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


# Texts where the split regex's Unicode classes matter (\s as White_Space incl.
# U+0085, letters vs marks vs numbers in many scripts), plus random strings.
EDGE_CASES = [
    "a\u0085b", "x\u2028y\u2029z", "\u00a0nbsp\u3000ideo\u2003em", "tab\t\tend\t",
    "e\u0301 combining", "\u0663\u0664 arabic-indic", "\u2167 roman", "\u00bd half",
    "\U0001F468\u200d\U0001F469\u200d\U0001F467 zwj", "\ufeffbom", "a\u200bzwsp",
    "it's 'quoted' you'RE we'LL", "  \n\n  ", "\r\n\r\n", "\x00nul\x01", "<|im_start|>x<|im_end",
    "\U00020000\U0002A6D6 ext-b", "\u0e01\u0e34 thai", "\ud55c\uad6d\uc5b4 hangul",
]


def random_texts(count, seed=1234):
    import random
    rng = random.Random(seed)
    ranges = [(0x20, 0x7E), (0x09, 0x0D), (0xA0, 0xFF), (0x370, 0x4FF), (0x300, 0x36F),
              (0x4E00, 0x9FFF), (0x3000, 0x303F), (0xFF00, 0xFFEF), (0x3040, 0x30FF),
              (0xAC00, 0xD7A3), (0x1F300, 0x1F6FF), (0x20000, 0x2A6DF), (0x2000, 0x206F),
              (0x600, 0x6FF), (0xE00, 0xE7F), (0x85, 0x85), (0x660, 0x669)]
    extra = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", " ", "'s", "'ll", "\r\n", "\u200d"]
    out = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(0, 60)):
            r = rng.randrange(len(ranges) + 2)
            if r >= len(ranges):
                parts.append(rng.choice(extra))
            else:
                lo, hi = ranges[r]
                parts.append(chr(rng.randint(lo, hi)))
        out.append("".join(parts))
    return out


def read_jsonl_texts(path, field="text"):
    texts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                texts.append(json.loads(line)[field])
    return texts


def read_golden_texts(path):
    with open(path, encoding="utf-8") as f:
        return [c["text"] for c in json.load(f)["cases"]]


def write_jsonl(texts, path):
    with open(path, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")


def ours_ids(mind_data, tokenizer, texts_jsonl):
    out = subprocess.run([mind_data, "tokenize", "--tokenizer", tokenizer, texts_jsonl],
                         check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def check_pair(tokenizer_path, texts, ids, failures):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(tokenizer_path)
    specials = [tok.token_to_id(s) for s in ("<|endoftext|>", "<|im_start|>", "<|im_end|>")]
    if specials != [0, 1, 2]:
        failures.append(f"{tokenizer_path}: specials are {specials}, not [0, 1, 2]")
    if len(ids) != len(texts):
        failures.append(f"{tokenizer_path}: {len(ids)} id lines for {len(texts)} texts")
        return 0
    bad = 0
    for i, (text, mine) in enumerate(zip(texts, ids)):
        ref = tok.encode(text, add_special_tokens=False).ids
        if ref != mine:
            bad += 1
            if bad <= 5:
                failures.append(f"{tokenizer_path}: text #{i} {text[:60]!r}: HF {ref[:12]}... "
                                f"ours {mine[:12]}...")
        elif tok.decode(ref, skip_special_tokens=False) != text:
            bad += 1
            if bad <= 5:
                failures.append(f"{tokenizer_path}: text #{i} {text[:60]!r}: HF does not "
                                "decode back")
    if bad > 5:
        failures.append(f"{tokenizer_path}: {bad} texts differ in all")
    print(f"  {tokenizer_path}: vocab {tok.get_vocab_size()}, {len(texts)} texts, "
          f"{len(texts) - bad} identical")
    return bad


def hf_bench_worker(tokenizer_path, corpus, repeat):
    """Runs in a child process so RAYON_NUM_THREADS takes effect."""
    from tokenizers import Tokenizer
    texts = read_jsonl_texts(corpus)
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    best_single, best_batch = float("inf"), float("inf")
    for _ in range(repeat):
        tok = Tokenizer.from_file(tokenizer_path)  # cold cache, like ours
        t0 = time.perf_counter()
        for t in texts:
            tok.encode(t, add_special_tokens=False)
        best_single = min(best_single, time.perf_counter() - t0)
        tok = Tokenizer.from_file(tokenizer_path)
        t0 = time.perf_counter()
        tok.encode_batch(texts, add_special_tokens=False)
        best_batch = min(best_batch, time.perf_counter() - t0)
    print(json.dumps({"bytes": nbytes, "single_s": best_single, "batch_s": best_batch}))


def bench(args, tokenizer_path, failures):
    results = []
    threads = [int(t) for t in args.threads.split(",")]
    for n in threads:
        env = dict(os.environ, RAYON_NUM_THREADS=str(n), TOKENIZERS_PARALLELISM="true")
        hf = json.loads(subprocess.run(
            [sys.executable, __file__, "--hf-bench-worker", tokenizer_path, args.bench,
             "--repeat", str(args.repeat)],
            check=True, capture_output=True, text=True, env=env).stdout.splitlines()[-1])
        ours = json.loads(subprocess.run(
            [args.mind_data, "bench", "--tokenizer", tokenizer_path, "--threads", str(n),
             "--repeat", str(args.repeat), "--json", args.bench],
            check=True, capture_output=True, text=True).stdout.splitlines()[-1])
        mb = hf["bytes"] / 1e6
        row = {
            "tokenizer": tokenizer_path, "threads": n, "mb": round(mb, 2),
            "hf_encode_loop_mb_s": round(mb / hf["single_s"], 2),
            "hf_encode_batch_mb_s": round(mb / hf["batch_s"], 2),
            "ours_mb_s": round(ours["mb_per_s"], 2),
        }
        if abs(ours["bytes"] - hf["bytes"]) > 0:
            failures.append(f"bench: ours read {ours['bytes']} bytes, HF {hf['bytes']}")
        results.append(row)
        print(f"  {n:3d} threads: HF encode loop {row['hf_encode_loop_mb_s']:8.2f} MB/s, "
              f"HF encode_batch {row['hf_encode_batch_mb_s']:8.2f} MB/s, "
              f"mind-data {row['ours_mb_s']:8.2f} MB/s  ({mb:.1f} MB)")
    return results


def train_reference(corpus, vocab_size, ours_path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    # MiniMind's train_tokenizer.py settings.
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(read_jsonl_texts(corpus), trainer=trainer)
    tok.decoder = decoders.ByteLevel()
    ref = json.loads(tok.to_str())
    with open(ours_path, encoding="utf-8") as f:
        ours = json.load(f)
    norm = lambda ms: [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in ms]
    rm, om = norm(ref["model"]["merges"]), norm(ours["model"]["merges"])
    same_prefix = next((i for i, (a, b) in enumerate(zip(rm, om)) if a != b), min(len(rm), len(om)))
    shared_vocab = len(set(ref["model"]["vocab"]) & set(ours["model"]["vocab"]))
    info = {"hf_merges": len(rm), "ours_merges": len(om), "identical_prefix": same_prefix,
            "shared_merges": len(set(rm) & set(om)), "shared_vocab": shared_vocab}
    print(f"  HF trainer vs ours: {info}")
    return info


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--hf-bench-worker":
        repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
        hf_bench_worker(sys.argv[2], sys.argv[3], repeat)
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mind-data", help="the mind-data binary (to tokenize here and to bench)")
    p.add_argument("--tokenizer", action="append", default=[],
                   help="tokenizer.json to check; ours via `mind-data tokenize` (repeatable)")
    p.add_argument("--pair", nargs=2, action="append", default=[], metavar=("TOKENIZER", "IDS"),
                   help="tokenizer.json and a file of `mind-data tokenize` output for --texts")
    p.add_argument("--texts", action="append", default=[], help="JSONL with \"text\" (repeatable)")
    p.add_argument("--texts-golden", action="append", default=[],
                   help="the texts of a golden tokenizer file (repeatable)")
    p.add_argument("--golden", help="golden file: HF must reproduce its ids")
    p.add_argument("--random", type=int, default=2000,
                   help="random Unicode strings added to the texts, with the edge cases")
    p.add_argument("--bench", help="JSONL corpus to time encoding on (needs --mind-data)")
    p.add_argument("--threads", default="1", help="comma-separated thread counts for --bench")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--train-reference", help="corpus to train HF's BpeTrainer on (info only)")
    p.add_argument("--vocab-size", type=int, default=6400)
    p.add_argument("--json-out", help="write the results here")
    args = p.parse_args()

    import tokenizers
    print(f"tokenizers {tokenizers.__version__}, {os.cpu_count()} CPUs")
    failures, report = [], {"tokenizers_version": tokenizers.__version__,
                            "cpus": os.cpu_count()}
    texts = []
    for path in args.texts:
        texts += read_jsonl_texts(path)
    for path in args.texts_golden:
        texts += read_golden_texts(path)
    texts += EDGE_CASES + random_texts(args.random)

    if args.golden:
        from tokenizers import Tokenizer
        with open(args.golden, encoding="utf-8") as f:
            g = json.load(f)
        tok = Tokenizer.from_file(os.path.join(os.path.dirname(args.golden), "..",
                                               g["tokenizer"]))
        bad = sum(tok.encode(c["text"], add_special_tokens=False).ids != c["ids"]
                  for c in g["cases"])
        print(f"golden: HF reproduces {len(g['cases']) - bad}/{len(g['cases'])} cases")
        if bad:
            failures.append(f"golden: HF differs on {bad} cases (tokenizers version?)")

    print(f"identity check on {len(texts)} texts:")
    report["identity"] = {}
    pairs = [(t, ids) for t, ids in args.pair]
    if args.tokenizer:
        if not args.mind_data:
            p.error("--tokenizer needs --mind-data (or give --pair TOKENIZER IDS)")
        with tempfile.TemporaryDirectory() as tmp:
            jsonl = os.path.join(tmp, "texts.jsonl")
            write_jsonl(texts, jsonl)
            for t in args.tokenizer:
                pairs.append((t, ours_ids(args.mind_data, t, jsonl)))
    for tok_path, ids in pairs:
        if isinstance(ids, str):
            with open(ids) as f:
                ids = [json.loads(line) for line in f if line.strip()]
        report["identity"][tok_path] = len(texts) - check_pair(tok_path, texts, ids, failures)

    if args.bench:
        if not args.mind_data:
            p.error("--bench needs --mind-data")
        print(f"encode speed on {args.bench}:")
        report["bench"] = []
        for t in (args.tokenizer or [pt for pt, _ in args.pair]):
            report["bench"] += bench(args, t, failures)

    if args.train_reference:
        trained = [t for t in args.tokenizer + [pt for pt, _ in args.pair]
                   if "minimind_tokenizer" not in os.path.basename(t)]
        if trained:
            report["trainer"] = train_reference(args.train_reference, args.vocab_size, trained[-1])

    report["failures"] = failures
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(report, f, indent=2)
    for msg in failures:
        print("FAIL:", msg)
    print("OK" if not failures else f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
