#!/usr/bin/env bash
# ddp-check.sh TRAINER_B TRAINER_2B
#
# Data-parallel check on a machine with 2 GPUs: TRAINER_B (compiled for
# batch B) on 2 ranks (torchrun, NCCL) against TRAINER_2B (batch 2B) on one
# GPU, same config, seed and synthetic data. DistributedSampler gives rank r
# positions r, r+2, ... of the epoch's order, so every micro-step the two
# ranks together train exactly the 2B samples the single GPU trains, and the
# averaged gradient is the same mean (synthetic data has no padding). The
# final fp32 master weights (resume files) must agree to 1e-4 in relative L2
# per tensor (fp32 sums in a different order; AdamW amplifies the last bits
# where gradients nearly cancel). Needs torchrun and NCCL (PyTorch's wheel
# has it: its directory is added to LD_LIBRARY_PATH). Exit 0: agree; 1: not.
set -u
if [ $# -ne 2 ] || [ ! -x "$1" ] || [ ! -x "$2" ]; then
  echo "usage: $0 TRAINER_B TRAINER_2B" >&2
  exit 2
fi
export NCCL_NVLS_ENABLE=0 # keep NVLink multicast off (shared machines)
nccl=$(python3 -c "import nvidia.nccl as m; print(list(m.__path__)[0] + '/lib')" 2>/dev/null)
[ -n "$nccl" ] && export LD_LIBRARY_PATH="$nccl:${LD_LIBRARY_PATH:-}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
common=(--synthetic_samples 64 --epochs 1 --accumulation_steps 2 --log_interval 1
  --learning_rate 1e-3 --seed 7 --save_interval 0 --save_weight ddp)
if ! torchrun --nproc_per_node 2 --no-python "$1" "${common[@]}" --save_dir "$tmp/ddp" \
  >"$tmp/ddp.log" 2>&1; then
  echo "ddp-check: the 2-rank run failed:"; tail -n 30 "$tmp/ddp.log"; exit 1
fi
if ! "$2" "${common[@]}" --save_dir "$tmp/one" >"$tmp/one.log" 2>&1; then
  echo "ddp-check: the 1-GPU run failed:"; tail -n 20 "$tmp/one.log"; exit 1
fi
grep -m1 "data parallel" "$tmp/ddp.log"
# Training must have happened for the comparison to mean anything.
first=$(grep -m1 -o "loss:[0-9.]*" "$tmp/one.log"); last=$(grep -o "loss:[0-9.]*" "$tmp/one.log" | tail -1)
echo "ddp-check: 1 GPU $first -> $last; rank 0 $(grep -m1 -o "loss:[0-9.]*" "$tmp/ddp.log") -> $(grep -o "loss:[0-9.]*" "$tmp/ddp.log" | tail -1)"
if [ "$first" = "$last" ]; then echo "ddp-check: the loss did not move"; exit 1; fi
python3 - "$tmp/ddp" "$tmp/one" <<'PY'
import glob, sys
from safetensors.numpy import load_file
import numpy as np
a = load_file(glob.glob(sys.argv[1] + "/*_resume.safetensors")[0])
b = load_file(glob.glob(sys.argv[2] + "/*_resume.safetensors")[0])
worst, name = 0.0, ""
for k in b:
    if not k.startswith("param."):
        continue
    x, y = a[k].astype(np.float64), b[k].astype(np.float64)
    err = np.linalg.norm(x - y) / max(np.linalg.norm(y), 1e-30)
    if err > worst:
        worst, name = err, k
print(f"ddp-check: 2 ranks x batch B vs 1 GPU x batch 2B: worst relative L2 "
      f"of the final weights {worst:.2e} ({name}); tolerance 1e-4")
sys.exit(0 if worst <= 1e-4 else 1)
PY
