#!/usr/bin/env bash
# The main job: build mindc, report the MiniMind-26M model, print a tiny
# model's training step IR, and train that tiny model on the CPU (reference
# interpreter) on synthetic data, showing the loss fall.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${MIND_BUILD_DIR:-$root/build}"

bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh" mindc mind-train

echo "== mindc report configs/minimind-26m.json"
"$build/bin/mindc" report "$root/configs/minimind-26m.json"
echo
echo "== mindc ir configs/tiny-dense.json --stage=train (first lines; full IR in $build/ir)"
"$build/bin/mindc" ir "$root/configs/tiny-dense.json" --stage=train \
  --batch_size 4 --max_seq_len 65 --dump-ir="$build/ir" | head -n 12
echo "..."
echo
echo "== mind-train --device=cpu configs/tiny-dense.json (synthetic data)"
"$build/bin/mind-train" --device=cpu "$root/configs/tiny-dense.json" \
  --batch_size 4 --max_seq_len 65 --accumulation_steps 1 \
  --learning_rate 3e-3 --log_interval 8 --synthetic_samples 256 \
  --save_dir "$build/out" "$@"
