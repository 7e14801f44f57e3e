#!/usr/bin/env bash
# fingerprint.sh TRAINER BUNDLE... > FINGERPRINTS
#
# What a refactor must leave unchanged, bit for bit: for each bundle
# (`mindc compile CONFIG --emit=bundle -o B`), TRAINER trains it for
# $FP_STEPS micro-steps (default 8; accumulation 2, so optimizer steps and
# clipping run) on seeded synthetic data, and this prints one block per
# bundle: every logged loss/lr line, then the sha256 of the final fp16
# weights file and of the resume file's tensor bytes (fp32 master weights and
# AdamW moments; its header differs per run: each run has its own id).
# Run it with the trainer and bundles built before a change and after it,
# and `diff` the two outputs: identical means the same losses and
# cmp-identical weights.
# Exit 0: every run finished; 1: a run failed (its log tail is printed).
set -u
if [ $# -lt 2 ] || [ ! -x "$1" ]; then
  echo "usage: $0 TRAINER BUNDLE..." >&2
  exit 2
fi
T=$1
shift
steps=${FP_STEPS:-8}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for b in "$@"; do
  name=$(basename "$b" .bundle)
  d=$tmp/$name
  mkdir -p "$d"
  # The bundle fixes the batch size; synthetic data of steps batches.
  batch=$(python3 - "$b" <<'EOF'
import json, struct, sys
# docs/BundleFormat.md: magic (8), version (4), u64 n, then the plan JSON.
data = open(sys.argv[1], "rb").read(1 << 26)
n = struct.unpack_from("<Q", data, 12)[0]
print(json.loads(data[20:20 + n])["meta"]["batch_size"])
EOF
)
  if ! "$T" --bundle "$b" --synthetic_samples $((steps * batch)) --epochs 1 \
    --accumulation_steps 2 --log_interval 1 --save_interval 0 \
    --learning_rate 1e-3 --seed 7 --shuffle 1 --save_dir "$d" \
    --save_weight fp >"$d.log" 2>&1; then
    echo "fingerprint: $name: trainer failed:" >&2
    tail -n 20 "$d.log" >&2
    status=1
    continue
  fi
  echo "== $name"
  grep -o '^Epoch:\[[0-9/]*\]([0-9/]*) loss:[^ ]* lr:[^ ]*' "$d.log"
  w=$(ls "$d"/fp_*.safetensors | grep -v _resume | head -n 1)
  r=${w%.safetensors}_resume.safetensors
  echo "weights $(sha256sum <"$w" | cut -d' ' -f1)"
  hlen=$(od -An -t u8 -N8 "$r" | tr -d ' ')
  echo "resume-tensors $(tail -c +$((9 + hlen)) "$r" | sha256sum | cut -d' ' -f1)"
done
exit $status
