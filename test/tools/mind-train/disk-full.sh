#!/usr/bin/env bash
# A save that runs out of space must fail with a clear error and leave the
# previous checkpoint intact and resumable. Uses a small tmpfs when mount is
# permitted (root in CI); otherwise RLIMIT_FSIZE (ulimit -f), which fails
# the write with EFBIG instead of ENOSPC.
#   disk-full.sh MIND_TRAIN CONFIG WORKDIR PYTHON CKPT_PY
set -u
train=$1 config=$2 work=$3 python=$4 ckpt=$5
flags=(--device=cpu "$config" --batch_size 2 --max_seq_len 17
       --synthetic_samples 16 --accumulation_steps 2 --log_interval 1)
die() { echo "disk-full: FAIL: $*"; exit 1; }

mnt=$work/mnt
cleanup() { mountpoint -q "$mnt" 2> /dev/null && umount "$mnt"; }
trap cleanup EXIT
rm -rf "$work" && mkdir -p "$mnt" || die "cannot create $work"

# First save: the weights (~1 MB) and resume (~6 MB) files fit in 10 MB; the
# second needs room for a temporary resume file next to the old one.
limit=""
if mount -t tmpfs -o size=10m tmpfs "$mnt" 2> /dev/null; then
  echo "disk-full: mode tmpfs (10 MiB)"
else
  echo "disk-full: mode RLIMIT_FSIZE (mount not permitted)"
  limit=2048 # KiB per file: the fp16 weights fit, the resume file not
fi
"$train" "${flags[@]}" --save_dir "$mnt" --max_steps 2 > "$work/first.log" 2>&1 ||
  die "first run failed: $(cat "$work/first.log")"
cp "$mnt/pretrain_64_resume.safetensors" "$work/before.safetensors"

# Train on and save every step: this save must fail.
(
  [ -n "$limit" ] && ulimit -f "$limit"
  exec "$train" "${flags[@]}" --save_dir "$mnt" --max_steps 4 \
    --save_interval 1 --from_resume 1
) > "$work/full.log" 2>&1
rc=$?
[ $rc -eq 1 ] || die "the run out of space exited $rc: $(cat "$work/full.log")"
grep 'error' "$work/full.log"
cmp "$mnt/pretrain_64_resume.safetensors" "$work/before.safetensors" ||
  die "the previous resume file changed"
ls "$mnt" | grep -q '\.tmp$' && die "a temporary file was left behind"

# The intact checkpoint resumes (on disk with room).
mkdir -p "$work/resume" && cp "$mnt"/*.safetensors "$work/resume/"
"$train" "${flags[@]}" --save_dir "$work/resume" --max_steps 4 --from_resume 1 \
  > "$work/resume.log" 2>&1 || die "resume failed: $(cat "$work/resume.log")"
grep 'resumed from' "$work/resume.log"
echo "disk-full: OK"
