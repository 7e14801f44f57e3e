#!/usr/bin/env bash
# resume-check.sh TRAINER [EXTRA_FLAGS...]
#
# Exact-resume check for a compiled GPU trainer (`mindc compile CONFIG -o T`,
# e.g. `mindc compile configs/tiny-dense.json --batch_size 4 --max_seq_len 65
# -o T`). Runs N micro-steps straight, then for several interruption points k
# runs k micro-steps and resumes (--from_resume 1) to N, and checks:
#   - the logged loss/lr of every micro-step (stdout and --metrics) equal the
#     straight run's, including micro-steps trained twice because the run
#     stopped inside an accumulation window;
#   - the final fp16 weights files are bitwise identical (cmp);
#   - the final resume files' tensor data (fp32 master weights, AdamW moments)
#     are bitwise identical (their headers differ: each run has its own id);
#   - --from_resume 1 without a file starts fresh and says so;
#   - --keep_last 3 leaves three step files.
# Data: 8 batches of synthetic samples per epoch, 2 epochs, shuffled, so the
# resumes cross an epoch boundary; set RESUME_CHECK_BATCH to the bundle's
# batch size if it is not 4. EXTRA_FLAGS go to every run (e.g.
# --no_cuda_graph).
# Exit 0: all identical; 1: a mismatch (printed); 2: usage.
set -u
if [ $# -lt 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 TRAINER [EXTRA_FLAGS...]" >&2
  exit 2
fi
T=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

N=14     # micro-steps of the run (--max_steps counts across resumes)
ACC=2    # --accumulation_steps; --save_interval 1: a resume file per step
ITERS=8  # micro-steps per epoch
common=(--synthetic_samples $((ITERS * ${RESUME_CHECK_BATCH:-4})) --epochs 2 --accumulation_steps $ACC
  --log_interval 1 --save_interval 1 --learning_rate 1e-3 --shuffle 1
  --seed 7 --save_weight rc "$@")
status=0
bad() {
  echo "resume-check: MISMATCH: $*"
  status=1
}

run() { # DIR LOG MAX_STEPS [FLAGS...]
  local dir=$1 log=$2 steps=$3
  shift 3
  if ! "$T" "${common[@]}" --save_dir "$dir" --metrics "$dir/metrics.jsonl" \
    --max_steps "$steps" "$@" >"$log" 2>&1; then
    echo "resume-check: trainer failed ($T --save_dir $dir --max_steps $steps $*):"
    tail -n 20 "$log"
    exit 1
  fi
}
losses() { # the step/loss/lr part of the log lines
  grep -o '^Epoch:\[[0-9/]*\]([0-9/]*) loss:[^ ]* lr:[^ ]*' "$1"
}
metrics() { # metrics lines without the timing and memory fields
  sed -e 's/,"tokens_per_s":[^,}]*//' -e 's/,"peak_device_memory_mib":[^,}]*//' "$1"
}
data_section() { # safetensors tensor bytes (after the 8-byte length + header)
  local hlen
  hlen=$(od -An -t u8 -N8 "$1" | tr -d ' ')
  tail -c +$((9 + hlen)) "$1"
}
weights_file() { ls "$1"/rc_*.safetensors | grep -v '_resume' | head -n 1; }

start=$(date +%s)
run "$tmp/straight" "$tmp/straight.log" $N
losses "$tmp/straight.log" >"$tmp/S"
metrics "$tmp/straight/metrics.jsonl" >"$tmp/SM"
if [ "$(wc -l <"$tmp/S")" -ne $N ] || [ "$(wc -l <"$tmp/SM")" -ne $N ]; then
  bad "the straight run logged $(wc -l <"$tmp/S") lines, $(wc -l <"$tmp/SM") metrics lines, not $N"
  cat "$tmp/straight.log"
fi
grep -q ", $ITERS micro-steps per epoch" "$tmp/straight.log" || {
  echo "resume-check: expected $ITERS micro-steps per epoch (set RESUME_CHECK_BATCH to the bundle's batch size):"
  head -n 1 "$tmp/straight.log"
  exit 2
}
W=$(weights_file "$tmp/straight")
R=${W%.safetensors}_resume.safetensors

# k: where part 1 stops. 6: at an optimizer step, inside epoch 1; 8: at the
# end of epoch 1; 11: inside an accumulation window (resumes from 10, so
# micro-step 11 is trained again).
for k in 6 8 11; do
  d=$tmp/k$k
  keep=()
  [ $k -eq 8 ] && keep=(--keep_last 3)
  run "$d" "$d.part1.log" $k --from_resume 1 ${keep[@]+"${keep[@]}"}
  grep -q 'no resume file .*; starting fresh' "$d.part1.log" ||
    bad "k=$k: part 1 with --from_resume 1 and no file did not say 'starting fresh'"
  r=$((k - k % ACC))
  cp "$d/metrics.jsonl" "$d/m1"
  rm "$d/metrics.jsonl"
  run "$d" "$d.part2.log" $N --from_resume 1 ${keep[@]+"${keep[@]}"}
  grep -q "resumed from .*micro-step $((r % ITERS))/$ITERS" "$d.part2.log" ||
    bad "k=$k: part 2 did not resume at micro-step $r: $(grep 'resumed\|starting' "$d.part2.log")"
  losses "$d.part1.log" >"$d.P1"
  losses "$d.part2.log" >"$d.P2"
  diff <(head -n $k "$tmp/S") "$d.P1" >/dev/null ||
    bad "k=$k: part 1 losses differ: $(diff <(head -n $k "$tmp/S") "$d.P1")"
  diff <(tail -n +$((r + 1)) "$tmp/S") "$d.P2" >/dev/null ||
    bad "k=$k: resumed losses differ: $(diff <(tail -n +$((r + 1)) "$tmp/S") "$d.P2")"
  diff <(head -n $k "$tmp/SM") <(metrics "$d/m1") >/dev/null ||
    bad "k=$k: part 1 metrics differ: $(diff <(head -n $k "$tmp/SM") <(metrics "$d/m1"))"
  diff <(tail -n +$((r + 1)) "$tmp/SM") <(metrics "$d/metrics.jsonl") >/dev/null ||
    bad "k=$k: resumed metrics differ: $(diff <(tail -n +$((r + 1)) "$tmp/SM") <(metrics "$d/metrics.jsonl"))"
  cmp "$W" "$(weights_file "$d")" ||
    bad "k=$k: final weights files differ"
  cmp <(data_section "$R") <(data_section "$d/$(basename "$R")") ||
    bad "k=$k: final resume files' tensors (fp32 weights, moments) differ"
  if [ $k -eq 8 ]; then
    n=$(ls "$d" | grep -c '_resume_step[0-9]*\.safetensors$')
    # Step files are named by AdamW's step, which float16 loss scaling
    # does not advance on a skipped step: expect 3 only without skips.
    if grep -q '"skipped_steps":[1-9]' "$d/metrics.jsonl"; then
      [ "$n" -ge 1 ] && [ "$n" -le 3 ] ||
        bad "k=8: --keep_last 3 left $n step files: $(ls "$d")"
    else
      [ "$n" -eq 3 ] || bad "k=8: --keep_last 3 left $n step files: $(ls "$d")"
    fi
  fi
done

echo "resume-check: $(basename "$T"): $N micro-steps straight vs k + resume" \
  "(k = 6, 8, 11): $([ $status -eq 0 ] && echo identical || echo MISMATCH)" \
  "($(($(date +%s) - start)) s)"
exit $status
