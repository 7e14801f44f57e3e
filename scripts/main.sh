#!/usr/bin/env bash
# The main job: build mindc, turn the sample corpus (Debian's fortunes and
# fortunes-zh) into token shards, report MiniMind-26M, and train:
#   - with an NVIDIA GPU: compile configs/minimind-26m.json into a trainer
#     (`mindc compile`) and train it for one epoch of the sample corpus;
#   - without one: train configs/tiny-dense.json on the CPU reference
#     interpreter (`mind-train --device=cpu`), showing the loss fall.
# Extra arguments go to the trainer.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${MIND_BUILD_DIR:-$root/build}"
data="$build/data"

bash "$root/scripts/setup.sh"
targets=(mindc mind-train mind-data)
[ -e /usr/local/cuda/lib64/libnvrtc.so ] && targets+=(mind-trainer)
bash "$root/scripts/build.sh" "${targets[@]}"

echo "== sample corpus and token shards"
mkdir -p "$data"
[ -f "$data/sample.jsonl" ] || bash "$root/scripts/make-sample-corpus.sh" "$data/sample.jsonl"
tokenizer="$root/../shared/data/minimind_tokenizer.json"
if [ ! -f "$tokenizer" ]; then
  # No MiniMind tokenizer beside the checkout: learn one of the same size.
  tokenizer="$data/tokenizer.json"
  [ -f "$tokenizer" ] || "$build/bin/mind-data" train-tokenizer \
    --vocab-size 6400 -o "$tokenizer" "$data/sample.jsonl"
fi
[ -d "$data/shards" ] || "$build/bin/mind-data" encode --tokenizer "$tokenizer" \
  -o "$data/shards" "$data/sample.jsonl"

echo
echo "== mindc report configs/minimind-26m.json"
"$build/bin/mindc" report "$root/configs/minimind-26m.json"
echo

if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 \
   && [ -x "$build/bin/mind-trainer" ]; then
  echo "== mindc compile configs/minimind-26m.json -o $build/minimind-26m"
  "$build/bin/mindc" compile "$root/configs/minimind-26m.json" -o "$build/minimind-26m"
  echo "== $build/minimind-26m (GPU, bfloat16, one epoch of the sample corpus)"
  "$build/minimind-26m" --data_path "$data/shards" --log_interval 50 \
    --save_dir "$build/out" --metrics "$build/out/metrics.jsonl" "$@"
else
  echo "== no NVIDIA GPU here: mind-train --device=cpu configs/tiny-dense.json (reference interpreter)"
  "$build/bin/mind-train" --device=cpu "$root/configs/tiny-dense.json" \
    --data_path "$data/shards" --batch_size 4 --max_seq_len 65 \
    --accumulation_steps 1 --learning_rate 3e-3 --log_interval 10 \
    --max_steps 80 --save_dir "$build/out" "$@"
fi
