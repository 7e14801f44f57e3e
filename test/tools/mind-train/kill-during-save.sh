#!/usr/bin/env bash
# kill -9 at random moments of a run that saves every optimizer step (two
# micro-steps; --keep_last 2, so step files, links and pruning are hit too),
# then resume; repeat. Every restart must load the last resume file (or find
# none and start fresh), and the final weights must equal those of an
# uninterrupted run bit for bit.
#   kill-during-save.sh MIND_TRAIN CONFIG WORKDIR PYTHON CKPT_PY [KILLS]
set -u
train=$1 config=$2 work=$3 python=$4 ckpt=$5 kills=${6:-8}
flags=(--device=cpu "$config" --batch_size 2 --max_seq_len 17
       --synthetic_samples 16 --accumulation_steps 2 --epochs 4
       --log_interval 1 --save_interval 1 --keep_last 2)
die() { echo "kill-during-save: FAIL: $*"; exit 1; }

rm -rf "$work" && mkdir -p "$work" || die "cannot create $work"
"$train" "${flags[@]}" --save_dir "$work/ref" > "$work/ref.log" 2>&1 ||
  die "reference run failed: $(cat "$work/ref.log")"

dir=$work/run
killat=$(dirname "$ckpt")/kill_at.py
killed=0 in_save=0
for i in $(seq 1 "$kills"); do
  # Odd runs: a random moment in 0..1 s (start-up, training or a save).
  # Even runs: 0..4 ms after the 1st-3rd save of the weights or the resume
  # file has started writing its .tmp file.
  if [ $((i % 2)) -eq 1 ]; then
    mode=time delay=$(printf '0.%02d' $((RANDOM % 100)))
  else
    names=(pretrain_64.safetensors pretrain_64_resume)
    mode=save:${names[RANDOM % 2]}:$((RANDOM % 3 + 1))
    delay=$(printf '0.%03d' $((RANDOM % 5)))
  fi
  result=$("$python" "$killat" $mode "$delay" "$dir" "$work/run$i.log" -- \
    "$train" "${flags[@]}" --save_dir "$dir" --from_resume 1) ||
    die "run $i ($mode +${delay}s) failed: $(cat "$work/run$i.log")"
  # A killed run's restart is the check that the resume file still loads:
  # a run that does not load it exits 1 (caught above).
  case $result in
  "exit 137"*) killed=$((killed + 1)) ;;
  esac
  case $result in
  *"tmp 0") ;;
  *) in_save=$((in_save + 1)) ;;
  esac
  echo "run $i: kill $mode +${delay}s: $result," \
    "$(grep -c '^Epoch' "$work/run$i.log") micro-steps logged"
  if [ -f "$dir/pretrain_64_resume.safetensors" ]; then
    "$python" "$ckpt" state "$dir/pretrain_64_resume.safetensors" > /dev/null ||
      die "run $i left a resume file that does not parse"
  fi
done

# Finish the run from whatever the kills left behind.
"$train" "${flags[@]}" --save_dir "$dir" --from_resume 1 > "$work/final.log" 2>&1 ||
  die "final resume failed: $(cat "$work/final.log")"
cmp "$dir/pretrain_64.safetensors" "$work/ref/pretrain_64.safetensors" ||
  die "final fp16 weights differ from the uninterrupted run"
"$python" "$ckpt" compare "$dir/pretrain_64_resume.safetensors" \
  "$work/ref/pretrain_64_resume.safetensors" > /dev/null ||
  die "final master weights or AdamW moments differ from the uninterrupted run"
echo "kill-during-save: OK: $kills runs, $killed killed ($in_save inside a save)," \
  "final state identical"
